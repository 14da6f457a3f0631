"""Argument validation shared by the kernel wrappers (pure Python, no numba).

Every check raises ``ValueError`` naming the argument and the offending value, so that
nothing invalid ever reaches compiled code (where it would read out of bounds or fail
with an unreadable typing error).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from . import OutShapeError  # defined in the package: importable without numpy

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def as_int(value, name: str, *, minimum: int | None = None) -> int:
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_pair(value, name: str, *, minimum: int) -> tuple[int, int]:
    """An int or a length-2 sequence of ints, each >= ``minimum``."""
    if _is_int(value):
        items = (value, value)
    elif isinstance(value, Sequence | np.ndarray) and len(value) == 2:
        items = tuple(value)
    else:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if not all(_is_int(v) for v in items):
        raise ValueError(f"{name} must contain integers, got {value!r}")
    pair = (int(items[0]), int(items[1]))
    if min(pair) < minimum:
        kind = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {pair}")
    return pair


def as_padding4(value, name: str = "padding") -> tuple[int, int, int, int]:
    """Padding as ``(top, bottom, left, right)``.

    Accepts an int (all four sides), a pair ``(ph, pw)`` (top = bottom = ph,
    left = right = pw, torch style) or a 4-sequence ``(top, bottom, left, right)``.
    """
    if _is_int(value):
        items = (value,) * 4
    elif isinstance(value, Sequence | np.ndarray) and len(value) == 2:
        items = (value[0], value[0], value[1], value[1])
    elif isinstance(value, Sequence | np.ndarray) and len(value) == 4:
        items = tuple(value)
    else:
        raise ValueError(
            f"{name} must be an int, a pair (ph, pw) or (top, bottom, left, right), got {value!r}"
        )
    if not all(_is_int(v) for v in items):
        raise ValueError(f"{name} must contain integers, got {value!r}")
    pads = tuple(int(v) for v in items)
    if min(pads) < 0:
        raise ValueError(f"{name} must be non-negative, got (top, bottom, left, right) = {pads}")
    return pads  # type: ignore[return-value]


def float_array(a, name: str, *, ndim: int | None = None, min_ndim: int | None = None):
    """Check ``a`` is a float32/float64 ndarray of the right rank; return it C-contiguous.

    A non-contiguous input is copied (inputs are only read); ``out`` arrays go
    through :func:`out_array` instead, which never copies.
    """
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name} must have dtype float32 or float64, got {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if min_ndim is not None and a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    return np.asarray(a, order="C")  # unlike ascontiguousarray, keeps 0-d arrays 0-d


def same_dtype(dtype, **arrays) -> None:
    for name, a in arrays.items():
        if a is not None and a.dtype != dtype:
            raise ValueError(f"{name} has dtype {a.dtype} but the input has dtype {dtype}")


def out_array(out, expected_shape: tuple[int, ...], dtype, name: str = "out"):
    """``out`` must be a writeable C-contiguous array of exactly the implied shape and dtype."""
    if not isinstance(out, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    expected_shape = tuple(int(s) for s in expected_shape)
    if out.shape != expected_shape:
        raise OutShapeError(name, out.shape, expected_shape)
    if out.dtype != dtype:
        raise ValueError(f"{name} has dtype {out.dtype} but the input has dtype {dtype}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    return out


def no_overlap(out, **arrays) -> None:
    """Kernels that read an input after writing ``out`` must not get aliased buffers."""
    for name, a in arrays.items():
        if a is not None and np.shares_memory(out, a):
            raise ValueError(f"out must not share memory with {name}")
