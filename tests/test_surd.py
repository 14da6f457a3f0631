"""Roots of known numbers decided exactly without sympy (sympy is the oracle here)."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.errors import ExpressionError
from cnncalc.lang.expr import evaluate, parse
from cnncalc.lang.surd import Surd, root

rationals = st.fractions(min_value=-50, max_value=50, max_denominator=40)
positive = st.fractions(min_value=Fraction(1, 40), max_value=60, max_denominator=40)


def exact(x: Fraction):
    return sympy.Rational(x.numerator, x.denominator)


@given(a=positive, p=st.fractions(min_value=-4, max_value=4, max_denominator=6), b=rationals, c=rationals)
def test_floor_ceil_and_order_are_sympys(a, p, b, c):
    value = root(a, p)
    oracle = exact(a) ** exact(p)
    if not isinstance(value, Surd):
        assert exact(Fraction(value)) == oracle  # an exact power came out rational
        return
    if c == 0:
        return
    x = value.times(c).plus(b)
    y = exact(b) + exact(c) * oracle
    assert x.floor() == sympy.floor(y)
    assert x.ceil() == sympy.ceiling(y)
    for q in (b, Fraction(x.floor()), Fraction(x.ceil()), Fraction(0)):
        assert x.exceeds(q) == bool(y > exact(q))
    assert sympy.simplify(x.to_sympy() - y) == 0


def test_expressions_with_roots():
    # 2.52**1.5 = 4.0003..., 2.25**(1/2) = 1.5 exactly, 10*sqrt(2) = 14.14...
    assert evaluate(parse("ceil(2.52**(3/2))"), {}) == 5
    assert evaluate(parse("floor(2.52**(3/2))"), {}) == 4
    assert evaluate(parse("2.25**(1/2)"), {}) == Fraction(3, 2)
    assert evaluate(parse("round(10*2**(1/2))"), {}) == 14
    assert evaluate(parse("3 if 2**(1/2) > 1.414 else 4"), {}) == 3
    assert evaluate(parse("2**(1/2) == 1.4142135623730951"), {}) == 0
    assert evaluate(parse("max(1, 2**(1/2)) < 1.5"), {}) == 1
    # sums of two roots fall back to sympy, still exact
    assert evaluate(parse("floor(2**(1/2) + 3**(1/2))"), {}) == 3


def test_a_regnet_analysis_does_not_import_sympy():
    code = (
        "import sys\n"
        "from cnncalc.lang.spec import load_spec\nfrom cnncalc.lang.zoo import find_spec\n"
        "from cnncalc.core.engine import analyze\n"
        "a = analyze(load_spec(find_spec('regnet_y')))\n"
        "assert a.totals.params == 4344144, a.totals.params\n"
        "assert 'sympy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


roots = st.tuples(
    st.fractions(min_value=Fraction(1, 9), max_value=9, max_denominator=9),
    st.sampled_from([Fraction(1, 2), Fraction(1, 3), Fraction(3, 2), Fraction(-1, 2), Fraction(2, 3)]),
)
numbers = st.fractions(min_value=-9, max_value=9, max_denominator=7)


def text(q: Fraction) -> str:
    return f"({q.numerator}/{q.denominator})"


@given(root=roots, q=numbers, op=st.sampled_from(["+", "-", "*", "/", "//"]), flip=st.booleans())
def test_arithmetic_with_a_root_is_exact(root, q, op, flip):
    a, p = root
    power = f"({text(a)}**{text(p)})"
    left, right = (text(q), power) if flip else (power, text(q))
    if op in ("/", "//") and (q == 0 and not flip):
        return
    expression = f"floor({left} {op} {right})" if op != "//" else f"{left} {op} {right}"
    value = exact(a) ** exact(p)
    x, y = (exact(q), value) if flip else (value, exact(q))
    oracle = {"+": x + y, "-": x - y, "*": x * y, "/": x / y, "//": sympy.floor(x / y)}[op]
    assert evaluate(parse(expression), {}) == sympy.floor(oracle)
    assert evaluate(parse(f"ceil({left} {op} {right})"), {}) == sympy.ceiling(oracle)
    nearest = (
        round(Fraction(int(oracle.p), int(oracle.q)))
        if oracle.is_Rational
        else sympy.floor(oracle + sympy.Rational(1, 2))
    )
    assert evaluate(parse(f"round({left} {op} {right})"), {}) == nearest  # halves to even
    assert evaluate(parse(f"floor(-({left} {op} {right}))"), {}) == sympy.floor(-oracle)


@given(root=roots, q=numbers, op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), flip=st.booleans())
def test_comparisons_with_a_root_are_exact(root, q, op, flip):
    a, p = root
    power = f"({text(a)}**{text(p)})"
    left, right = (text(q), power) if flip else (power, text(q))
    value = exact(a) ** exact(p)
    x, y = (exact(q), value) if flip else (value, exact(q))
    oracle = {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "==": x == y, "!=": x != y}[op]
    assert evaluate(parse(f"{left} {op} {right}"), {}) == int(bool(oracle))
    # chained, and inside and/or/not/if
    one_op_one = op in ("<=", ">=", "==")  # 1 op 1
    assert evaluate(parse(f"0 < 1 {op} 1 and {left} {op} {right}"), {}) == int(bool(oracle) and one_op_one)
    assert evaluate(parse(f"not ({left} {op} {right})"), {}) == int(not bool(oracle))
    assert evaluate(parse(f"7 if {left} {op} {right} else 9"), {}) == (7 if oracle else 9)
    assert evaluate(parse(f"{left} {op} {right} or 0"), {}) == int(bool(oracle))
    low, high = sorted([x, y], key=float)
    assert evaluate(parse(f"floor(10*min({left}, {right}))"), {}) == sympy.floor(10 * low)
    assert evaluate(parse(f"floor(10*max({left}, {right}))"), {}) == sympy.floor(10 * high)


def test_roots_combined_with_symbols_and_roots_stay_exact():
    H = sympy.Symbol("H", integer=True, positive=True)
    v = evaluate(parse("H * 2**(1/2)"), {"H": H})
    assert sympy.simplify(v - H * sympy.sqrt(2)) == 0
    assert evaluate(parse("2**(1/2) < 3**(1/2)"), {}) == 1
    assert evaluate(parse("2**(1/2) * 2**(1/2)"), {}) == 2
    assert evaluate(parse("3**(1/2) if 1 else 0"), {}) == sympy.sqrt(3)


def test_root_limits():
    import pytest

    from cnncalc.errors import ExpressionError

    with pytest.raises(ExpressionError, match="the exponent 129/2 is too large"):
        evaluate(parse("2**(129/2)"), {})
    with pytest.raises(ExpressionError, match="the exponent 1/65 is too large"):
        evaluate(parse("2**(1/65)"), {})
    with pytest.raises(ExpressionError, match="the power is too large"):
        evaluate(parse("(10**60)**(13/2)"), {})
    assert evaluate(parse("(2**64)**(1/64)"), {}) == 2


def test_known_numbers_combine_with_a_root_without_sympy():
    # the fast path: a root and a rational stay a Surd (integer arithmetic), for every operator
    from cnncalc.lang.expr import _surd_binop

    r = root(Fraction(2), Fraction(1, 2))
    three = Fraction(3)
    for op, expected in [("+", (3, 1)), ("-", (-3, 1)), ("*", (0, 3)), ("/", (0, Fraction(1, 3)))]:
        out = _surd_binop(op, r, three)
        assert isinstance(out, Surd) and (out.b, out.c) == expected, op
    for op, expected in [("+", (3, 1)), ("-", (3, -1)), ("*", (0, 3))]:
        out = _surd_binop(op, three, r)
        assert isinstance(out, Surd) and (out.b, out.c) == expected, op
    assert _surd_binop("//", r, three) == 0  # sqrt(2)/3 = 0.47...
    assert _surd_binop("%", r, three) is None  # left to sympy


def test_min_and_max_of_two_roots():
    # sqrt(2) = 1.414..., 3**(1/3) = 1.442...
    assert evaluate(parse("floor(1000*min(2**(1/2), 3**(1/3)))"), {}) == 1414
    assert evaluate(parse("floor(1000*max(2**(1/2), 3**(1/3)))"), {}) == 1442


def test_a_root_with_a_known_part_scales_both():
    # (sqrt(2) + 1) * 3 = 7.24..., (sqrt(2) + 1) / 4 = 0.60..., -(sqrt(2) + 1) = -2.41...
    assert evaluate(parse("floor((2**(1/2) + 1) * 3)"), {}) == 7
    assert evaluate(parse("floor(10 * (2**(1/2) + 1) / 4)"), {}) == 6
    assert evaluate(parse("floor(-(2**(1/2) + 1))"), {}) == -3


def test_a_root_as_a_condition_is_true():
    # a root of a positive number is never 0
    assert evaluate(parse("3 if 2**(1/2) else 4"), {}) == 3
    assert evaluate(parse("not 2**(1/2)"), {}) == 0
    assert evaluate(parse("2**(1/2) and 5"), {}) == 1


def test_a_root_divided_by_zero_is_refused():
    import pytest

    from cnncalc.errors import ExpressionError

    for text in ("2**(1/2) / 0", "2**(1/2) // 0", "(2**(1/2) + 1) / (1 - 1)"):
        with pytest.raises(ExpressionError, match="division by zero"):
            evaluate(parse(text), {})


def test_the_limit_of_powers_is_exact_at_its_edge():
    import pytest

    from cnncalc.errors import ExpressionError

    # |b| * (bits - 1) at most 340: 2**40 has 41 bits, 17/2 * 40 = 340 is allowed, and
    # (2**40)**(17/2) = 2**340, an integer of 103 digits: beyond 10**100, refused as a value
    with pytest.raises(ExpressionError, match="too large"):
        evaluate(parse("(2**40)**(17/2)"), {})
    # 2**39 * 3 = 1,649,267,441,664 has 41 bits too: its square root (40 * 1/2 = 20) is allowed,
    # 1,284,238.6...
    assert evaluate(parse("floor(((2**39)*3)**(1/2))"), {}) == 1284238
    # 2**227 has 228 bits: 3/2 * 227 = 340.5 > 340, refused before computing
    with pytest.raises(ExpressionError, match="the power is too large"):
        evaluate(parse(f"({2**227})**(3/2)"), {})
    # 2**76 has 77 bits: 9/2 * 76 = 342 > 340, refused
    with pytest.raises(ExpressionError, match="the power is too large"):
        evaluate(parse(f"({2**76})**(9/2)"), {})
    # 2**20 has 21 bits: 17/2 * 20 = 170, allowed: 2**170 exactly
    assert evaluate(parse("(2**20)**(17/2)"), {}) == 2**170


@pytest.mark.parametrize("m", [10**17 + 1, 2**60 + 3, 10**30 + 7])
def test_floor_of_a_root_beyond_float_precision(m):
    # sqrt(m**2 + 1) lies just above m, and m itself has no float: the float estimate rounds to
    # a neighbour below m, and the exact comparisons must move the floor up to m.
    s = root(Fraction(m * m + 1), Fraction(1, 2))
    assert math.isqrt(m * m + 1) == m
    assert s.floor() == m and s.ceil() == m + 1
    # Just below a square: sqrt(m**2 - 1) is above m - 1 and below m.
    assert root(Fraction(m * m - 1), Fraction(1, 2)).floor() == m - 1


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("floor(3*2**(1/2) + 1)", 5),  # 3*1.4142... + 1 = 5.24...
        ("ceil(2**(1/2))", 2),
        ("round(10*3**(1/2))", 17),  # 17.32...
        ("max(2**(1/2), 3/2)", Fraction(3, 2)),  # 1.4142... < 1.5
        ("floor(10*min(2**(1/2), 2))", 14),
        ("2**(1/2) < 3/2", 1),
        ("floor((2**(1/2) + 1) * 2)", 4),  # 4.83...
        ("floor(2**(1/2) / 2 * 10)", 7),  # 7.07...
        ("floor(5 - 2**(1/2))", 3),  # 3.59...
    ],
)
def test_a_root_with_known_numbers_is_decided_without_sympy(monkeypatch, text, value):
    import cnncalc.core.dims as dims

    def no_sympy():
        raise AssertionError("sympy was used")

    monkeypatch.setattr(dims, "sp", no_sympy)
    result = evaluate(parse(text), {})
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    ("v", "n", "expected"),
    [
        (10**30, 3, 10**10),
        (10**30 - 1, 3, 10**10 - 1),
        (2**100, 5, 2**20),
        (2**100 - 1, 5, 2**20 - 1),
        (7**40 + 5, 8, 7**5),
        (80, 4, 2),  # 2**4 = 16 <= 80 < 81 = 3**4
        (81, 4, 3),
    ],
)
def test_integer_roots_of_any_order(v, n, expected):
    from cnncalc.lang.surd import _iroot

    assert _iroot(v, n) == expected
    assert expected**n <= v < (expected + 1) ** n  # the definition, checked directly


def test_a_root_just_above_the_magnitude_limit_is_refused():
    # 10**67 has 223 bits, so (10**67)**(3/2) passes the quick size test of a power
    # (3/2 * 222 < 340); its value, 10**100 * 10**(1/2) = 3.16... * 10**100, is above 10**100.
    with pytest.raises(ExpressionError, match=r"the power is too large \(limit 10\*\*100\)"):
        evaluate(parse("(10**60*10**7)**(3/2)"), {})
    # (2*10**66)**(3/2) = 2*2**(1/2) * 10**99 = 2.828... * 10**99 is below it.
    assert evaluate(parse("floor((2*10**60*10**6)**(3/2) / (10**60*10**39) * 1000)"), {}) == 2828
