"""How numbers, shapes and names are written in every report."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..core import dims

CONVENTION = (
    "MACs: multiply-accumulates of conv, linear and matmul layers, bias excluded. "
    "FLOPs: 2 per MAC plus bias additions, normalisation, activations, pooling and merges, "
    "by each layer's stated formula. Params: learnable parameters; running statistics are "
    "buffers. Totals are for the whole input, batch axis included."
)

_UNITS = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))

#: How a table shows a count that is unknown (an opaque layer's params, MACs, FLOPs).
UNKNOWN_TEXT = "?"


class _Unknown:
    """A table cell's value that is unknown (None means an empty cell there)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class Partial:
    """A sum that leaves out unknown parts (a block or the totals with an opaque layer in it):
    shown as ``1,234 + ?``."""

    __slots__ = ("known",)

    def __init__(self, known: Any):
        self.known = known

    def __repr__(self) -> str:
        return f"Partial({self.known!r})"


def is_exact_number(v: Any) -> bool:
    """True for an int, an unknown count, or a partial sum of ints (cells of a number column)."""
    if isinstance(v, Partial):
        v = v.known
    return v is UNKNOWN or v is None or isinstance(v, int)


def partial(value: Any, incomplete: bool) -> Any:
    """``value`` marked as leaving out unknown parts when ``incomplete``; a None value (the
    unknown itself) stays None."""
    return Partial(value) if incomplete and value is not None else value


def _marked(fn):
    """Formatting that writes None as ``?`` and a :class:`Partial` as ``text + ?``."""

    def wrapper(v: Any) -> str:
        if v is None or v is UNKNOWN:
            return UNKNOWN_TEXT
        if isinstance(v, Partial):
            return f"{fn(v.known)} + {UNKNOWN_TEXT}"
        return fn(v)

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


_BYTE_UNITS = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


@_marked
def number(v: Any) -> str:
    """An exact integer with thousands separators, or an expression."""
    if isinstance(v, int):
        return f"{v:,}"
    return dims.fmt(v)


def human(v: Any) -> str:
    """A short reading of a large integer (``15.47 G``); empty for expressions and small ones."""
    if not isinstance(v, int):
        return ""
    if abs(v) >= 10**15:
        digits = str(abs(v))
        sign = "-" if v < 0 else ""
        return f"{sign}{digits[0]}.{digits[1:3]}e{len(digits) - 1}"
    for scale, unit in _UNITS:
        if abs(v) >= scale:
            return f"{v / scale:.2f} {unit}"
    return ""


@_marked
def short(v: Any) -> str:
    """A value in explicit units when large (``102.76 M``), exactly when small or a formula."""
    return human(v) or number(v)


@_marked
def human_bytes(v: Any) -> str:
    """Bytes in binary units (``3.06 MiB``); exact below 1 KiB; the formula when symbolic."""
    if not isinstance(v, int):
        return dims.fmt(v)
    if abs(v) >= 2**60:
        return f"{human(v)} B"
    for scale, unit in _BYTE_UNITS:
        if abs(v) >= scale:
            return f"{v / scale:.2f} {unit}"
    return f"{v} B"


@_marked
def exact_bytes(v: Any) -> str:
    return f"{v:,} B" if isinstance(v, int) else dims.fmt(v)


shape_text = dims.fmt_shape


def json_value(v: Any) -> Any:
    """A JSON integer when concrete, the expression as a string, null when unknown."""
    if v is None:
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, Fraction):
        return float(v) if Fraction(float(v)) == v else dims.fmt(v)
    return dims.fmt(v)


def percent(f: Any) -> str:
    """A share as ``94.86%``; a formula when symbolic; ``n/a`` when it has no value."""
    if f is None:
        return "n/a"
    if isinstance(f, (int, Fraction)):
        return f"{float(f) * 100:.2f}%"
    return dims.fmt(f)


def share_json(f: Any) -> Any:
    """A share for JSON: a fraction of 1 rounded to 6 places, a formula, or null."""
    if f is None:
        return None
    if isinstance(f, (int, Fraction)):
        return round(float(f), 6)
    return dims.fmt(f)


def symbols_line(a) -> str:
    parts = [f"{k} = {dims.fmt(v)}" if v is not None else f"{k} open" for k, v in a.symbols.items()]
    return "Symbols: " + (", ".join(parts) if parts else "none") + f"; input {shape_text(a.input_shape)}"


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, the middle replaced by ``…`` when it is cut.

    Leading spaces (indentation) are kept when there is room for them.
    """
    if len(text) <= width:
        return text
    body = text.lstrip(" ")
    indent = len(text) - len(body)
    if width - indent < 5:
        indent = max(0, width - 5) if width > 5 else 0
        body_width = width - indent
    else:
        body_width = width - indent
    if body_width <= 1:
        return "…"[:width]
    head = (body_width - 1) // 2
    tail = body_width - 1 - head
    return " " * indent + body[:head] + "…" + (body[-tail:] if tail else "")
