"""Roots of known numbers decided exactly without sympy (sympy is the oracle here)."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import sympy
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.expr import evaluate, parse
from cnncalc.surd import Surd, root

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
        "from cnncalc.spec import load_spec\nfrom cnncalc.zoo import find_spec\n"
        "from cnncalc.engine import analyze\n"
        "a = analyze(load_spec(find_spec('regnet_y')))\n"
        "assert a.totals.params == 4344144, a.totals.params\n"
        "assert 'sympy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
