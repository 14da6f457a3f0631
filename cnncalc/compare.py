"""Comparing two designs: totals side by side, ratios, and where each spends its cost."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import dims
from .breakdown import breakdown
from .dims import Dim
from .engine import Analysis

METRICS = ("params", "trainable_params", "macs", "flops", "activations")


@dataclass(frozen=True)
class Comparison:
    a: Analysis
    b: Analysis
    ratios: dict[str, Any]  # metric -> b / a: Fraction, sympy expression, or None (a is 0)
    categories: tuple[tuple[str, Dim, Dim, Dim, Dim], ...]  # (category, macs a, macs b, params a, params b)


def compare(a: Analysis, b: Analysis) -> Comparison:
    """Totals of ``b`` relative to ``a``, and both breakdowns aligned by category."""
    ratios = {m: ratio(getattr(b.totals, m), getattr(a.totals, m)) for m in METRICS}
    rows_a = {r.category: r for r in breakdown(a)}
    rows_b = {r.category: r for r in breakdown(b)}
    order = list(rows_a) + [c for c in rows_b if c not in rows_a]
    cats = tuple(
        (
            c,
            rows_a[c].macs if c in rows_a else 0,
            rows_b[c].macs if c in rows_b else 0,
            rows_a[c].params if c in rows_a else 0,
            rows_b[c].params if c in rows_b else 0,
        )
        for c in order
    )
    return Comparison(a, b, ratios, cats)


def ratio(num: Dim, den: Dim) -> Any:
    """``num / den`` exactly, written as simply as a person would; None when ``den`` is 0."""
    if dims.is_concrete(num) and dims.is_concrete(den):
        return None if den == 0 else dims.canon(Fraction(num) / Fraction(den))
    s = dims.sp()
    r = dims.to_sympy(num) / dims.to_sympy(den)
    if r.is_zero is None and dims.to_sympy(den).is_zero is not False:
        return None
    if dims.expanded_terms(r) > dims.MAX_TERMS or dims.degree(r) > 2 * dims.MAX_DEGREE:
        return dims.canon(r)  # too large to simplify quickly: exact as it stands
    candidates = [s.cancel(r)]
    if s.count_ops(r) < 200:
        candidates += [s.expand(r), s.factor(candidates[0])]
    best = min(candidates, key=lambda e: (s.count_ops(e), len(str(e))))
    return dims.canon(best)


def ratio_text(v: Any) -> str:
    """``0.1133`` (``8.83x smaller``) for numbers, the formula otherwise."""
    if v is None:
        return "n/a"
    if isinstance(v, (int, Fraction)):
        f = _as_float(v)
        if f is None:
            return f"about 10^{_log10(v)}"
        if f == 1:
            return "1 (same)"
        if f == 0:
            return "0"
        rel = f"{1 / f:.2f}x smaller" if f < 1 else f"{f:.2f}x larger"
        return f"{f:.4g} ({rel})"
    return dims.fmt(v)


def ratio_json(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, Fraction):
        f = _as_float(v)
        return f if f is not None else dims.fmt(v)
    return dims.fmt(v)


def _as_float(v: Fraction) -> float | None:
    """``v`` as a float, or None when a float cannot hold it (beyond 1e308, or below 1e-308)."""
    try:
        f = float(v)
    except OverflowError:
        return None
    return None if (f == 0) != (v == 0) else f


def _log10(v: Fraction) -> int:
    import math

    return round(math.log10(v.numerator) - math.log10(v.denominator))
