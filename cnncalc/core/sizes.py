"""The sizes a shape rule may return: whole numbers of at least 1 (0 where the kind allows it).

Every layer kind, built in or custom, is held to it after its own checks, so that no analysis
states a size no tensor can have (``31/2``, ``3.0``, ``0``, ``-1``). At concrete sizes such a
size is a :class:`~cnncalc.errors.SizeError` naming the axis and saying what the rule must do:
round (``dims.floordiv``, ``dims.ceildiv``) or declare the check that refuses the input. With
open symbols, "is a whole number" and "is at least 1" of a custom kind's sizes are decided like
a layer's own checks: proven for every allowed value, impossible (an error), or a condition on
the symbols reported with the analysis. cnncalc's own kinds state these conditions through
their checks (the contract tests try the configurations next to valid ones, where a missing
check shows), so their conditions are not stated twice.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..errors import SizeError
from ..layers import BUILTIN_KINDS, Check
from . import dims

_AXES4 = ("batch", "channels", "height", "width")


def axis_name(axis: int, rank: int) -> str:
    """``axis 2 (the height)`` for a rank-4 shape, else ``axis 2``."""
    return f"axis {axis} (the {_AXES4[axis]})" if rank == 4 else f"axis {axis}"


def require_sizes(layer: Any, xs: tuple, shape: Any, decider: Any, name: str) -> None:
    """Refuse an output ``shape`` that no tensor can have, or record what makes it possible.

    Args:
        layer: the bound layer (its kind's ``min_output_size``, 1 unless it allows empty axes).
        xs: its input shapes (quoted in the message).
        shape: what its shape rule returned.
        decider: the analysis's :class:`~cnncalc.core.constraints.Decider`.
        name: the layer's name, for the conditions recorded.

    Raises:
        SizeError: a size that is not a number, a float, a fraction, or below the minimum, at
            concrete sizes or for every allowed value of the symbols.
    """
    if not isinstance(shape, tuple):
        raise SizeError(
            f"its shape rule returned {_found(shape)}; output_shape must return a tuple of sizes "
            "(ints, or formulas built with cnncalc.dims)"
        )
    least = getattr(layer, "min_output_size", 1)
    for axis, d in enumerate(shape):
        if isinstance(d, bool) or not (dims.is_concrete(d) or hasattr(d, "free_symbols")):
            raise SizeError(_impossible(shape, axis, d, xs, least))
        if dims.is_concrete(d):
            if isinstance(d, Fraction) or d < least:
                raise SizeError(_impossible(shape, axis, d, xs, least))
        elif layer.kind not in BUILTIN_KINDS:
            _require_symbolic(shape, axis, d, xs, least, decider, name)


def _require_symbolic(shape, axis: int, d: Any, xs: tuple, least: int, decider: Any, name: str) -> None:
    what = axis_name(axis, len(shape))
    integral = dims.is_integer_valued(d)
    if integral is False:
        raise SizeError(_impossible(shape, axis, d, xs, least))
    if integral is None:
        num, den = d.as_numer_denom()
        if den.is_Integer and num.is_integer:
            value = dims.mod(dims.canon(num), dims.canon(den))
        else:
            value = dims.mod(d, 1)
        decider.require(
            Check(value, "zero", lambda: f"{what} of the output, {dims.fmt(d)}, must be a whole number"),
            name,
        )
    if (d - least).is_nonnegative:  # sympy's assumptions decide the easy ones (H, 2*H, H + 1)
        return
    decider.require(
        Check(
            dims.add(d, -least),
            "nonneg",
            lambda: f"{what} of the output, {dims.fmt(d)}, must be at least {least}",
        ),
        name,
    )


def _impossible(shape: tuple, axis: int, d: Any, xs: tuple, least: int) -> str:
    what = axis_name(axis, len(shape))
    shown = ", ".join(_show(v) for v in shape)
    head = f"the output shape [{shown}] is impossible: {what} is "
    inputs = " and ".join(dims.fmt_shape(x) for x in xs if isinstance(x, tuple))
    refuse = f"declare a check that refuses the input {inputs}" if inputs else "declare a check"
    if isinstance(d, float):
        return (
            head + f"{d!r}, a float (a division with /): divide with dims.floordiv or dims.ceildiv, "
            f"or with dims.div where a check (divides) makes the division exact"
        )
    if isinstance(d, bool) or not (dims.is_concrete(d) or hasattr(d, "free_symbols")):
        return head + f"{_found(d)}, not a size: a size is an int, or a formula built with cnncalc.dims"
    if isinstance(d, Fraction) or dims.is_integer_valued(d) is False:
        return (
            head + f"{dims.fmt(d)}, not a whole number: the shape rule must round (dims.floordiv or "
            f"dims.ceildiv), or the layer must {refuse} (divides, at_least)"
        )
    return (
        head + f"{dims.fmt(d)}, below {least}: the layer must {refuse} (at_least, divides), so that "
        f"every size of its output is at least {least}"
    )


def _show(v: Any) -> str:
    if isinstance(v, (float, bool)) or not (dims.is_concrete(v) or hasattr(v, "free_symbols")):
        return repr(v)
    return dims.fmt(v)


def _found(v: Any) -> str:
    text = repr(v)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(v).__name__})"
