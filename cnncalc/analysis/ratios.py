"""Exact ratios of counts: a Fraction when both are numbers, a formula when symbols are open."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..core import dims
from ..core.dims import Dim

#: Above this many operations in its cancelled form, a symbolic ratio is not also expanded and
#: factored: on the bundled networks' shares, factoring such a form takes 50-160 ms and shortens
#: it by a few characters of hundreds (406 to 399), while below it costs a few milliseconds and
#: finds the forms people write (``1/N + 1/K**2``).
_SIMPLIFY_OPS = 30
#: Above this many operations in numerator and denominator together, a ratio is not simplified
#: at all (cancelling the totals of a deep network takes seconds).
_CANCEL_OPS = 120


def ratio(num: Dim, den: Dim) -> Any:
    """``num / den`` exactly, written as simply as a person would; None when ``den`` is 0.

    Returns an int or Fraction when both are concrete, else a sympy expression (undefined
    where the denominator's formula is 0, which for counts of a valid network it is not).
    """
    if dims.is_concrete(num) and dims.is_concrete(den):
        return None if den == 0 else dims.canon(Fraction(num) / Fraction(den))
    s = dims.sp()
    d = dims.to_sympy(den)
    n = dims.to_sympy(num)
    if d.is_zero:
        return None
    if n.is_zero:
        return 0
    if s.count_ops(n) + s.count_ops(d) > _CANCEL_OPS:
        # Too large to simplify in reasonable time: the quotient as it stands.
        return s.Mul(n, s.Pow(d, -1, evaluate=False), evaluate=False)
    r = n / d
    cancelled = s.cancel(r)
    candidates = [cancelled]
    if s.count_ops(cancelled) <= _SIMPLIFY_OPS:
        candidates += [s.expand(r), s.factor(cancelled)]
    best = min(candidates, key=lambda e: (s.count_ops(e), len(str(e))))
    return dims.canon(best)
