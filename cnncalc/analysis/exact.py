"""Exact evaluation of result formulas at many points, compiled once.

A formula of the analysis (``9408*floor(H/2 + 1/2)*floor(W/2 + 1/2) + ...``) is turned into
Python source over NumPy arrays, with every division that a floor or a ceiling takes written as
an integer floor division (``(H + 1) // 2``), never as a float division: ``lambdify(...,
"math")`` computes ``floor(H/2 + 1/2)`` in floating point and returns wrong integers. A floor,
ceiling, min, max, modulo or conditional that several formulas share is computed once.

Two evaluation paths, both exact:

- ``int64`` arrays when every value is an integer and a bound on the magnitude of every
  intermediate value stays below 2**62. The bound is computed once per call from the largest
  magnitude of each symbol: every operation of the bound (sums and products of magnitudes, a
  floor's argument plus one, the larger of two) grows with its arguments, so the bound at the
  largest inputs bounds every point;
- ``object`` arrays of Python ints and Fractions otherwise (rational coefficients, numbers too
  large for 64 bits, roots): slower, still exact.

A conditional (``Piecewise``) is evaluated with every branch computed and the one whose
condition holds kept at each point; the bound covers every branch. A root of a known number
(``floor(sqrt(2)*H)``) is decided with integer arithmetic (:class:`~cnncalc.lang.surd.Surd`)
where a floor, a ceiling or a comparison takes it, point by point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce
from typing import Any

import numpy as np

from ..core import dims

_LIMIT = 2.0**62


@dataclass
class Compiled:
    """Formulas compiled to exact evaluation over arrays of symbol values."""

    names: tuple[str, ...]  # the symbols, in the order of the arrays given
    keys: tuple[str, ...]  # the formulas' keys
    _exact: Any = field(repr=False)
    _bound: Any = field(repr=False)
    integer_only: bool = True  # every constant is an integer (no rational coefficients, no root)

    def __call__(self, values: dict[str, Any]) -> dict[str, np.ndarray]:
        """Every formula at the points ``values`` (name -> array or scalar, broadcast together).

        Returns arrays of dtype int64 or object (Python ints and Fractions), exact either way.
        """
        arrays = [_array(values[n]) for n in self.names]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        arrays = [np.broadcast_to(a, shape) for a in arrays]
        if self.fits_int64(arrays):
            out = self._exact(np, *(a.astype(np.int64, copy=False) for a in arrays))
        else:
            out = self._exact(np, *(a.astype(object) for a in arrays))
        return {k: np.broadcast_to(np.asarray(v), shape) for k, v in zip(self.keys, out, strict=True)}

    def fits_int64(self, arrays) -> bool:
        """Whether every intermediate value at these points is proved to fit in 64 bits."""
        if not self.integer_only or not all(a.dtype.kind in "iu" for a in arrays):
            return False
        peaks_in = []
        for a in arrays:
            if not a.size:
                peaks_in.append(np.float64(0))
                continue
            top = max(abs(int(a.max())), abs(int(a.min())))
            if top >= _LIMIT:
                return False
            peaks_in.append(np.float64(top))
        peaks: list[float] = []
        with np.errstate(over="ignore", invalid="ignore"):
            self._bound(np, peaks, *peaks_in)
        return all(p < _LIMIT for p in peaks)


def compile_formulas(formulas: dict[str, Any], names: list[str] | tuple[str, ...]) -> Compiled:
    """Compile ``formulas`` (key -> int, Fraction or sympy expression of ``names``).

    Raises:
        ValueError: for a formula the evaluator cannot compute exactly (a root of a symbol, two
            roots in one floor), naming it.
    """
    names = tuple(names)
    gen = _Gen(names)
    formulas = {k: _normalise(v) for k, v in formulas.items()}
    results = [gen.exact(v) for v in formulas.values()]
    bounds = [gen.bound(v) for v in formulas.values()]
    args = ", ".join(f"v{i}" for i in range(len(names)))
    keys = tuple(formulas)
    exact_src = (
        f"def _exact(np, {args}):\n"
        + "".join(f"    {line}\n" for line in gen.lines)
        + f"    return ({''.join(f'{r}, ' for r in results)})\n"
    )
    bound_src = (
        f"def _bound(np, _peaks, {args}):\n    _pk = _peaks_of(np, _peaks)\n"
        + "".join(f"    {line}\n" for line in gen.bound_lines)
        + "".join(f"    _pk({b})\n" for b in bounds)
    )
    scope = {
        "_F": Fraction,
        "_min": _min,
        "_max": _max,
        "_fl": _floor1,
        "_peaks_of": _peaks_of,
        "_where": _where,
        "_and": _and,
        "_or": _or,
        "_not": np.logical_not,
        "_second": _second,
        "_surd": _surd_floor,
        "_surd_sign": _surd_sign,
    }
    exec(compile(exact_src, "<cnncalc exact>", "exec"), scope)  # source generated from sympy trees
    exec(compile(bound_src, "<cnncalc bound>", "exec"), scope)
    return Compiled(names, keys, scope["_exact"], scope["_bound"], gen.integer_only)


#: Most conditionals a floor's argument may hold to be folded into one (the products of
#: conditionals multiply their branches).
_FOLDED = 4


def _normalise(formula: Any) -> Any:
    """The same formula in a form that stays in integers where it can:

    - ``Max(1, K/100)`` as ``Max(100, K)/100``, so that a floor of it is an integer ratio;
    - a floor of conditionals (``in/groups`` of a depthwise convolution whose channels are a
      conditional: sympy puts the division inside the branches, ``floor(Piecewise((1/(8 + c),
      ...))*Piecewise((8 + c, ...)))``) folded into one conditional whose branches cancel, the
      floor taken in each branch.
    """
    s = dims.sp()
    if dims.is_concrete(formula) or not isinstance(formula, s.Basic):
        return formula
    if formula.has(s.Min, s.Max):
        formula = formula.replace(lambda n: isinstance(n, (s.Min, s.Max)), _common_scale)
    if formula.has(s.Piecewise):
        formula = formula.replace(
            lambda n: isinstance(n, (s.floor, s.ceiling)) and n.args[0].has(s.Piecewise), _fold_floor
        )
    return formula


def _common_scale(n: Any) -> Any:
    s = dims.sp()
    dens = [a.as_numer_denom()[1] for a in n.args]
    if not all(d.is_Integer and d > 0 for d in dens):
        return n
    scale = math.lcm(*(int(d) for d in dens))
    return n if scale == 1 else n.func(*(scale * a for a in n.args)) / s.Integer(scale)


def _fold_floor(n: Any) -> Any:
    s = dims.sp()
    arg = n.args[0]
    if not 0 < len(arg.atoms(s.Piecewise)) <= _FOLDED:
        return n
    arg = s.piecewise_fold(arg)
    if isinstance(arg, s.Piecewise):  # the floor of each branch: each an integer ratio
        return s.Piecewise(*((n.func(value), c) for value, c in arg.args))
    return n.func(arg)


def evaluate(formula: Any, values: dict[str, Any]) -> Any:
    """One formula at one point, exactly (an int or a Fraction)."""
    if dims.is_concrete(formula):
        return formula
    names = sorted(str(s) for s in formula.free_symbols)
    out = compile_formulas({"v": formula}, names)({n: values[n] for n in names})["v"]
    return _scalar(out.reshape(-1)[0])


def _array(v: Any) -> np.ndarray:
    """Integers as int64 when they fit, anything else (Fractions, big ints) as objects."""
    a = np.asarray(v) if not isinstance(v, (int, Fraction)) else np.asarray(v, dtype=object)
    if a.dtype == object and a.size and all(type(x) is int and abs(x) < 2**62 for x in a.flat):
        return a.astype(np.int64)
    return a


def _scalar(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    return dims.canon(v) if isinstance(v, (int, Fraction)) else v


def _min(*xs):
    return reduce(np.minimum, xs)


def _max(*xs):
    return reduce(np.maximum, xs)


def _where(c, a, b):
    """``a if c else b`` elementwise; Python values stay Python values (exact)."""
    out = np.where(c, a, b)
    return out if out.shape else out.item()


def _and(*xs):
    return reduce(np.logical_and, xs)


def _or(*xs):
    return reduce(np.logical_or, xs)


def _second(_, b):
    return b


def _floor1(x):
    """floor(x) for ints, Fractions, and arrays of them (int64 arrays stay int64)."""
    return x // 1


def _surd_floor(a, b, radicand: Fraction, n: int):
    """``floor(a + b * radicand**(1/n))`` at each point, exactly (the root is irrational)."""
    from ..lang.surd import Surd

    def one(x, y):
        x, y = Fraction(x), Fraction(y)
        return math.floor(x) if y == 0 else Surd(x, y, radicand, n).floor()

    return _pointwise(one, a, b)


def _surd_sign(a, b, radicand: Fraction, n: int):
    """The sign (-1, 0 or 1) of ``a + b * radicand**(1/n)`` at each point (never 0 where
    ``b`` is not: the root is irrational)."""
    from ..lang.surd import Surd

    def one(x, y):
        x, y = Fraction(x), Fraction(y)
        if y == 0:
            return (x > 0) - (x < 0)
        return 1 if Surd(x, y, radicand, n).floor() >= 0 else -1

    return _pointwise(one, a, b)


def _pointwise(fn, a, b):
    a, b = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
    out = np.empty(a.shape, dtype=object)
    for i in np.ndindex(a.shape):
        out[i] = fn(a[i], b[i])
    return out if out.shape else out.item()


def _peaks_of(np_, peaks):
    def pk(x):
        value = float(np_.max(np_.asarray(x, dtype=np_.float64)))
        peaks.append(value if value == value else float("inf"))  # NaN: unknown, too large
        return x

    return pk


_CACHED = ("floor", "ceiling", "Min", "Max", "Mod", "Piecewise")


class _Gen:
    """Python source of a sympy tree: ``exact`` computes it, ``bound`` an upper bound of the
    absolute value of it and of every intermediate value (each recorded by ``_pk``). A node met
    twice (a floor every formula uses) is computed once, in a temporary of ``lines``."""

    def __init__(self, names: tuple[str, ...]):
        self.var = {n: f"v{i}" for i, n in enumerate(names)}
        self.integer_only = True
        self.lines: list[str] = []
        self.bound_lines: list[str] = []
        self._exact_cache: dict[Any, str] = {}
        self._bound_cache: dict[Any, str] = {}

    # -- exact ---------------------------------------------------------------------------

    def exact(self, e: Any) -> str:
        if isinstance(e, int):
            return f"({e})"
        if isinstance(e, Fraction):
            self.integer_only = False
            return f"_F({e.numerator}, {e.denominator})"
        if type(e).__name__ not in _CACHED:
            return self._exact(e)
        if e not in self._exact_cache:
            code = self._exact(e)
            name = f"t{len(self.lines)}"
            self.lines.append(f"{name} = {code}")
            self._exact_cache[e] = name
        return self._exact_cache[e]

    def _exact(self, e: Any) -> str:
        s = dims.sp()
        if e == s.true or e == s.false:
            return "True" if e == s.true else "False"
        if e.is_Integer:
            return f"({int(e)})"
        if e.is_Rational:
            self.integer_only = False
            return f"_F({int(e.p)}, {int(e.q)})"
        if e.is_Symbol:
            return self._symbol(e)
        if isinstance(e, s.Add):
            return "(" + " + ".join(self.exact(a) for a in e.args) + ")"
        if isinstance(e, s.Mul):
            return "(" + " * ".join(self.exact(a) for a in e.args) + ")"
        if isinstance(e, s.Pow):
            base, exp = e.args
            if exp.is_Integer and exp >= 0:
                return f"({self.exact(base)} ** {int(exp)})"
            if exp.is_Integer:
                self.integer_only = False
                return f"(_F(1, 1) / {self.exact(base)} ** {int(-exp)})"
            raise ValueError(f"cannot evaluate {dims.fmt(e)} exactly outside a floor, ceiling or comparison")
        if isinstance(e, (s.floor, s.ceiling)):
            ceiling = isinstance(e, s.ceiling)
            arg = e.args[0]
            surd = _surd_split(arg)
            if surd is not None:
                return self._surd_floor(surd, ceiling)
            split = self._integer_ratio(arg)
            if split is not None:
                num, den = split
                if ceiling:
                    return f"(-((-{self.exact(num)}) // {den}))"
                return f"({self.exact(num)} // {den})"
            inner = self.exact(arg)
            return f"(-_fl(-{inner}))" if ceiling else f"_fl({inner})"
        if isinstance(e, s.Min):
            return "_min(" + ", ".join(self.exact(a) for a in e.args) + ")"
        if isinstance(e, s.Max):
            return "_max(" + ", ".join(self.exact(a) for a in e.args) + ")"
        if isinstance(e, s.Mod):
            a, b = e.args
            return f"({self.exact(a)} % {self.exact(b)})"
        if isinstance(e, s.Piecewise):
            *pieces, (last, cond) = e.args
            text = (
                self.exact(last) if cond == s.true else f"_where({self.exact(cond)}, {self.exact(last)}, 0)"
            )
            for value, c in reversed(pieces):
                text = f"_where({self.exact(c)}, {self.exact(value)}, {text})"
            return text
        if isinstance(e, s.core.relational.Relational):
            return self._relation(e)
        if isinstance(e, (s.And, s.Or)):
            fn = "_and" if isinstance(e, s.And) else "_or"
            return f"{fn}(" + ", ".join(self.exact(a) for a in e.args) + ")"
        if isinstance(e, s.Not):
            return f"_not({self.exact(e.args[0])})"
        raise ValueError(f"cannot evaluate {dims.fmt(e)} exactly")

    def _relation(self, e) -> str:
        """``lhs rel rhs`` as ``d rel 0`` with ``d = lhs - rhs`` cleared of fractions where a
        common denominator does it (so that the comparison stays in integers)."""
        s = dims.sp()
        d = e.lhs - e.rhs
        surd = _surd_split(d)
        if surd is not None:
            a, b, radicand, n = surd
            self.integer_only = False
            sign = f"_surd_sign({self.exact(a)}, {self.exact(b)}, {_frac(radicand)}, {n})"
            return f"({sign} {e.rel_op} 0)"
        den = _common_denominator(d)
        if den > 1:
            d = s.expand_mul(d * den) if isinstance(d, s.Add) else d * den
        return f"({self.exact(d)} {e.rel_op} 0)"

    def _surd_floor(self, surd, ceiling: bool) -> str:
        a, b, radicand, n = surd
        self.integer_only = False
        if ceiling:
            return f"(-_surd(-{self.exact(a)}, -{self.exact(b)}, {_frac(radicand)}, {n}))"
        return f"_surd({self.exact(a)}, {self.exact(b)}, {_frac(radicand)}, {n})"

    def _symbol(self, e) -> str:
        name = str(e)
        if name not in self.var:
            raise ValueError(f"no value for {name}")
        return self.var[name]

    def _integer_ratio(self, arg):
        """``(num, den)`` when ``arg = num/den`` with ``num`` an integer polynomial of integer
        symbols and ``den`` a positive integer: the floor is then ``num // den``."""
        num, den = arg.as_numer_denom()
        if not (den.is_Integer and den > 0):
            return None
        if not num.is_integer:
            return None
        s = dims.sp()
        for term in s.Add.make_args(s.expand(num)):
            coeff, _ = term.as_coeff_Mul()
            if not coeff.is_Integer:
                return None
        return num, int(den)

    # -- bound ---------------------------------------------------------------------------

    def bound(self, e: Any) -> str:
        return f"_pk({self._b(e)})"

    def _b(self, e: Any) -> str:
        if isinstance(e, (int, Fraction)):
            return repr(float(abs(e)))
        if type(e).__name__ not in _CACHED:
            return self._b_node(e)
        if e not in self._bound_cache:
            code = self._b_node(e)
            name = f"b{len(self.bound_lines)}"
            self.bound_lines.append(f"{name} = {code}")
            self._bound_cache[e] = name
        return self._bound_cache[e]

    def _b_node(self, e: Any) -> str:
        s = dims.sp()
        if e == s.true or e == s.false:
            return "1.0"
        if e.is_Number:
            return repr(float(abs(e)))
        if e.is_Symbol:
            return self._symbol(e)
        if isinstance(e, s.Add):
            return "_pk(" + " + ".join(self._b(a) for a in e.args) + ")"
        if isinstance(e, s.Mul):
            return "_pk(" + " * ".join(self._b(a) for a in e.args) + ")"
        if isinstance(e, s.Pow):
            base, exp = e.args
            if exp.is_Integer and exp >= 0:
                return f"_pk({self._b(base)} ** {int(exp)})"
            return "float('inf')"
        if isinstance(e, (s.floor, s.ceiling)):
            split = self._integer_ratio(e.args[0]) if _surd_split(e.args[0]) is None else None
            if split is not None:
                num, den = split
                return f"_pk({self._b(num)} / {den} + 1)"
            return f"_pk({self._b(e.args[0])} + 1)"
        if isinstance(e, (s.Min, s.Max)):
            return "_pk(_max(" + ", ".join(self._b(a) for a in e.args) + "))"
        if isinstance(e, s.Mod):
            a, b = e.args
            return f"_pk(_max({self._b(a)}, {self._b(b)}))"
        if isinstance(e, s.Piecewise):
            # every branch and condition is computed: bound them all, the value by the branches
            conds = ", ".join(self._b(c) for _, c in e.args if c != s.true) or "0.0"
            values = ", ".join(self._b(v) for v, _ in e.args)
            return f"_second(_max({conds}), _pk(_max({values})))"
        if isinstance(e, s.core.relational.Relational):
            d = e.lhs - e.rhs
            den = _common_denominator(d)
            if den > 1:
                d = s.expand_mul(d * den) if isinstance(d, s.Add) else d * den
            return f"_second(_pk({self._b(d)}), 1.0)"
        if isinstance(e, (s.And, s.Or, s.Not)):
            return f"_second(_max({', '.join(self._b(a) for a in e.args)}), 1.0)"
        return "float('inf')"


def _frac(q: Fraction) -> str:
    return f"_F({q.numerator}, {q.denominator})"


def _common_denominator(d) -> int:
    """The least common multiple of the denominators of the rational coefficients of the terms
    of ``d`` (1 when they are integers)."""
    s = dims.sp()
    den = 1
    for term in s.Add.make_args(d):
        coeff, _ = term.as_coeff_Mul()
        if coeff.is_Rational:
            den = math.lcm(den, int(coeff.q))
    return den


def _surd_split(arg) -> tuple[Any, Any, Fraction, int] | None:
    """``(a, b, radicand, n)`` when ``arg = a + b * radicand**(1/n)`` with one root of a known
    positive number, ``a`` and ``b`` free of it; None when ``arg`` holds no root.

    Raises:
        ValueError: for two different roots, or a root of a formula.
    """
    s = dims.sp()
    roots = [
        p
        for p in arg.atoms(s.Pow)
        if p.exp.is_Rational and not p.exp.is_Integer and (p.free_symbols or p.base.is_Rational)
    ]
    if not roots:
        return None
    if len(roots) > 1 or roots[0].free_symbols:
        raise ValueError(
            f"cannot evaluate {dims.fmt(arg)} exactly: cnncalc decides a floor or a comparison "
            f"of one root of a known number"
        )
    r = roots[0]
    a, rest = arg.as_independent(r, as_Add=True)
    b = s.cancel(rest / r)
    if b.has(r):
        raise ValueError(f"cannot evaluate {dims.fmt(arg)} exactly: the root appears other than once")
    exp = Fraction(int(r.exp.p), int(r.exp.q))
    radicand = Fraction(int(r.base.p), int(r.base.q)) ** exp.numerator
    return a, b, radicand, exp.denominator
