"""conv2d_nchw / conv_transpose2d_nchw against independent NumPy formulations.

Oracles (float64, written without any cnncalc code):
* conv: explicit zero padding + ``sliding_window_view`` + ``einsum`` per group;
* transposed conv: the textbook equivalence "insert stride-1 zeros between input pixels,
  pad by dilation*(k-1) - padding (+ output_padding at the bottom/right), correlate with
  the spatially flipped, in/out-swapped kernel", which shares nothing with the kernel's
  scatter (col2im) design.
MAC counts are checked against arithmetic written out in each test.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from cnncalc.kernels.conv import conv2d_nchw, conv_transpose2d_nchw

RTOL, ATOL = 2e-5, 2e-5  # float32 kernels vs float64 oracle, sums of <= ~100 unit terms


# ----------------------------------------------------------------------------- oracles


def conv_oracle(x, w, b, stride, pads, dilation, groups):
    """torch-style cross-correlation in float64.  pads = (top, bottom, left, right)."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    (sh, sw), (dh, dw), (top, bottom, left, right) = stride, dilation, pads
    n = x.shape[0]
    c_out, cig, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    win = sliding_window_view(xp, (span_h, span_w), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]  # (n, c, ho, wo, kh, kw)
    ho, wo = win.shape[2], win.shape[3]
    win = win.reshape(n, groups, cig, ho, wo, kh, kw)
    wg = w.reshape(groups, c_out // groups, cig, kh, kw)
    y = np.einsum("ngchwij,gocij->ngohw", win, wg).reshape(n, c_out, ho, wo)
    if b is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return y


def conv_transpose_oracle(x, w, b, stride, padding, output_padding, dilation, groups):
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    n, c_in, h, wd = x.shape
    _, cog, kh, kw = w.shape
    cig = c_in // groups
    # 1. spread the input: stride-1 zeros between pixels
    xd = np.zeros((n, c_in, (h - 1) * sh + 1, (wd - 1) * sw + 1))
    xd[:, :, ::sh, ::sw] = x
    # 2. pad (or crop when negative) by dilation*(k-1) - padding, + output_padding at the end
    t = dh * (kh - 1) - ph
    l_ = dw * (kw - 1) - pw
    pads = (t, t + oph, l_, l_ + opw)
    xd = np.pad(xd, ((0, 0), (0, 0), (max(pads[0], 0), max(pads[1], 0)), (max(pads[2], 0), max(pads[3], 0))))
    hh, ww = xd.shape[2], xd.shape[3]
    xd = xd[:, :, max(-pads[0], 0) : hh - max(-pads[1], 0), max(-pads[2], 0) : ww - max(-pads[3], 0)]
    # 3. equivalent forward kernel: flip spatially, swap in/out channels within each group
    wf = w.reshape(groups, cig, cog, kh, kw)[:, :, :, ::-1, ::-1]
    wc = wf.transpose(0, 2, 1, 3, 4).reshape(groups * cog, cig, kh, kw)
    return conv_oracle(xd, wc, b, (1, 1), (0, 0, 0, 0), (dh, dw), groups)


# ----------------------------------------------------------------------------- strategies


@st.composite
def conv_configs(draw):
    groups = draw(st.integers(1, 3))
    cig = draw(st.integers(1, 3))
    cog = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pads = tuple(draw(st.integers(0, 3)) for _ in range(4))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    # valid by construction: the padded input holds at least one dilated kernel
    h = draw(st.integers(max(1, span_h - pads[0] - pads[1]), span_h + 7))
    w = draw(st.integers(max(1, span_w - pads[2] - pads[3]), span_w + 7))
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    return dict(
        n=n,
        groups=groups,
        cig=cig,
        cog=cog,
        k=(kh, kw),
        dilation=(dh, dw),
        stride=(sh, sw),
        pads=pads,
        hw=(h, w),
        bias=bias,
        seed=seed,
    )


def make_conv_arrays(cfg, dtype=np.float32):
    rng = np.random.default_rng(cfg["seed"])
    g = cfg["groups"]
    x = rng.standard_normal((cfg["n"], g * cfg["cig"], *cfg["hw"])).astype(dtype)
    w = rng.standard_normal((g * cfg["cog"], cfg["cig"], *cfg["k"])).astype(dtype)
    b = rng.standard_normal(g * cfg["cog"]).astype(dtype) if cfg["bias"] else None
    return x, w, b


@st.composite
def conv_transpose_configs(draw):
    groups = draw(st.integers(1, 3))
    cig = draw(st.integers(1, 3))
    cog = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    # output_padding < max(stride, dilation) (torch's rule)
    oph = draw(st.integers(0, max(sh, dh) - 1))
    opw = draw(st.integers(0, max(sw, dw) - 1))
    # padding small enough that the output is non-empty
    full_h = (h - 1) * sh + dh * (kh - 1) + oph + 1
    full_w = (w - 1) * sw + dw * (kw - 1) + opw + 1
    ph = draw(st.integers(0, min(3, (full_h - 1) // 2)))
    pw = draw(st.integers(0, min(3, (full_w - 1) // 2)))
    return dict(
        n=draw(st.integers(1, 2)),
        groups=groups,
        cig=cig,
        cog=cog,
        k=(kh, kw),
        dilation=(dh, dw),
        stride=(sh, sw),
        padding=(ph, pw),
        output_padding=(oph, opw),
        hw=(h, w),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def make_conv_transpose_arrays(cfg):
    rng = np.random.default_rng(cfg["seed"])
    g = cfg["groups"]
    x = rng.standard_normal((cfg["n"], g * cfg["cig"], *cfg["hw"])).astype(np.float32)
    w = rng.standard_normal((g * cfg["cig"], cfg["cog"], *cfg["k"])).astype(np.float32)
    b = rng.standard_normal(g * cfg["cog"]).astype(np.float32) if cfg["bias"] else None
    return x, w, b


# ----------------------------------------------------------------------------- the course example

IMAGE_6X6 = [
    [3, 0, 1, 2, 7, 4],
    [1, 5, 8, 9, 3, 1],
    [2, 7, 2, 5, 1, 3],
    [0, 1, 3, 1, 7, 8],
    [4, 2, 1, 6, 2, 8],
    [2, 4, 5, 2, 3, 9],
]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
EXPECTED_4X4 = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]


def test_course_vertical_edge_example_is_exact():
    x = np.array(IMAGE_6X6, dtype=np.float32).reshape(1, 1, 6, 6)
    w = np.array(VERTICAL_EDGE, dtype=np.float32).reshape(1, 1, 3, 3)
    out = np.full((1, 1, 4, 4), np.nan, dtype=np.float32)
    macs = conv2d_nchw(x, w, None, out)
    np.testing.assert_array_equal(out[0, 0], np.array(EXPECTED_4X4, dtype=np.float32))
    assert macs == 4 * 4 * 9 == 144
    assert isinstance(macs, int)


# ----------------------------------------------------------------------------- MAC counts by hand


def _conv_macs(x_shape, w_shape, out_shape, **kw):
    x = np.ones(x_shape, np.float32)
    w = np.ones(w_shape, np.float32)
    out = np.empty(out_shape, np.float32)
    return conv2d_nchw(x, w, None, out, **kw)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "out_shape", "kwargs", "expected"),
    [
        # two 3x3x3 filters over a 6x6x3 image, no padding: 4x4 outputs
        ((1, 3, 6, 6), (2, 3, 3, 3), (1, 2, 4, 4), {}, 1 * 2 * 4 * 4 * 3 * 3 * 3),
        # same with 'same' padding 1: 6x6 outputs, taps on the zero border count too
        ((1, 3, 6, 6), (2, 3, 3, 3), (1, 2, 6, 6), {"padding": 1}, 1 * 2 * 6 * 6 * 3 * 3 * 3),
        # batch 2, groups 2, stride 2, pad 1 on 7x7: 4x4 outputs, 2 input channels per group
        (
            (2, 4, 7, 7),
            (6, 2, 3, 3),
            (2, 6, 4, 4),
            {"stride": 2, "padding": 1, "groups": 2},
            2 * 6 * 4 * 4 * 2 * 3 * 3,
        ),
        # depthwise 3x3 on 8 channels 5x5, pad 1
        (
            (1, 8, 5, 5),
            (8, 1, 3, 3),
            (1, 8, 5, 5),
            {"padding": 1, "groups": 8},
            1 * 8 * 5 * 5 * 1 * 3 * 3,
        ),
        # TF 'same' with an even kernel: pad only bottom/right by 1
        (
            (1, 1, 5, 5),
            (1, 1, 2, 2),
            (1, 1, 5, 5),
            {"padding": (0, 1, 0, 1)},
            1 * 1 * 5 * 5 * 1 * 2 * 2,
        ),
        # dilation 2 (5x5 effective) on 9x9: 5x5 outputs
        ((1, 2, 9, 9), (3, 2, 3, 3), (1, 3, 5, 5), {"dilation": 2}, 1 * 3 * 5 * 5 * 2 * 3 * 3),
        # 1x1 convolution 4 -> 5 channels on 3x2
        ((1, 4, 3, 2), (5, 4, 1, 1), (1, 5, 3, 2), {}, 1 * 5 * 3 * 2 * 4),
        # 1x1 stride 2 (ResNet downsample) on 5x5: 3x3 outputs
        ((1, 4, 5, 5), (8, 4, 1, 1), (1, 8, 3, 3), {"stride": 2}, 1 * 8 * 3 * 3 * 4),
        # ResNet stem: 7x7/2 pad 3, 3 -> 64 on 224x224
        (
            (1, 3, 224, 224),
            (64, 3, 7, 7),
            (1, 64, 112, 112),
            {"stride": 2, "padding": 3},
            118_013_952,
        ),
    ],
)
def test_conv_mac_count_by_hand(x_shape, w_shape, out_shape, kwargs, expected):
    assert _conv_macs(x_shape, w_shape, out_shape, **kwargs) == expected


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "out_shape", "kwargs", "expected"),
    [
        # every one of 1*2*3*3 inputs scatters into 4 output channels x 3x3 taps
        ((1, 2, 3, 3), (2, 4, 3, 3), (1, 4, 7, 7), {"stride": 2}, 1 * 2 * 3 * 3 * 4 * 3 * 3),
        # padding 1 crops the border but the cropped taps were still executed
        (
            (1, 2, 3, 3),
            (2, 4, 3, 3),
            (1, 4, 5, 5),
            {"stride": 2, "padding": 1},
            1 * 2 * 3 * 3 * 4 * 3 * 3,
        ),
        # groups 2: C_out/groups = 3 outputs per input channel, 2x2 taps, batch 2
        (
            (2, 4, 3, 3),
            (4, 3, 2, 2),
            (2, 6, 6, 6),
            {"stride": 2, "groups": 2},
            2 * 4 * 3 * 3 * 3 * 2 * 2,
        ),
        # output_padding adds a row/column no input reaches: no extra MACs
        (
            (1, 1, 4, 4),
            (1, 1, 3, 3),
            (1, 1, 8, 8),
            {"stride": 2, "padding": 1, "output_padding": 1},
            1 * 1 * 4 * 4 * 1 * 3 * 3,
        ),
    ],
)
def test_conv_transpose_mac_count_by_hand(x_shape, w_shape, out_shape, kwargs, expected):
    x = np.ones(x_shape, np.float32)
    w = np.ones(w_shape, np.float32)
    out = np.empty(out_shape, np.float32)
    assert conv_transpose2d_nchw(x, w, None, out, **kwargs) == expected


# ----------------------------------------------------------------------------- numeric tables


@settings(max_examples=60, deadline=None)
@given(conv_configs())
def test_conv2d_matches_numpy_oracle(cfg):
    x, w, b = make_conv_arrays(cfg)
    ref = conv_oracle(x, w, b, cfg["stride"], cfg["pads"], cfg["dilation"], cfg["groups"])
    out = np.full(ref.shape, np.nan, dtype=np.float32)
    macs = conv2d_nchw(x, w, b, out, cfg["stride"], cfg["pads"], cfg["dilation"], cfg["groups"])
    np.testing.assert_allclose(out, ref, rtol=RTOL, atol=ATOL)
    n, c_out, ho, wo = ref.shape
    kh, kw = cfg["k"]
    assert macs == n * c_out * ho * wo * cfg["cig"] * kh * kw


@settings(max_examples=60, deadline=None)
@given(conv_transpose_configs())
def test_conv_transpose2d_matches_numpy_oracle(cfg):
    x, w, b = make_conv_transpose_arrays(cfg)
    ref = conv_transpose_oracle(
        x,
        w,
        b,
        cfg["stride"],
        cfg["padding"],
        cfg["output_padding"],
        cfg["dilation"],
        cfg["groups"],
    )
    out = np.full(ref.shape, np.nan, dtype=np.float32)
    macs = conv_transpose2d_nchw(
        x,
        w,
        b,
        out,
        cfg["stride"],
        cfg["padding"],
        cfg["output_padding"],
        cfg["dilation"],
        cfg["groups"],
    )
    np.testing.assert_allclose(out, ref, rtol=RTOL, atol=ATOL)
    n, c_in, h, wd = x.shape
    kh, kw = cfg["k"]
    assert macs == n * c_in * h * wd * cfg["cog"] * kh * kw


def test_conv2d_float64_and_noncontiguous_input():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 4, 9, 8))
    w = rng.standard_normal((2, 4, 3, 2))
    b = rng.standard_normal(2)
    ref = conv_oracle(x, w, b, (2, 1), (1, 0, 2, 1), (1, 2), 1)
    out = np.empty(ref.shape)
    conv2d_nchw(x, w, b, out, (2, 1), (1, 0, 2, 1), (1, 2), 1)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    # a transposed (non-contiguous) float32 view is copied, not misread
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).astype(np.float32).transpose(0, 1, 3, 2)
    assert not xt.flags.c_contiguous
    out32 = np.empty(ref.shape, np.float32)
    conv2d_nchw(xt, w.astype(np.float32), b.astype(np.float32), out32, (2, 1), (1, 0, 2, 1), (1, 2), 1)
    np.testing.assert_allclose(out32, ref, rtol=1e-4, atol=1e-4)


def test_conv_padding_forms_agree():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 5, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    outs = []
    for padding in (1, (1, 1), (1, 1, 1, 1)):
        out = np.empty((1, 3, 5, 6), np.float32)
        conv2d_nchw(x, w, None, out, padding=padding)
        outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


# ----------------------------------------------------------------------------- torch oracle


@settings(max_examples=40, deadline=None)
@given(conv_configs())
def test_conv2d_matches_torch(cfg):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x, w, b = make_conv_arrays(cfg)
    top, bottom, left, right = cfg["pads"]
    xt = F.pad(torch.from_numpy(x), (left, right, top, bottom))
    ref = F.conv2d(
        xt,
        torch.from_numpy(w),
        None if b is None else torch.from_numpy(b),
        cfg["stride"],
        0,
        cfg["dilation"],
        cfg["groups"],
    ).numpy()
    out = np.empty(ref.shape, dtype=np.float32)
    conv2d_nchw(x, w, b, out, cfg["stride"], cfg["pads"], cfg["dilation"], cfg["groups"])
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(conv_transpose_configs())
def test_conv_transpose2d_matches_torch(cfg):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x, w, b = make_conv_transpose_arrays(cfg)
    ref = F.conv_transpose2d(
        torch.from_numpy(x),
        torch.from_numpy(w),
        None if b is None else torch.from_numpy(b),
        cfg["stride"],
        cfg["padding"],
        cfg["output_padding"],
        cfg["groups"],
        cfg["dilation"],
    ).numpy()
    out = np.empty(ref.shape, dtype=np.float32)
    conv_transpose2d_nchw(
        x,
        w,
        b,
        out,
        cfg["stride"],
        cfg["padding"],
        cfg["output_padding"],
        cfg["dilation"],
        cfg["groups"],
    )
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
