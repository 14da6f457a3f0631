"""2-D convolution and transposed convolution, NCHW, as im2col / col2im + BLAS.

Design (both kernels):

* The input is zero-padded explicitly into a fresh buffer, so every kernel tap is
  executed, including taps that fall on padding (the torchvision / fvcore MAC
  convention).
* ``_im2col`` (numba) copies, for one image, every tap of every output position into
  a matrix ``col[(c, i, j), (oh, ow)]``.  The convolution is then one matrix product
  per image and group, ``W_g (C_out/g, C_in/g*kh*kw) @ col_g (C_in/g*kh*kw, H_out*W_out)``,
  run by BLAS and written straight into ``out``.
* The returned MAC count is the sum of ``M*K*P`` of the products actually run
  (``_blas.matmul_into``).
* Transposed convolution is the adjoint: ``W_g^T @ x_g`` gives, for every input pixel,
  its contribution to ``C_out/g*kh*kw`` outputs; ``_col2im`` (numba) scatter-adds them
  into a full-size buffer, which is then cropped by the padding.
"""

from __future__ import annotations

import numpy as np

from . import _checks as ck
from ._blas import matmul_into
from ._jit import njit

__all__ = ["conv2d_nchw", "conv_transpose2d_nchw"]


# ----------------------------------------------------------------------------- numba bodies


@njit
def _pad_copy(x, xp, top, left):
    """xp is pre-zeroed (N, C, Hp, Wp); copy x (N, C, H, W) to its interior at (top, left)."""
    n_img, n_ch, h, w = x.shape
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(h):
                for j in range(w):
                    xp[n, c, top + i, left + j] = x[n, c, i, j]


@njit
def _im2col(xp, col, kh, kw, sh, sw, dh, dw, ho, wo):
    """xp: one padded image (C, Hp, Wp).  col: (C*kh*kw, ho*wo).

    col[(c*kh + i)*kw + j, oh*wo + ow] = xp[c, oh*sh + i*dh, ow*sw + j*dw]
    """
    n_ch = xp.shape[0]
    span = sw * (wo - 1) + 1  # padded-row columns from the first to the last tap read
    for c in range(n_ch):
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                for oh in range(ho):
                    # src[ow] is xp[c, oh*sh + i*dh, j*dw + ow*sw]
                    src = xp[c, oh * sh + i * dh, j * dw : j * dw + span : sw]
                    dst = col[r, oh * wo : (oh + 1) * wo]
                    for ow in range(wo):
                        dst[ow] = src[ow]


@njit
def _col2im(col, full, kh, kw, sh, sw, dh, dw, h, w):
    """Adjoint of _im2col.  col: (C*kh*kw, h*w); full: (C, Hf, Wf), pre-zeroed.

    full[c, ih*sh + i*dh, iw*sw + j*dw] += col[(c*kh + i)*kw + j, ih*w + iw]
    """
    n_ch = full.shape[0]
    span = sw * (w - 1) + 1
    for c in range(n_ch):
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                for ih in range(h):
                    # dst[iw] is full[c, ih*sh + i*dh, j*dw + iw*sw]
                    dst = full[c, ih * sh + i * dh, j * dw : j * dw + span : sw]
                    src = col[r, ih * w : (ih + 1) * w]
                    for iw in range(w):
                        dst[iw] += src[iw]


@njit
def _add_bias(out, b):
    """out (N, C, H, W) += b[c]."""
    n_img, n_ch, h, w = out.shape
    for n in range(n_img):
        for c in range(n_ch):
            bc = b[c]
            for i in range(h):
                for j in range(w):
                    out[n, c, i, j] += bc


# ----------------------------------------------------------------------------- wrappers


def _conv_common_checks(x, w, b, groups):
    x = ck.float_array(x, "x", ndim=4)
    w = ck.float_array(w, "w", ndim=4)
    ck.same_dtype(x.dtype, w=w)
    if b is not None:
        b = ck.float_array(b, "b", ndim=1)
        ck.same_dtype(x.dtype, b=b)
    groups = ck.as_int(groups, "groups", minimum=1)
    return x, w, b, groups


def conv2d_nchw(x, w, b, out, stride=1, padding=0, dilation=1, groups=1) -> int:
    """Cross-correlation (torch ``conv2d``) of ``x`` with ``w``, written into ``out``.

    Args:
        x: (N, C_in, H, W) float32 or float64.
        w: (C_out, C_in/groups, kh, kw), same dtype.
        b: (C_out,) bias, or ``None`` for no bias.
        out: preallocated C-contiguous (N, C_out, H_out, W_out), same dtype, where
            ``H_out = (H + top + bottom - dh*(kh-1) - 1)//sh + 1`` (same for W).
        stride: int or (sh, sw), positive.
        padding: int, (ph, pw) (symmetric) or (top, bottom, left, right); zeros,
            non-negative.  TF 'same' puts the odd extra pixel at bottom/right.
        dilation: int or (dh, dw), positive.
        groups: positive, divides C_in and C_out.

    Returns:
        Multiply-accumulates executed (bias additions excluded), read from the shapes of
        the BLAS products run: N*groups*(C_out/groups)*(C_in/groups*kh*kw)*(H_out*W_out),
        taps on padding included.
    """
    x, w, b, groups = _conv_common_checks(x, w, b, groups)
    sh, sw = ck.as_pair(stride, "stride", minimum=1)
    dh, dw = ck.as_pair(dilation, "dilation", minimum=1)
    top, bottom, left, right = ck.as_padding4(padding, "padding")
    n_img, c_in, h, wd = x.shape
    c_out, cig, kh, kw = w.shape
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"groups={groups} must divide C_in={c_in} (x.shape[1]) and C_out={c_out} (w.shape[0])"
        )
    if cig != c_in // groups:
        raise ValueError(f"w.shape[1]={cig} must equal C_in/groups = {c_in}/{groups} = {c_in // groups}")
    if b is not None and b.shape[0] != c_out:
        raise ValueError(f"b has shape {b.shape} but w implies C_out={c_out}")
    hp, wp = h + top + bottom, wd + left + right
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if ekh > hp or ekw > wp:
        raise ValueError(f"dilated kernel ({ekh}, {ekw}) is larger than the padded input ({hp}, {wp})")
    ho, wo = (hp - ekh) // sh + 1, (wp - ekw) // sw + 1
    ck.out_array(out, (n_img, c_out, ho, wo), x.dtype)
    ck.no_overlap(out, x=x, w=w, b=b)

    xp = np.zeros((n_img, c_in, hp, wp), dtype=x.dtype)
    _pad_copy(x, xp, top, left)

    cog = c_out // groups
    k = cig * kh * kw
    p = ho * wo
    wmat = w.reshape(groups, cog, k)
    # A 1x1, stride-1 convolution's im2col matrix is the padded image itself.
    identity_cols = kh == 1 and kw == 1 and sh == 1 and sw == 1
    col = None if identity_cols else np.empty((c_in * kh * kw, p), dtype=x.dtype)
    macs = 0
    for n in range(n_img):
        if identity_cols:
            cols = xp[n].reshape(groups, k, p)
        else:
            _im2col(xp[n], col, kh, kw, sh, sw, dh, dw, ho, wo)
            cols = col.reshape(groups, k, p)
        res = out[n].reshape(groups, cog, p)
        if groups == 1:
            macs += matmul_into(wmat[0], cols[0], res[0])
        else:
            macs += matmul_into(wmat, cols, res)
    if b is not None:
        _add_bias(out, b)
    return macs


def conv_transpose2d_nchw(x, w, b, out, stride=1, padding=0, output_padding=0, dilation=1, groups=1) -> int:
    """Transposed convolution with torch ``conv_transpose2d`` semantics, into ``out``.

    Args:
        x: (N, C_in, H, W).
        w: (C_in, C_out/groups, kh, kw) (torch layout).
        b: (C_out,) or ``None``.
        out: (N, C_out, H_out, W_out) with
            ``H_out = (H-1)*sh - 2*ph + dh*(kh-1) + oph + 1``.
        stride, dilation: int or pair, positive.
        padding: int or (ph, pw), non-negative; removed from both sides of the output.
        output_padding: int or (oph, opw), non-negative, each smaller than the stride
            or the dilation of its axis (torch's rule); added at the bottom/right.
        groups: divides C_in and C_out.

    Returns:
        Multiply-accumulates executed: each product ``W_g^T @ x_g`` is
        (C_out/g*kh*kw, C_in/g) @ (C_in/g, H*W), so the total is
        N*C_in*H*W*(C_out/groups)*kh*kw; contributions that land in the cropped
        padding are computed and counted too.
    """
    x, w, b, groups = _conv_common_checks(x, w, b, groups)
    sh, sw = ck.as_pair(stride, "stride", minimum=1)
    dh, dw = ck.as_pair(dilation, "dilation", minimum=1)
    ph, pw = ck.as_pair(padding, "padding", minimum=0)
    oph, opw = ck.as_pair(output_padding, "output_padding", minimum=0)
    n_img, c_in, h, wd = x.shape
    c_in_w, cog, kh, kw = w.shape
    if c_in_w != c_in:
        raise ValueError(f"w.shape[0]={c_in_w} must equal C_in={c_in} (x.shape[1])")
    if c_in % groups:
        raise ValueError(f"groups={groups} must divide C_in={c_in}")
    c_out = cog * groups
    if b is not None and b.shape[0] != c_out:
        raise ValueError(f"b has shape {b.shape} but w and groups imply C_out={c_out}")
    if not (oph < sh or oph < dh) or not (opw < sw or opw < dw):
        raise ValueError(
            f"output_padding={(oph, opw)} must be smaller than stride={(sh, sw)} "
            f"or dilation={(dh, dw)} on each axis"
        )
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"padding={(ph, pw)} leaves an empty output ({ho}, {wo})")
    ck.out_array(out, (n_img, c_out, ho, wo), x.dtype)
    ck.no_overlap(out, x=x, w=w, b=b)

    # Full (uncropped) output: every scatter target, and at least ph + H_out rows so the
    # output_padding rows (which no input reaches) exist as zeros.
    hf = max((h - 1) * sh + dh * (kh - 1) + 1, ph + ho)
    wf = max((wd - 1) * sw + dw * (kw - 1) + 1, pw + wo)
    cig = c_in // groups
    # (groups, cig, cog*kh*kw) -> transposed view (groups, cog*kh*kw, cig)
    wt = w.reshape(groups, cig, cog * kh * kw).transpose(0, 2, 1)
    cols = np.empty((groups, cog * kh * kw, h * wd), dtype=x.dtype)
    macs = 0
    for n in range(n_img):
        xm = x[n].reshape(groups, cig, h * wd)
        if groups == 1:
            macs += matmul_into(wt[0], xm[0], cols[0])
        else:
            macs += matmul_into(wt, xm, cols)
        full = np.zeros((c_out, hf, wf), dtype=x.dtype)
        _col2im(cols.reshape(c_out * kh * kw, h * wd), full, kh, kw, sh, sw, dh, dw, h, wd)
        out[n] = full[:, ph : ph + ho, pw : pw + wo]
    if b is not None:
        _add_bias(out, b)
    return macs
