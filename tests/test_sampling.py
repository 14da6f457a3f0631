"""Symbolic results, evaluated at concrete sizes, equal the analysis at those sizes.

For every bundled spec the open-symbol analysis is done once; hypothesis then draws sizes that
satisfy the reported constraints, binds them, and compares every layer's shape, params, MACs
and FLOPs with a fresh concrete analysis (which runs on Python ints, without sympy's help).
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.core.engine import analyze, evaluate_at
from cnncalc.lang.spec import load_spec

from .helpers import SPECS, all_specs, structural_values

# Symbols of the width-multiplier kind take these values (the paper's table).
MULTIPLIERS = [1, 0.75, 0.5, 0.25]


@cache
def _symbolic(path):
    spec = load_spec(path)
    # Classes and channel symbols stay open too: every total is a formula (the symbols that
    # decide which layers there are keep their defaults).
    return spec, analyze(spec, structural_values(spec), symbolic=True)


def _draw_values(draw, spec, analysis):
    lower = {}
    for c in analysis.constraints:
        name, op, bound = c.condition.partition(" >= ")
        if op and bound.isdigit():
            lower[name] = int(bound)
    multiple = {}
    for c in analysis.constraints:
        name, op, rest = c.condition.partition(" % ")
        if op and rest.endswith("== 0"):
            multiple[name] = int(rest.split()[0])
    values = {}
    for name, sym in spec.symbols.items():
        if sym.derived is not None and not isinstance(analysis.symbols[name], (int, type(None))):
            continue  # a formula of the others (ViT's D = heads*d): it follows them
        if analysis.symbols[name] is not None:
            values[name] = analysis.symbols[name]  # a repeat count, as analysed
            continue
        if not sym.integer:
            values[name] = str(draw(st.sampled_from(MULTIPLIERS)))
            continue
        lo = max(lower.get(name, 1), int(sym.lower))
        hi = max(lo, min(int(sym.max) if sym.max is not None else 400, 400))
        v = draw(st.integers(lo, hi))
        step = multiple.get(name, 1)
        values[name] = max(lo + (-lo) % step, v - v % step)
    return values


@pytest.mark.parametrize("path", all_specs(), ids=lambda p: str(p.relative_to(SPECS)))
@settings(max_examples=8)
@given(data=st.data())
def test_symbolic_equals_concrete(path, data):
    spec, sym = _symbolic(path)
    values = _draw_values(data.draw, spec, sym)
    concrete = analyze(spec, values)
    bound = {k: concrete.symbols[k] for k in values}
    assert len(concrete.layers) == len(sym.layers)
    for s, c in zip(sym.layers, concrete.layers, strict=True):
        assert s.name == c.name
        assert tuple(evaluate_at(d, bound) for d in s.output_shape) == c.output_shape, s.name
        assert evaluate_at(s.params, bound) == c.params, s.name
        assert evaluate_at(s.macs, bound) == c.macs, s.name
        assert evaluate_at(s.flops, bound) == c.flops, s.name
    for field in ("params", "trainable_params", "macs", "flops", "activations"):
        assert evaluate_at(getattr(sym.totals, field), bound) == getattr(concrete.totals, field)
