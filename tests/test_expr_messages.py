"""The exact wording of the expression refusals, and exact values of decimal literals.

Each expected message is written out by hand from the rule it states (the limits are 10**100
for values and denominators, 64 for exponents, 80 characters quoted); numbers in messages are
worked out in the comments.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.errors import ExpressionError
from cnncalc.lang.expr import evaluate, parse

MESSAGES = [
    # 1e-400 underflows to 0.0 as a float but is not 0 as written.
    ("1e-400", "in '1e-400': the number 1e-400 is too small"),
    ("1e400", "in '1e400': expected a finite number, found a number out of range"),
    ("2**65", "in '2**65': exponent 65 is too large (at most 64)"),
    ("2**-65", "in '2**-65': exponent -65 is too large (at most 64)"),
    ("0**-1", "in '0**-1': division by zero (0 to a negative power)"),
    # 3**64 has 65 bits: 64 * (65 - 1) = 4096 > 340.
    ("(3**64)**64", "in '(3**64)**64': the power is too large (limit 10**100)"),
    (
        "(0 - H)**2.5",
        "in '(0 - H)**2.5': exponents must be integer constants (or fractions of a known positive "
        "number), found 5/2",
    ),
    ("0x1f", "in '0x1f': '0x1f' is a hexadecimal literal; write it in decimal: 31"),
    ("0o17", "in '0o17': '0o17' is a octal literal; write it in decimal: 15"),
    ("0b2", "in '0b2': '0b2' is a binary literal; write it in decimal"),
    ("010", "in '010': '010' has a leading zero; write 10"),
    ("00", "in '00': '00' has a leading zero; write 0"),
    ("3 x 4", "cannot parse expression '3 x 4' at character 3: invalid syntax (write a pair as [3, 4])"),
    ("max()", "in 'max()': max() needs at least one argument"),
    ("floor(1, 2)", "in 'floor(1, 2)': floor() takes 1 argument, found 2"),
    ("Mod(1)", "in 'Mod(1)': Mod() takes 2 arguments, found 1"),
    ("floor", "in 'floor': 'floor' is a function; call it as floor(...)"),
    ("floor(x=1)", "in 'floor(x=1)': floor() takes no keyword arguments"),
    (
        "f(x)",
        "in 'f(x)': function 'f' is not allowed; expressions may call only min, max, floor, ceil, "
        "round, make_divisible, len, sum",
    ),
    ("1/0", "in '1/0': division by zero"),
    ("1 % 0", "in '1 % 0': division by zero"),
    ("H / (H - H)", "in 'H / (H - H)': division by zero"),
    ("2 * 1", None),  # accepted
    ("x is 1", "in 'x is 1': Is is not allowed; comparisons are < <= > >= == !="),
    (
        "~x",
        "in '~x': the operator Invert is not allowed; expressions may use numbers, names, "
        "+ - * / // % **, parentheses, comparisons, and/or/not, a if c else b, lists indexed "
        "(a[i]), a tensor's dimensions (here.C, input.H, layer1.W) and min, max, floor, ceil, round, "
        "make_divisible, len, sum",
    ),
    ("'1'", "in \"'1'\": only numbers are allowed as constants, found '1'"),
    ("True", "in 'True': only numbers are allowed as constants, found True"),
    ("", "expected a number or an expression, found an empty string"),
    ("x" * 501, "expression is 501 characters long (at most 500)"),
]


@pytest.mark.parametrize(("text", "message"), MESSAGES, ids=[m[0][:20] for m in MESSAGES])
def test_refusal_message(text, message):
    if message is None:
        assert evaluate(parse(text), {"H": 3}) == 2
        return
    with pytest.raises(ExpressionError) as info:
        evaluate(parse(text), {"H": 3, "x": 1})
    assert str(info.value) == message


def test_unknown_name_lists_the_names_in_scope():
    with pytest.raises(ExpressionError) as info:
        evaluate(parse("K + 1"), {"W": 2, "H": 3})
    assert str(info.value) == "in 'K + 1': unknown name 'K' (names in scope: H, W)"
    with pytest.raises(ExpressionError) as info:
        evaluate(parse("K"), {})
    assert str(info.value) == "in 'K': unknown name 'K' (names in scope: none)"


def test_nesting_limit_is_51_levels():
    # depth 0 is the outer node; each "-" adds one level.
    evaluate(parse("-" * 50 + "1"), {})
    with pytest.raises(ExpressionError) as info:
        parse("-" * 51 + "1")
    assert str(info.value) == f"expression {'-' * 51 + '1'!r} is nested too deeply"


def test_large_values_are_written_as_powers_of_ten():
    # 2**700 has 701 bits: 701 * log10(2) = 211.02..., so about 10**211.
    with pytest.raises(ExpressionError) as info:
        parse(2**700)
    assert str(info.value) == "the value about 10**211 is too large (limit 10**100)"
    with pytest.raises(ExpressionError) as info:
        parse(-(10**101))
    assert str(info.value) == "the value about 10**101 is too large (limit 10**100)"
    # 10**100 itself is allowed, one more is not.
    assert parse(10**100).constant == 10**100
    with pytest.raises(ExpressionError, match=r"^the value about 10\*\*100 is too large"):
        parse(10**100 + 1)


def test_a_fraction_too_fine_names_both_parts():
    # 33 digits: the first 12 and the count; the denominator 10**101 has 336 bits.
    a = 123456789012345678901234567890123
    with pytest.raises(ExpressionError) as info:
        evaluate(parse("a / b"), {"a": a, "b": 10**101})
    assert str(info.value) == (
        "in 'a / b': the value 123456789012...(33 digits)/about 10**101 is a fraction too fine "
        "to be a size (denominator above 10**100)"
    )
    # 30 digits are written in full (3**212 has 337 bits: 337 * log10(2) = 101.4...).
    a = 123456789012345678901234567891
    with pytest.raises(ExpressionError) as info:
        evaluate(parse("a / b"), {"a": a, "b": 3**212})
    assert "the value 123456789012345678901234567891/about 10**101 is" in str(info.value)
    # a 200-bit numerator (2**199, 60 digits) is shortened by digits, a 201-bit one
    # (201 * log10(2) = 60.5...) as a power of ten.
    with pytest.raises(ExpressionError) as info:
        evaluate(parse("a / b"), {"a": 2**199, "b": 3**212})
    assert "the value 803469022129...(60 digits)/about 10**101 is" in str(info.value)
    with pytest.raises(ExpressionError) as info:
        evaluate(parse("a / b"), {"a": 2**200, "b": 3**212})
    assert "the value about 10**60/about 10**101 is" in str(info.value)


def test_long_expressions_are_quoted_shortened():
    text = "1/0 + " + " + ".join(["H"] * 40)
    with pytest.raises(ExpressionError) as info:
        evaluate(parse(text), {"H": 1})
    assert str(info.value) == f"in {text!r}: division by zero"
    text = "(" + " + ".join(["H"] * 40) + ") ** 2 * 0 ** -1"
    with pytest.raises(ExpressionError) as info:
        evaluate(parse(text), {"H": 1})
    message = str(info.value)
    assert message.startswith("in '(H + H + H")
    assert message.endswith(": division by zero (0 to a negative power)")
    assert len(message) < len(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # more digits than a float holds: the value as written
        ("0.3333333333333333333333", Fraction(3333333333333333333333, 10**22)),
        ("1_000.5", Fraction(2001, 2)),
        ("0.1", Fraction(1, 10)),
        ("00.5", Fraction(1, 2)),
        ("2.5e3", 2500),
        ("1.5e-1", Fraction(3, 20)),
    ],
)
def test_decimal_literals_are_exact(text, value):
    assert evaluate(parse(text), {}) == value
    assert type(evaluate(parse(text), {})) is type(value)


def test_float_arguments_are_their_shortest_decimal():
    assert parse(0.1).constant == Fraction(1, 10)
    assert parse(0.1).text == "1/10"
    assert parse(2.0).constant == 2
    assert parse(2.0).text == "2"
    with pytest.raises(ExpressionError) as info:
        parse(float("nan"))
    assert str(info.value) == "expected a finite number, found nan"


@pytest.mark.parametrize("text", ["0.0", "0e0", "0.000", "0_0.0"])
def test_zero_written_as_a_decimal_is_zero(text):
    assert evaluate(parse(text), {}) == 0


def test_underscores_in_a_decimal_literal_keep_it_exact():
    # 0.333333333333333333333 is not a float; written with underscores it is still exact
    assert evaluate(parse("0.333_333_333_333_333_333_333"), {}) == Fraction(333333333333333333333, 10**21)


def test_a_31_digit_part_is_shortened():
    # 1234567890123456789012345678901 has 31 digits (digit sum 136: prime to 3)
    a = 1234567890123456789012345678901
    with pytest.raises(ExpressionError) as info:
        evaluate(parse("a / b"), {"a": a, "b": 3**212})
    assert "the value 123456789012...(31 digits)/about 10**101 is" in str(info.value)


def test_expressions_up_to_80_characters_are_quoted_whole():
    text = "0x1f + " + "H + " * 15 + "H"  # 7 + 60 + 1 = 68 characters
    assert len(text) == 68
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert str(info.value) == f"in {text!r}: '0x1f' is a hexadecimal literal; write it in decimal: 31"


LETTERS = "ABCDEFGHIJKW"


def _scope():
    from cnncalc.core import dims

    return {n: dims.symbol(n) for n in LETTERS}


BOUNDED = [
    # 10**101 has 336 bits: 336 * log10(2) = 101.1
    ("10**64 * 10**37", "in '10**64 * 10**37': the value about 10**101 is too large (limit 10**100)"),
    # 10**100 + 1 has 333 bits: 100.2
    ("10**50 * 10**50 + 1", "in '10**50 * 10**50 + 1': the value about 10**100 is too large (limit 10**100)"),
    (
        "0 - 10**50 * 10**50 - 1",
        "in '0 - 10**50 * 10**50 - 1': the value about 10**100 is too large (limit 10**100)",
    ),
    ("-(10**50 * 10**50 + 1)", None),  # refused inside the parentheses already
    # 2 * 10**100 has 334 bits: 100.5
    (
        "10**50 * 10**50 // (1/2)",
        "in '10**50 * 10**50 // (1/2)': the value about 10**100 is too large (limit 10**100)",
    ),
    (
        "1 / (10**50 * 10**50) / 10",
        "in '1 / (10**50 * 10**50) / 10': the value 1/about 10**101 is a fraction too fine to be a size "
        "(denominator above 10**100)",
    ),
    # N = 10**100 - 3 is 1 mod 3, so 1/3 = ((N - 1)/3)/N + 1/(3N): the remainder is 1/(3N),
    # 3N about 3 * 10**100 (334 bits: 100.5)
    (
        "(1/3) % (1/(10**50 * 10**50 - 3))",
        "in '(1/3) % (1/(10**50 * 10**50 - 3))': the value "
        "1/about 10**100 is a fraction too fine to be a size (denominator above 10**100)",
    ),
    # powers: |b| * (bits(a) - 1) > 340 is refused before computing; 32**64 = 2**320 is fine,
    # 1024**34 = 2**340 (34 * 10 = 340) is computed and then too large (341 bits: 102.6)
    ("1024**34", "in '1024**34': the value about 10**102 is too large (limit 10**100)"),
    # 2048**31: 31 * 11 = 341 > 340; 64**57: 57 * 6 = 342 > 340
    ("2048**31", "in '2048**31': the power is too large (limit 10**100)"),
    ("64**57", "in '64**57': the power is too large (limit 10**100)"),
    (
        "1/(H - W)",
        "in '1/(H - W)': the divisor H - W could be zero; divide only by expressions that are always non-zero",
    ),
    # (H + W + 1)**9: degree 9, C(9 + 2, 2) = 55 terms
    (
        "(H + W + 1)**9",
        "in '(H + W + 1)**9': with the symbols left open this is a polynomial of degree 9 with 55 terms "
        "(at most degree 8 and 64 terms); give the symbols values, or simplify the expression",
    ),
    (
        "H**9",
        "in 'H**9': with the symbols left open this is a polynomial of degree 9 with 1 term "
        "(at most degree 8 and 64 terms); give the symbols values, or simplify the expression",
    ),
    # (H + W + K + 1)**6: C(6 + 3, 3) = 84 terms
    (
        "(H + W + K + 1)**6",
        "in '(H + W + K + 1)**6': with the symbols left open this is a polynomial of degree 6 with 84 terms "
        "(at most degree 8 and 64 terms); give the symbols values, or simplify the expression",
    ),
    # seven factors (X + 1): 2**7 = 128 terms
    (
        "(A+1)*(B+1)*(C+1)*(D+1)*(E+1)*(F+1)*(G+1)",
        "in '(A+1)*(B+1)*(C+1)*(D+1)*(E+1)*(F+1)*(G+1)': with the symbols left open this is a polynomial "
        "of degree 7 with 128 terms (at most degree 8 and 64 terms); give the symbols values, "
        "or simplify the expression",
    ),
    # ten symbols to the 64th: C(73, 9) = 97,082,021,465 terms
    (
        "(A+B+C+D+E+F+G+H+I+J)**64",
        "in '(A+B+C+D+E+F+G+H+I+J)**64': with the symbols left open this is a polynomial of degree 64 "
        "with 97,082,021,465 terms (at most degree 8 and 64 terms); give the symbols values, "
        "or simplify the expression",
    ),
    # twelve symbols: C(75, 11) = 4,898,229,264,825 terms, beyond the cap of 10**12
    (
        "(A+B+C+D+E+F+G+H+I+J+K+W)**64",
        "in '(A+B+C+D+E+F+G+H+I+J+K+W)**64': with the symbols left open this is a polynomial of degree 64 "
        "with more than 10**12 terms (at most degree 8 and 64 terms); give the symbols values, "
        "or simplify the expression",
    ),
]


@pytest.mark.parametrize(("text", "message"), BOUNDED, ids=[b[0][:24] for b in BOUNDED])
def test_results_beyond_the_limits(text, message):
    with pytest.raises(ExpressionError) as info:
        evaluate(parse(text), _scope())
    if message is not None:
        assert str(info.value) == message


def test_the_command_line_says_how_to_give_values():
    """The library's hint is neutral; the command line names its option where values go."""
    from cnncalc.cli import render

    with pytest.raises(ExpressionError) as info:
        evaluate(parse("H**9"), _scope())
    assert info.value.hint == "give the symbols values{how}, or simplify the expression"
    assert render(info.value.diagnostic).endswith(
        "give the symbols values with --set, or simplify the expression"
    )


def test_results_at_the_limits_are_accepted():
    scope = _scope()
    assert evaluate(parse("10**50 * 10**50"), scope) == 10**100
    assert evaluate(parse("1 / (10**50 * 10**50)"), scope) == Fraction(1, 10**100)
    assert evaluate(parse("32**64"), scope) == 2**320
    assert evaluate(parse("0**0"), scope) == 1
    assert evaluate(parse("0**3"), scope) == 0
    H, W = scope["H"], scope["W"]
    assert evaluate(parse("H**2"), scope) == H**2
    assert evaluate(parse("(H + W + 1)**8"), scope) == (H + W + 1) ** 8
    # six factors: 2**6 = 64 terms, the most allowed
    six = "(A+1)*(B+1)*(C+1)*(D+1)*(E+1)*(F+1)"
    assert str(evaluate(parse(six), scope)) == "(A + 1)*(B + 1)*(C + 1)*(D + 1)*(E + 1)*(F + 1)"


def _nested(form: str, n: int) -> str:
    text = "1"
    for _ in range(n):
        text = form.format(text)
    return text


@pytest.mark.parametrize("form", ["-{}", "(1 + {})", "({} + 1)", "floor({})", "max(1, {})"])
def test_nesting_limit_of_every_kind_of_node(form):
    # the innermost number of n levels sits at depth n; depth 50 is the deepest allowed
    assert evaluate(parse(_nested(form, 50)), {}) in (1, -1, 51)
    text = _nested(form, 51)
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert str(info.value) == f"expression {text!r} is nested too deeply"


def test_signs_and_single_arguments():
    assert evaluate(parse("+3"), {}) == 3
    assert evaluate(parse("+H"), {"H": 4}) == 4
    assert evaluate(parse("-H"), {"H": 4}) == -4
    assert parse("-H").names == frozenset({"H"})
    assert parse("+H").names == frozenset({"H"})
    assert evaluate(parse("max(3)"), {}) == 3
    assert evaluate(parse("min(H)"), {"H": 5}) == 5


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("(yield)", "Yield"),  # a node without a name of its own: its class name
        ("(yield from x)", "YieldFrom"),
        ("x @ 2", "the operator MatMult"),
        ("lambda: x", "a lambda"),
        ("[x]", "a list"),
    ],
)
def test_what_is_not_allowed_is_named(text, what):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert str(info.value) == (
        f"in {text!r}: {what} is not allowed; expressions may use numbers, names, "
        "+ - * / // % **, parentheses, comparisons, and/or/not, a if c else b, lists indexed "
        "(a[i]), a tensor's dimensions (here.C, input.H, layer1.W) and min, max, floor, ceil, round, "
        "make_divisible, len, sum"
    )


SPELLING = [
    # 1e-101 is 1/10**101: its denominator is above 10**100 (336 bits: 101.1)
    ("1e-101", "the value 1/about 10**101 is a fraction too fine to be a size (denominator above 10**100)"),
    # a leading zero before an exponent, an underscore or after a decimal fraction
    ("01e5", "in '01e5': '01e5' has a leading zero; write 1e5"),
    ("01E5", "in '01E5': '01E5' has a leading zero; write 1E5"),
    ("0_1", "in '0_1': '0_1' has a leading zero; write 1"),
    ("0_0", "in '0_0': '0_0' has a leading zero; write 0"),
    ("00.5 + 010", "in '00.5 + 010': '010' has a leading zero; write 10"),
    # errors inside a call name the whole expression
    ("floor(K)", "in 'floor(K)': unknown name 'K' (names in scope: none)"),
    ("Mod(1, 0)", "in 'Mod(1, 0)': division by zero"),
]


@pytest.mark.parametrize(("text", "message"), SPELLING, ids=[s[0] for s in SPELLING])
def test_spelling_and_call_messages(text, message):
    with pytest.raises(ExpressionError) as info:
        evaluate(parse(text), {})
    assert str(info.value) == message


def test_the_smallest_fraction_and_remainders():
    assert evaluate(parse("1e-100"), {}) == Fraction(1, 10**100)
    assert evaluate(parse("Mod(7, 3)"), {}) == 1
    assert evaluate(parse("Mod(-7, 3)"), {}) == 2
    assert evaluate(parse("1e5"), {}) == 100000
    assert evaluate(parse("0e5"), {}) == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "expected a number or an expression, found a mapping"),
        ([1], "expected a number or an expression, found a list"),
        (None, "expected a number or an expression, found nothing"),
        (b"x", "expected a number or an expression, found bytes"),
        # a syntax error without a position, and one with a position and a hint
        ("1 +", "cannot parse expression '1 +': invalid syntax"),
        ("3 X 4", "cannot parse expression '3 X 4' at character 3: invalid syntax (write a pair as [3, 4])"),
        ("1\x00", "cannot parse expression '1\\x00': source code string cannot contain null bytes"),
    ],
)
def test_values_that_are_not_expressions(value, message):
    with pytest.raises(ExpressionError) as info:
        parse(value)
    assert str(info.value) == message


def test_the_longest_expression_is_500_characters():
    assert parse("H" * 500).names == frozenset({"H" * 500})
