"""Max / average / adaptive pooling, NCHW, with torch's exact semantics.  No MACs: return 0.

Output size (per axis, as torch's ``pooling_output_shape``)::

    eff   = d*(k - 1) + 1
    floor mode: out = (L + 2p - eff) // s + 1
    ceil mode:  out = ceil((L + 2p - eff) / s) + 1, minus 1 if the last window would
                start at or beyond L + p (it must start inside the input or the left pad)

Padding is implicit here: padded cells never win a max and are only *counted* by
``avg_pool2d_nchw(count_include_pad=True)``; cells beyond the padded border (reached in
ceil mode) are neither read nor counted.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks as ck
from ._jit import njit

__all__ = [
    "adaptive_avg_pool2d_nchw",
    "adaptive_max_pool2d_nchw",
    "avg_pool2d_nchw",
    "max_pool2d_nchw",
    "pool_output_size",
]


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling output length along one axis (may be < 1 for invalid parameters)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    if ceil_mode:
        n = -(-span // stride) + 1
        if (n - 1) * stride >= size + pad:
            n -= 1
    else:
        n = span // stride + 1
    return n


# ----------------------------------------------------------------------------- numba bodies


@njit
def _max_pool(x, out, kh, kw, sh, sw, ph, pw, dh, dw):
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    for n in range(n_img):
        for c in range(n_ch):
            for oh in range(ho):
                h0 = oh * sh - ph
                for ow in range(wo):
                    w0 = ow * sw - pw
                    best = -math.inf
                    for i in range(kh):
                        ih = h0 + i * dh
                        if ih < 0 or ih >= h:
                            continue
                        for j in range(kw):
                            iw = w0 + j * dw
                            if iw < 0 or iw >= w:
                                continue
                            v = x[n, c, ih, iw]
                            if v > best or math.isnan(v):  # NaN propagates, as in torch
                                best = v
                    out[n, c, oh, ow] = best


@njit
def _avg_pool(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    for n in range(n_img):
        for c in range(n_ch):
            for oh in range(ho):
                for ow in range(wo):
                    hs = oh * sh - ph
                    ws = ow * sw - pw
                    # window clipped to the padded border: what count_include_pad counts
                    he = min(hs + kh, h + ph)
                    we = min(ws + kw, w + pw)
                    padded_cells = (he - hs) * (we - ws)
                    # window clipped to the input: what is summed
                    hs = max(hs, 0)
                    ws = max(ws, 0)
                    he = min(he, h)
                    we = min(we, w)
                    if hs >= he or ws >= we:
                        out[n, c, oh, ow] = 0.0
                        continue
                    total = 0.0
                    for ih in range(hs, he):
                        for iw in range(ws, we):
                            total += x[n, c, ih, iw]
                    if divisor_override > 0:
                        divisor = divisor_override
                    elif count_include_pad:
                        divisor = padded_cells
                    else:
                        divisor = (he - hs) * (we - ws)
                    out[n, c, oh, ow] = total / divisor


@njit
def _adaptive_pool(x, out, use_max):
    n_img, n_ch, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    for n in range(n_img):
        for c in range(n_ch):
            for oh in range(ho):
                hs = (oh * h) // ho
                he = ((oh + 1) * h + ho - 1) // ho
                for ow in range(wo):
                    ws = (ow * w) // wo
                    we = ((ow + 1) * w + wo - 1) // wo
                    if use_max:
                        best = -math.inf
                        for ih in range(hs, he):
                            for iw in range(ws, we):
                                v = x[n, c, ih, iw]
                                if v > best or math.isnan(v):
                                    best = v
                        out[n, c, oh, ow] = best
                    else:
                        total = 0.0
                        for ih in range(hs, he):
                            for iw in range(ws, we):
                                total += x[n, c, ih, iw]
                        out[n, c, oh, ow] = total / ((he - hs) * (we - ws))


# ----------------------------------------------------------------------------- wrappers


def _pool_geometry(x, kernel, stride, padding, dilation, ceil_mode):
    kh, kw = ck.as_pair(kernel, "kernel", minimum=1)
    sh, sw = ck.as_pair(kernel if stride is None else stride, "stride", minimum=1)
    ph, pw = ck.as_pair(padding, "padding", minimum=0)
    dh, dw = ck.as_pair(dilation, "dilation", minimum=1)
    if not isinstance(ceil_mode, bool):
        raise ValueError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"padding={(ph, pw)} must be at most half of kernel={(kh, kw)} (torch's rule)")
    _, _, h, w = x.shape
    ho = pool_output_size(h, kh, sh, ph, dh, ceil_mode)
    wo = pool_output_size(w, kw, sw, pw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(
            f"kernel={(kh, kw)} with dilation={(dh, dw)} does not fit the input "
            f"({h}, {w}) padded by {(ph, pw)}: output would be ({ho}, {wo})"
        )
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo)


def max_pool2d_nchw(x, out, kernel, stride=None, padding=0, dilation=1, ceil_mode=False) -> int:
    """torch ``max_pool2d``.  ``stride=None`` means stride = kernel.  Returns 0.

    padding: int or (ph, pw), at most half the kernel (torch's rule); padded cells act
    as -inf.  NaN in a window gives NaN.
    """
    x = ck.float_array(x, "x", ndim=4)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = _pool_geometry(
        x, kernel, stride, padding, dilation, ceil_mode
    )
    ck.out_array(out, (x.shape[0], x.shape[1], ho, wo), x.dtype)
    ck.no_overlap(out, x=x)
    _max_pool(x, out, kh, kw, sh, sw, ph, pw, dh, dw)
    return 0


def avg_pool2d_nchw(
    x,
    out,
    kernel,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> int:
    """torch ``avg_pool2d``.  ``stride=None`` means stride = kernel.  Returns 0.

    Divisor: ``divisor_override`` if given (positive int); else with ``count_include_pad``
    the window's cells inside the zero-padded border (cells past the border, reachable in
    ceil mode, are not counted); else the window's cells inside the input.
    """
    x = ck.float_array(x, "x", ndim=4)
    (kh, kw), (sh, sw), (ph, pw), _, (ho, wo) = _pool_geometry(x, kernel, stride, padding, 1, ceil_mode)
    if not isinstance(count_include_pad, bool):
        raise ValueError(f"count_include_pad must be a bool, got {count_include_pad!r}")
    divisor = 0
    if divisor_override is not None:
        divisor = ck.as_int(divisor_override, "divisor_override", minimum=1)
    ck.out_array(out, (x.shape[0], x.shape[1], ho, wo), x.dtype)
    ck.no_overlap(out, x=x)
    _avg_pool(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)
    return 0


def _adaptive(x, out, use_max):
    x = ck.float_array(x, "x", ndim=4)
    if not isinstance(out, np.ndarray) or out.ndim != 4:
        raise ValueError("out must be a 4-D numpy.ndarray (N, C, H_out, W_out)")
    ho, wo = out.shape[2], out.shape[3]
    if ho < 1 or wo < 1:
        raise ValueError(f"out spatial size must be positive, got ({ho}, {wo})")
    ck.out_array(out, (x.shape[0], x.shape[1], ho, wo), x.dtype)
    ck.no_overlap(out, x=x)
    _adaptive_pool(x, out, use_max)
    return 0


def adaptive_avg_pool2d_nchw(x, out) -> int:
    """torch ``adaptive_avg_pool2d`` to ``out``'s spatial size.  Returns 0.

    Bin i of L_out over an axis of length L covers [floor(i*L/L_out), ceil((i+1)*L/L_out)).
    """
    return _adaptive(x, out, False)


def adaptive_max_pool2d_nchw(x, out) -> int:
    """torch ``adaptive_max_pool2d`` (values only) to ``out``'s spatial size.  Returns 0."""
    return _adaptive(x, out, True)
