"""The expression whitelist and exact evaluation."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.core import dims
from cnncalc.errors import ExpressionError
from cnncalc.lang.expr import evaluate, parse

SCOPE = {"k": 3, "w": Fraction(3, 4), "big": 10**30}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2*k", 6),
        ("k//2", 1),
        ("-7//2", -4),  # floor division, as Python
        ("7 % 3", 1),
        ("ceil(32*w)", 24),
        ("floor(10/4)", 2),
        ("ceiling(10/4)", 3),
        ("min(4, k, 7)", 3),
        ("Max(4, k)", 4),
        ("Mod(10, 4)", 2),
        ("2**10", 1024),
        ("2**-1", Fraction(1, 2)),
        ("0.75*64", 48),
        ("1e30", 10**30),
        ("big*big", 10**60),
        ("(k + 1)*(k - 1)", 8),
        (5, 5),
        (0.5, Fraction(1, 2)),
    ],
)
def test_evaluates_exactly(text, value):
    assert evaluate(parse(text), SCOPE) == value


def test_evaluation_is_exact_beyond_floats():
    # 2**60 + 1 loses its last bit in a float; floor division must not.
    assert evaluate(parse("(2**60 + 1)//1"), {}) == 2**60 + 1
    assert evaluate(parse("(3*2**60 + 2)//3"), {}) == 2**60


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("__import__('os').system('ls')", "function '__import__\\(\\'os\\'\\).system' is not allowed"),
        ("open('x')", "function 'open' is not allowed"),
        ("k.real", "the tensor .k. has no dimension .real."),
        ("(k).real", "attribute access is not allowed"),
        ("(lambda: 1)()", "function .* is not allowed|a lambda is not allowed"),
        ("lambda: 1", "a lambda is not allowed"),
        ("[x for x in k]", "a comprehension is not allowed"),
        ("k[1:2]", "slices are not allowed"),
        ("(k + 1)[0]", "only a list can be indexed"),
        ("k <> 3", "cannot parse"),
        ("k in 3", "In is not allowed"),
        ("k is 3", "Is is not allowed"),
        ("'a'", "only numbers are allowed"),
        ("True", "only numbers are allowed"),
        ("10**10**10", "exponent 10000000000 is too large"),
        ("2**1000", "too large"),
        ("1/0", "division by zero"),
        ("k // (k - 3)", "division by zero"),
        ("k % 0", "division by zero"),
        ("9" * 120, "too large"),
        ("unknown + 1", "unknown name 'unknown'"),
        ("min()", "needs at least one argument"),
        ("floor(1, 2)", "takes 1 argument"),
        ("floor", "is a function"),
        ("floor(x=1)", "no keyword arguments"),
        ("1 +", "cannot parse"),
        ("(" * 300 + "1" + ")" * 300, "characters long"),
        ("-" * 60 + "1", "nested too deeply"),
        ("", "empty string"),
        ("1e400", "finite"),
        ("(-k) ** w", "exponents must be integer constants"),
        ("k & 1", "not allowed"),
    ],
)
def test_refuses_outside_the_whitelist(text, match):
    with pytest.raises(ExpressionError, match=match):
        evaluate(parse(text), SCOPE)


@pytest.mark.parametrize(
    ("value", "match"),
    [(True, "found true"), ([1, 2], "found a list"), (None, "found nothing"), (float("nan"), "finite")],
)
def test_refuses_non_numbers(value, match):
    with pytest.raises(ExpressionError, match=match):
        parse(value)


def test_symbolic_division_needs_a_nonzero_divisor():
    alpha = dims.symbol("alpha", integer=False)
    with pytest.raises(ExpressionError, match="could be zero"):
        evaluate(parse("1/(alpha - 1)"), {"alpha": alpha})
    assert dims.fmt(evaluate(parse("1/alpha"), {"alpha": alpha})) == "1/alpha"


def test_nothing_is_executed(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    text = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    with pytest.raises(ExpressionError):
        evaluate(parse(text), {})
    assert not marker.exists()


def test_a_name_standing_for_a_pair_gives_the_pair_only_when_asked():
    scope = {"k": (1, 7), "s": 2}
    assert evaluate(parse("k"), scope, pairs=True) == (1, 7)
    assert evaluate(parse("s"), scope, pairs=True) == 2
    with pytest.raises(ExpressionError):
        evaluate(parse("k + 1"), scope, pairs=True)  # a pair in arithmetic
