"""Paths and small helpers shared by the tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
DATA = Path(__file__).resolve().parent / "data"


def all_specs() -> list[Path]:
    """Every bundled spec file."""
    return sorted(SPECS.rglob("*.yaml"))
