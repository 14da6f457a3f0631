"""Operations over chosen axes of a tensor of any rank: a mean, a permutation, a per-channel
scale.  No MACs: all return 0.

============  ======================================================================
mean_axes     ``x.mean(axes, keepdim)``: sums in float64, one division per output
permute       ``x.permute(dims)``: out[i_0, ..., i_k] = x[i_{p^-1(0)}, ...], a copy
scale_axis    ``x * scale`` with ``scale`` one value per index of ``axis``
============  ======================================================================
"""

from __future__ import annotations

import numpy as np

from . import _checks as ck
from ._jit import njit

__all__ = ["mean_axes", "permute", "scale_axis"]


# ----------------------------------------------------------------------------- numba bodies


@njit
def _mean_rows(x, out):
    """x (rows, inner) -> out (rows,): the mean of each row, accumulated in float64."""
    rows, inner = x.shape
    for r in range(rows):
        acc = 0.0
        for i in range(inner):
            acc += x[r, i]
        out[r] = acc / inner


@njit
def _gather_strided(x, strides, shape, out):
    """out (flat, C order over ``shape``) = x read through element ``strides``."""
    nd = shape.shape[0]
    for i in range(out.shape[0]):
        rem = i
        offset = 0
        for d in range(nd - 1, -1, -1):
            offset += (rem % shape[d]) * strides[d]
            rem //= shape[d]
        out[i] = x[offset]


@njit
def _scale_middle(x, scale, out):
    """x, out (outer, k, inner); out[o, j, i] = x[o, j, i] * scale[j]."""
    outer, k, inner = x.shape
    for o in range(outer):
        for j in range(k):
            s = scale[j]
            for i in range(inner):
                out[o, j, i] = x[o, j, i] * s


# ----------------------------------------------------------------------------- wrappers


def _axis(value, ndim: int, name: str) -> int:
    value = ck.as_int(value, name)
    if not -ndim <= value < ndim:
        raise ValueError(f"{name} {value} is out of range for a {ndim}-D input")
    return value % ndim


def mean_axes(x, axes, keepdim: bool, out) -> int:
    """``out = x.mean(axes, keepdim=keepdim)`` as torch computes it.

    Args:
        x: float32/float64 array of any rank >= 1.
        axes: a non-empty sequence of distinct axes (negative ones count from the end).
        keepdim: keep the reduced axes with size 1.
        out: preallocated C-contiguous array of the reduced shape.

    Returns:
        0 (averaging has no multiply-accumulates).
    """
    x = ck.float_array(x, "x", min_ndim=1)
    if isinstance(axes, (str, bytes)) or not hasattr(axes, "__len__") or len(axes) == 0:
        raise ValueError(f"axes must be a non-empty sequence of ints, got {axes!r}")
    reduced = [_axis(a, x.ndim, f"axes[{i}]") for i, a in enumerate(axes)]
    if len(set(reduced)) != len(reduced):
        raise ValueError(f"axes {list(axes)} name an axis twice")
    kept = [d for d in range(x.ndim) if d not in reduced]
    shape = tuple(1 if d in reduced else x.shape[d] for d in range(x.ndim) if keepdim or d not in reduced)
    ck.out_array(out, shape, x.dtype)
    ck.no_overlap(out, x=x)
    inner = int(np.prod([x.shape[d] for d in reduced]))
    rows = np.ascontiguousarray(np.transpose(x, kept + sorted(reduced))).reshape(-1, inner)
    _mean_rows(rows, out.reshape(-1))
    return 0


def permute(x, dims, out) -> int:
    """``out = x.permute(dims)``: output axis ``i`` is input axis ``dims[i]``.

    Args:
        x: float32/float64 array of any rank >= 1.
        dims: a permutation of the axes (negative ones count from the end).
        out: preallocated C-contiguous array of shape ``[x.shape[d] for d in dims]``.

    Returns:
        0.
    """
    x = ck.float_array(x, "x", min_ndim=1)
    if isinstance(dims, (str, bytes)) or not hasattr(dims, "__len__") or len(dims) != x.ndim:
        raise ValueError(f"dims must list each of the {x.ndim} axes once, got {dims!r}")
    order = [_axis(d, x.ndim, f"dims[{i}]") for i, d in enumerate(dims)]
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"dims {list(dims)} is not a permutation of the {x.ndim} axes")
    shape = tuple(x.shape[d] for d in order)
    ck.out_array(out, shape, x.dtype)
    ck.no_overlap(out, x=x)
    element_strides = [s // x.itemsize for s in x.strides]
    strides = np.array([element_strides[d] for d in order], dtype=np.int64)
    _gather_strided(x.reshape(-1), strides, np.array(shape, dtype=np.int64), out.reshape(-1))
    return 0


def scale_axis(x, scale, axis: int, out) -> int:
    """``out = x * scale`` along ``axis``: ``scale`` holds one value per index of that axis
    (any shape of that many elements, e.g. ConvNeXt's (C, 1, 1)).  ``out`` may be ``x``.

    Returns:
        0 (a scale is not a multiply-accumulate by convention).
    """
    x = ck.float_array(x, "x", min_ndim=1)
    scale = ck.float_array(scale, "scale")
    ck.same_dtype(x.dtype, scale=scale)
    axis = _axis(axis, x.ndim, "axis")
    if scale.size != x.shape[axis]:
        raise ValueError(f"scale has {scale.size} values but axis {axis} of x has size {x.shape[axis]}")
    ck.out_array(out, x.shape, x.dtype)
    outer = int(np.prod(x.shape[:axis]))
    inner = int(np.prod(x.shape[axis + 1 :]))
    shape3 = (outer, x.shape[axis], inner)
    _scale_middle(x.reshape(shape3), scale.reshape(-1), out.reshape(shape3))
    return 0
