"""Inverse questions: which sizes give a wanted output shape; how large a symbol may grow within
a budget. An answer is stated only when it is proved over the whole range searched.

The formula of the size or the cost is split by :mod:`.pieces` into parts on each of which it
is proved nondecreasing, nonincreasing or constant (conditionals of the symbol are cut at their
thresholds, ``%`` by residue classes), or else small enough to evaluate at each value. A
monotone part is searched by bisection over exact evaluations (:mod:`.exact`), a few dozen and
not a scan; the others value by value. Nothing assumes that a cost grows with the input: where
no proof is found and the part is unbounded, the question is refused with the reason.

A symbol that decides which layers exist (a ``repeat:`` count, a ``when:`` condition) has no
formula: it is searched one analysis per value, over a finite range only (its declared ``max``
or ``upto``).

Values meet the network's conditions too: bounds and residues (``H % 16 == 0`` for a U-Net)
are checked at the values found, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from ..core import dims
from ..errors import UsageError
from ..lang.model import Spec
from .exact import compile_formulas
from .pieces import Piece, Unproved, split
from .receptive import last_feature_map
from .sweep import check_open, condition_formula, open_analysis, symbol_bound, unknown_cost_error

#: How far up a search goes before calling a symbol unbounded (in steps).
CEILING = 1 << 40
#: Values a symbol deciding the layers may take to be searched (one analysis each).
MAX_ANALYSES = 1000
#: Values stepped over, at most, looking for one that meets the network's conditions.
MAX_STEPS = 1 << 16
#: Values gathered, at most, when the sizes wanted repeat with a period.
MAX_LISTED = 1 << 20


@dataclass(frozen=True)
class ShapeSolution:
    """The values of one symbol giving a wanted size along one axis of a layer's output."""

    symbol: str
    layer: str
    axis: int  # index in the output shape
    size: int  # the wanted size
    interval: tuple[int, int | None] | None  # the first run of values (None: there is none)
    conditions: tuple[str, ...]  # residue and other conditions the values must also meet
    formula: Any  # the size as a formula of the symbol
    #: Without an interval: the largest value searched (the symbol's declared maximum, or 2**40)
    #: when every value up to it gives a smaller size; None when the sizes skip the one wanted.
    searched_to: int | None = None
    #: Every run of values, in order (an end of None: every larger value too).
    intervals: tuple[tuple[int, int | None], ...] = ()


@dataclass(frozen=True)
class BudgetSolution:
    """The largest value of one or more tied symbols within a budget of one metric."""

    symbols: tuple[str, ...]
    metric: str
    budget: int
    best: Any  # the largest value within the budget (None: no value is)
    best_cost: Any
    next: Any  # the next valid value above it (exceeds the budget, or the range searched)
    next_cost: Any  # None when it is beyond the range searched and has no cost there
    step: Any
    formula: Any  # None when the symbol decides the layers (searched value by value)
    #: What ended the search: ``budget`` (the next value exceeds it), ``max`` (the end of the
    #: range searched, the budget not spent) or ``ceiling`` (2**40 steps, the budget not spent).
    stopped_by: str = "budget"
    searched: tuple[Any, Any] | None = None  # the range searched (an end of None: unbounded)
    upto: Any = None  # the end of the range given by the question (else the declared max)


def _search_up(fn, lo: int, cap: int = CEILING) -> int | None:
    """The largest integer ``v >= lo`` with ``fn(v)`` true, fn monotone (true then false);
    None if ``fn(lo)`` is false; ``cap`` if still true there."""
    if not fn(lo):
        return None
    hi = lo + 1
    while hi <= cap and fn(hi):
        if hi >= cap:
            return cap
        lo, hi = hi, min(cap, hi + 2 * (hi - lo) + 1)  # the gap doubles: O(log v) calls
    hi = min(hi, cap + 1)
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
    idx = last_feature_map(a)
    if idx is None:
        raise UsageError("the network has no layer with a spatial output")
    return idx


# ---------------------------------------------------------------------------------------------
# one symbol's values k*step, a function of k evaluated exactly, and the network's conditions


class _Problem:
    """A function ``f(k)`` of the integer ``k`` (the symbols at ``k*step``) over ``[lo, top]``
    (``top`` None: unbounded), its pieces, and the network's validity at each ``k``."""

    def __init__(self, names: tuple[str, ...], step: Fraction, lo: int, top: int | None):
        self.names, self.step, self.lo, self.top = names, step, lo, top
        self.pieces: list[Piece] = []

    def value(self, k: int) -> Any:
        return dims.canon(k * self.step)

    def f(self, ks: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def valid(self, ks: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def one(self, k: int) -> Any:
        return _scalar(self.f(np.array([k], dtype=np.int64 if abs(k) < 2**62 else object))[0])

    def ok(self, k: int) -> bool:
        return bool(self.valid(np.array([k], dtype=np.int64 if abs(k) < 2**62 else object))[0])


class _Formula(_Problem):
    """``f`` a formula of the symbols, all at ``k*step``."""

    def __init__(self, names, step, lo, top, formula, conditions, rational, what: str):
        super().__init__(names, step, lo, top)
        s = dims.sp()
        k = dims.symbol("k#")
        self.formula = formula
        subs = {n: k * s.Rational(step.numerator, step.denominator) for n in names}
        g = _replace(formula, subs)
        tests = {f"c{i}": _replace(condition_formula(c, rational), subs) for i, c in enumerate(conditions)}
        try:
            self._f = compile_formulas({"v": g}, ("k#",))
            self._valid = compile_formulas(tests, ("k#",))
        except ValueError as exc:
            raise UsageError(f"{what}: {exc}") from None
        try:
            self.pieces = split(g, k, lo, top, what)
        except Unproved as exc:
            raise UsageError(f"{exc}, so no answer is stated (no other assumption is made)") from None

    def f(self, ks):
        return np.asarray(self._f({"k#": ks})["v"]).reshape(-1)

    def valid(self, ks):
        out = np.ones(len(ks), dtype=bool)
        for v in self._valid({"k#": ks}).values():
            out &= np.broadcast_to(np.asarray(v).astype(bool), out.shape)
        return out


class _Analyses(_Problem):
    """``f`` by one analysis at each value (the symbols decide the layers)."""

    def __init__(self, spec, values, names, step, lo, top, read):
        super().__init__(names, step, lo, top)
        self.spec, self.values, self.read = spec, values, read
        self.cache: dict[int, Any] = {}
        self.pieces = [Piece(lo, top, 1, 0, None)]

    def _at(self, k: int) -> Any:
        if k not in self.cache:
            from ..core.engine import analyze
            from ..errors import ShapeError, SpecError

            v = self.value(k)
            text = f"{v.numerator}/{v.denominator}" if isinstance(v, Fraction) else v
            try:
                a = analyze(self.spec, {**self.values, **dict.fromkeys(self.names, text)})
                self.cache[k] = self.read(a)
            except (ShapeError, SpecError):
                self.cache[k] = None  # no network at this value
        return self.cache[k]

    def f(self, ks):
        return np.array([self._at(int(k)) for k in ks], dtype=object)

    def valid(self, ks):
        return np.array([self._at(int(k)) is not None for k in ks], dtype=bool)


def _replace(formula: Any, subs: dict[str, Any]) -> Any:
    if dims.is_concrete(formula) or not hasattr(formula, "free_symbols"):
        return formula
    found = {f: subs[str(f)] for f in formula.free_symbols if str(f) in subs}
    return formula.xreplace(found) if found else formula


def _scalar(v):
    return int(v) if isinstance(v, np.integer) else dims.canon(v)


def _range_of(spec: Spec, names, step: Fraction, conditions, upto) -> tuple[int, int | None]:
    """The steps ``k`` searched: from the symbols' lower bounds (declared, and found by the
    analysis) to their declared maximum or ``upto``."""
    lo = max(int(-(-Fraction(spec.symbols[n].lower) // step)) for n in names)
    for c in conditions:
        found = symbol_bound(c)
        if found is not None and found[1] == ">=" and found[0] in names:
            lo = max(lo, int(-(-found[2] // step)))
    tops = [spec.symbols[n].max for n in names if spec.symbols[n].max is not None]
    if upto is not None:
        tops.append(upto)
    top = int(Fraction(min(tops)) // step) if tops else None
    return lo, top


def _structural_problem(spec, values, names, step, conditions, upto, read, question: str) -> _Analyses:
    lo, top = _range_of(spec, names, step, conditions, upto)
    deciding = [n for n in names if n in spec.structural]
    who = " and ".join(deciding)
    if top is None or top - lo + 1 > MAX_ANALYSES:
        span = "has no declared max" if top is None else f"has {top - lo + 1:,} values to search"
        raise UsageError(
            f"{question}: {who} decides which layers exist (a repeat: or when: reads it), so the "
            f"answer is no single formula of {who}: cnncalc searches it one analysis a value, over "
            f"at most {MAX_ANALYSES:,} values, and {who} {span}; give --upto (or a max in the "
            f"spec), or tabulate it with cnncalc sweep"
        )
    return _Analyses(spec, values, names, step, lo, top, read)


# ---------------------------------------------------------------------------------------------
# solve --shape


def solve_shape(
    spec: Spec,
    sizes: tuple[int, ...],
    values: dict[str, Any] | None = None,
    layer: str | None = None,
    upto: Any = None,
) -> tuple[ShapeSolution, ...]:
    """For each spatial axis of ``layer``'s output (default: the last spatial one), the values of
    the symbol it depends on that give ``sizes`` (height, width).

    Raises:
        UsageError: for an unknown layer, an axis that depends on several open symbols, or
            sizes whose values cannot be proved over the range.
    """
    values = dict(values or {})
    spatial = [n for n in spec.symbols if n not in values]
    a = open_analysis(spec, values, tuple(spatial))
    deciding = list(
        dict.fromkeys(n for e in spec.input[2:] for n in e.names if n in spec.structural and n not in values)
    )
    if deciding:
        return _shape_by_analyses(spec, sizes, values, layer, upto, deciding)
    idx = last_spatial_layer(a) if layer is None else _layer_index(a, layer)
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
        one = open_analysis(spec, values, (name,))
        conditions = tuple(c.condition for c in one.constraints)
        bounds = _bounds_only(conditions)
        rational = {n for n, s in spec.symbols.items() if not s.integer}
        step = Fraction(1) if spec.symbols[name].integer else Fraction(1, 100)
        lo, top = _range_of(spec, (name,), step, bounds, upto)
        what = f"the size of {r.name} along axis {axis} ({dims.fmt(f)})"
        problem = _Formula((name,), step, lo, top, one.layers[idx].output_shape[axis], bounds, rational, what)
        runs, searched = _preimage(problem, want)
        rest = tuple(c for c in conditions if c not in bounds)
        first = runs[0] if runs else None
        end = (CEILING if top is None else top) if searched else None
        out.append(
            ShapeSolution(name, r.name, axis, want, first, rest, f, end if not runs else None, tuple(runs))
        )
    return tuple(out)


def _layer_index(a, layer: str) -> int:
    names = [r.name for r in a.layers]
    if layer not in names:
        from ..errors import unknown_message

        raise UsageError(unknown_message("layer", layer, names))
    return names.index(layer)


def _bounds_only(conditions) -> tuple[str, ...]:
    return tuple(c for c in conditions if " >= " in c and c.split(" >= ")[0].isidentifier())


def _shape_by_analyses(spec, sizes, values, layer, upto, deciding) -> tuple[ShapeSolution, ...]:
    """--shape when a spatial symbol decides which layers exist: one analysis per value."""
    if layer is None:
        raise UsageError(
            f"--shape: {' and '.join(deciding)} decides which layers exist (a repeat: or when: "
            f"reads it), so the last feature map may change with it: name the layer with --layer"
        )
    out = []
    for axis, want in zip((2, 3), sizes, strict=True):
        name = next(iter(spec.input[axis].names), None)
        if name is None or name not in deciding:
            raise UsageError(f"--shape: axis {axis} does not follow a symbol deciding the layers")

        def read(a, axis=axis):
            shape = {r.name: r.output_shape for r in a.layers}.get(layer)
            return None if shape is None or len(shape) != 4 else shape[axis]

        problem = _structural_problem(spec, values, (name,), Fraction(1), (), upto, read, "--shape")
        runs, _ = _preimage(problem, want)
        out.append(
            ShapeSolution(name, layer, axis, want, runs[0] if runs else None, (), None, None, tuple(runs))
        )
    return tuple(out)


def _preimage(p: _Problem, want: int) -> tuple[list[tuple[int, int | None]], bool]:
    """The runs of values where ``f == want``, and whether every value searched gives a smaller
    size (the one wanted may then lie beyond the range)."""
    found: list[tuple[int, int | None, int]] = []  # (first k, last k or None, period)
    all_below = True
    for piece in p.pieces:
        count = piece.count()
        if count == 0:
            continue
        end = (count - 1) if count is not None else _cap_index(piece)
        if piece.direction is None:
            ks = piece.at(np.arange(count, dtype=np.int64))
            got = p.f(ks)
            found += [(int(k), int(k), 1) for k in ks[_compare(got, want, "==")]]
            all_below = all_below and bool(_compare(got, want, "<").all())
            continue
        if piece.direction == 0:
            v = p.one(piece.at(0))
            all_below = all_below and _lt(v, want)
            if v == want:
                found.append((piece.at(0), None if count is None else piece.at(end), piece.period))
            continue
        up = piece.direction > 0
        top_value = p.one(piece.at(end if up else 0))
        all_below = all_below and _lt(top_value, want)

        def before(j, up=up, piece=piece):  # on the side of `want` the piece starts from
            v = p.one(piece.at(j))
            return v is not None and (v < want if up else v > want)

        j1 = _search_up(before, 0, end) + 1 if before(0) else 0
        if j1 > end or p.one(piece.at(j1)) != want:
            continue
        j2 = _search_up(lambda j, piece=piece: p.one(piece.at(j)) == want, j1, end)
        found.append((piece.at(j1), piece.at(j2), piece.period))
    runs = _runs(found)
    return runs, all_below and not runs


def _compare(values: np.ndarray, want: int, op: str) -> np.ndarray:
    if op == "==":
        return np.array([v is not None and v == want for v in values], dtype=bool)
    return np.array([v is None or v < want for v in values], dtype=bool)


def _lt(v, want) -> bool:
    return v is None or v < want


def _cap_index(piece: Piece) -> int:
    return max(0, (CEILING - piece.first()) // piece.period)


def _runs(found: list[tuple[int, int | None, int]]) -> list[tuple[int, int | None]]:
    """Contiguous runs of the values of arithmetic progressions ``(first, last, period)``."""
    if not found:
        return []
    if all(period == 1 for *_, period in found):
        spans = sorted((a, b) for a, b, _ in found)
    else:
        if any(b is None for _, b, _ in found) or sum((b - a) // p + 1 for a, b, p in found) > MAX_LISTED:
            raise UsageError(
                "the values wanted repeat with a period over a range too long to list; narrow it with --upto"
            )
        every = sorted({v for a, b, p in found for v in range(a, b + 1, p)})
        spans = [(v, v) for v in every]
    out: list[list] = []
    for a, b in spans:
        if out and out[-1][1] is not None and a <= out[-1][1] + 1:
            out[-1][1] = None if b is None else max(out[-1][1], b)
        elif out and out[-1][1] is None:
            continue
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


# ---------------------------------------------------------------------------------------------
# solve --largest ... --within


METRICS = {"macs": "macs", "params": "params", "flops": "flops", "activations": "activations"}


def largest_within(
    spec: Spec,
    symbols: tuple[str, ...],
    metric: str,
    budget: int,
    values: dict[str, Any] | None = None,
    step: Any = None,
    memory=None,
    upto: Any = None,
) -> BudgetSolution:
    """The largest value ``v`` (a multiple of ``step`` for rational symbols) such that, with every
    one of ``symbols`` at ``v``, ``metric`` stays within ``budget``, searched from the symbols'
    lower bounds to their declared maximum or ``upto``.

    ``memory`` maps a metric name to a function of the analysis giving its formula (for byte
    counts); counts are read from the totals.

    Raises:
        UsageError: for an unknown metric or symbol, symbols left without a value, or a cost
            whose answer cannot be proved over the range (saying why).
    """
    values = dict(values or {})
    if not symbols:
        raise UsageError("no symbol to grow: name one or more (H,W)")
    for name in symbols:
        if name not in spec.symbols:
            from ..errors import unknown_message

            raise UsageError(unknown_message("symbol", name, spec.symbols))
        if name in values:
            raise UsageError(f"{name} is both given a value and grown: keep one")
    extra = memory or {}
    if metric not in METRICS and metric not in extra:
        raise UsageError(f"unknown budget {metric!r}; known: {', '.join([*METRICS, *extra])}")
    first = symbols[0]
    sym = spec.symbols[first]
    step = _step(sym, first, step)
    shapes_only = ("activations", "peak_bytes")  # metrics that read no layer's cost

    def read(a):
        if not a.totals.complete and metric not in shapes_only:
            raise unknown_cost_error(a, f"--within {metric}")
        return getattr(a.totals, METRICS[metric]) if metric in METRICS else extra[metric](a)

    if any(n in spec.structural for n in symbols):
        problem: _Problem = _structural_problem(
            spec, values, symbols, step, (), upto, lambda a: _concrete(read(a)), "--largest"
        )
        problem.ok(problem.lo)  # the first analysis: its refusals (an opaque layer) come first
        formula = None
    else:
        a = open_analysis(spec, values, symbols)
        check_open(a, symbols)
        formula = read(a)
        conditions = tuple(c.condition for c in a.constraints)
        lo, top = _range_of(spec, symbols, step, conditions, upto)
        rational = {n for n, s in spec.symbols.items() if not s.integer}
        what = f"{metric} ({_short(formula)})"
        problem = _Formula(symbols, step, lo, top, formula, conditions, rational, what)
    return replace(_largest(problem, symbols, metric, budget, step, formula), upto=upto)


def _step(sym, name: str, step: Any) -> Fraction:
    if step is None:
        step = 1 if sym.integer else Fraction(1, 100)
    step = Fraction(step)
    if step <= 0:
        raise UsageError(f"--step {dims.fmt(dims.canon(step))}: the step must be positive")
    if sym.integer and step.denominator != 1:
        raise UsageError(
            f"--step {dims.fmt(dims.canon(step))}: {name} takes whole values, so the step must be a "
            "whole number (steps between values are for rational symbols such as a width multiplier)"
        )
    return step


def _concrete(v):
    return v if v is None or dims.is_concrete(v) else None


def _short(formula: Any) -> str:
    text = dims.fmt(formula)
    return text if len(text) <= 80 else text[:77] + "..."


def _largest(p: _Problem, symbols, metric: str, budget: int, step: Fraction, formula) -> BudgetSolution:
    best: int | None = None
    capped = False
    for piece in p.pieces:
        found, at_cap = _best_in(p, piece, budget)
        if found is not None and (best is None or found > best):
            best, capped = found, at_cap
    searched = (p.value(p.lo), None if p.top is None else p.value(p.top))
    if best is None:
        k = p.lo
        return BudgetSolution(
            symbols,
            metric,
            budget,
            None,
            None,
            p.value(k),
            p.one(k),
            dims.canon(step),
            formula,
            "budget",
            searched,
        )
    nxt = best + 1
    for _ in range(MAX_STEPS):
        if (p.top is not None and nxt > p.top) or p.ok(nxt):
            break
        nxt += 1
    beyond = p.top is not None and nxt > p.top
    next_cost = None if beyond and isinstance(p, _Analyses) else p.one(nxt)
    if capped:
        stopped_by, next_cost = "ceiling", None
    elif beyond and (next_cost is None or next_cost <= budget):
        stopped_by = "max"
    else:
        stopped_by = "budget"
    return BudgetSolution(
        symbols,
        metric,
        budget,
        p.value(best),
        p.one(best),
        p.value(nxt),
        next_cost,
        dims.canon(step),
        formula,
        stopped_by,
        searched,
    )


def _best_in(p: _Problem, piece: Piece, budget: int) -> tuple[int | None, bool]:
    """The largest valid ``k`` of ``piece`` within the budget, and whether the search stopped at
    its limit of 2**40 steps still within it."""
    count = piece.count()
    if count == 0:
        return None, False
    end = count - 1 if count is not None else _cap_index(piece)
    fits = lambda j: _le(p.one(piece.at(j)), budget)  # noqa: E731
    if piece.direction is None:
        ks = piece.at(np.arange(count, dtype=np.int64))
        good = np.flatnonzero(np.array([_le(v, budget) for v in p.f(ks)], dtype=bool) & p.valid(ks))
        return (int(ks[good[-1]]), False) if len(good) else (None, False)
    if piece.direction > 0:
        j = _search_up(fits, 0, end)
    elif piece.direction < 0:
        j = end if fits(end) else None
    else:
        j = end if fits(0) else None
    if j is None:
        return None, False
    capped = count is None and j == end
    stop = j
    while not p.ok(piece.at(j)):
        j -= 1
        if j < 0 or (piece.direction < 0 and not fits(j)):
            return None, False
        if stop - j > MAX_STEPS:
            raise UsageError(
                f"no value from {p.value(piece.at(j))} to {p.value(piece.at(stop))} meets the "
                f"network's conditions ({MAX_STEPS:,} tried): the answer is not stated"
            )
    return piece.at(j), capped


def _le(v, budget) -> bool:
    return v is not None and v <= budget


def byte_metrics(dtype: str) -> dict:
    """Budgets in bytes: the inference peak, and input + params + every activation."""
    from . import memory
    from .lifetimes import lifetimes

    return {
        "peak_bytes": lambda a: lifetimes(a, dtype).peak_bytes,
        "memory_bytes": lambda a: memory.memory(a, dtype).total_bytes,
    }


__all__ = ["CEILING", "BudgetSolution", "ShapeSolution", "byte_metrics", "largest_within", "solve_shape"]
