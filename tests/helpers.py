"""Paths and small helpers shared by the tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
DATA = Path(__file__).resolve().parent / "data"


def all_specs() -> list[Path]:
    """Every bundled spec file."""
    return sorted(SPECS.rglob("*.yaml"))


def small_values(spec) -> dict:
    """Small concrete symbol values for running a spec quickly.

    Spatial input symbols (axes 2 and up) at most 64 and at least what the spec's constraints
    require; the batch symbol 2; symbols without a default 5; the others their defaults.
    """
    from cnncalc.engine import analyze

    spatial = {n for e in spec.input[2:] for n in e.names}
    batch = set(spec.input[0].names)
    values = {}
    for name, sym in spec.symbols.items():
        if name in batch:
            values[name] = 2
        elif name in spatial:
            values[name] = min(sym.default or 64, 64)
        elif sym.default is None:
            values[name] = 5
    # Raise sizes to the lower bounds the symbolic analysis reports.
    for c in analyze(spec, symbolic=True).constraints:
        name, op, bound = c.condition.partition(" >= ")
        if op and name in values and bound.isdigit():
            values[name] = max(values[name], int(bound))
    return values
