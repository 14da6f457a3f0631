"""Fully connected layer (torch ``linear``): one BLAS product, counted from its operands."""

from __future__ import annotations

import numpy as np

from . import _checks as ck
from ._blas import matmul_into

__all__ = ["linear"]


def linear(x, w, b, out, axis: int = -1) -> int:
    """``out = x @ w.T + b`` over axis ``axis`` of ``x`` (the last by default).

    Args:
        x: (..., in_features) float32/float64 (any leading dims, including none); with
            ``axis``, ``in_features`` is the size of that axis.
        w: (out_features, in_features), same dtype.
        b: (out_features,) or ``None``.
        out: preallocated C-contiguous: x's shape with ``axis`` of size out_features.
        axis: the axis transformed (negative counts from the end): 1 on (N, C, H, W) is a
            1x1 convolution without its kernel window.

    Returns:
        Multiply-accumulates of the product actually run: rows * in_features * out_features
        where rows is the product of x's other dimensions (bias excluded).
    """
    x = ck.float_array(x, "x", min_ndim=1)
    w = ck.float_array(w, "w", ndim=2)
    ck.same_dtype(x.dtype, w=w)
    axis = ck.as_int(axis, "axis")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for a {x.ndim}-D x")
    axis %= x.ndim
    if axis != x.ndim - 1:
        # the transformed axis moved last, and the result moved back into place
        if x.shape[axis] != w.shape[1]:
            raise ValueError(
                f"x.shape[{axis}]={x.shape[axis]} must equal in_features={w.shape[1]} (w.shape[1])"
            )
        shape = list(x.shape)
        shape[axis] = w.shape[0]
        ck.out_array(out, shape, x.dtype)
        last = np.empty((*np.delete(x.shape, axis), w.shape[0]), x.dtype)
        macs = linear(np.moveaxis(x, axis, -1), w, b, last)
        out[...] = np.moveaxis(last, -1, axis)
        return macs
    out_features, in_features = w.shape
    if x.shape[-1] != in_features:
        raise ValueError(f"x.shape[-1]={x.shape[-1]} must equal in_features={in_features} (w.shape[1])")
    if b is not None:
        b = ck.float_array(b, "b", ndim=1)
        ck.same_dtype(x.dtype, b=b)
        if b.shape[0] != out_features:
            raise ValueError(f"b has shape {b.shape} but w implies out_features={out_features}")
    ck.out_array(out, (*x.shape[:-1], out_features), x.dtype)
    ck.no_overlap(out, x=x, w=w, b=b)
    rows = x.reshape(-1, in_features)
    res = out.reshape(-1, out_features)
    macs = matmul_into(rows, w.T, res)
    if b is not None:
        res += b
    return macs
