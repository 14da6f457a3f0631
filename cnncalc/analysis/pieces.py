"""Where a formula of one integer variable is monotone, proved: the ground of inverse questions.

A cost or a size of a network is a formula of a symbol ``x``: sums and products of floors of
ratios, and, where a spec writes conditionals (``1000 if H <= 50 else 1``), ``min``/``max`` or
``%``, pieces that follow different rules. :func:`split` cuts ``[lo, hi]`` into :class:`Piece`
s on each of which the formula is proved nondecreasing, nonincreasing or constant, or else
marked to be evaluated at each of its values (finitely many). Nothing is assumed: a piece the
proofs cannot settle and that is unbounded raises :class:`Unproved`, saying why.

How the pieces are found:

- every comparison of ``x`` in a condition that is linear in ``x`` (``H <= 50``) is decided on
  each side of its threshold: the range is cut there;
- a condition or a value that reads ``x`` through ``x % m`` is decided on each residue class:
  ``x = P*k + r`` for ``P`` the least common multiple of the moduli, each class a piece;
- another condition is decided for all large ``x`` when bounds without floors (``u - 1 <
  floor(u) <= u``) are polynomials whose signs agree beyond their roots (rounding channels
  with ``make_divisible`` stops changing its mind past a size): cut there, the part below
  evaluated value by value;
- on each piece, interval arithmetic proves the direction: a sum of nondecreasing terms is
  nondecreasing, so is a product of nonnegative nondecreasing factors, a floor, a min or a
  max of nondecreasing arguments, and so on, with the signs of the factors taken from their
  ranges; a polynomial of ``x`` that is not proved so is cut at the real roots of its
  derivative; a piece still unproved is tried again above ``lo + 2**j`` (signs settle when
  sizes grow), the part below evaluated value by value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..core import dims

#: Values a piece may hold to be evaluated one by one (vectorised, in chunks).
POINTWISE = 1 << 22
#: Largest period of residue classes examined.
MAX_PERIOD = 1 << 10
#: Most pieces a split makes.
MAX_PIECES = 4096

INF = math.inf


class Unproved(Exception):
    """A part of the range where the formula could not be shown monotone and that is too large
    (or unbounded) to evaluate value by value; the message says which part and why."""


@dataclass(frozen=True)
class Piece:
    """The values ``v`` of ``lo <= v <= hi`` (``hi`` None: unbounded) with ``v % period ==
    residue`` on which the formula is nondecreasing (``direction`` 1), nonincreasing (-1),
    constant (0), or to be evaluated at each value (None)."""

    lo: int
    hi: int | None
    period: int
    residue: int
    direction: int | None

    def first(self) -> int | None:
        """The smallest value of the piece (None: it has none)."""
        v = self.lo + (self.residue - self.lo) % self.period
        return v if self.hi is None or v <= self.hi else None

    def last(self) -> int | None:
        """The largest value (None: unbounded or empty)."""
        if self.hi is None:
            return None
        v = self.hi - (self.hi - self.residue) % self.period
        return v if v >= self.lo else None

    def count(self) -> int | None:
        """How many values it holds (None: unbounded)."""
        first, last = self.first(), self.last()
        if self.hi is None:
            return None
        return 0 if first is None or last is None else (last - first) // self.period + 1

    def at(self, j):
        """The ``j``-th value (``j`` an int or an integer array)."""
        return self.first() + j * self.period


def split(f: Any, x: Any, lo: int, hi: int | None, what: str = "the formula") -> list[Piece]:
    """Pieces covering the integers of ``[lo, hi]`` (``hi`` None: unbounded), in order of their
    smallest values; ``f`` a formula (sympy) of the symbol ``x``.

    Raises:
        Unproved: for an unbounded or too large part where no direction is proved, naming it
            (``what`` names the formula in the message).
    """
    s = dims.sp()
    if dims.is_concrete(f) or x not in f.free_symbols:
        return [Piece(lo, hi, 1, 0, 0)]
    atoms = [a for a in f.atoms(s.core.relational.Relational) if x in a.free_symbols]
    thresholds = []
    cuts: set[int] = set()
    period = 1
    eventual: list[tuple[Any, int]] = []  # (atom, value from which it is decided)
    unknown: list[Any] = []
    for a in atoms:
        kind, value = _classify(a, x, lo)
        if kind == "threshold":
            thresholds.append(a)
            cuts |= {c for c in value if lo < c and (hi is None or c <= hi)}
        elif kind == "periodic":
            period = math.lcm(period, value)
        elif kind == "eventual":
            eventual.append((a, value))
        else:
            unknown.append(a)
    for m in f.atoms(s.Min, s.Max):
        if x in m.free_symbols:
            for i, u in enumerate(m.args):
                for w in m.args[i + 1 :]:
                    lin = _linear(u - w, x)
                    if lin is not None:
                        root = -lin[1] / lin[0]
                        cuts |= {
                            c
                            for c in (math.floor(root), math.floor(root) + 1)
                            if lo < c and (hi is None or c <= hi)
                        }
    for m in f.atoms(s.Mod):
        if x in m.free_symbols:
            p = _mod_period(m, x)
            if p is None:
                unknown.append(m)
            else:
                period = math.lcm(period, p)
    if period > MAX_PERIOD:
        unknown.append(f"residues of period {period}")
        period = 1
    if unknown:
        return _pointwise_only(lo, hi, what, f"it depends on {x} through {_shown(unknown[0])}")
    # The part below the point from which every 'eventual' atom is decided: value by value.
    settled = max([lo, *(v for _, v in eventual)])
    out: list[Piece] = []
    if settled > lo:
        top = settled - 1 if hi is None else min(settled - 1, hi)
        out += _pointwise_only(lo, top, what, "a condition of it is not settled below")
        if hi is not None and hi < settled:
            return _checked(out, what)
    start = settled
    bounds = sorted(c for c in cuts if c > start)
    edges = [start, *bounds]
    for i, a in enumerate(edges):
        b = edges[i + 1] - 1 if i + 1 < len(edges) else hi
        decided = {atom: _truth_at(atom, x, a) for atom in thresholds}
        decided.update({atom: _truth_at(atom, x, max(a, v)) for atom, v in eventual})
        g = f.xreplace(decided) if decided else f
        k = dims.sp().Symbol("k_", integer=True)
        for r in range(period):
            h = g.xreplace({x: period * k + r}) if period > 1 else g.xreplace({x: k})
            k_lo = -(-(a - r) // period)
            k_hi = None if b is None else (b - r) // period
            if k_hi is not None and k_hi < k_lo:
                continue
            for klo, khi, d in _directions(h, k, k_lo, k_hi):
                v_lo, v_hi = period * klo + r, None if khi is None else period * khi + r
                out.append(Piece(v_lo, v_hi, period, r % period, d))
        if len(out) > MAX_PIECES:
            raise Unproved(f"{what} changes its rule more than {MAX_PIECES:,} times over the range")
    return _checked(sorted(out, key=lambda p: (p.lo, p.residue)), what)


def _checked(pieces: list[Piece], what: str) -> list[Piece]:
    total = 0
    for p in pieces:
        if p.direction is None:
            n = p.count()
            if n is None:
                raise Unproved(f"{what} could not be shown to grow or to shrink from {p.lo} on")
            total += n
    if total > POINTWISE:
        worst = max((p for p in pieces if p.direction is None), key=lambda p: p.count() or 0)
        raise Unproved(
            f"{what} could not be shown to grow or to shrink from {worst.lo} to {worst.hi} "
            f"({worst.count():,} values, more than the {POINTWISE:,} cnncalc evaluates one by one)"
        )
    return pieces


def _pointwise_only(lo: int, hi: int | None, what: str, why: str) -> list[Piece]:
    if hi is None or hi - lo + 1 > POINTWISE:
        end = "on" if hi is None else f"to {hi}"
        raise Unproved(f"{what} could not be shown to grow or to shrink from {lo} {end}: {why}")
    return [Piece(lo, hi, 1, 0, None)] if hi >= lo else []


def _shown(v: Any) -> str:
    return v if isinstance(v, str) else dims.fmt(v)


# ---------------------------------------------------------------------------------------------
# conditions


def _classify(atom: Any, x: Any, lo: int) -> tuple[str, Any]:
    """How a comparison of ``x`` is decided: ``threshold`` (the values where it may change),
    ``periodic`` (its period), ``eventual`` (the value from which it is decided) or
    ``unknown``."""
    s = dims.sp()
    d = atom.lhs - atom.rhs
    poly = _linear(d, x)
    if poly is not None:
        a, b = poly
        root = -b / a  # d = a*(x - root)
        f = math.floor(root)
        cuts = {f + 1}
        if root == f:
            cuts |= {f, f + 1}
        return "threshold", cuts
    mods = [m for m in d.atoms(s.Mod) if x in m.free_symbols]
    if mods and not (d.xreplace({m: dims.symbol("m_") for m in mods}).free_symbols & {x}):
        periods = [_mod_period(m, x) for m in mods]
        if None not in periods:
            return "periodic", math.lcm(*periods)
    start = _eventually(d, x, atom.rel_op, lo)
    if start is not None:
        return "eventual", start
    return "unknown", None


def _linear(d: Any, x: Any) -> tuple[Fraction, Fraction] | None:
    """``(a, b)`` when ``d = a*x + b`` with rational ``a != 0`` and ``b``."""
    s = dims.sp()
    if not d.is_polynomial(x):
        return None
    p = s.Poly(d, x)
    if p.degree() != 1 or not all(c.is_Rational for c in p.all_coeffs()):
        return None
    a, b = (Fraction(int(c.p), int(c.q)) for c in p.all_coeffs())
    return a, b


def _mod_period(m: Any, x: Any) -> int | None:
    """The period in ``x`` of ``Mod(a*x + b, n)`` (integers ``a``, ``b``, ``n``)."""
    arg, n = m.args
    if not n.is_Integer or int(n) <= 0:
        return None
    lin = _linear(arg, x)
    if lin is None or lin[0].denominator != 1 or lin[1].denominator != 1:
        return None
    return int(n) // math.gcd(int(n), abs(int(lin[0])))


def _truth_at(atom: Any, x: Any, v: int) -> Any:
    s = dims.sp()
    out = atom.xreplace({x: v})
    return s.true if out == s.true else s.false if out == s.false else atom


def _eventually(d: Any, x: Any, rel: str, lo: int) -> int | None:
    """A value from which ``d rel 0`` no longer changes, from floor-free bounds of ``d`` (None
    when they do not show one)."""
    bounds = _relax(d, x)
    if bounds is None:
        return None
    start = lo
    signs = []
    for b in bounds:
        b = dims.sp().expand(b)
        if not b.is_polynomial(x):
            return None
        p = dims.sp().Poly(b, x)
        coeffs = p.all_coeffs()
        if not all(c.is_Rational for c in coeffs):
            return None
        lead = coeffs[0]
        if lead == 0:
            return None
        # Cauchy's bound: every real root is below 1 + max |c_i / lead|.
        top = 1 + max(
            (abs(Fraction(int(c.p), int(c.q)) / Fraction(int(lead.p), int(lead.q))) for c in coeffs[1:]),
            default=0,
        )
        start = max(start, math.floor(top) + 1)
        signs.append(1 if lead > 0 else -1)
    low_sign, high_sign = signs
    # beyond start: low_sign is the sign of the lower bound, high_sign of the upper one
    if low_sign > 0 or high_sign < 0:
        return start
    return None


def _relax(e: Any, x: Any) -> tuple[Any, Any] | None:
    """Floor-free ``(lower, upper)`` with ``lower <= e <= upper`` for every ``x``, when ``e`` is
    a sum of constant multiples of polynomials and floors (None otherwise)."""
    s = dims.sp()
    if x not in e.free_symbols:
        return e, e
    if isinstance(e, (s.floor, s.ceiling)):
        inner = _relax(e.args[0], x)
        if inner is None:
            return None
        lo, hi = inner
        return (lo - 1, hi) if isinstance(e, s.floor) else (lo, hi + 1)
    if isinstance(e, s.Add):
        parts = [_relax(a, x) for a in e.args]
        if any(p is None for p in parts):
            return None
        return s.Add(*(p[0] for p in parts)), s.Add(*(p[1] for p in parts))
    if isinstance(e, s.Mul):
        const, rest = e.as_independent(x, as_Add=False)
        if const.free_symbols or not const.is_Rational:
            return None
        if rest.is_polynomial(x) and not rest.has(s.floor, s.ceiling):
            return e, e
        inner = _relax(rest, x)
        if inner is None or not isinstance(rest, (s.floor, s.ceiling, s.Add)):
            return None
        lo, hi = inner
        return (const * lo, const * hi) if const >= 0 else (const * hi, const * lo)
    if e.is_polynomial(x) and not e.has(s.floor, s.ceiling, s.Mod, s.Piecewise, s.Min, s.Max):
        return e, e
    return None


# ---------------------------------------------------------------------------------------------
# directions


def _directions(h: Any, k: Any, lo: int, hi: int | None) -> list[tuple[int, int | None, int | None]]:
    """``(lo, hi, direction)`` covering ``[lo, hi]`` for ``h``, a formula of ``k`` free of
    conditions on ``k``."""
    d = direction(h, k, lo, hi)
    if d is not None:
        return [(lo, hi, d)]
    cut = _critical(h, k, lo, hi)
    if cut is not None:
        return cut
    # Signs settle as sizes grow: prove the rest from a larger start.
    for j in (4, 8, 12, 16, 20):
        start = lo + (1 << j)
        if hi is not None and start > hi:
            break
        d = direction(h, k, start, hi)
        if d is not None:
            return [(lo, start - 1, None), (start, hi, d)]
    return [(lo, hi, None)]


def _critical(h: Any, k: Any, lo: int, hi: int | None):
    """For a polynomial of ``k``, the intervals between the real roots of its derivative, on
    each of which it is monotone."""
    s = dims.sp()
    if not h.is_polynomial(k):
        return None
    p = s.Poly(h, k)
    if not all(c.is_Rational for c in p.all_coeffs()) or p.degree() > 8:
        return None
    dp = p.diff(k)
    if dp.is_zero:
        return [(lo, hi, 0)]
    every = dp.real_roots()
    cuts = sorted({int(s.floor(r)) + 1 for r in every if lo < r and (hi is None or r < hi)})
    edges = [lo, *cuts]
    out = []
    for i, a in enumerate(edges):
        b = edges[i + 1] - 1 if i + 1 < len(edges) else hi
        if b is not None and b < a:
            continue
        # [a, b] lies between two consecutive roots of the derivative (or ends on one), where
        # its sign is that at any point strictly between them.
        below = [r for r in every if r < a]
        above = [r for r in every if r >= a]
        left = max(below) if below else a - 1
        right = min(above) if above else left + 2
        slope = dp.eval((left + right) / 2)
        out.append((a, b, 1 if slope > 0 else -1))
    return out


@dataclass(frozen=True)
class _Range:
    lo: Any  # Fraction or -inf
    hi: Any  # Fraction or inf
    direction: int | None  # 1, -1, 0 or None

    @property
    def sign(self) -> int | None:
        if self.lo >= 0:
            return 1
        if self.hi <= 0:
            return -1
        return None


def direction(e: Any, k: Any, lo: int, hi: int | None) -> int | None:
    """1 (nondecreasing), -1 (nonincreasing), 0 (constant) or None (not proved) for ``e`` over
    the integers ``k`` of ``[lo, hi]``."""
    r = _range(e, k, Fraction(lo), INF if hi is None else Fraction(hi))
    return None if r is None else r.direction


def _range(e: Any, k: Any, a: Any, b: Any) -> _Range | None:
    s = dims.sp()
    if isinstance(e, (int, Fraction)) or k not in getattr(e, "free_symbols", {k}):
        v = _enclose(e)
        return None if v is None else _Range(v[0], v[1], 0)
    if e == k:
        return _Range(a, b, 1)
    if isinstance(e, s.Add):
        parts = [_range(t, k, a, b) for t in e.args]
        if any(p is None for p in parts):
            return None
        return _Range(sum(p.lo for p in parts), sum(p.hi for p in parts), _join([p.direction for p in parts]))
    if isinstance(e, s.Mul):
        return _product([_range(t, k, a, b) for t in e.args])
    if isinstance(e, s.Pow):
        base, n = e.args
        if not n.is_Integer:
            return None
        inner = _range(base, k, a, b)
        if inner is None:
            return None
        if int(n) > 0:
            return _product([inner] * int(n))
        if inner.sign is None or inner.lo == 0 or inner.hi == 0:
            return None
        rec = _Range(_inv(inner.hi), _inv(inner.lo), None if inner.direction is None else -inner.direction)
        return _product([rec] * -int(n))
    if isinstance(e, (s.floor, s.ceiling)):
        inner = _range(e.args[0], k, a, b)
        if inner is None:
            return None
        fl = isinstance(e, s.floor)
        return _Range(_round(inner.lo, fl), _round(inner.hi, fl), inner.direction)
    if isinstance(e, (s.Min, s.Max)):
        parts = [_range(t, k, a, b) for t in e.args]
        if any(p is None for p in parts):
            return None
        pick = min if isinstance(e, s.Min) else max
        for i, p in enumerate(parts):  # one argument is the value over the whole range
            others = parts[:i] + parts[i + 1 :]
            if isinstance(e, s.Max) and all(p.lo >= q.hi for q in others):
                return p
            if isinstance(e, s.Min) and all(p.hi <= q.lo for q in others):
                return p
        return _Range(
            pick(p.lo for p in parts), pick(p.hi for p in parts), _join([p.direction for p in parts])
        )
    if isinstance(e, s.Mod):
        arg, n = e.args
        inner = _range(arg, k, a, b)
        if inner is None or not n.is_Integer or int(n) <= 0:
            return None
        m = int(n)
        if inner.lo != -INF and inner.hi != INF and math.floor(inner.lo / m) == math.floor(inner.hi / m):
            shift = math.floor(inner.lo / m) * m
            return _Range(inner.lo - shift, inner.hi - shift, inner.direction)
        return _Range(Fraction(0), Fraction(m - 1), None)
    return None


def _join(directions: list[int | None]) -> int | None:
    if None in directions:
        return None
    ups = any(d == 1 for d in directions)
    downs = any(d == -1 for d in directions)
    if ups and downs:
        return None
    return 1 if ups else -1 if downs else 0


def _product(parts: list[_Range | None]) -> _Range | None:
    if any(p is None for p in parts):
        return None
    lo, hi = parts[0].lo, parts[0].hi
    for p in parts[1:]:
        products = [_mul(x, y) for x in (lo, hi) for y in (p.lo, p.hi)]
        lo, hi = min(products), max(products)
    # direction: constants scale, the rest must have known signs and agree in magnitude
    sign, magnitude = 1, []
    for p in parts:
        if p.direction == 0:
            if p.lo == p.hi == 0:
                return _Range(Fraction(0), Fraction(0), 0)
            if p.sign is None:
                return _Range(lo, hi, None)
            sign *= p.sign
            continue
        if p.sign is None or p.direction is None:
            return _Range(lo, hi, None)
        sign *= p.sign
        magnitude.append(p.sign * p.direction)
    d = _join(magnitude)
    return _Range(lo, hi, None if d is None else sign * d)


def _mul(x: Any, y: Any) -> Any:
    if x == 0 or y == 0:
        return Fraction(0)
    return x * y


def _inv(x: Any) -> Any:
    return Fraction(0) if x in (INF, -INF) else 1 / x


def _round(x: Any, down: bool) -> Any:
    if x in (INF, -INF):
        return x
    return Fraction(math.floor(x) if down else math.ceil(x))


def _enclose(e: Any) -> tuple[Fraction, Fraction] | None:
    """Rational bounds of a known number (a root is enclosed by a tight interval)."""
    if isinstance(e, (int, Fraction)):
        return Fraction(e), Fraction(e)
    if e.is_Rational:
        q = Fraction(int(e.p), int(e.q))
        return q, q
    if e.free_symbols or not e.is_real:
        return None
    approx = Fraction(str(e.evalf(40)))
    margin = Fraction(1, 10**30) * (1 + abs(approx))
    return approx - margin, approx + margin
