"""Deciding the checks of layers: proven, impossible, or a constraint on the symbols.

A layer's check (``padded input >= kernel``, ``groups divides channels``) is decided exactly when
its value is concrete. When it depends on open symbols it is

- *proven* when it holds for every value the symbols may take (their declared bounds and the
  constraints found so far);
- *impossible* when it fails for every such value, an error like a concrete failure;
- otherwise a :class:`Constraint`: a condition on the symbols, reported with the analysis,
  never a guess. A condition on one symbol is solved into a bound (``H >= 32``) that tightens
  what later checks may assume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import ShapeError
from ..lang.model import Symbol
from ..layers import Check
from . import dims


@dataclass(frozen=True)
class Constraint:
    """A condition the symbols must satisfy for the network to be valid."""

    condition: str  # "H >= 32", in spec syntax
    layer: str  # the first layer that needs it
    reason: str  # the layer's check, in words

    def __str__(self) -> str:
        return f"{self.condition}  ({self.layer}: {self.reason})"


class Decider:
    """Decides checks against the declared bounds, collecting constraints in order."""

    def __init__(self, symbols: dict[str, Symbol], scope: dict[str, Any]):
        self.symbols = symbols
        self.lower: dict[Any, Any] = {}
        self.upper: dict[Any, Any] = {}
        for name, value in scope.items():
            if not dims.is_concrete(value) and name in symbols:
                self.lower[value] = symbols[name].lower
                if symbols[name].max is not None:
                    self.upper[value] = symbols[name].max
        self._general: dict[str, Constraint] = {}
        self._bounds: dict[tuple[str, str], Constraint] = {}  # (symbol, '>=' or '<=') -> tightest
        self._periodic: dict[Any, tuple[int, frozenset[int], Constraint]] = {}

    @property
    def constraints(self) -> list[Constraint]:
        """The tightest bound on each symbol, then every other condition, in order found."""
        return [*self._bounds.values(), *(c for _, _, c in self._periodic.values()), *self._general.values()]

    def require(self, check: Check, layer: str) -> None:
        """Decide ``check`` for ``layer``; raise ShapeError if it cannot hold.

        Raises:
            ShapeError: with the check's message (``layer`` is added by the caller).
        """
        value = check.value
        if dims.is_concrete(value):
            ok = value >= 0 if check.relation == "nonneg" else value == 0
            if not ok:
                raise ShapeError(check.message)
            return
        if check.relation == "zero":
            if self._zero_periodic(dims.to_sympy(value), check, layer):
                return
            self._impossible(dims.to_sympy(value), "== 0", check)
            self._record(
                f"{dims.fmt(value)} == 0" if not _is_mod(value) else _mod_text(value), layer, check.message
            )
            return
        self._nonneg(check, layer)

    # -- inequalities ------------------------------------------------------------------------

    def _nonneg(self, check: Check, layer: str) -> None:
        s = dims.sp()
        e = _strip_floors(dims.to_sympy(check.value))
        if self._proven(e):
            return
        syms = sorted(e.free_symbols, key=str)
        if len(syms) == 1 and e.is_polynomial(syms[0]) and s.degree(e, syms[0]) == 1:
            sym = syms[0]
            a, b = s.Poly(e, sym).all_coeffs()
            a, b = dims.canon(a), dims.canon(b)
            if dims.is_concrete(a) and dims.is_concrete(b):
                self._bound(sym, a, b, check, layer)
                return
        self._impossible(dims.to_sympy(check.value), ">= 0", check)
        self._record(f"{dims.fmt(check.value)} >= 0", layer, check.message)

    def _impossible(self, e, relation: str, check: Check) -> None:
        """Raise ShapeError when ``e == 0`` (or ``e >= 0``) holds for no allowed value.

        Each floor is bounded by its argument (``y - 1 < floor(y) <= y``, ``y <= ceiling(y) <
        y + 1``, ``0 <= Mod(a, b) < b``), which gives two floor-free expressions ``lo <= e <=
        hi``; if ``hi < 0`` for every allowed value, or (for ``== 0``) ``lo > 0``, no value
        satisfies the condition (``-H + floor(H/2) == 0`` for ``H >= 1``).
        """
        bounds = _interval(e)
        if bounds is None:
            return
        lo, hi = bounds
        if self._proven_positive(-hi) or (relation == "== 0" and self._proven_positive(lo)):
            syms = ", ".join(sorted(str(x) for x in e.free_symbols))
            allowed = ", ".join(
                f"{x} >= {dims.fmt(self.lower[x])}"
                for x in sorted(e.free_symbols, key=str)
                if x in self.lower
            )
            raise ShapeError(
                f"{check.message}: {dims.fmt(dims.canon(e))} {relation} holds for no value of {syms}"
                + (f" ({allowed})" if allowed else "")
            )

    def _proven_positive(self, e) -> bool:
        """True when ``e > 0`` for every value allowed by the bounds."""
        s = dims.sp()
        if dims.expanded_terms(e) > MAX_DECIDED_TERMS or dims.degree(e) > MAX_DECIDED_DEGREE:
            return False
        subs = {}
        for sym in e.free_symbols:
            lo = self.lower.get(sym)
            if lo is None:
                continue
            t = s.Symbol(f"_t_{sym}", integer=bool(sym.is_integer), nonnegative=True)
            subs[sym] = dims.to_sympy(lo) + t
        shifted = s.expand(e.xreplace(subs)) if subs else e
        return bool(shifted.is_positive)

    def _zero_periodic(self, e, check: Check, layer: str) -> bool:
        """Decide ``e == 0`` for an expression of one integer symbol that repeats with a
        period (floors and remainders of it): the values that work are residues modulo that
        period, merged with earlier such conditions (two skips needing H even and H a multiple
        of 4 become ``H % 4 == 0``). False when ``e`` is not of that form."""
        s = dims.sp()
        syms = list(e.free_symbols)
        if len(syms) != 1 or not syms[0].is_integer:
            return False
        sym = syms[0]
        period = _period(e, sym)
        if period is None:
            return False
        lo = int(self.lower.get(sym, 1))
        residues = frozenset(
            r % period for r in range(lo, lo + period) if e.xreplace({sym: s.Integer(r)}) == 0
        )
        layers = layer
        if sym in self._periodic:
            old_period, old_residues, old = self._periodic[sym]
            layers = old.layer if layer in old.layer.split(", ") else f"{old.layer}, {layer}"
            merged = math.lcm(old_period, period)
            if merged > _MAX_PERIOD:
                return False
            residues = frozenset(
                r for r in range(merged) if r % old_period in old_residues and r % period in residues
            )
            period = merged
        if not residues:
            raise ShapeError(
                f"{check.message}: no value of {sym} satisfies this together with the conditions before it"
            )
        if len(residues) == period:
            return True
        if residues == {0}:
            text = f"{sym} % {period} == 0"
        elif len(residues) == 1:
            text = f"{sym} % {period} == {next(iter(residues))}"
        else:
            text = f"{sym} % {period} in {{{', '.join(map(str, sorted(residues)))}}}"
        self._periodic[sym] = (period, residues, Constraint(text, layers, check.message))
        return True

    def _bound(self, sym, a, b, check: Check, layer: str) -> None:
        """Record ``a*sym + b >= 0`` as a bound on ``sym``."""
        integer = bool(sym.is_integer)
        lo, hi = self.lower.get(sym), self.upper.get(sym)
        if a > 0:
            t = Fraction(-b) / Fraction(a)
            t = math.ceil(t) if integer else dims.canon(t)
            if lo is not None and t <= lo:
                return
            if hi is not None and t > hi:
                raise ShapeError(
                    f"{check.message}: this needs {sym} >= {dims.fmt(t)}, but {sym} <= {dims.fmt(hi)}"
                )
            self.lower[sym] = t
            self._bounds[(str(sym), ">=")] = Constraint(f"{sym} >= {dims.fmt(t)}", layer, check.message)
        else:
            t = Fraction(b) / Fraction(-a)
            t = math.floor(t) if integer else dims.canon(t)
            if hi is not None and t >= hi:
                return
            if lo is not None and t < lo:
                raise ShapeError(
                    f"{check.message}: this needs {sym} <= {dims.fmt(t)}, but {sym} >= {dims.fmt(lo)}"
                )
            self.upper[sym] = t
            self._bounds[(str(sym), "<=")] = Constraint(f"{sym} <= {dims.fmt(t)}", layer, check.message)

    def _proven(self, e) -> bool:
        """True when ``e >= 0`` for every value allowed by the bounds."""
        s = dims.sp()
        subs = {}
        for sym in e.free_symbols:
            lo = self.lower.get(sym)
            if lo is None:
                continue
            t = s.Symbol(f"_t_{sym}", integer=bool(sym.is_integer), nonnegative=True)
            subs[sym] = dims.to_sympy(lo) + t
        shifted = e.xreplace(subs) if subs else e
        if dims.expanded_terms(shifted) > MAX_DECIDED_TERMS or dims.degree(shifted) > MAX_DECIDED_DEGREE:
            return False  # too large to decide quickly: it stays a condition, reported
        return bool(s.expand(shifted).is_nonnegative)

    def _record(self, condition: str, layer: str, reason: str) -> None:
        self._general.setdefault(condition, Constraint(condition, layer, reason))


_MAX_PERIOD = 1 << 16
#: Conditions whose polynomial has more terms, or a higher degree, than these are not proven
#: (sympy's sign rules take seconds on them); they are reported as conditions instead.
MAX_DECIDED_TERMS = 32
MAX_DECIDED_DEGREE = 4


def _period(e, sym) -> int | None:
    """The smallest ``L`` built from the denominators in ``e`` with ``e(sym + L) = e(sym)``,
    or None."""
    s = dims.sp()
    if dims.expanded_terms(e) > dims.MAX_TERMS:
        return None
    period = 1
    for atom in e.atoms(s.floor, s.ceiling, s.Mod):
        if isinstance(atom, s.Mod):
            m = atom.args[1]
            _, den = atom.args[0].as_numer_denom()
            if not (m.is_Integer and den.is_Integer):
                return None
            period = math.lcm(period, int(m) * int(den))
        else:
            _, den = atom.args[0].as_numer_denom()
            if not den.is_Integer:
                return None
            period = math.lcm(period, int(den))
        if period > _MAX_PERIOD:
            return None
    for term in s.Add.make_args(s.expand(e)):
        _, den = s.fraction(term.as_coeff_Mul()[0])
        period = math.lcm(period, int(den))
    if period > _MAX_PERIOD:
        return None
    shifted = e.xreplace({sym: sym + period})
    if dims.expanded_terms(shifted - e) > dims.MAX_TERMS or s.expand(shifted - e) != 0:
        return None
    return period


def _interval(e):
    """Floor-free ``(lo, hi)`` with ``lo <= e <= hi``, or None when ``e`` is not a sum of
    multiples of symbols, floors, ceilings and remainders (nested ones included)."""
    s = dims.sp()
    if e.is_Number or e.is_Symbol:
        return e, e
    if e.is_Add:
        parts = [_interval(a) for a in e.args]
        if any(p is None for p in parts):
            return None
        return s.Add(*(p[0] for p in parts)), s.Add(*(p[1] for p in parts))
    if e.is_Mul:
        coeff, rest = e.as_coeff_Mul()
        if coeff == 1 or not coeff.is_Rational:
            return (e, e) if not e.has(s.floor, s.ceiling, s.Mod) else None
        inner = _interval(rest)
        if inner is None:
            return None
        lo, hi = coeff * inner[0], coeff * inner[1]
        return (lo, hi) if coeff > 0 else (hi, lo)
    if isinstance(e, (s.floor, s.ceiling)):
        inner = _interval(e.args[0])
        if inner is None:
            return None
        lo, hi = inner
        return (lo - 1, hi) if isinstance(e, s.floor) else (lo, hi + 1)
    if isinstance(e, s.Mod) and e.args[1].is_Integer and e.args[1] > 0:
        return s.S.Zero, e.args[1]
    if not e.has(s.floor, s.ceiling, s.Mod):
        return e, e
    return None


def _strip_floors(e):
    """``floor(y) + c >= 0`` is ``y + c >= 0`` for integer-valued ``c``; applied repeatedly."""
    s = dims.sp()
    while True:
        terms = s.Add.make_args(e)
        floors = [t for t in terms if isinstance(t, s.floor)]
        if len(floors) != 1:
            return e
        rest = e - floors[0]
        if not rest.is_integer:
            return e
        e = floors[0].args[0] + rest


def _is_mod(v) -> bool:
    return isinstance(v, dims.sp().Mod)


def _mod_text(v) -> str:
    a, b = v.args
    return f"{dims.fmt(a)} is a multiple of {dims.fmt(b)}"
