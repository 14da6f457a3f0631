"""The command line loads textual only for ``cnncalc tui``."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from cnncalc.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print("textual" in sys.modules, "cnncalc.tui.app" in sys.modules)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["analyze", "lenet5"],
        ["conv", "28x31", "-k", "5", "-p", "2", "-s", "3"],
        ["zoo"],
        ["tui", "--help"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_commands_other_than_tui_never_import_textual(args):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "False False"


def test_the_probe_sees_textual_when_the_app_is_loaded():
    probe = "import sys, cnncalc.tui.app\nprint('textual' in sys.modules, 'cnncalc.tui.app' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "True True"
