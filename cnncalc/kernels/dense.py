"""Fully connected layer (torch ``linear``): one BLAS product, counted from its operands."""

from __future__ import annotations

from . import _checks as ck
from ._blas import matmul_into

__all__ = ["linear"]


def linear(x, w, b, out) -> int:
    """``out = x @ w.T + b`` over the last axis of ``x``.

    Args:
        x: (..., in_features) float32/float64 (any leading dims, including none).
        w: (out_features, in_features), same dtype.
        b: (out_features,) or ``None``.
        out: preallocated C-contiguous (..., out_features).

    Returns:
        Multiply-accumulates of the product actually run: rows * in_features * out_features
        where rows is the product of x's leading dimensions (bias excluded).
    """
    x = ck.float_array(x, "x", min_ndim=1)
    w = ck.float_array(w, "w", ndim=2)
    ck.same_dtype(x.dtype, w=w)
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
