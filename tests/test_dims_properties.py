"""Symbolic = integer, everywhere: random expressions over every ``dims`` operation.

A random tree of dims operations (add, mul, floordiv, ceildiv, mod, min, max, the conv/pool
window rule in floor and ceil mode, and the floor folds these trigger) is built twice: once over
sympy symbols H and W, once over Python integers. The symbolic result with the integers
substituted must equal the integer result, and its printed form, read back by cnncalc's own
parser and by sympy, must give the same number. The integer side is computed by Python's own
``//``, ``%``, ``min`` and ``max`` on ints, an oracle independent of the symbolic rewriting.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.core import dims
from cnncalc.lang.expr import evaluate, parse

H = dims.symbol("H")
W = dims.symbol("W")


def _window(size, k, s, p, d, ceil_mode):
    """PyTorch's window count on integers (torch.nn.functional's documented formula)."""
    span = size + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    # the last window must start inside the input or the left padding
    if (out - 1) * s >= size + p:
        out -= 1
    return out


def _tree(leaves):
    """Trees of (op, args) with small positive constants for divisors and window arguments."""
    small = st.integers(1, 5)

    def extend(children):
        return st.one_of(
            st.tuples(st.just("add"), children, children),
            st.tuples(st.just("mul"), children, small),
            st.tuples(st.just("floordiv"), children, small),
            st.tuples(st.just("ceildiv"), children, small),
            st.tuples(st.just("mod"), children, small),
            st.tuples(st.just("ceil"), children, small),  # ceil(x / c), written as a floor
            st.tuples(st.just("floor"), children, small),
            st.tuples(st.just("min"), children, children),
            st.tuples(st.just("max"), children, children),
            st.tuples(
                st.just("window"),
                children,
                st.integers(1, 4),  # kernel
                st.integers(1, 3),  # stride
                st.integers(0, 2),  # padding
                st.integers(1, 2),  # dilation
                st.booleans(),  # ceil mode
            ),
        )

    return st.recursive(leaves, extend, max_leaves=6)


LEAVES = st.one_of(st.sampled_from(["H", "W"]), st.integers(0, 7))


def build(tree, h, w, symbolic: bool):
    """The tree's value: with dims over symbols (symbolic) or with plain int arithmetic."""
    if isinstance(tree, str):
        return {"H": H, "W": W}[tree] if symbolic else {"H": h, "W": w}[tree]
    if isinstance(tree, int):
        return tree
    op, *args = tree
    x = build(args[0], h, w, symbolic)
    if op in ("add", "min", "max"):
        y = build(args[1], h, w, symbolic)
        if symbolic:
            return {"add": dims.add, "min": dims.dmin, "max": dims.dmax}[op](x, y)
        return {"add": x + y, "min": min(x, y), "max": max(x, y)}[op]
    if op == "window":
        k, s, p, d, ceil_mode = args[1:]
        # Valid by construction: PyTorch refuses padding above half the effective kernel.
        p = min(p, (d * (k - 1) + 1) // 2)
        if symbolic:
            return dims.window_out(x, k, s, p, p, d, ceil_mode)
        return _window(x, k, s, p, d, ceil_mode)
    c = args[1]
    if op in ("ceil", "floor"):
        if symbolic:
            return (dims.ceil if op == "ceil" else dims.floor)(dims.div(x, c))
        return (math.ceil if op == "ceil" else math.floor)(Fraction(x, c))
    if symbolic:
        return {"mul": dims.mul, "floordiv": dims.floordiv, "ceildiv": dims.ceildiv, "mod": dims.mod}[op](
            x, c
        )
    return {"mul": x * c, "floordiv": x // c, "ceildiv": -(-x // c), "mod": x % c}[op]


@settings(max_examples=150)
@given(_tree(LEAVES), st.integers(1, 300), st.integers(1, 300))
def test_symbolic_equals_integer(tree, h, w):
    expected = build(tree, h, w, symbolic=False)
    sym = build(tree, h, w, symbolic=True)
    values = {H: h, W: w}
    got = sym if isinstance(sym, int) else dims.canon(dims.to_sympy(sym).xreplace(values))
    assert got == expected, (tree, dims.fmt(sym))
    printed = dims.fmt(sym)
    # Read back by cnncalc's whitelist parser, evaluated on integers ...
    assert evaluate(parse(printed), {"H": h, "W": w}) == expected, printed
    # ... and by sympy.
    back = sympy.sympify(printed, locals={"H": H, "W": W})
    assert back.xreplace(values) == expected, printed


def test_ceiling_of_an_open_symbol_is_exact():
    # ceil(H/2), as the parser builds it and folded into a floor: 1, 1, 2, 2, 3 for H = 1..5.
    c = evaluate(parse("ceil(H/2)"), {"H": H})
    assert [c.xreplace({H: n}) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert evaluate(parse(dims.fmt(c)), {"H": 4}) == 2
    # and inside a chain: floor(ceil(H/2)/3) at H = 12 is floor(6/3) = 2, at H = 13 floor(7/3) = 2
    chain = dims.floordiv(dims.ceil(dims.div(H, 2)), 3)
    assert [chain.xreplace({H: n}) for n in (11, 12, 13, 17)] == [2, 2, 2, 3]
