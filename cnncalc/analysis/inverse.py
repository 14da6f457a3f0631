"""Inverse questions: which sizes give a wanted output shape; how large a symbol may grow within
a budget.

Both rest on monotonicity, which holds for the layers cnncalc knows: an output size never
decreases when an input size grows (conv, pooling, transposed conv, upsampling, padding), and
neither does a count. So the answers are found by bisection over exact evaluations of the
formulas (:mod:`.exact`), a few dozen evaluations and not a scan; each answer is an interval,
intersected with the residues the network needs (``H % 16 == 0`` for a U-Net).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..core import dims
from ..errors import UsageError
from ..lang.model import Spec
from .exact import compile_formulas
from .sweep import check_open, holds, open_analysis, unknown_cost_error

#: How far up a search goes before calling a symbol unbounded.
CEILING = 1 << 40


@dataclass(frozen=True)
class ShapeSolution:
    """The values of one symbol giving a wanted size along one axis of a layer's output."""

    symbol: str
    layer: str
    axis: int  # index in the output shape
    size: int  # the wanted size
    interval: tuple[int, int] | None  # the values, from first to last; None when none
    conditions: tuple[str, ...]  # residue and other conditions the values must also meet
    formula: Any  # the size as a formula of the symbol
    #: Without an interval: the largest value searched (the symbol's declared maximum, or 2**40)
    #: when every value up to it gives a smaller size; None when the sizes skip the one wanted.
    searched_to: int | None = None


@dataclass(frozen=True)
class BudgetSolution:
    """The largest value of one or more tied symbols within a budget of one metric."""

    symbols: tuple[str, ...]
    metric: str
    budget: int
    best: Any  # the largest value within the budget (None: even the smallest exceeds it)
    best_cost: Any
    next: Any  # the next value tried above it (exceeds the budget)
    next_cost: Any
    step: Any
    formula: Any
    #: What ended the search: ``budget`` (the next value exceeds it), ``max`` (the symbol's
    #: declared maximum, the budget not spent) or ``ceiling`` (2**40 steps, the budget not spent).
    stopped_by: str = "budget"


def _search_up(fn, lo: int) -> int | None:
    """The largest integer ``v >= lo`` with ``fn(v)`` true, fn monotone (true then false);
    None if ``fn(lo)`` is false; CEILING if still true there."""
    if not fn(lo):
        return None
    hi = lo + 1
    while fn(hi):
        if hi >= CEILING:
            return CEILING
        lo, hi = hi, min(CEILING, hi + 2 * (hi - lo) + 1)  # the gap doubles: O(log v) calls
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fn(mid):
            lo = mid
        else:
            hi = mid
    return lo


def last_spatial_layer(a) -> int:
    """Index of the last layer with a 4-D output whose size depends on an open symbol: the last
    feature map before global or adaptive pooling."""
    for i in range(len(a.layers) - 1, -1, -1):
        shape = a.layers[i].output_shape
        if len(shape) == 4 and any(dims.free_symbols(d) for d in shape[2:]):
            return i
    raise UsageError("the network has no layer with a spatial output")


def solve_shape(
    spec: Spec, sizes: tuple[int, ...], values: dict[str, Any] | None = None, layer: str | None = None
) -> tuple[ShapeSolution, ...]:
    """For each spatial axis of ``layer``'s output (default: the last spatial one), the values of
    the symbol it depends on that give ``sizes`` (height, width).

    Raises:
        UsageError: for an unknown layer, or an axis that depends on several open symbols.
    """
    values = dict(values or {})
    spatial = [n for n in spec.symbols if n not in values]
    a = open_analysis(spec, values, tuple(spatial))
    if layer is None:
        idx = last_spatial_layer(a)
    else:
        names = [r.name for r in a.layers]
        if layer not in names:
            from ..errors import unknown_message

            raise UsageError(unknown_message("layer", layer, names))
        idx = names.index(layer)
    r = a.layers[idx]
    if len(r.output_shape) != 4:
        raise UsageError(f"layer {r.name!r} has no spatial output ({len(r.output_shape)}-D)")
    out = []
    for axis, want in zip((2, 3), sizes, strict=True):
        f = r.output_shape[axis]
        syms = sorted(str(s) for s in dims.free_symbols(f))
        if len(syms) != 1:
            raise UsageError(
                f"{r.name} size along axis {axis} is {dims.fmt(f)}: it must depend on one open symbol"
            )
        (name,) = syms
        sym = spec.symbols[name]
        one = open_analysis(spec, values, (name,))
        conditions = tuple(c.condition for c in one.constraints)
        size = compile_formulas({"v": one.layers[idx].output_shape[axis]}, (name,))
        lo = int(sym.lower)
        top = int(sym.max) if sym.max is not None else CEILING

        def at(v, size=size, name=name):
            return int(size({name: np.array([v], dtype=np.int64)})["v"][0])

        def valid(v, name=name, conditions=conditions):
            return bool(holds(_bounds_only(conditions), {name: np.array([v], dtype=object)}, 1)[0])

        first = _search_up(lambda v, at=at, want=want: at(v) < want or not valid(v), lo)
        start = lo if first is None else first + 1
        last = _search_up(lambda v, at=at, want=want: at(v) <= want, start) if start <= top else None
        interval = None
        if last is not None and at(start) == want:
            interval = (start, min(last, top))
        # Every value up to the end of the search gives a smaller size: the one wanted may lie
        # beyond it, which is not "no value".
        below = start > top or (first is not None and first >= CEILING)
        rest = tuple(c for c in conditions if c not in _bounds_only(conditions))
        out.append(ShapeSolution(name, r.name, axis, want, interval, rest, f, top if below else None))
    return tuple(out)


def _bounds_only(conditions) -> tuple[str, ...]:
    return tuple(c for c in conditions if " >= " in c and c.split(" >= ")[0].isidentifier())


METRICS = {"macs": "macs", "params": "params", "flops": "flops", "activations": "activations"}


def largest_within(
    spec: Spec,
    symbols: tuple[str, ...],
    metric: str,
    budget: int,
    values: dict[str, Any] | None = None,
    step: Any = None,
    memory=None,
) -> BudgetSolution:
    """The largest value ``v`` (a multiple of ``step`` for rational symbols) such that, with every
    one of ``symbols`` at ``v``, ``metric`` stays within ``budget``.

    ``memory`` maps a metric name to a function of the analysis giving its formula (for byte
    counts); counts are read from the totals.

    Raises:
        UsageError: for an unknown metric or symbol, or symbols left without a value.
    """
    values = dict(values or {})
    if not symbols:
        raise UsageError("--largest names no symbol: give one or more, comma separated (--largest H,W)")
    for name in symbols:
        if name not in spec.symbols:
            from ..errors import unknown_message

            raise UsageError(unknown_message("symbol", name, spec.symbols))
    a = open_analysis(spec, values, symbols)
    check_open(a, symbols)
    extra = memory or {}
    shapes_only = ("activations", "peak_bytes")  # metrics that read no layer's cost
    if not a.totals.complete and metric not in shapes_only and (metric in METRICS or metric in extra):
        raise unknown_cost_error(a, f"--within {metric}")
    if metric in METRICS:
        formula = getattr(a.totals, METRICS[metric])
    elif metric in extra:
        formula = extra[metric](a)
    else:
        raise UsageError(f"unknown budget {metric!r}; known: {', '.join([*METRICS, *extra])}")
    # Tied symbols are one: each gets the same value.
    first = symbols[0]
    sym = spec.symbols[first]
    conditions = tuple(c.condition for c in a.constraints)
    compiled = compile_formulas({"v": formula}, symbols)
    if step is None:
        step = 1 if sym.integer else Fraction(1, 100)
    step = Fraction(step)
    if step <= 0:
        raise UsageError(f"--step {dims.fmt(dims.canon(step))}: the step must be positive")
    if sym.integer and step.denominator != 1:
        raise UsageError(
            f"--step {dims.fmt(dims.canon(step))}: {first} takes whole values, so the step must be a "
            "whole number (steps between values are for rational symbols such as a width multiplier)"
        )
    lo_k = int(-(-Fraction(sym.lower) // step))
    top = sym.max

    def cost(k: int):
        v = dims.canon(k * step)
        return _scalar(compiled({s: np.array([v], dtype=object) for s in symbols})["v"][0])

    for c in _bounds_only(conditions):
        name, _, bound = c.partition(" >= ")
        if name in symbols:
            lo_k = max(lo_k, int(-(-Fraction(bound) // step)))

    def within(k: int) -> bool:
        v = dims.canon(k * step)
        return (top is None or v <= top) and cost(k) <= budget

    def valid(k: int) -> bool:
        point = {s: np.array([dims.canon(k * step)], dtype=object) for s in symbols}
        return bool(holds(conditions, point, 1)[0])

    found = best = _search_up(within, lo_k)
    # Residue conditions (H % 16 == 0) are periodic: step down to the nearest value meeting them.
    tries = 0
    while best is not None and not valid(best):
        best = best - 1 if best > lo_k and tries < 1 << 16 else None
        tries += 1
    if best is None:
        return BudgetSolution(
            symbols, metric, budget, None, None, dims.canon(lo_k * step), cost(lo_k), step, formula
        )
    # The next value shown is the next valid one: those between best and found fit the budget
    # but break a condition.
    nxt, tries = found + 1, 0
    while not valid(nxt) and tries < 1 << 16:
        nxt, tries = nxt + 1, tries + 1
    if best >= CEILING:
        stopped_by, next_cost = "ceiling", None
    else:
        next_cost = cost(nxt)
        beyond_max = top is not None and dims.canon(nxt * step) > top
        stopped_by = "max" if beyond_max and next_cost <= budget else "budget"
    return BudgetSolution(
        symbols,
        metric,
        budget,
        dims.canon(best * step),
        cost(best),
        dims.canon(nxt * step),
        next_cost,
        dims.canon(step),
        formula,
        stopped_by,
    )


def _scalar(v):
    return int(v) if isinstance(v, np.integer) else dims.canon(v)
