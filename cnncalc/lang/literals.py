"""Number literals in spec expressions: read exactly as written (``0.1`` is 1/10, not the nearest
float), spellings that are not plain decimal refused, magnitudes bounded, values shown short."""

from __future__ import annotations

import ast
import math
import re
from fractions import Fraction

from ..core import dims
from ..errors import ExpressionError, shorten

#: Concrete values beyond this magnitude are refused (they are mistakes, not networks), and so
#: are fractions whose denominator is beyond it.
MAX_MAGNITUDE = 10**100

#: Messages quote at most this many characters of an expression.
MAX_SHOWN = 80


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
