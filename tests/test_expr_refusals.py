"""Every kind of Python syntax outside the whitelist is refused, whatever the message says.

One case per syntax kind, each the smallest text of that kind, some disguised as an allowed
function (``math.floor(H)`` is an attribute call whose attribute is a whitelisted name). The
test asserts the refusal and that the message names the expression, not its wording: the
wording may change, the refusal may not.
"""

from __future__ import annotations

import re

import pytest

from cnncalc.errors import ExpressionError
from cnncalc.lang.expr import evaluate, parse

SCOPE = {"H": 3, "W": 4}

REFUSED = {
    "attribute call of a whitelisted name": "math.floor(H)",
    "attribute of a name": "H.real",
    "dunder attribute": "H.__class__",
    "attribute of a literal": "(1).real",
    "subscript": "H[0]",
    "subscript of a literal": "[1, 2][0]",
    "slice": "H[0:1]",
    "call of a call": "floor(H)(W)",
    "call of an attribute": "H.bit_length()",
    "call of a subscript": "f[0](H)",
    "unknown function": "abs(H)",
    "import": "__import__('os')",
    "builtin getattr": "getattr(H, 'real')",
    "lambda": "(lambda: 1)()",
    "list comprehension": "[i for i in H]",
    "set comprehension": "{i for i in H}",
    "dict comprehension": "{i: i for i in H}",
    "generator": "max(i for i in H)",
    "f-string": "f'{H}'",
    "string": "'1'",
    "bytes": "b'1'",
    "ellipsis": "...",
    "walrus": "(x := 1)",
    "starred argument": "max(*H)",
    "double-starred argument": "max(**H)",
    "keyword argument": "max(H, key=W)",
    "list": "[H]",
    "tuple": "(H, W)",
    "set": "{H}",
    "dict": "{H: W}",
    "matrix product": "H @ W",
    "shift": "H << 1",
    "bitwise or": "H | W",
    "bitwise and": "H & W",
    "bitwise xor": "H ^ W",
    "bitwise not": "~H",
    "await": "await H",
    "yield": "yield H",
    "two statements": "H; W",
    "assignment": "H = 1",
    "boolean True": "True",
    "None": "None",
}


@pytest.mark.parametrize("text", list(REFUSED.values()), ids=list(REFUSED))
def test_refused(text):
    with pytest.raises(ExpressionError, match=re.escape(text)):
        evaluate(parse(text), SCOPE)


@pytest.mark.parametrize(
    "text",
    ["floor(H/2)", "ceil(W/3)", "min(H, W)", "max(H, 2)", "Mod(H, 2)", "ceiling(H/2)", "(floor)(H)"],
)
def test_the_whitelisted_functions_are_accepted(text):
    # (floor)(H) is the same syntax tree as floor(H): parentheses around a name are nothing.
    assert isinstance(evaluate(parse(text), SCOPE), int)


@pytest.mark.parametrize(
    "wrapper",
    [
        "1 if ({}) else 1",
        "({}) if 1 else 1",
        "1 if 1 else ({})",
        "1 and ({})",
        "({}) or 1",
        "not ({})",
        "1 < ({})",
        "floor({})",
        "1 + ({})",
    ],
)
def test_nesting_counts_one_level_for_every_construct(wrapper):
    # n unary minus signs nest the constant n levels deep; the wrapper adds one: 1 + 49 = 50
    # levels is the most allowed, 1 + 50 = 51 is refused.
    parse(wrapper.format("-" * 49 + "1"))
    with pytest.raises(ExpressionError, match="is nested too deeply"):
        parse(wrapper.format("-" * 50 + "1"))
