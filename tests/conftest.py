"""Shared fixtures and the hypothesis profiles (``ci`` is derandomised and the default)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from .helpers import DATA

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """Compile the numba kernels once, in the process that starts the run, before any worker.

    They are cached on disk (``cnncalc.kernels._jit``), so the workers of ``pytest -n`` load them
    in milliseconds instead of each compiling them cold at the same time, which on a busy
    machine takes minutes. A run with the cache off (``CNNCALC_NUMBA_CACHE=0``) compiles in
    each process, as it must.
    """
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller has compiled
        return
    from cnncalc.kernels import _jit, warm_up

    if _jit.CACHE:
        warm_up()


@pytest.fixture
def specs_dir() -> Path:
    from .helpers import SPECS

    return SPECS


@pytest.fixture(scope="session")
def published() -> dict[str, dict]:
    """torchvision's and the papers' figures (../shared/reference/published-figures.json)."""
    rows = json.loads((DATA / "published_figures.json").read_text())
    return {row["model"]: row for row in rows}


@pytest.fixture
def console():
    from rich.console import Console

    return Console(file=io.StringIO(), width=120, color_system=None, legacy_windows=False)


@pytest.fixture
def run_cli(capsys):
    """Run ``cnncalc`` in-process: returns (exit status, stdout, stderr)."""
    from cnncalc.cli import main

    def run(*args: str):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
