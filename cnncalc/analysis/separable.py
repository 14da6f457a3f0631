"""Totals over a grid, evaluated term by term where the terms separate.

A network's totals are sums of terms such as ``1608064*N*floor(H/32 + 31/32)*floor(W/32 +
31/32)`` or ``make_divisible(24*alpha, 8)**2*floor(H/4 + 3/4)**2``: an integer times factors
each of which reads one symbol. Over a grid, a factor of one symbol takes as many values as that
symbol has in the chunk (a few widths, a few thousand sizes), not one per point: each such factor
is evaluated over its symbol's values only, then gathered to the points and multiplied. What does
not separate (a factor reading two symbols, a rational coefficient) is evaluated at every point
by :mod:`.exact`. Exact either way: the products stay in 64-bit integers only when a bound of
every term (its coefficient times the largest magnitude of each of its factors) proves they fit,
and are made in Python integers otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import dims
from .exact import Compiled, compile_formulas

_LIMIT = 2.0**62


@dataclass
class _Term:
    coefficient: int
    factors: dict[str, str]  # symbol -> key of its factor in that symbol's compiled formulas


@dataclass
class Separable:
    """Formulas compiled for evaluation over a grid (see the module's docstring)."""

    names: tuple[str, ...]
    keys: tuple[str, ...]
    terms: dict[str, list[_Term]]  # formula key -> its separated terms
    factors: dict[str, Compiled]  # symbol -> its factors, compiled over it alone
    rest: Compiled  # formula key -> what does not separate, over every symbol

    def __call__(self, axes: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
        """Every formula at the points of a grid: ``axes`` gives, for each symbol, its distinct
        values in the chunk and, for each point, the index of its value among them."""
        n = len(next(iter(axes.values()))[1]) if axes else 1
        full = {k: values[at] for k, (values, at) in axes.items()}
        rest = self.rest(full) if self.names else {}
        factors = {k: self.factors[k]({k: axes[k][0]}) for k in self.factors}
        # Terms are grouped by their factor of the symbol with the most values in the chunk: the
        # sum of the rest of each group takes the values of at most one other symbol.
        main = max(axes, key=lambda k: len(axes[k][0])) if axes else None
        out = {}
        for key in self.keys:
            parts = [(np.broadcast_to(np.asarray(rest[key]), (n,)), _peak(np.asarray(rest[key])))]
            groups: dict[str | None, list[_Term]] = {}
            for t in self.terms[key]:
                groups.setdefault(t.factors.get(main), []).append(t)
            for fkey, terms in groups.items():
                parts.append(self._group(terms, main, fkey, factors, axes, n))
            out[key] = _sum(parts)[0]
        return out

    def _group(self, terms, main, fkey, factors, axes, n) -> tuple[np.ndarray, float]:
        """The sum of ``terms``, which share their factor ``fkey`` of ``main``, and a bound of
        its magnitude."""
        others = {s for t in terms for s in t.factors if s != main}
        if len(others) <= 1:
            # sum over the other symbol's values (Python integers: few values), then gather
            other = others.pop() if others else None
            size = len(axes[other][0]) if other else 1
            summed = np.zeros(size, dtype=object)
            for t in terms:
                term = np.full(size, t.coefficient, dtype=object)
                if other in t.factors:
                    term = term * np.asarray(factors[other][t.factors[other]]).astype(object)
                summed = summed + term
            left = _gather(summed, axes[other][1] if other else np.zeros(n, dtype=np.int64))
        else:
            left = _sum(
                [
                    _product(
                        [(np.full(n, t.coefficient, dtype=np.int64), float(abs(t.coefficient)))]
                        + [_gather(factors[s][f], axes[s][1]) for s, f in t.factors.items() if s != main]
                    )
                    for t in terms
                ]
            )
        if fkey is None:
            return left
        return _product([left, _gather(factors[main][fkey], axes[main][1])])


def _gather(values: Any, at: np.ndarray) -> tuple[np.ndarray, float]:
    """``values[at]`` (in 64-bit integers when every value fits in 62 bits) and the largest
    magnitude among ``values``."""
    values = np.asarray(values)
    peak = _peak(values)
    if values.dtype == object and peak < _LIMIT and all(_whole(v) for v in values.flat):
        values = values.astype(np.int64)
    return values[at], peak


def _whole(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) or (hasattr(v, "denominator") and v.denominator == 1)


def _product(parts: list[tuple[np.ndarray, float]]) -> tuple[np.ndarray, float]:
    """The product, in 64-bit integers when the bound (the product of the magnitudes) proves it
    fits, else in Python integers; with that bound."""
    bound = float(np.prod([p for _, p in parts]))
    arrays = [a for a, _ in parts]
    exact_64 = bound < _LIMIT and all(a.dtype != object for a in arrays)
    out = arrays[0].astype(np.int64 if exact_64 else object, copy=False)
    for a in arrays[1:]:
        out = out * (a if exact_64 else a.astype(object))
    return out, bound


def _sum(parts: list[tuple[np.ndarray, float]]) -> tuple[np.ndarray, float]:
    """The sum, in 64-bit integers when the bound (the sum of the magnitudes) proves it fits,
    else in Python integers; with that bound."""
    bound = sum(p for _, p in parts)
    arrays = [a for a, _ in parts]
    exact_64 = bound < _LIMIT and all(a.dtype != object for a in arrays)
    out = arrays[0].astype(np.int64 if exact_64 else object, copy=False)
    for a in arrays[1:]:
        out = out + (a if exact_64 else a.astype(object))
    return out, bound


def _peak(a: Any) -> float:
    a = np.asarray(a)
    if not a.size:
        return 0.0
    if a.dtype == object:
        return float(max(abs(v) for v in a.flat))
    return float(max(abs(int(a.max())), abs(int(a.min()))))


def compile_separable(formulas: dict[str, Any], names: tuple[str, ...]) -> Separable:
    """Compile ``formulas`` (key -> formula of ``names``) for evaluation over grids.

    Raises:
        ValueError: as :func:`~.exact.compile_formulas`.
    """
    s = dims.sp()
    per_symbol: dict[str, dict[Any, str]] = {n: {} for n in names}
    terms: dict[str, list[_Term]] = {}
    rest: dict[str, Any] = {}
    for key, f in formulas.items():
        terms[key] = []
        if dims.is_concrete(f) or len(names) < 2:
            rest[key] = f
            continue
        left = []
        for term in s.Add.make_args(f):
            split = _separate(term, names)
            if split is None:
                left.append(term)
                continue
            coefficient, factors = split
            keys = {}
            for sym, factor in factors.items():
                table = per_symbol[sym]
                if factor not in table:
                    table[factor] = f"f{len(table)}"
                keys[sym] = table[factor]
            terms[key].append(_Term(coefficient, keys))
        rest[key] = s.Add(*left) if left else 0
    factors = {
        sym: compile_formulas({k: f for f, k in table.items()}, (sym,))
        for sym, table in per_symbol.items()
        if table
    }
    return Separable(names, tuple(formulas), terms, factors, compile_formulas(rest, names))


def _separate(term: Any, names: tuple[str, ...]) -> tuple[int, dict[str, Any]] | None:
    """``(c, {symbol: factor})`` when ``term`` is an integer ``c`` times factors each of one of
    ``names``; None otherwise."""
    s = dims.sp()
    coefficient, rest = term.as_coeff_Mul()
    if not coefficient.is_Integer:
        return None
    factors: dict[str, list] = {}
    for f in s.Mul.make_args(rest):
        used = {str(x) for x in f.free_symbols}
        if len(used) != 1 or not used <= set(names):
            return None
        factors.setdefault(used.pop(), []).append(f)
    if not factors:
        return None
    return int(coefficient), {sym: s.Mul(*fs) for sym, fs in factors.items()}
