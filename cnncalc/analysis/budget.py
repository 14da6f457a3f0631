"""Budgets: a spec's totals against limits, compared exactly, at sizes or over ranges of them.

At given sizes a budget is one comparison of integers: a limit of 4.1G is 4,100,000,000, and
4,100,000,001 MACs is over it. When symbols are left open (a range of sizes), the total is a
formula, and the budget holds only if it holds at every value in the range. That is proved, never
sampled: the formula is shown to be monotone in every open symbol, all in the same direction
(:func:`largest`), so that its largest value over the range is at a corner, where it is
computed exactly and confirmed by an analysis at those sizes. A formula that cannot be shown
monotone (a remainder, a product of terms of changing sign, a branch) is refused with the part
that could not be shown, as is an open symbol with no upper bound: no result is stated without
its proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..core import dims
from ..core.engine import Analysis, analyze, follow_derived, resolve_symbols
from ..errors import CnncalcError, UsageError
from ..lang.budget import Budget
from ..lang.model import Spec


class Unproved(Exception):
    """The formula could not be shown monotone; the message says which part."""


@dataclass(frozen=True)
class Verdict:
    """One limit, checked: the total (its largest value over the ranges left open) against it."""

    spec: str  # the spec's name
    filename: str
    where: str  # where the limit is declared: file:line:column, or the command-line option
    metric: str
    limit: int
    value: int  # the total; over open ranges, the largest
    at: dict[str, Any]  # the sizes where ``value`` is reached (open symbols at their corner)
    ranges: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # open symbols: (low, high)
    # the conditions that cut an open range to where the network exists: "H >= 16 (avgpool2)"
    narrowed: tuple[str, ...] = ()

    @property
    def over(self) -> bool:
        return self.value > self.limit

    @property
    def excess(self) -> int:
        """How much over (negative: the room left)."""
        return self.value - self.limit


def check(
    spec: Spec, budgets: tuple[Budget, ...], values: dict[str, Any] | None = None, dtype: str = "float32"
) -> tuple[Verdict, ...]:
    """Every limit of ``budgets`` checked on ``spec``, at ``values`` (--set) overridden by each
    budget's own ``at``.

    Raises:
        UsageError: when a limit cannot be decided (an open symbol without an upper bound, a
            formula not shown monotone, a corner that is not a valid size), saying why.
        CnncalcError: for sizes the spec refuses.
    """
    out: list[Verdict] = []
    for b in budgets:
        out += _check_one(spec, b, dict(values or {}), dtype)
    return tuple(out)


def _text(v: Any) -> Any:
    return f"{v.numerator}/{v.denominator}" if isinstance(v, Fraction) else v


def _metric(a: Analysis, metric: str, dtype: str) -> Any:
    if metric == "peak_bytes":
        from .lifetimes import lifetimes

        return lifetimes(a, dtype).peak_bytes
    return getattr(a.totals, metric)


def _check_one(spec: Spec, b: Budget, values: dict, dtype: str) -> list[Verdict]:
    given = {**values, **{k: _text(v) for k, v in b.at.items()}}
    opened = dict(b.open)
    for name in opened:
        given.pop(name, None)
    bound = resolve_symbols(spec, given)
    concrete = {k: _text(v) for k, v in bound.items() if v is not None and k not in opened}
    concrete = follow_derived(spec, concrete, given)
    # Symbols with no value at all are open too, over their declared range.
    for name, v in bound.items():
        if v is None and name not in opened:
            opened[name] = (None, None)
    if not opened:
        a = analyze(spec, concrete)
        return [_verdict(spec, b, a, m, limit, _metric(a, m, dtype), {}, {}) for m, limit in b.limits.items()]
    ranges = {name: _range(spec, b, name, span) for name, span in opened.items()}
    a = analyze(spec, concrete, symbolic=True)
    ranges, narrowed = _where_it_exists(spec, a, b, ranges)
    out = []
    for m, limit in b.limits.items():
        formula = _metric(a, m, dtype)
        _refuse_unknown(a, b, m)
        used = {s.name for s in dims.free_symbols(formula)}
        box = {n: r for n, r in ranges.items() if n in used}
        try:
            value, corner = largest(formula, box)
        except Unproved as exc:
            raise UsageError(
                f"{b.where_of(m)}: {m} <= {limit:,} cannot be proved over {_ranges_text(box)}: {exc}; "
                f"check it at given sizes (--set, or at: in the budget) instead"
            ) from None
        if value > limit:
            # Over at the corner: confirm with an analysis there (it must be a valid size).
            try:
                exact = _metric(
                    analyze(spec, {**concrete, **{k: _text(v) for k, v in corner.items()}}), m, dtype
                )
            except CnncalcError as exc:
                raise UsageError(
                    f"{b.where_of(m)}: {m} <= {limit:,} over {_ranges_text(box)}: the largest value, "
                    f"{int(value):,} at {_point_text(corner)}, is at sizes the network refuses "
                    f"({exc}); narrow the range"
                ) from None
            assert exact == value, (exact, value)  # the formula is the analysis at those sizes
        cut = tuple(why for n, why in narrowed if n in box)
        out.append(_verdict(spec, b, a, m, limit, value, corner, box, cut))
    return out


def _where_it_exists(
    spec: Spec, a: Analysis, b: Budget, ranges: dict[str, tuple[Any, Any]]
) -> tuple[dict[str, tuple[Any, Any]], list[tuple[str, str]]]:
    """The open ranges cut to the sizes at which the network exists, and why each cut was made.

    A condition of the analysis that bounds one open symbol by a number (``H >= 16``: below it a
    layer has no output) moves that end of the symbol's range: the formulas say nothing of the
    values beyond it, where there is no network to check.

    Raises:
        UsageError: when no value of a range has a network.
    """
    from .sweep import symbol_bound

    out = dict(ranges)
    why: list[tuple[str, str]] = []
    for c in a.constraints:
        found = symbol_bound(c.condition)
        if found is None or found[0] not in out:
            continue
        name, op, bound = found
        lo, hi = out[name]
        integer = spec.symbols[name].integer
        if op == ">=" and bound > lo:
            lo = -(-bound.numerator // bound.denominator) if integer else bound
        elif op == "<=" and bound < hi:
            hi = bound.numerator // bound.denominator if integer else bound
        else:
            continue
        if lo > hi:
            asked = ranges[name]
            raise UsageError(
                f"{b.where}: no {name} in [{_text(asked[0])}, {_text(asked[1])}] has a network: "
                f"{c.layer} needs {c.condition} ({c.reason})"
            )
        out[name] = (_exact(lo), _exact(hi))
        why.append((name, f"{c.condition} ({c.layer})"))
    return out, why


def _exact(v: Any) -> Any:
    """An int where the number is whole (a Fraction otherwise)."""
    v = Fraction(v)
    return v.numerator if v.denominator == 1 else v


def _refuse_unknown(a: Analysis, b: Budget, metric: str) -> None:
    if metric != "activations" and not a.totals.complete:
        names = ", ".join(a.totals.unknown_cost[:3]) + (", ..." if len(a.totals.unknown_cost) > 3 else "")
        raise UsageError(
            f"{b.where_of(metric)}: {metric}: the cost of {names} is unknown (an opaque layer), so the "
            f"total cannot be checked against a limit"
        )


def _verdict(spec, b, a, metric, limit, value, at, ranges, narrowed=()) -> Verdict:
    _refuse_unknown(a, b, metric)
    point = {k: v for k, v in a.symbols.items() if v is not None}
    return Verdict(
        spec.name,
        spec.filename,
        b.where_of(metric),
        metric,
        limit,
        int(value),
        {**point, **at},
        ranges,
        tuple(narrowed),
    )


def _range(spec: Spec, b: Budget, name: str, span: tuple[Any, Any]) -> tuple[Any, Any]:
    sym = spec.symbols[name]
    low, high = span
    low = sym.lower if low is None else low
    if high is None:
        if sym.max is None:
            cli = b.where == "command line"
            given = f"--set {name}=..." if cli else f"at: {{{name}: ...}} in the budget, or --set"
            span = f"--open {name}=LOW:HIGH" if cli else f"open: {{{name}: [low, high]}}"
            raise UsageError(
                f"{b.where}: {name} is left open but has no declared maximum, so no limit can hold "
                f"for every {name}: give it a value ({given}), a range ({span}), or declare its max"
            )
        high = sym.max
    if low < sym.lower or (sym.max is not None and high > sym.max):
        top = sym.max if sym.max is not None else "inf"
        raise UsageError(
            f"{b.where}: {name} in [{low}, {high}] leaves its declared range [{sym.lower}, {top}]"
        )
    if sym.integer and (Fraction(low).denominator != 1 or Fraction(high).denominator != 1):
        raise UsageError(f"{b.where}: {name} takes whole values; its range [{low}, {high}] must too")
    return (low, high)


def _ranges_text(box: dict) -> str:
    return ", ".join(f"{n} in [{lo}, {hi}]" for n, (lo, hi) in box.items()) or "the sizes given"


def _point_text(point: dict) -> str:
    return ", ".join(f"{n}={v}" for n, v in point.items())


# ---------------------------------------------------------------------------------------------
# The proof: monotone in every open symbol, in one direction.


def largest(formula: Any, box: dict[str, tuple[Any, Any]]) -> tuple[Any, dict[str, Any]]:
    """The largest value of ``formula`` over the box (each symbol from low to high), and the
    corner where it is reached.

    Proved by structure: every part of the formula is shown nondecreasing (or nonincreasing) in
    all the symbols at once, with its exact bounds over the box; the largest value is then at
    the box's upper (or lower) corner.

    Raises:
        Unproved: naming the part that could not be shown monotone.
    """
    if dims.is_concrete(formula):
        return formula, {}
    sp = dims.sp()
    e = dims.to_sympy(formula)
    names = {s.name for s in e.free_symbols}
    missing = names - set(box)
    if missing:
        raise Unproved(f"no range for {', '.join(sorted(missing))}")
    rbox = {n: (sp.Rational(Fraction(lo)), sp.Rational(Fraction(hi))) for n, (lo, hi) in box.items()}
    direction, _, high = _bounds(e, rbox, sp)
    corner = {n: (hi if direction >= 0 else lo) for n, (lo, hi) in box.items() if n in names}
    at_corner = e.subs({s: rbox[s.name][1 if direction >= 0 else 0] for s in e.free_symbols})
    if not high.is_Rational:
        raise Unproved(f"its largest value, {high}, is not a rational number")
    assert at_corner == high, (at_corner, high)  # the bound is the value at the corner
    value = int(high) if high.is_Integer else Fraction(int(high.p), int(high.q))
    return value, corner


def _bounds(e: Any, box: dict, sp: Any) -> tuple[int, Any, Any]:
    """(direction, low, high) of ``e`` over the box: direction 1 nondecreasing in every symbol,
    -1 nonincreasing, 0 constant; low and high its exact extremes (reached at the corners)."""
    if e.is_Number:
        if not e.is_Rational:
            raise Unproved(f"{e} is not an exact number")
        return 0, e, e
    if e.is_Symbol:
        lo, hi = box[e.name]
        return 1, lo, hi
    if e.is_Add:
        parts = [_bounds(a, box, sp) for a in e.args]
        return _same(parts, e), sum(p[1] for p in parts), sum(p[2] for p in parts)
    if e.is_Mul:
        acc = (0, sp.Integer(1), sp.Integer(1))
        for a in e.args:
            acc = _mul(acc, _bounds(a, box, sp), e)
        return acc
    if e.is_Pow:
        return _pow(_bounds(e.base, box, sp), e.exp, e)
    if isinstance(e, (sp.floor, sp.ceiling)):
        d, lo, hi = _bounds(e.args[0], box, sp)
        f = type(e)
        return d, f(lo), f(hi)
    if isinstance(e, (sp.Max, sp.Min)):
        parts = [_bounds(a, box, sp) for a in e.args]
        pick = max if isinstance(e, sp.Max) else min
        return _same(parts, e), pick(p[1] for p in parts), pick(p[2] for p in parts)
    if isinstance(e, sp.Mod):
        raise Unproved(f"{dims.fmt(e)} is a remainder, which goes up and down")
    raise Unproved(f"{dims.fmt(e)} could not be shown monotone")


def _same(parts: list, e: Any) -> int:
    ds = {p[0] for p in parts} - {0}
    if len(ds) > 1:
        raise Unproved(f"{dims.fmt(e)} adds parts that grow and parts that shrink")
    return ds.pop() if ds else 0


def _scale(c: Any, p: tuple) -> tuple:
    d, lo, hi = p
    if c == 0:
        return 0, c, c
    return (d, c * lo, c * hi) if c > 0 else (-d, c * hi, c * lo)


def _sign(p: tuple) -> int | None:
    return 1 if p[1] >= 0 else -1 if p[2] <= 0 else None


def _mul(a: tuple, b: tuple, e: Any) -> tuple:
    if a[0] == 0:
        return _scale(a[1], b)
    if b[0] == 0:
        return _scale(b[1], a)
    sa, sb = _sign(a), _sign(b)
    if sa is None or sb is None:
        raise Unproved(f"{dims.fmt(e)} multiplies a factor that changes sign over the range")
    # |a| and |b| are nonnegative and move in directions sa*da and sb*db: together, or no proof.
    da, db = sa * a[0], sb * b[0]
    if da != db:
        raise Unproved(f"{dims.fmt(e)} multiplies a growing factor by a shrinking one")
    lo = min(abs(a[1]), abs(a[2])) * min(abs(b[1]), abs(b[2]))
    hi = max(abs(a[1]), abs(a[2])) * max(abs(b[1]), abs(b[2]))
    return (da, lo, hi) if sa * sb > 0 else (-da, -hi, -lo)


def _pow(base: tuple, n: Any, e: Any) -> tuple:
    d, lo, hi = base
    if d == 0:
        return 0, lo**n, hi**n
    if not n.is_Rational:
        raise Unproved(f"{dims.fmt(e)} has an exponent that is not a number")
    if n > 0 and lo >= 0:
        return d, lo**n, hi**n
    if n.is_Integer and n > 0 and n % 2 == 1:
        return d, lo**n, hi**n  # an odd power is increasing everywhere
    if n.is_Integer and n > 0 and hi <= 0:
        return -d, hi**n, lo**n  # an even power of a nonpositive factor
    if n < 0 and lo > 0:
        return -d, hi**n, lo**n
    raise Unproved(f"{dims.fmt(e)} is a power of a factor that changes sign over the range")
