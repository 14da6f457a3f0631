"""Exact evaluation of result formulas at many points, compiled once.

A formula of the analysis (``9408*floor(H/2 + 1/2)*floor(W/2 + 1/2) + ...``) is turned into
Python source over NumPy arrays, with every division that a floor or a ceiling takes written as
an integer floor division (``(H + 1) // 2``), never as a float division: ``lambdify(...,
"math")`` computes ``floor(H/2 + 1/2)`` in floating point and returns wrong integers.

Two evaluation paths, both exact:

- ``int64`` arrays when every value is an integer and a bound on the magnitude of every
  intermediate value (evaluated alongside, in float64, from absolute values) stays below 2**62;
- ``object`` arrays of Python ints and Fractions otherwise (rational symbols such as a width
  multiplier, or numbers too large for 64 bits): slower, still exact.
"""

from __future__ import annotations

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
    integer_only: bool = True  # every constant is an integer (no rational coefficients)

    def __call__(self, values: dict[str, Any]) -> dict[str, np.ndarray]:
        """Every formula at the points ``values`` (name -> array or scalar, broadcast together).

        Returns arrays of dtype int64 or object (Python ints and Fractions), exact either way.
        """
        arrays = [_array(values[n]) for n in self.names]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        arrays = [np.broadcast_to(a, shape) for a in arrays]
        if self._fits_int64(arrays):
            out = self._exact(np, *(a.astype(np.int64) for a in arrays))
        else:
            out = self._exact(np, *(a.astype(object) for a in arrays))
        return {k: np.broadcast_to(np.asarray(v), shape) for k, v in zip(self.keys, out, strict=True)}

    def _fits_int64(self, arrays) -> bool:
        if not self.integer_only or not all(a.dtype.kind in "iu" for a in arrays):
            return False
        floats = [np.abs(a.astype(np.float64)) for a in arrays]
        if any(f.size and f.max() >= _LIMIT for f in floats):
            return False
        peaks: list[float] = []
        with np.errstate(over="ignore", invalid="ignore"):
            self._bound(np, peaks, *floats)
        return all(p < _LIMIT for p in peaks)


def compile_formulas(formulas: dict[str, Any], names: list[str] | tuple[str, ...]) -> Compiled:
    """Compile ``formulas`` (key -> int, Fraction or sympy expression of ``names``).

    Raises:
        ValueError: for a formula using a function the evaluator does not know.
    """
    names = tuple(names)
    gen = _Gen(names)
    exact_lines, bound_lines = [], []
    for i, v in enumerate(formulas.values()):
        exact_lines.append(f"    r{i} = {gen.exact(v)}")
        bound_lines.append(f"    _pk({gen.bound(v)})")
    args = ", ".join(f"v{i}" for i in range(len(names)))
    keys = tuple(formulas)
    exact_src = (
        f"def _exact(np, {args}):\n"
        + "\n".join(exact_lines or ["    pass"])
        + f"\n    return ({', '.join(f'r{i}' for i in range(len(keys)))}{',' if keys else ''})\n"
    )
    bound_src = f"def _bound(np, _peaks, {args}):\n    _pk = _peaks_of(np, _peaks)\n" + "\n".join(
        bound_lines or ["    pass"]
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
    }
    exec(compile(exact_src, "<cnncalc exact>", "exec"), scope)  # source generated from sympy trees
    exec(compile(bound_src, "<cnncalc bound>", "exec"), scope)
    return Compiled(names, keys, scope["_exact"], scope["_bound"], gen.integer_only)


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


def _peaks_of(np_, peaks):
    def pk(x):
        arr = np_.asarray(x, dtype=np_.float64)
        peaks.append(float(np_.nanmax(arr)) if arr.size else 0.0)
        if arr.size and np_.isnan(arr).any():
            peaks.append(float("inf"))
        return x

    return pk


class _Gen:
    """Python source of a sympy tree: ``exact`` computes it, ``bound`` an upper bound of the
    absolute value of it and of every intermediate value (each recorded by ``_pk``)."""

    def __init__(self, names: tuple[str, ...]):
        self.var = {n: f"v{i}" for i, n in enumerate(names)}
        self.integer_only = True

    # -- exact ---------------------------------------------------------------------------

    def exact(self, e: Any) -> str:
        if isinstance(e, int):
            return f"({e})"
        if isinstance(e, Fraction):
            self.integer_only = False
            return f"_F({e.numerator}, {e.denominator})"
        s = dims.sp()
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
            raise ValueError(f"cannot evaluate {e} exactly")
        if isinstance(e, (s.floor, s.ceiling)):
            ceiling = isinstance(e, s.ceiling)
            split = self._integer_ratio(e.args[0])
            if split is not None:
                num, den = split
                if ceiling:
                    return f"(-((-{self.exact(num)}) // {den}))"
                return f"({self.exact(num)} // {den})"
            inner = self.exact(e.args[0])
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
            return f"({self.exact(e.lhs)} {e.rel_op} {self.exact(e.rhs)})"
        if isinstance(e, (s.And, s.Or)):
            fn = "_and" if isinstance(e, s.And) else "_or"
            return f"{fn}(" + ", ".join(self.exact(a) for a in e.args) + ")"
        if isinstance(e, s.Not):
            return f"_not({self.exact(e.args[0])})"
        raise ValueError(f"cannot evaluate {e} exactly")

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
        s = dims.sp()
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
            split = self._integer_ratio(e.args[0])
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
            return f"_second(_pk(_max({self._b(e.lhs)}, {self._b(e.rhs)})), 1.0)"
        if isinstance(e, (s.And, s.Or, s.Not)):
            return f"_second(_max({', '.join(self._b(a) for a in e.args)}), 1.0)"
        return "float('inf')"
