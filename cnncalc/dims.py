"""Dimension arithmetic for layer rules: the public names custom layers are written with.

A dimension, a parameter count or a MAC count is a ``Dim``: an ``int`` when it is known, a
sympy expression of the spec's symbols otherwise. Rules combine them with these functions, never
with Python's ``//``, ``max`` or ``min``, which cannot decide on an expression. The
implementation is :mod:`cnncalc.core.dims`; this module is the stable interface
(docs/custom-layers.md, "Public names").
"""

from __future__ import annotations

from .core.dims import (
    Dim,
    Value,
    add,
    ceil,
    ceildiv,
    div,
    dmax,
    dmin,
    floor,
    floordiv,
    fmt,
    fmt_shape,
    is_concrete,
    is_integer_valued,
    make_divisible,
    mod,
    mul,
    prod,
    symbol,
    where,
    window_out,
)

__all__ = [
    "Dim",
    "Value",
    "add",
    "ceil",
    "ceildiv",
    "div",
    "dmax",
    "dmin",
    "floor",
    "floordiv",
    "fmt",
    "fmt_shape",
    "is_concrete",
    "is_integer_valued",
    "make_divisible",
    "mod",
    "mul",
    "prod",
    "symbol",
    "where",
    "window_out",
]
