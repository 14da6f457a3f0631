"""Merging, padding, shuffling, resampling and reshaping ops.  No MACs: all return 0.

Nearest upsampling follows torch exactly, including its float32 arithmetic: with
``scale = float32(L_in) / float32(L_out)`` the source of output index ``d`` is
``min(floor(float32(d) * scale), L_in - 1)``.  This differs from the exact integer
``floor(d * L_in / L_out)`` for some sizes (e.g. L_in=2, L_out=82), as torch does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import _checks as ck
from ._jit import njit

__all__ = [
    "add",
    "channel_shuffle",
    "concat_channels",
    "flatten",
    "mul_broadcast",
    "split_channels",
    "upsample_bilinear2d",
    "upsample_nearest2d",
    "zero_pad2d",
]


# ----------------------------------------------------------------------------- numba bodies


@njit
def _accumulate(out, x, first):
    """1-D: out = x if first else out + x."""
    if first:
        for i in range(x.shape[0]):
            out[i] = x[i]
    else:
        for i in range(x.shape[0]):
            out[i] += x[i]


@njit
def _mul_strided(a, a_strides, b, b_strides, out, shape):
    """out (flat, C order over ``shape``) = a * b, where a and b are read through element
    strides (0 on broadcast axes).  The last axis is the inner loop."""
    nd = shape.shape[0]
    last = shape[nd - 1]
    a_last = a_strides[nd - 1]
    b_last = b_strides[nd - 1]
    idx = np.zeros(nd, dtype=np.int64)
    n_rows = out.shape[0] // last
    for r in range(n_rows):
        a0 = 0
        b0 = 0
        for d in range(nd - 1):
            a0 += idx[d] * a_strides[d]
            b0 += idx[d] * b_strides[d]
        base = r * last
        for t in range(last):
            out[base + t] = a[a0 + t * a_last] * b[b0 + t * b_last]
        d = nd - 2  # advance the index over the outer axes (odometer)
        while d >= 0:
            idx[d] += 1
            if idx[d] < shape[d]:
                break
            idx[d] = 0
            d -= 1


@njit
def _copy_channels(x, out, c0):
    """out[:, c0:c0+C] = x (both 4-D)."""
    n_img, n_ch, h, w = x.shape
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(h):
                for j in range(w):
                    out[n, c0 + c, i, j] = x[n, c, i, j]


@njit
def _zero_pad(x, out, top, left):
    """out = zeros, with x copied at offset (top, left)."""
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(ho):
                for j in range(wo):
                    out[n, c, i, j] = 0.0
            for i in range(h):
                for j in range(w):
                    out[n, c, top + i, left + j] = x[n, c, i, j]


@njit
def _channel_shuffle(x, out, groups):
    """torch: view (N, g, C/g, H, W) -> transpose(1, 2) -> (N, C, H, W).
    Output channel j*g + i is input channel i*(C/g) + j."""
    n_img, n_ch, h, w = x.shape
    per_group = n_ch // groups
    for n in range(n_img):
        for i in range(groups):
            for j in range(per_group):
                src = i * per_group + j
                dst = j * groups + i
                for a in range(h):
                    for b in range(w):
                        out[n, dst, a, b] = x[n, src, a, b]


@njit
def _nearest_index(n_out, n_in):
    """torch's nearest source index (float32 scale, floor, clamp)."""
    idx = np.empty(n_out, dtype=np.int64)
    scale = np.float32(n_in) / np.float32(n_out)
    for d in range(n_out):
        s = math.floor(np.float32(d) * scale)
        idx[d] = min(s, n_in - 1)
    return idx


@njit
def _upsample_nearest(x, out):
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    src_h = _nearest_index(ho, h)
    src_w = _nearest_index(wo, w)
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(ho):
                for j in range(wo):
                    out[n, c, i, j] = x[n, c, src_h[i], src_w[j]]


@njit
def _linear_weights(n_out, n_in, align_corners):
    """torch's linear interpolation source indices and weights along one axis."""
    i0 = np.empty(n_out, dtype=np.int64)
    i1 = np.empty(n_out, dtype=np.int64)
    lam = np.empty(n_out, dtype=np.float64)
    scale = n_in / n_out
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    for d in range(n_out):
        # align_corners: corner pixel centres coincide; else half-pixel centres, clamped at 0
        src = scale * d if align_corners else max(scale * (d + 0.5) - 0.5, 0.0)
        lo = min(math.floor(src), n_in - 1)
        i0[d] = lo
        i1[d] = lo + 1 if lo < n_in - 1 else lo
        lam[d] = src - lo
    return i0, i1, lam


@njit
def _upsample_bilinear(x, out, align_corners):
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    h0, h1, lh = _linear_weights(ho, h, align_corners)
    w0, w1, lw = _linear_weights(wo, w, align_corners)
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(ho):
                for j in range(wo):
                    top = (1.0 - lw[j]) * x[n, c, h0[i], w0[j]] + lw[j] * x[n, c, h0[i], w1[j]]
                    bot = (1.0 - lw[j]) * x[n, c, h1[i], w0[j]] + lw[j] * x[n, c, h1[i], w1[j]]
                    out[n, c, i, j] = (1.0 - lh[i]) * top + lh[i] * bot


# ----------------------------------------------------------------------------- wrappers


def add(*args) -> int:
    """Elementwise sum of same-shape arrays: ``add((a, b, ...), out)`` or ``add(a, b, out)``.

    ``out`` may be one of the inputs (in-place accumulation).  Returns 0 (additions are
    not multiply-accumulates).
    """
    if len(args) == 2 and isinstance(args[0], Sequence):
        inputs, out = list(args[0]), args[1]
    elif len(args) == 3:
        inputs, out = [args[0], args[1]], args[2]
    else:
        raise ValueError("add takes (inputs, out) with a sequence of arrays, or (a, b, out)")
    if len(inputs) < 1:
        raise ValueError("add needs at least one input array")
    arrays = [ck.float_array(a, f"inputs[{i}]") for i, a in enumerate(inputs)]
    shape, dtype = arrays[0].shape, arrays[0].dtype
    for i, a in enumerate(arrays[1:], start=1):
        if a.shape != shape:
            raise ValueError(f"inputs[{i}] has shape {a.shape} but inputs[0] has shape {shape}")
        ck.same_dtype(dtype, **{f"inputs[{i}]": a})
    ck.out_array(out, shape, dtype)
    # out may *be* one input (in-place residual add): that one is taken first.
    aliased = [i for i, a in enumerate(arrays) if np.shares_memory(out, a)]
    for i in aliased:
        if arrays[i].ctypes.data != out.ctypes.data:
            raise ValueError(f"out partially overlaps inputs[{i}]")
    if len(aliased) > 1:
        raise ValueError(f"out may be at most one of the inputs, it is inputs{aliased}")
    ordered = [arrays[i] for i in aliased] + [a for i, a in enumerate(arrays) if i not in aliased]
    flat_out = out.reshape(-1)
    for k, a in enumerate(ordered):
        _accumulate(flat_out, a.reshape(-1), k == 0)
    return 0


def mul_broadcast(a, b, out) -> int:
    """``out = a * b`` with numpy broadcasting (e.g. (N,C,H,W) * (N,C,1,1) gating).

    ``out`` must have the broadcast shape.  Returns 0 (the products of a gating layer are
    not counted as MACs by convention).
    """
    a = ck.float_array(a, "a")
    b = ck.float_array(b, "b")
    ck.same_dtype(a.dtype, b=b)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"a {a.shape} and b {b.shape} do not broadcast") from None
    ck.out_array(out, shape, a.dtype)
    for name, arr in (("a", a), ("b", b)):
        same_buffer = arr.shape == shape and arr.ctypes.data == out.ctypes.data
        if np.shares_memory(out, arr) and not same_buffer:
            raise ValueError(f"out may be {name} itself (in place) but must not overlap it otherwise")
    shape = shape or (1,)  # two 0-d inputs: run the loop over one element
    ab = np.broadcast_to(a, shape)
    bb = np.broadcast_to(b, shape)
    a_strides = np.array([s // a.itemsize for s in ab.strides], dtype=np.int64)
    b_strides = np.array([s // b.itemsize for s in bb.strides], dtype=np.int64)
    _mul_strided(
        a.reshape(-1),
        a_strides,
        b.reshape(-1),
        b_strides,
        out.reshape(-1),
        np.array(shape, dtype=np.int64),
    )
    return 0


def concat_channels(inputs, out) -> int:
    """Concatenate 4-D NCHW arrays along channels into ``out``.  Returns 0."""
    if not isinstance(inputs, Sequence) or len(inputs) < 1:
        raise ValueError("inputs must be a non-empty sequence of arrays")
    arrays = [ck.float_array(a, f"inputs[{i}]", ndim=4) for i, a in enumerate(inputs)]
    n, _, h, w = arrays[0].shape
    dtype = arrays[0].dtype
    for i, a in enumerate(arrays):
        if (a.shape[0], a.shape[2], a.shape[3]) != (n, h, w):
            raise ValueError(f"inputs[{i}] has shape {a.shape}; all inputs need N, H, W = {(n, h, w)}")
        ck.same_dtype(dtype, **{f"inputs[{i}]": a})
    ck.out_array(out, (n, sum(a.shape[1] for a in arrays), h, w), dtype)
    ck.no_overlap(out, **{f"inputs[{i}]": a for i, a in enumerate(arrays)})
    c0 = 0
    for a in arrays:
        _copy_channels(a, out, c0)
        c0 += a.shape[1]
    return 0


def split_channels(x, outs) -> int:
    """Split a 4-D NCHW array along channels into the preallocated ``outs`` (in order,
    channel counts taken from their shapes, which must add up to C).  Returns 0."""
    x = ck.float_array(x, "x", ndim=4)
    if not isinstance(outs, Sequence) or len(outs) < 1:
        raise ValueError("outs must be a non-empty sequence of arrays")
    n, c, h, w = x.shape
    total = 0
    for i, o in enumerate(outs):
        if not isinstance(o, np.ndarray) or o.ndim != 4:
            raise ValueError(f"outs[{i}] must be a 4-D numpy.ndarray")
        ck.out_array(o, (n, o.shape[1], h, w), x.dtype, name=f"outs[{i}]")
        total += o.shape[1]
    if total != c:
        raise ValueError(f"outs have {total} channels in total but x has {c}")
    c0 = 0
    for o in outs:
        o[...] = x[:, c0 : c0 + o.shape[1]]
        c0 += o.shape[1]
    return 0


def flatten(x, out, start_dim=1) -> int:
    """torch ``flatten(x, start_dim)``: copy ``x`` into ``out`` whose shape merges the
    axes from ``start_dim`` on.  Returns 0."""
    x = ck.float_array(x, "x")
    start_dim = ck.as_int(start_dim, "start_dim")
    if not -x.ndim <= start_dim < x.ndim:
        raise ValueError(f"start_dim={start_dim} out of range for {x.ndim} dimensions")
    start_dim %= x.ndim
    ck.out_array(out, (*x.shape[:start_dim], math.prod(x.shape[start_dim:])), x.dtype)
    out[...] = x.reshape(out.shape)
    return 0


def zero_pad2d(x, out, top, bottom, left, right) -> int:
    """Zero-pad the last two axes of NCHW ``x`` (non-negative pads).  Returns 0."""
    x = ck.float_array(x, "x", ndim=4)
    top, bottom, left, right = ck.as_padding4((top, bottom, left, right), "padding")
    n, c, h, w = x.shape
    ck.out_array(out, (n, c, h + top + bottom, w + left + right), x.dtype)
    ck.no_overlap(out, x=x)
    _zero_pad(x, out, top, left)
    return 0


def channel_shuffle(x, groups, out) -> int:
    """torch ``channel_shuffle``: (N, g, C/g, H, W) transposed to (N, C/g, g, H, W).
    Returns 0."""
    x = ck.float_array(x, "x", ndim=4)
    groups = ck.as_int(groups, "groups", minimum=1)
    if x.shape[1] % groups:
        raise ValueError(f"groups={groups} must divide C={x.shape[1]}")
    ck.out_array(out, x.shape, x.dtype)
    ck.no_overlap(out, x=x)
    _channel_shuffle(x, out, groups)
    return 0


def _resize_checks(x, out):
    x = ck.float_array(x, "x", ndim=4)
    if not isinstance(out, np.ndarray) or out.ndim != 4:
        raise ValueError("out must be a 4-D numpy.ndarray (N, C, H_out, W_out)")
    ck.out_array(out, (*x.shape[:2], *out.shape[2:]), x.dtype)
    if out.shape[2] < 1 or out.shape[3] < 1:
        raise ValueError(f"out spatial size must be positive, got {out.shape[2:]}")
    ck.no_overlap(out, x=x)
    return x


def upsample_nearest2d(x, out) -> int:
    """torch ``interpolate(mode='nearest', size=out.shape[2:])``.  Returns 0."""
    x = _resize_checks(x, out)
    _upsample_nearest(x, out)
    return 0


def upsample_bilinear2d(x, out, align_corners=False) -> int:
    """torch ``interpolate(mode='bilinear', size=out.shape[2:], align_corners=...)``
    (no antialias).  Returns 0."""
    if not isinstance(align_corners, bool):
        raise ValueError(f"align_corners must be a bool, got {align_corners!r}")
    x = _resize_checks(x, out)
    _upsample_bilinear(x, out, align_corners)
    return 0
