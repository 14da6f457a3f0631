"""Dimensions: exact arithmetic on "an int or an expression".

A dimension, a parameter count or a MAC count is a ``Dim``: a Python ``int`` when it is known,
or a sympy expression of the spec's symbols when it is not. Symbol values that are not integers
(a width multiplier ``alpha = 3/4``) are ``Fraction``\\ s. Every rule in cnncalc is written once
over these values, so a fully bound analysis runs on Python integers and never imports sympy.

sympy does not keep chains of floor divisions compact by itself, so this module brings its own
integer-aware rules (valid for real ``y``, integer ``c`` and a positive integer ``b``)::

    floor(y) + c          = floor(y + c)
    floor(floor(y) / b)   = floor(y / b)
    ceiling(u / a)        = floor((u + a - 1) / a)        (u integer)

With them a whole chain of conv and pool layers stays one ``floor((H + A)/S)``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import sympy

Dim: TypeAlias = "int | sympy.Expr"
Value: TypeAlias = "int | Fraction | sympy.Expr"

CONCRETE = (int, Fraction)


@cache
def sp() -> Any:
    """The sympy module, imported on first use (it costs about half a second).

    sympy's own ``str()`` then prints floors and ceilings as :func:`fmt` does, so that a formula
    reads the same from Python (``print(shape)``, an f-string in a layer's message) as on the
    command line: ``ceiling(H/2)``, not ``floor(H/2 + 1/2)``. The two forms are equal (the
    rewriting needs an integer numerator); only the printing changes.
    """
    import sympy
    from sympy.printing.str import StrPrinter

    StrPrinter._print_floor = _print_floor
    StrPrinter._print_ceiling = _print_ceiling
    return sympy


def is_concrete(v: Any) -> bool:
    """True for ints and Fractions (bools are refused elsewhere)."""
    return isinstance(v, CONCRETE)


def canon(v: Any) -> Value:
    """The simplest exact form: an int, a Fraction, or a sympy expression with symbols."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, Fraction):
        return v.numerator if v.denominator == 1 else v
    s = sp()
    if isinstance(v, s.Basic):
        if v.is_Integer:
            return int(v)
        if v.is_Rational:
            return Fraction(int(v.p), int(v.q))
        return v
    raise TypeError(f"not a dimension value: {v!r}")


def to_sympy(v: Value) -> sympy.Expr:
    """``v`` as a sympy object (Fractions become exact Rationals)."""
    s = sp()
    if isinstance(v, Fraction):
        return s.Rational(v.numerator, v.denominator)
    return s.sympify(v) if isinstance(v, int) else v


def symbol(name: str, *, integer: bool = True) -> sympy.Symbol:
    """A positive integer symbol (or a positive rational one for multipliers)."""
    s = sp()
    if integer:
        return s.Symbol(name, integer=True, positive=True)
    return s.Symbol(name, rational=True, positive=True)


def free_symbols(v: Value) -> set:
    return set() if is_concrete(v) else set(v.free_symbols)


def is_integer_valued(v: Value) -> bool | None:
    """True when ``v`` is an integer for every allowed value of its symbols; None if unknown."""
    if isinstance(v, int):
        return True
    if isinstance(v, Fraction):
        return v.denominator == 1
    return v.is_integer


# ---------------------------------------------------------------------------------------------
# Size of expressions.

#: Largest number of terms, and highest degree, a formula may have once multiplied out. A spec
#: expression beyond them is refused (``(a + b + c + 1)**64`` has 47,905 terms of degree 64);
#: rules that multiply out (folding floors, deciding conditions, printing) leave larger
#: expressions as they are.
MAX_TERMS = 64
MAX_DEGREE = 8
#: Deepest nesting of a formula (``3*floor(3*floor(3*floor(...)/2)/2)``); deeper ones are
#: refused before sympy's recursive algorithms would exhaust the stack (the bundled networks
#: nest at most 7 levels).
MAX_FORMULA_NESTING = 40
#: Largest number of decimal digits of a result (a size, a count, a total, or a coefficient of
#: a formula); beyond it numbers could not be printed or compared as floats.
MAX_DIGITS = 300


def too_large(v: Value) -> int:
    """The number of digits of ``v`` (of its largest numerator, denominator or coefficient)
    when beyond ``MAX_DIGITS``, else 0."""
    limit = MAX_DIGITS * 3.33
    if isinstance(v, int):
        bits = abs(v).bit_length()
    elif isinstance(v, Fraction):
        bits = max(abs(v.numerator).bit_length(), v.denominator.bit_length())
    elif not hasattr(v, "atoms"):
        return 0  # not a dimension (a custom rule's float): reported by the caller's own checks
    else:
        bits = _coefficient_bits(v)
    return int(bits * 0.30103) + 1 if bits > limit else 0


@lru_cache(maxsize=4096)
def _coefficient_bits(e: Any) -> int:
    return max(
        (max(abs(int(n.p)).bit_length(), int(n.q).bit_length()) for n in e.atoms(sp().Rational)),
        default=0,
    )


_TERMS_CAP = 10**12


def expanded_terms(v: Value) -> int:
    """An upper bound on the number of terms of ``v`` multiplied out (capped at 10**12).

    Functions (``floor``, ``Max``, ...) count as one term; their arguments are sized when they
    are built.
    """
    if is_concrete(v):
        return 1
    return _terms(v)


def _terms(e: Any) -> int:
    if e.is_Add:
        return min(_TERMS_CAP, sum(_terms(a) for a in e.args))
    if e.is_Mul:
        out = 1
        for a in e.args:
            out = min(_TERMS_CAP, out * _terms(a))
        return out
    if e.is_Pow:
        base, exp = e.args
        k = _terms(base)
        if k > 1 and exp.is_Integer:
            n = abs(int(exp))
            if n > 10_000 or k > 10_000:
                return _TERMS_CAP
            return min(_TERMS_CAP, math.comb(n + k - 1, k - 1))
        return 1
    return 1


def _small(e: Any) -> bool:
    """Small enough for sympy's simplifications (floor evaluation, expansion) to be quick;
    larger expressions are kept as they are, which is exact but less tidy."""
    return _terms(e) <= 16 and _degree(e) <= 4


def degree(v: Value) -> int:
    """An upper bound on the total degree of ``v`` as a polynomial (functions count as 1)."""
    if is_concrete(v):
        return 0
    return _degree(v)


def _degree(e: Any) -> int:
    if e.is_Number:
        return 0
    if e.is_Add:
        return max(_degree(a) for a in e.args)
    if e.is_Mul:
        return sum(_degree(a) for a in e.args)
    if e.is_Pow and e.args[1].is_Integer:
        return min(_TERMS_CAP, abs(int(e.args[1])) * _degree(e.args[0]))
    return 1


def nesting(v: Value) -> int:
    """Depth of the expression tree of ``v`` (0 for a number), without recursion."""
    if is_concrete(v) or not hasattr(v, "args"):
        return 0
    return _nesting(v)


@lru_cache(maxsize=4096)
def _nesting(v: Any) -> int:
    depth = 0
    level = {v}
    while level:
        depth += 1
        if depth > MAX_FORMULA_NESTING:
            return depth
        level = {a for e in level for a in e.args}
    return depth


# ---------------------------------------------------------------------------------------------
# Arithmetic that keeps ints as ints.


def add(*vs: Value) -> Value:
    if all(type(v) is int for v in vs):  # the common case, fast
        return sum(vs)
    if all(is_concrete(v) for v in vs):
        return canon(sum(vs, 0))
    return canon(sp().Add(*(to_sympy(v) for v in vs)))


def mul(*vs: Value) -> Value:
    if all(type(v) is int for v in vs):
        return math.prod(vs)
    if all(is_concrete(v) for v in vs):
        return canon(math.prod(vs))
    return canon(sp().Mul(*(to_sympy(v) for v in vs)))


def prod(vs) -> Value:
    return mul(*vs)


def div(a: Value, b: Value) -> Value:
    """Exact true division (``b`` must be non-zero; callers check)."""
    if is_concrete(a) and is_concrete(b):
        return canon(Fraction(a) / Fraction(b))
    return canon(to_sympy(a) / to_sympy(b))


def floor(v: Value) -> Value:
    if is_concrete(v):
        return math.floor(v)
    return canon(_floor_sym(to_sympy(v)))


def ceil(v: Value) -> Value:
    if is_concrete(v):
        return math.ceil(v)
    s = sp()
    v = to_sympy(v)
    as_floor = _ceiling_as_floor_arg(v)
    if as_floor is not None:
        return canon(_floor_sym(as_floor))
    return canon(s.ceiling(v))


def floordiv(a: Value, b: Value) -> Value:
    """``floor(a / b)``, folded so that chains of floor divisions stay one floor."""
    if is_concrete(a) and is_concrete(b):
        return math.floor(Fraction(a) / Fraction(b))
    return floor(div(a, b))


def ceildiv(a: Value, b: Value) -> Value:
    """``ceiling(a / b)``; for integer ``a`` and positive integer ``b`` it is written as a floor."""
    if is_concrete(a) and is_concrete(b):
        return math.ceil(Fraction(a) / Fraction(b))
    if is_integer_valued(a) and is_integer_valued(b) and _positive(b):
        return floordiv(add(a, b, -1), b)
    return ceil(div(a, b))


def mod(a: Value, b: Value) -> Value:
    if is_concrete(a) and is_concrete(b):
        return canon(Fraction(a) % Fraction(b))
    return canon(sp().Mod(to_sympy(a), to_sympy(b)))


def dmin(*vs: Value) -> Value:
    if all(is_concrete(v) for v in vs):
        return canon(min(vs))
    return canon(sp().Min(*(to_sympy(v) for v in vs)))


def dmax(*vs: Value) -> Value:
    if all(is_concrete(v) for v in vs):
        return canon(max(vs))
    return canon(sp().Max(*(to_sympy(v) for v in vs)))


# ---------------------------------------------------------------------------------------------
# Conditions. A condition is True, False, or a sympy boolean of the open symbols; as a value it
# is 1 or 0, or the piecewise ``(1 if c else 0)`` while undecided.

_RELATIONS = {"<": "Lt", "<=": "Le", ">": "Gt", ">=": "Ge", "==": "Eq", "!=": "Ne"}


def compare(op: str, a: Value, b: Value) -> Any:
    """``a op b``: a bool when it is decided for every value of the symbols, else a sympy
    relation."""
    if is_concrete(a) and is_concrete(b):
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
    s = sp()
    return _decided(getattr(s, _RELATIONS[op])(to_sympy(a), to_sympy(b)))


def _decided(c: Any) -> Any:
    s = sp()
    if c is s.true or c == s.true:
        return True
    if c is s.false or c == s.false:
        return False
    return c


def both(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return _decided(sp().And(a, b))


def either(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return _decided(sp().Or(a, b))


def negate(a: Any) -> Any:
    if isinstance(a, bool):
        return not a
    return _decided(sp().Not(a))


def truth(v: Value) -> Any:
    """Whether ``v`` is not 0: a bool, or a sympy condition while undecided."""
    if is_concrete(v):
        return v != 0
    s = sp()
    if isinstance(v, s.Piecewise) and len(v.args) == 2 and v.args[0].expr == 1 and v.args[1].expr == 0:
        return v.args[0].cond
    return _decided(s.Ne(v, 0))


def from_truth(c: Any) -> Value:
    """A condition as a value: 1, 0, or ``(1 if c else 0)``."""
    if isinstance(c, bool):
        return int(c)
    return where(c, 1, 0)


def where(c: Any, a: Value, b: Value) -> Value:
    """``a if c else b``; piecewise when ``c`` is an undecided condition."""
    if c is True:
        return a
    if c is False:
        return b
    if a == b:
        return a
    s = sp()
    return canon(s.Piecewise((to_sympy(a), c), (to_sympy(b), True)))


def make_divisible(v: Value, divisor: int, min_value: Value | None = None) -> Value:
    """``v`` rounded to a multiple of ``divisor``, as the mobile networks round channels
    (torchvision's ``_make_divisible``): the nearest multiple (halves up), at least
    ``min_value`` (``divisor`` by default), one multiple more when rounding lost more than
    10% of ``v``."""
    rounded = mul(floordiv(add(v, Fraction(divisor, 2)), divisor), divisor)
    new = dmax(divisor if min_value is None else min_value, rounded)
    lost = compare("<", new, mul(Fraction(9, 10), v))
    return where(lost, add(new, divisor), new)


def _positive(v: Value) -> bool:
    return v > 0 if is_concrete(v) else bool(v.is_positive)


def _floor_sym(y: sympy.Expr) -> sympy.Expr:
    """``floor(y)`` with the nested floor folded into a single one when the rules allow."""
    s = sp()
    whole, y = _integer_part(y)
    if whole != 0:
        return whole + _floor_sym(y)
    inner = _fold_floor_arg(y)
    arg = inner if inner is not None else y
    num, den = arg.as_numer_denom()
    if den == 1 and num.is_integer:
        return num
    if arg.free_symbols and not _small(arg):
        # Too large for sympy's floor evaluation to finish quickly: kept as written (exact).
        return s.floor(arg, evaluate=False)
    if arg.free_symbols and den.is_Integer and not arg.is_integer:
        # A linear ratio of symbols: nothing for sympy's floor evaluation to simplify, and
        # that evaluation costs milliseconds on the large constants of long chains.
        return s.floor(arg, evaluate=False)
    return s.floor(arg)


def _integer_part(y: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """Split ``y = (k*b*m + r) / b`` into ``(k*m, r/b)`` for integer-valued ``m`` and integers
    ``k``, ``b > 0``, so that ``floor(y) = k*m + floor(r/b)``: an upsampling by 2 after a
    stride-2 layer, ``floor((2*floor(z) + 1)/2)``, is ``floor(z)`` and does not nest."""
    s = sp()
    num, den = y.as_numer_denom()
    if not (den.is_Integer and den > 1) or len(s.Add.make_args(num)) > MAX_TERMS:
        return s.S.Zero, y
    pulled, kept = [], []
    for term in s.Add.make_args(num):
        coeff, rest = term.as_coeff_Mul()
        if coeff.is_Integer and coeff % den == 0 and rest.is_integer:
            pulled.append(term / den)
        else:
            kept.append(term)
    if not pulled:
        return s.S.Zero, y
    return s.Add(*pulled), s.Add(*kept) / den


def _fold_floor_arg(y: sympy.Expr) -> sympy.Expr | None:
    """For ``y = (floor(z) + c) / b`` return ``(z + c) / b``, else None.

    ``b`` must be a positive integer and ``c`` integer-valued. A ceiling of an integer over a
    positive integer counts as a floor (``ceiling(u/a) = floor((u + a - 1)/a)``).
    """
    s = sp()
    num, den = y.as_numer_denom()
    if not _small(num) or not (den.is_integer and den.is_positive):
        return None
    floors = []
    rest = []
    for term in s.Add.make_args(s.expand(num)):
        z = _as_floor_arg(term)
        if z is None:
            rest.append(term)
        else:
            floors.append(z)
    if len(floors) != 1:
        return None
    c = s.Add(*rest)
    if not c.is_integer:
        return None
    return (floors[0] + c) / den


def _as_floor_arg(term: sympy.Expr) -> sympy.Expr | None:
    """``z`` if ``term == floor(z)`` (a ceiling of an integer ratio qualifies), else None."""
    s = sp()
    if isinstance(term, s.floor):
        return term.args[0]
    if isinstance(term, s.ceiling):
        return _ceiling_as_floor_arg(term.args[0])
    return None


def _ceiling_as_floor_arg(z: sympy.Expr) -> sympy.Expr | None:
    """For ``z = u/a`` (u integer, a positive integer) the ``w`` with ``ceiling(z) = floor(w)``."""
    num, den = z.as_numer_denom()
    if den == 1 or not (den.is_integer and den.is_positive and num.is_integer):
        return None
    return (num + den - 1) / den


# ---------------------------------------------------------------------------------------------
# The one conv / pool window formula.


def window_out(
    size: Dim,
    kernel: Dim,
    stride: Dim,
    pad_before: Dim,
    pad_after: Dim,
    dilation: Dim = 1,
    ceil_mode: bool = False,
) -> Dim:
    """Number of window positions along one axis (PyTorch's rule, ceil mode included).

    ``floor((size + pad_before + pad_after - dilation*(kernel - 1) - 1) / stride) + 1``; in ceil
    mode the division rounds up, but the last window must start inside the input or the
    leading padding (so ``out - 1 <= floor((size + pad_before - 1)/stride)``).
    """
    span = add(size, pad_before, pad_after, mul(-1, dilation, add(kernel, -1)), -1)
    if not ceil_mode:
        return floordiv(add(span, stride), stride)
    out_minus_1 = ceildiv(span, stride)
    last_start_limit = floordiv(add(size, pad_before, -1), stride)
    # The correction can only bite when the stride exceeds the effective kernel minus the
    # trailing padding (the numerator of the ceiling is then the larger one); otherwise keep
    # the single ceiling.
    if all(is_concrete(v) for v in (kernel, stride, pad_after, dilation)) and (
        stride <= dilation * (kernel - 1) + 1 - pad_after
    ):
        return add(out_minus_1, 1)
    # Both are floors over the stride of numerators that differ by a constant when the layer's
    # arguments are known: floor is monotone, so the smaller numerator gives the minimum.
    gap = add(span, stride, -1, mul(-1, add(size, pad_before, -1)))
    if is_concrete(gap) and is_concrete(stride):
        return add(last_start_limit if gap >= 0 else out_minus_1, 1)
    return add(dmin(out_minus_1, last_start_limit), 1)


# ---------------------------------------------------------------------------------------------
# Printing in the spec's own expression syntax (which sympy can also read back).


def fmt_shape(shape) -> str:
    """A shape in spec syntax: ``[N, 64, floor((H - 1)/2) + 1, 7]``."""
    return "[" + ", ".join(fmt(d) for d in shape) + "]"


def fmt(v: Value) -> str:
    """``v`` in spec syntax: ``floor((H - 1)/2)``, ``ceiling(H/2)``, ``Max(1, H - 6)``."""
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Fraction):
        return f"{v.numerator}/{v.denominator}"
    return _fmt_expr(v)


@lru_cache(maxsize=4096)
def _fmt_expr(v) -> str:
    # A network repeats its formulas (every layer of a stage has the same output size): each
    # distinct one is printed once.
    return _printer().doprint(v)


@cache
def _printer():
    s = sp()
    from sympy.printing.str import StrPrinter

    class SpecPrinter(StrPrinter):
        """sympy's str printer with floors written as ``floor((num)/den)``."""

        _print_floor = _print_floor
        _print_ceiling = _print_ceiling

        def _print_Pow(self, expr, rational=False):
            # K**(-2) reads as 1/K**2.
            base, exp = expr.args
            if exp.is_Integer and exp < -1:
                return f"1/{self._print(s.Pow(base, -exp))}"
            return super()._print_Pow(expr, rational)

        def _print_Piecewise(self, expr):
            *pieces, (last, cond) = expr.args
            text = (
                self._print(last) if cond == s.true else f"{self._print(last)} if {self._print(cond)} else 0"
            )
            for value, c in reversed(pieces):
                text = f"{self._print(value)} if {self._print(c)} else {text}"
            return f"({text})"

        def _print_Relational(self, expr):
            op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
            return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

        def _print_And(self, expr):
            return " and ".join(self._bool_arg(a) for a in expr.args)

        def _print_Or(self, expr):
            return " or ".join(self._bool_arg(a) for a in expr.args)

        def _print_Not(self, expr):
            return f"not {self._bool_arg(expr.args[0])}"

        def _bool_arg(self, a):
            text = self._print(a)
            return f"({text})" if isinstance(a, (s.And, s.Or)) else text

    return SpecPrinter()


def _print_floor(printer, expr) -> str:
    """``floor((H - 1)/2)``; ``floor((u + d - 1)/d)`` as ``ceiling(u/d)`` when that drops a
    constant."""
    s = sp()
    num, den = expr.args[0].as_numer_denom()
    if den == 1:
        return f"floor({printer._print(num)})"
    if den.is_Integer and _small(num) and num.is_integer:
        u = s.expand(num - den + 1)
        if s.Add.make_args(u) and not any(t.is_Number for t in s.Add.make_args(u)):
            return f"ceiling({_ratio(printer, u, den)})"
    return f"floor({_ratio(printer, num, den)})"


def _print_ceiling(printer, expr) -> str:
    num, den = expr.args[0].as_numer_denom()
    if den == 1:
        return f"ceiling({printer._print(num)})"
    return f"ceiling({_ratio(printer, num, den)})"


def _ratio(printer, num, den) -> str:
    n = printer._print(num)
    if isinstance(num, sp().Add):
        n = f"({n})"
    d = printer._print(den)
    if not den.is_Atom:
        d = f"({d})"
    return f"{n}/{d}"
