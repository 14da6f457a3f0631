"""The tree stays formatted and lint-clean: ``ruff format`` and ``ruff check`` (pinned in the
``test`` extra, so that every run formats alike) find nothing to change."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .helpers import ROOT

RUFF = shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff is installed by the test extra")
@pytest.mark.parametrize("command", [["format", "--check"], ["check"]], ids=["format", "check"])
def test_ruff_finds_nothing(command):
    done = subprocess.run([RUFF, *command, "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
