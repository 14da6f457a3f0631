"""Exact roots of known numbers without sympy: ``b + c * r**(1/n)``.

A spec may raise a known positive number to a fractional power (RegNet's stage boundaries are
``w0*wm**(j + 1/2)``). The result is usually irrational, but what a spec does with it is
simple: it adds and multiplies known numbers, then rounds it or compares it. :class:`Surd` keeps
``b + c * r**(1/n)`` with rational ``b``, ``c``, ``r`` and decides floors, ceilings and
comparisons exactly with integer arithmetic (``x <= r**(1/n)`` exactly when ``x**n <= r`` for
``x >= 0``), so a concrete analysis never imports sympy. Anything else (two roots added or
multiplied) converts to sympy, still exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Surd:
    """The number ``b + c * r**(1/n)``: ``r`` positive and not an exact ``n``-th power, ``c``
    not 0."""

    b: Fraction
    c: Fraction
    r: Fraction
    n: int

    def to_sympy(self) -> Any:
        from ..core.dims import sp

        s = sp()
        rational = lambda f: s.Rational(f.numerator, f.denominator)  # noqa: E731
        return rational(self.b) + rational(self.c) * s.root(rational(self.r), self.n)

    # -- arithmetic with rationals -----------------------------------------------------------

    def plus(self, q: Fraction) -> Surd:
        return Surd(self.b + q, self.c, self.r, self.n)

    def times(self, q: Fraction) -> Surd | int:
        if q == 0:
            return 0
        return Surd(self.b * q, self.c * q, self.r, self.n)

    # -- exact decisions ---------------------------------------------------------------------

    def exceeds(self, q: Fraction) -> bool:
        """Whether ``self > q`` (never equal: the root is irrational)."""
        # b + c*root > q  <=>  c*root > q - b  <=>  root > (q - b)/c  (c > 0), or < (c < 0)
        bound = (q - self.b) / self.c
        above = _root_above(self.r, self.n, bound)
        return above if self.c > 0 else not above

    def floor(self) -> int:
        # An estimate from integer arithmetic, not floats (which lose whole units beyond 2**53):
        # root = r**(1/n) lies in [t, t + 1) / 2**bits with t = iroot(floor(r * 2**(bits*n)), n),
        # so with 2**bits > 4|c| the estimate b + c*t/2**bits is within 1/4 of the value.
        bits = max(0, abs(self.c.numerator).bit_length() - self.c.denominator.bit_length() + 3)
        scaled = self.r * (1 << (bits * self.n))
        t = _iroot(scaled.numerator // scaled.denominator, self.n)
        k = math.floor(self.b + self.c * Fraction(t, 1 << bits))
        while self.exceeds(Fraction(k + 1)):  # the estimate may be off by one either way
            k += 1
        while not self.exceeds(Fraction(k)):
            k -= 1
        return k

    def ceil(self) -> int:
        return self.floor() + 1  # never an integer


def _root_above(r: Fraction, n: int, x: Fraction) -> bool:
    """Whether ``r**(1/n) > x`` (``r`` positive, its root irrational)."""
    if x < 0:
        return True
    return r > x**n


def root(a: Fraction, p: Fraction) -> Fraction | int | Surd:
    """``a**p`` for a positive rational ``a`` and a rational ``p``, exact: a rational when it is
    one, else a :class:`Surd`."""
    whole, part = divmod(p.numerator, p.denominator)  # p = whole + part/den, 0 <= part < den
    n = p.denominator
    base = Fraction(a) ** whole
    r = Fraction(a) ** part
    num, den = _nth_root(r.numerator, n), _nth_root(r.denominator, n)
    if num is not None and den is not None:
        value = base * Fraction(num, den)
        return value.numerator if value.denominator == 1 else value
    return Surd(Fraction(0), base, r, n)


def _nth_root(v: int, n: int) -> int | None:
    """The integer ``n``-th root of ``v`` when ``v`` is an exact power, else None."""
    g = _iroot(v, n)
    return g if g**n == v else None


def _iroot(v: int, n: int) -> int:
    """The largest integer whose ``n``-th power is at most ``v`` (Newton's method on ints)."""
    if v < 2:
        return v
    x = 1 << -(-v.bit_length() // n)  # above the root
    while True:
        y = ((n - 1) * x + v // x ** (n - 1)) // n
        if y >= x:
            return x
        x = y
