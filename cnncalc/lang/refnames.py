"""The parts of spec expressions that name tensors and lists: dotted references to a tensor's
dimension (``here.C``, ``input.H``, ``layer1.W``, ``backbone.4.H``) and indexing (``widths[i]``).

References are read by masking their dots before Python's parser sees the text: ``backbone.4.H``
is not Python, so each dotted reference becomes one name of the same length (its columns kept),
and is read back into a ``("name", "backbone.4.H")`` node.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core import dims
from ..errors import ExpressionError, shorten

#: The dimensions of a tensor an expression may read (``input.C``): the axis of each.
INPUT_AXES = {"N": 0, "C": 1, "H": 2, "W": 3}
#: The name of the input in expressions (``input.C``) and references (``from: input``).
INPUT_NAME = "input"
#: Stands for the dots of a reference while Python's parser reads it: a letter, so that the
#: reference is one name of the same length.
DOT = "\u1427"
#: A dotted reference: a name, then dots and parts (``layer1.H``, ``backbone.4.H``).
_DOTTED = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.\w+)+)")


def mask(text: str) -> str:
    """``text`` with the dots of its references replaced by :data:`DOT`."""
    if DOT in text:
        raise ExpressionError(f"in {shorten(text, 80)!r}: the character U+{ord(DOT):04X} is not allowed")
    return _DOTTED.sub(lambda m: m.group(1).replace(".", DOT), text)


def is_reference(name: str) -> bool:
    """Whether an expression's name is a tensor's dimension (``input.C``, ``here.H``,
    ``layer1.W``) rather than a symbol or an argument."""
    return "." in name


def split_reference(name: str) -> tuple[str, str]:
    """``layer4.2.H`` -> (``layer4.2``, ``H``)."""
    base, _, axis = name.rpartition(".")
    return base, axis


@dataclass(frozen=True)
class Tensor:
    """The value of a block argument that names a tensor: the node whose output it is."""

    node: str


def reference(masked: str, shown: str, functions) -> tuple:
    """The node of a masked name: a dimension of a tensor."""
    name = masked.replace(DOT, ".")
    base, axis = split_reference(name)
    if axis not in INPUT_AXES:
        what = "the input" if base == INPUT_NAME else f"the tensor {base!r}"
        raise ExpressionError(
            f"in {shown}: {what} has no dimension {axis!r}; write {base}.N, {base}.C, {base}.H or {base}.W"
        )
    if base.split(".")[0] in functions:
        raise ExpressionError(f"in {shown}: {name!r} is not a tensor's dimension")
    return ("name", name)


def tree_text(t: tuple) -> str:
    """A name or an indexed name as written (``settings[2]``), for messages."""
    if t[0] == "name":
        return t[1]
    if t[0] == "index":
        inner = t[2][1] if t[2][0] in ("num", "name") else "..."
        return f"{tree_text(t[1])}[{inner}]"
    return "..."


def as_list(t: tuple, shown: str, scope: dict[str, Any], ev: Callable, lookup: Callable) -> tuple:
    """The list a name or an indexed row stands for (``ev`` evaluates a node, ``lookup``
    explains an unknown name)."""
    if t[0] == "name":
        value = scope.get(t[1])
        if isinstance(value, tuple):
            return value
        if value is None:
            lookup(t[1])
        raise ExpressionError(f"in {shown}: {t[1]} is {dims.fmt(value)}, not a list")
    value = item(t, shown, scope, ev, lookup)
    if not isinstance(value, tuple):
        raise ExpressionError(f"in {shown}: {tree_text(t)} is {dims.fmt(value)}, not a list")
    return value


def item(t: tuple, shown: str, scope: dict[str, Any], ev: Callable, lookup: Callable) -> Any:
    """``a[k]``: a value, or a tuple when the list holds rows or pairs."""
    items = as_list(t[1], shown, scope, ev, lookup)
    k = ev(t[2])
    if not isinstance(k, int):
        shown_k = dims.fmt(k.to_sympy() if hasattr(k, "to_sympy") else k)
        raise ExpressionError(f"in {shown}: an index is a known integer, found {shown_k}")
    if not -len(items) <= k < len(items):
        raise ExpressionError(
            f"in {shown}: index {k} is out of range for {tree_text(t[1])}, a list of "
            f"{len(items)} value{'s' * (len(items) != 1)} (indices 0 to {len(items) - 1})"
        )
    return items[k]
