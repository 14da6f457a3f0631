"""Batch normalisation (inference form), local response normalisation (NCHW) and layer
normalisation (trailing axes, or the channels of NCHW).  Return 0."""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _checks as ck
from ._jit import njit

__all__ = ["batch_norm2d_nchw", "layer_norm", "layer_norm2d_nchw", "local_response_norm_nchw"]


@njit
def _batch_norm(x, scale, shift, out):
    """out[n, c] = x[n, c] * scale[c] + shift[c]."""
    n_img, n_ch, h, w = x.shape
    for n in range(n_img):
        for c in range(n_ch):
            a = scale[c]
            b = shift[c]
            for i in range(h):
                for j in range(w):
                    out[n, c, i, j] = x[n, c, i, j] * a + b


@njit
def _lrn(x, size, alpha, beta, k, out):
    n_img, n_ch, h, w = x.shape
    before = size // 2
    after = (size - 1) // 2
    sq = np.empty((h, w), dtype=np.float64)
    for n in range(n_img):
        for c in range(n_ch):
            sq[:, :] = 0.0
            # channels outside [0, C) are the zero padding: they add nothing
            for cc in range(max(c - before, 0), min(c + after, n_ch - 1) + 1):
                for i in range(h):
                    for j in range(w):
                        v = x[n, cc, i, j]
                        sq[i, j] += v * v
            for i in range(h):
                for j in range(w):
                    out[n, c, i, j] = x[n, c, i, j] / (k + alpha / size * sq[i, j]) ** beta


@njit
def _layer_norm(x, gamma, beta, eps, out):
    """x, out (outer, k, inner): normalise each x[o, :, i] over its k values (the biased
    variance, as torch), then scale by gamma[j] and shift by beta[j]."""
    outer, k, inner = x.shape
    for o in range(outer):
        for i in range(inner):
            acc = 0.0
            for j in range(k):
                acc += x[o, j, i]
            mean = acc / k
            sq = 0.0
            for j in range(k):
                d = x[o, j, i] - mean
                sq += d * d
            inv = 1.0 / math.sqrt(sq / k + eps)
            for j in range(k):
                out[o, j, i] = (x[o, j, i] - mean) * inv * gamma[j] + beta[j]


def _real(value, name):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def batch_norm2d_nchw(x, gamma, beta, mean, var, eps, out) -> int:
    """Inference batch norm: ``(x - mean) / sqrt(var + eps) * gamma + beta`` per channel.

    gamma / beta may be ``None`` (affine=False: 1 and 0).  All per-channel vectors are
    (C,).  Computed as torch does on CPU: ``scale = gamma / sqrt(var + eps)``,
    ``shift = beta - mean * scale``, ``out = x * scale + shift`` (scale/shift in float64,
    then cast to x's dtype).  ``out`` may be ``x`` itself.  Returns 0.
    """
    x = ck.float_array(x, "x", ndim=4)
    c = x.shape[1]
    vecs = {}
    for name, v in (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)):
        if v is None and name in ("gamma", "beta"):
            continue
        v = ck.float_array(v, name, ndim=1)
        if v.shape[0] != c:
            raise ValueError(f"{name} has shape {v.shape} but x has C={c} channels")
        vecs[name] = v.astype(np.float64)
    eps = _real(eps, "eps")
    if eps < 0:
        raise ValueError(f"eps must be non-negative, got {eps}")
    if np.any(vecs["var"] + eps <= 0):
        raise ValueError("var + eps must be positive for every channel")
    ck.out_array(out, x.shape, x.dtype)
    inv_std = 1.0 / np.sqrt(vecs["var"] + eps)
    scale = inv_std * vecs["gamma"] if "gamma" in vecs else inv_std
    shift = -vecs["mean"] * scale
    if "beta" in vecs:
        shift = shift + vecs["beta"]
    _batch_norm(x, scale.astype(x.dtype), shift.astype(x.dtype), out)
    return 0


def local_response_norm_nchw(x, size, alpha, beta, k, out) -> int:
    """torch ``local_response_norm`` across channels.  Returns 0.

    ``out[c] = x[c] / (k + alpha/size * sum_{c' in window(c)} x[c']**2) ** beta`` where the
    window is [c - size//2, c + (size-1)//2]; channels outside [0, C) count as zeros
    (but ``alpha/size`` still divides by the full ``size``).
    """
    x = ck.float_array(x, "x", ndim=4)
    size = ck.as_int(size, "size", minimum=1)
    alpha = _real(alpha, "alpha")
    beta = _real(beta, "beta")
    k = _real(k, "k")
    ck.out_array(out, x.shape, x.dtype)
    ck.no_overlap(out, x=x)
    _lrn(x, size, alpha, beta, k, out)
    return 0


def _affine(gamma, beta, count: int, dtype, what: str):
    """gamma and beta as flat vectors of ``count`` values (1 and 0 when ``None``)."""
    vecs = []
    for name, v, default in (("gamma", gamma, 1.0), ("beta", beta, 0.0)):
        if v is None:
            vecs.append(np.full(count, default, dtype))
            continue
        v = ck.float_array(v, name)
        ck.same_dtype(dtype, **{name: v})
        if v.size != count:
            raise ValueError(f"{name} has shape {v.shape} but {what} has {count} values")
        vecs.append(v.reshape(-1))
    return vecs


def layer_norm(x, normalized_ndim, gamma, beta, eps, out) -> int:
    """torch ``layer_norm`` over the last ``normalized_ndim`` axes of ``x``.  Returns 0.

    ``gamma`` and ``beta`` have the normalized shape (``x.shape[-normalized_ndim:]``), or are
    ``None`` (no affine: 1 and 0).  Mean and variance are accumulated in float64.
    """
    x = ck.float_array(x, "x", min_ndim=1)
    k = ck.as_int(normalized_ndim, "normalized_ndim", minimum=1)
    if k > x.ndim:
        raise ValueError(f"normalized_ndim={k} exceeds the {x.ndim} axes of x")
    eps = _real(eps, "eps")
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    size = int(np.prod(x.shape[x.ndim - k :]))
    g, b = _affine(gamma, beta, size, x.dtype, f"the normalized shape {x.shape[x.ndim - k :]}")
    ck.out_array(out, x.shape, x.dtype)
    ck.no_overlap(out, x=x)
    shape3 = (x.size // size, size, 1)
    _layer_norm(x.reshape(shape3), g, b, eps, out.reshape(shape3))
    return 0


def layer_norm2d_nchw(x, gamma, beta, eps, out) -> int:
    """torchvision's ``LayerNorm2d``: layer norm over the channels of each position of an
    (N, C, H, W) array; ``gamma`` and ``beta`` are (C,) or ``None``.  Returns 0."""
    x = ck.float_array(x, "x", ndim=4)
    eps = _real(eps, "eps")
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    n, c, h, w = x.shape
    g, b = _affine(gamma, beta, c, x.dtype, f"x's channel axis (C={c})")
    ck.out_array(out, x.shape, x.dtype)
    ck.no_overlap(out, x=x)
    _layer_norm(x.reshape(n, c, h * w), g, b, eps, out.reshape(n, c, h * w))
    return 0
