"""Spec expressions: a whitelist parser and an exact evaluator.

A layer argument may be a number or a string such as ``"4*width"``, ``"ceil(32*alpha)"`` or
``"H//2"``. The text is parsed with :func:`ast.parse` (which only builds a syntax tree) and
every node is checked against a whitelist: numbers, names, ``+ - * / // % **``, parentheses and
the functions ``min max floor ceil`` (``ceiling``, ``Min``, ``Max`` and ``Mod`` are accepted too,
so that expressions cnncalc prints can be pasted back). Nothing in a spec is ever executed:
evaluation walks the checked tree with exact integer and rational arithmetic, and builds sympy
expressions only for symbols left open.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import dims
from .errors import ExpressionError, shorten

#: Longest expression text accepted.
MAX_LENGTH = 500
#: Largest exponent accepted in ``a ** b``.
MAX_EXPONENT = 64
#: Concrete values beyond this magnitude are refused (they are mistakes, not networks), and so
#: are fractions whose denominator is beyond it.
MAX_MAGNITUDE = 10**100
#: Messages quote at most this many characters of an expression.
MAX_SHOWN = 80

FUNCTIONS = {
    "min": "min",
    "Min": "min",
    "max": "max",
    "Max": "max",
    "floor": "floor",
    "ceil": "ceil",
    "ceiling": "ceil",
    "Mod": "mod",
}
_ARITY = {"min": None, "max": None, "floor": 1, "ceil": 1, "mod": 2}

_BINOPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}

_NODE_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and' / 'or'",
    ast.IfExp: "a conditional expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "an assignment",
    ast.Starred: "a starred argument",
    ast.Await: "await",
}


@dataclass(frozen=True)
class Expr:
    """A checked expression: its text, its tree and the names it uses."""

    text: str
    tree: Any  # nested tuples, see _convert
    names: frozenset[str]

    @property
    def constant(self) -> int | Fraction | None:
        """The value when the expression uses no names (``3/4``, ``2**5``), else None.

        Raises:
            ExpressionError: if that value cannot be computed (a division by zero).
        """
        if self.names:
            return None
        value = evaluate(self, {})
        return value if dims.is_concrete(value) else None

    def __str__(self) -> str:
        return self.text


def parse(value: Any) -> Expr:
    """Check a YAML value (int, float or string) and return it as an :class:`Expr`.

    Raises:
        ExpressionError: with a message saying what is not allowed (no location; callers add it).
    """
    if isinstance(value, bool):
        raise ExpressionError(f"expected a number or an expression, found {str(value).lower()}")
    if isinstance(value, int):
        _check_magnitude(value)
        return Expr(str(value), ("num", value), frozenset())
    if isinstance(value, float):
        number = _float(value)
        return Expr(_number_text(number), ("num", number), frozenset())
    if not isinstance(value, str):
        kind = {list: "a list", dict: "a mapping", type(None): "nothing"}.get(type(value))
        raise ExpressionError(f"expected a number or an expression, found {kind or type(value).__name__}")
    text = value.strip()
    if not text:
        raise ExpressionError("expected a number or an expression, found an empty string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long (at most {MAX_LENGTH})")
    _check_number_spelling(text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        col = f" at character {exc.offset}" if exc.offset else ""
        hint = ""
        if re.fullmatch(r"\s*\d+\s*[xX]\s*\d+\s*", text):
            a, b = re.split(r"[xX]", text)
            hint = f" (write a pair as [{a.strip()}, {b.strip()}])"
        raise ExpressionError(f"cannot parse expression {text!r}{col}: {exc.msg}{hint}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"cannot parse expression {text!r}: {exc}") from None
    names: set[str] = set()
    converted = _convert(tree.body, text, names, depth=0)
    return Expr(text, converted, frozenset(names))


# A number token: not part of a name, not after a decimal point.
_NUMBER_TOKEN = re.compile(r"(?<![\w.])(\d[\w]*)")


def _check_number_spelling(text: str) -> None:
    """Refuse spellings whose meaning is not plain decimal: ``010``, ``0x1f``, ``0b101``."""
    for m in _NUMBER_TOKEN.finditer(text):
        token = m.group(1)
        lowered = token.lower()
        if lowered[:2] in ("0b", "0x", "0o"):
            base = {"0b": "binary", "0x": "hexadecimal", "0o": "octal"}[lowered[:2]]
            try:
                value = f": {int(token, 0)}"
            except ValueError:
                value = ""
            raise ExpressionError(
                f"in {_shown(text)}: {_shown(token)} is a {base} literal; write it in decimal{value}"
            )
        digits = token.split("e")[0].split("E")[0]
        if len(digits) > 1 and digits[0] == "0" and digits.replace("_", "").isdigit():
            end = m.end(1)
            if end < len(text) and text[end] == ".":
                continue  # 00.5: a decimal fraction
            raise ExpressionError(
                f"in {_shown(text)}: {_shown(token)} has a leading zero; write {token.lstrip('0_') or '0'}"
            )


def _shown(text: str) -> str:
    """An expression's text as messages quote it."""
    return repr(shorten(text, MAX_SHOWN))


def _float(value: float) -> int | Fraction:
    if not math.isfinite(value):
        raise ExpressionError(f"expected a finite number, found {value}")
    number = dims.canon(Fraction(repr(value)))  # exact decimal value as written
    _check_magnitude(number)
    return number


def _exact_float(node: ast.Constant, text: str) -> int | Fraction:
    """The value of a decimal literal as written (``0.3333333333333333333333`` is not the
    nearest float)."""
    value = node.value
    if not math.isfinite(value):
        raise ExpressionError(f"in {_shown(text)}: expected a finite number, found a number out of range")
    segment = (ast.get_source_segment(text, node) or "").replace("_", "")
    try:
        exact = Fraction(segment)
    except (ValueError, ZeroDivisionError):
        return _float(value)
    if value == 0 and exact != 0:
        raise ExpressionError(f"in {_shown(text)}: the number {shorten(segment)} is too small")
    number = dims.canon(exact)
    _check_magnitude(number)
    return number


def _number_text(v: int | Fraction) -> str:
    return str(v) if isinstance(v, int) else f"{v.numerator}/{v.denominator}"


def _convert(node: ast.AST, text: str, names: set[str], depth: int) -> tuple:
    if depth > 50:
        raise ExpressionError(f"expression {text!r} is nested too deeply")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"in {text!r}: only numbers are allowed as constants, found {node.value!r}")
        if isinstance(node.value, float):
            return ("num", _exact_float(node, text))
        _check_magnitude(node.value)
        return ("num", node.value)
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"in {text!r}: '{node.id}' is a function; call it as {node.id}(...)")
        names.add(node.id)
        return ("name", node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _convert(node.operand, text, names, depth + 1)
        return ("neg", inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return (
            "bin",
            _BINOPS[type(node.op)],
            _convert(node.left, text, names, depth + 1),
            _convert(node.right, text, names, depth + 1),
        )
    if isinstance(node, ast.Call):
        fname = node.func.id if isinstance(node.func, ast.Name) else None
        if fname not in FUNCTIONS:
            shown = fname or ast.get_source_segment(text, node.func) or "?"
            raise ExpressionError(
                f"in {text!r}: function '{shown}' is not allowed; "
                f"expressions may call only min, max, floor, ceil"
            )
        if node.keywords:
            raise ExpressionError(f"in {text!r}: {fname}() takes no keyword arguments")
        fn = FUNCTIONS[fname]
        arity = _ARITY[fn]
        if arity is not None and len(node.args) != arity:
            raise ExpressionError(
                f"in {text!r}: {fname}() takes {arity} argument{'s' * (arity > 1)}, found {len(node.args)}"
            )
        if arity is None and len(node.args) < 1:
            raise ExpressionError(f"in {text!r}: {fname}() needs at least one argument")
        args = tuple(_convert(a, text, names, depth + 1) for a in node.args)
        return ("call", fn, *args)
    what = _NODE_NAMES.get(type(node))
    if what is None and isinstance(node, (ast.UnaryOp, ast.BinOp)):
        what = f"the operator {type(node.op).__name__}"
    if what is None:
        what = type(node).__name__
    raise ExpressionError(
        f"in {text!r}: {what} is not allowed; expressions may use numbers, names, "
        f"+ - * / // % **, parentheses and min, max, floor, ceil"
    )


def _check_magnitude(v: int | Fraction) -> None:
    if abs(v) > MAX_MAGNITUDE:
        raise ExpressionError(f"the value {_short(v)} is too large (limit 10**100)")
    if isinstance(v, Fraction) and v.denominator > MAX_MAGNITUDE:
        raise ExpressionError(
            f"the value {_short(v)} is a fraction too fine to be a size (denominator above 10**100)"
        )


def _short(v: int | Fraction) -> str:
    if isinstance(v, Fraction):
        return f"{_short(v.numerator)}/{_short(v.denominator)}"
    if v.bit_length() > 200:
        return f"about 10**{int(v.bit_length() * math.log10(2))}"
    s = _number_text(v)
    return s if len(s) <= 30 else f"{s[:12]}...({len(s)} digits)"


def evaluate(expr: Expr, scope: dict[str, dims.Value]) -> dims.Value:
    """The exact value of ``expr`` with names taken from ``scope``.

    Raises:
        ExpressionError: for an unknown name, a division by zero, a huge power or value.
    """
    return _eval(expr.tree, expr, scope)


def _eval(t: tuple, expr: Expr, scope: dict[str, dims.Value]) -> dims.Value:
    tag = t[0]
    if tag == "num":
        return t[1]
    if tag == "name":
        try:
            return scope[t[1]]
        except KeyError:
            known = ", ".join(sorted(scope)) or "none"
            raise ExpressionError(
                f"in {expr.text!r}: unknown name '{t[1]}' (names in scope: {known})"
            ) from None
    if tag == "neg":
        return _bounded(dims.mul(-1, _eval(t[1], expr, scope)), expr)
    if tag == "call":
        args = [_eval(a, expr, scope) for a in t[2:]]
        fn = t[1]
        if fn == "mod":
            return _binop("%", args[0], args[1], expr)
        f = {"min": dims.dmin, "max": dims.dmax, "floor": dims.floor, "ceil": dims.ceil}[fn]
        return _bounded(f(*args), expr)
    _, op, left, right = t
    return _binop(op, _eval(left, expr, scope), _eval(right, expr, scope), expr)


def _binop(op: str, a: dims.Value, b: dims.Value, expr: Expr) -> dims.Value:
    if op == "+":
        return _bounded(dims.add(a, b), expr)
    if op == "-":
        return _bounded(dims.add(a, dims.mul(-1, b)), expr)
    if op == "*":
        return _bounded(dims.mul(a, b), expr)
    if op == "**":
        if not isinstance(b, int):
            raise ExpressionError(
                f"in {expr.text!r}: exponents must be integer constants, found {dims.fmt(b)}"
            )
        if abs(b) > MAX_EXPONENT:
            raise ExpressionError(
                f"in {expr.text!r}: exponent {_short(b)} is too large (at most {MAX_EXPONENT})"
            )
        if dims.is_concrete(a):
            if a == 0 and b < 0:
                raise ExpressionError(f"in {_shown(expr.text)}: division by zero (0 to a negative power)")
            f = Fraction(a)
            bits = max(abs(f.numerator).bit_length(), f.denominator.bit_length())
            if f != 0 and abs(b) * (bits - 1) > 340:  # 2**340 > 10**100
                raise ExpressionError(f"in {_shown(expr.text)}: the power is too large (limit 10**100)")
            return _bounded(dims.canon(f**b), expr)
        return _bounded(dims.canon(dims.to_sympy(a) ** b), expr)
    # Division-like operators: the divisor must be known to be non-zero.
    if dims.is_concrete(b):
        if b == 0:
            raise ExpressionError(f"in {expr.text!r}: division by zero")
    elif b.is_zero is not False:
        raise ExpressionError(
            f"in {expr.text!r}: the divisor {dims.fmt(b)} could be zero; "
            f"divide only by expressions that are always non-zero"
        )
    if op == "/":
        return _bounded(dims.div(a, b), expr)
    if op == "//":
        return _bounded(dims.floordiv(a, b), expr)
    return _bounded(dims.mod(a, b), expr)


def _bounded(v: dims.Value, expr: Expr) -> dims.Value:
    if dims.is_concrete(v):
        if abs(v) > MAX_MAGNITUDE:
            raise ExpressionError(
                f"in {_shown(expr.text)}: the value {_short(v)} is too large (limit 10**100)"
            )
        if isinstance(v, Fraction) and v.denominator > MAX_MAGNITUDE:
            raise ExpressionError(
                f"in {_shown(expr.text)}: the value {_short(v)} is a fraction too fine to be a size "
                f"(denominator above 10**100)"
            )
        return v
    terms, degree = dims.expanded_terms(v), dims.degree(v)
    if terms > dims.MAX_TERMS or degree > dims.MAX_DEGREE:
        size = "more than 10**12" if terms >= 10**12 else f"{terms:,}"
        raise ExpressionError(
            f"in {_shown(expr.text)}: with the symbols left open this is a polynomial of degree "
            f"{degree} with {size} term{'s' * (terms != 1)} (at most degree {dims.MAX_DEGREE} and "
            f"{dims.MAX_TERMS} terms"
            f"); give the symbols values with --set, or simplify the expression"
        )
    return v
