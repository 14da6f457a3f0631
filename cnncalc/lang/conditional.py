"""Conditionals of conditionals of one symbol, folded into one list of ranges.

A spec may pass a conditional through blocks (``v + 1 if H > i else v``, ``v`` itself the
conditional of the block above): written out, the formula doubles at each level, and sixty
levels never finish. When every condition in it compares one integer symbol with a rational
threshold, each range between thresholds decides every condition, so the value there is one
branch of each conditional: the whole is one conditional of the symbol with a piece a range
(``2 if H < 2 else 3 if H < 3 else ...``), exact for every value. Otherwise it is kept as
written, and its size (written out as a tree) is returned, for the caller to refuse beyond
:data:`MAX_CONDITIONAL_SIZE`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ..core import dims

#: Most operations a conditional's formula may hold (a conditional of a conditional, passed down
#: through blocks, doubles it at each level).
MAX_CONDITIONAL_SIZE = 20_000
#: Most thresholds a conditional of one symbol is folded over.
MAX_THRESHOLDS = 256


def conditional(cond: Any, a: Any, b: Any) -> tuple[dims.Value, int]:
    """``a if cond else b`` (``cond`` an undecided sympy condition), folded when it holds
    conditionals of one integer symbol, and its size written out as a tree."""
    s = dims.sp()
    whole = s.Piecewise((dims.to_sympy(a), cond), (dims.to_sympy(b), True))
    if not isinstance(whole, s.Piecewise):  # decided after all (equal branches)
        return dims.canon(whole), 1
    size, symbols, atoms = _walk(whole)
    nested = atoms - _walk(cond)[2]
    folded = _fold(whole, symbols, atoms) if nested and size <= 50 * MAX_CONDITIONAL_SIZE else None
    if folded is not None:
        return folded, 1
    return dims.canon(whole), size


def _walk(e: Any) -> tuple[int, set, set]:
    """The size of ``e`` written out as a tree (shared parts counted each time), its symbols
    and its comparisons, visiting each shared part once."""
    s = dims.sp()
    sizes: dict[int, int] = {}
    symbols: set = set()
    atoms: set = set()

    def visit(n: Any) -> int:
        key = id(n)
        if key not in sizes:
            if n.is_Symbol:
                symbols.add(n)
            elif isinstance(n, s.core.relational.Relational):
                atoms.add(n)
            sizes[key] = 1 + sum(visit(arg) for arg in n.args)
        return sizes[key]

    return visit(e), symbols, atoms


def _fold(whole: Any, symbols: set, atoms: set) -> dims.Value | None:
    """``whole`` as ``v0 if x < t1 else (v1 if x < t2 else ...)`` when its conditions are
    comparisons of one integer symbol ``x`` with rational thresholds: each range between
    thresholds decides every condition, so the value there is one branch of each conditional.
    None when that does not apply."""
    s = dims.sp()
    if len(symbols) != 1:
        return None
    (x,) = symbols
    if not x.is_integer:
        return None
    lines: dict[Any, tuple[Fraction, Fraction]] = {}  # comparison -> (a, b) of lhs - rhs = a*x + b
    cuts: set[int] = set()
    for atom in atoms:
        d = atom.lhs - atom.rhs
        if not d.is_polynomial(x):
            return None
        p = s.Poly(d, x)
        coeffs = p.all_coeffs()
        if p.degree() != 1 or not all(c.is_Rational for c in coeffs):
            return None
        slope, offset = (Fraction(int(c.p), int(c.q)) for c in coeffs)
        lines[atom] = (slope, offset)
        root = -offset / slope
        cuts |= {math.floor(root), math.floor(root) + 1}
        if len(cuts) > MAX_THRESHOLDS:
            return None
    if not cuts:
        return None
    edges = sorted(cuts)
    pieces: list[tuple[Any, Any]] = []  # (value, first integer of the next range)
    for i, start in enumerate([edges[0] - 1, *edges]):
        value = _select(whole, start, lines)
        if value is None:
            return None
        end = edges[i] if i < len(edges) else None
        if pieces and pieces[-1][0] == value:
            pieces[-1] = (value, end)
        else:
            pieces.append((value, end))
    if len(pieces) == 1:
        return dims.canon(pieces[0][0])
    args = [(v, s.Lt(x, end)) for v, end in pieces[:-1]] + [(pieces[-1][0], True)]
    return dims.canon(s.Piecewise(*args))


_HOLDS = {
    "<": lambda v: v < 0,
    "<=": lambda v: v <= 0,
    ">": lambda v: v > 0,
    ">=": lambda v: v >= 0,
    "==": lambda v: v == 0,
    "!=": lambda v: v != 0,
}


def _select(e: Any, point: int, lines: dict) -> Any:
    """``e`` with each conditional replaced by its branch at ``x = point`` (the comparisons'
    lines give their truth there); None when a comparison is not one of ``lines``."""
    s = dims.sp()
    memo: dict[int, Any] = {}

    def truth(c: Any) -> bool | None:
        if c == s.true or c == s.false:
            return c == s.true
        if c in lines:
            slope, offset = lines[c]
            return _HOLDS[c.rel_op](slope * point + offset)
        if isinstance(c, (s.And, s.Or)):
            parts = [truth(a) for a in c.args]
            if None in parts:
                return None
            return all(parts) if isinstance(c, s.And) else any(parts)
        if isinstance(c, s.Not):
            inner = truth(c.args[0])
            return None if inner is None else not inner
        return None

    def pick(n: Any) -> Any:
        key = id(n)
        if key in memo:
            return memo[key]
        if isinstance(n, s.Piecewise):
            out = None
            for value, c in n.args:
                held = truth(c)
                if held is None:
                    raise LookupError
                if held:
                    out = pick(value)
                    break
            if out is None:
                raise LookupError
        elif isinstance(n, (s.core.relational.Relational, s.logic.boolalg.Boolean)):
            raise LookupError
        elif not n.args:
            out = n
        else:
            args = [pick(a) for a in n.args]
            out = n if all(x is y for x, y in zip(args, n.args, strict=True)) else n.func(*args)
        memo[key] = out
        return out

    try:
        return pick(e)
    except LookupError:
        return None
