"""Pooling kernels against independent NumPy formulations (and torch when importable).

Oracle idea: enumerate the window starts directly (t = o*stride - pad), pad the input
explicitly (-inf for max, 0 for avg) far enough for every window (ceil mode can run past
the padded border), reduce each window with ``sliding_window_view``; the avg divisor is
the window sum of an explicit 0/1 mask of the cells that count.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from cnncalc.kernels.pool import (
    adaptive_avg_pool2d_nchw,
    adaptive_max_pool2d_nchw,
    avg_pool2d_nchw,
    max_pool2d_nchw,
)


def window_starts(length, k, s, p, d, ceil_mode):
    """Starts t (in input coordinates) of torch's pooling windows along one axis."""
    span = d * (k - 1) + 1
    starts = []
    o = 0
    while True:
        t = o * s - p
        end = t + span  # exclusive
        if end <= length + p:
            starts.append(t)  # fits in the padded input: always a window
        elif ceil_mode and t < length and end - (length + p) < s:
            starts.append(t)  # ceil mode: partial last window that starts in input/left pad
        else:
            break
        o += 1
    return starts


def _padded(x, fill, p_h, p_w, need_h, need_w):
    """Pad left/top by p, right/bottom as much as the windows need (>= p)."""
    _, _, h, w = x.shape
    extra_h = max(p_h, need_h - h - p_h)
    extra_w = max(p_w, need_w - w - p_w)
    return np.pad(x, ((0, 0), (0, 0), (p_h, extra_h), (p_w, extra_w)), constant_values=fill)


def max_pool_oracle(x, k, s, p, d, ceil_mode):
    sh_ = window_starts(x.shape[2], k[0], s[0], p[0], d[0], ceil_mode)
    sw_ = window_starts(x.shape[3], k[1], s[1], p[1], d[1], ceil_mode)
    span = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    xp = _padded(
        x.astype(np.float64),
        -np.inf,
        p[0],
        p[1],
        sh_[-1] + p[0] + span[0],
        sw_[-1] + p[1] + span[1],
    )
    win = sliding_window_view(xp, span, axis=(2, 3))[:, :, :, :, :: d[0], :: d[1]]
    rows = np.array(sh_) + p[0]
    cols = np.array(sw_) + p[1]
    return win[:, :, rows][:, :, :, cols].max(axis=(4, 5))


def avg_pool_oracle(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    h, w = x.shape[2:]
    sh_ = window_starts(h, k[0], s[0], p[0], 1, ceil_mode)
    sw_ = window_starts(w, k[1], s[1], p[1], 1, ceil_mode)
    need_h, need_w = sh_[-1] + p[0] + k[0], sw_[-1] + p[1] + k[1]
    xp = _padded(x.astype(np.float64), 0.0, p[0], p[1], need_h, need_w)
    # mask of the cells that count in the divisor
    mask = np.zeros(xp.shape[2:])
    if count_include_pad:
        mask[: h + 2 * p[0], : w + 2 * p[1]] = 1.0  # input and its padding, not beyond
    else:
        mask[p[0] : p[0] + h, p[1] : p[1] + w] = 1.0
    rows, cols = np.array(sh_) + p[0], np.array(sw_) + p[1]
    sums = sliding_window_view(xp, k, axis=(2, 3))[:, :, rows][:, :, :, cols].sum(axis=(4, 5))
    counts = sliding_window_view(mask, k)[rows][:, cols].sum(axis=(2, 3))
    divisor = divisor_override if divisor_override is not None else counts
    return sums / divisor


@st.composite
def pool_configs(draw, with_dilation):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))  # torch's rule
    dh, dw = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if with_dilation else (1, 1)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = draw(st.integers(max(1, span_h - 2 * ph), span_h + 8))
    w = draw(st.integers(max(1, span_w - 2 * pw), span_w + 8))
    return dict(
        k=(kh, kw),
        s=(sh, sw),
        p=(ph, pw),
        d=(dh, dw),
        hw=(h, w),
        n=draw(st.integers(1, 2)),
        c=draw(st.integers(1, 3)),
        ceil_mode=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def _x(cfg):
    rng = np.random.default_rng(cfg["seed"])
    return rng.standard_normal((cfg["n"], cfg["c"], *cfg["hw"])).astype(np.float32)


# ----------------------------------------------------------------------------- hand examples


def test_max_pool_ceil_mode_hand_example():
    # 1x1x5x5 = 0..24, kernel 2, stride 2: floor mode 2x2; ceil mode 3x3 (partial edge windows)
    x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
    out = np.empty((1, 1, 2, 2), np.float32)
    assert max_pool2d_nchw(x, out, 2, 2) == 0
    np.testing.assert_array_equal(out[0, 0], [[6, 8], [16, 18]])
    out = np.empty((1, 1, 3, 3), np.float32)
    max_pool2d_nchw(x, out, 2, 2, ceil_mode=True)
    np.testing.assert_array_equal(out[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])


def test_avg_pool_divisors_hand_example():
    # ones 1x1x3x3, kernel 2, stride 2, pad 1, ceil_mode: windows start at -1 and 1 (2x2)
    x = np.ones((1, 1, 3, 3), np.float32)
    out = np.empty((1, 1, 2, 2), np.float32)
    avg_pool2d_nchw(x, out, 2, 2, 1, ceil_mode=True, count_include_pad=True)
    # corner window (-1..0)^2 holds 1 real cell out of 4 padded cells
    np.testing.assert_allclose(out[0, 0], [[1 / 4, 2 / 4], [2 / 4, 4 / 4]])
    avg_pool2d_nchw(x, out, 2, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(out[0, 0], np.ones((2, 2)))
    avg_pool2d_nchw(x, out, 2, 2, 1, ceil_mode=True, divisor_override=3)
    np.testing.assert_allclose(out[0, 0], [[1 / 3, 2 / 3], [2 / 3, 4 / 3]])


def test_avg_pool_ceil_cells_beyond_padding_are_not_counted():
    # 1x1x4x4 ones, kernel 3, stride 2, pad 1, ceil: out 3x3? (4+2-3)/2=1.5 -> ceil 2 +1 = 3,
    # last start 2*2-1 = 3 < 4 kept.  The last window covers rows 3..5: row 3 real, row 4 is
    # padding, row 5 is beyond the padded border -> counted cells per axis = 2.
    x = np.ones((1, 1, 4, 4), np.float32)
    out = np.empty((1, 1, 3, 3), np.float32)
    avg_pool2d_nchw(x, out, 3, 2, 1, ceil_mode=True, count_include_pad=True)
    assert out[0, 0, 2, 2] == pytest.approx(1 / (2 * 2))
    assert out[0, 0, 0, 0] == pytest.approx(4 / 9)


# ----------------------------------------------------------------------------- numpy oracle


@settings(max_examples=60, deadline=None)
@given(pool_configs(with_dilation=True))
def test_max_pool_matches_numpy_oracle(cfg):
    x = _x(cfg)
    ref = max_pool_oracle(x, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil_mode"])
    out = np.full(ref.shape, np.nan, np.float32)
    assert max_pool2d_nchw(x, out, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil_mode"]) == 0
    np.testing.assert_array_equal(out, ref.astype(np.float32))


@settings(max_examples=60, deadline=None)
@given(pool_configs(with_dilation=False), st.booleans(), st.sampled_from([None, 1, 2, 5]))
def test_avg_pool_matches_numpy_oracle(cfg, count_include_pad, divisor_override):
    x = _x(cfg)
    ref = avg_pool_oracle(
        x, cfg["k"], cfg["s"], cfg["p"], cfg["ceil_mode"], count_include_pad, divisor_override
    )
    out = np.full(ref.shape, np.nan, np.float32)
    r = avg_pool2d_nchw(
        x, out, cfg["k"], cfg["s"], cfg["p"], cfg["ceil_mode"], count_include_pad, divisor_override
    )
    assert r == 0
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def adaptive_oracle(x, ho, wo, reduce):
    n, c, h, w = x.shape
    y = np.empty((n, c, ho, wo))
    for i in range(ho):
        r0, r1 = math.floor(i * h / ho), math.ceil((i + 1) * h / ho)
        for j in range(wo):
            c0, c1 = math.floor(j * w / wo), math.ceil((j + 1) * w / wo)
            y[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1].astype(np.float64), axis=(2, 3))
    return y


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(0, 2**32 - 1),
)
def test_adaptive_pools_match_numpy_oracle(h, w, ho, wo, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w)).astype(np.float32)
    out = np.full((2, 3, ho, wo), np.nan, np.float32)
    assert adaptive_avg_pool2d_nchw(x, out) == 0
    np.testing.assert_allclose(out, adaptive_oracle(x, ho, wo, np.mean), rtol=1e-5, atol=1e-6)
    assert adaptive_max_pool2d_nchw(x, out) == 0
    np.testing.assert_array_equal(out, adaptive_oracle(x, ho, wo, np.max).astype(np.float32))


def test_max_pool_propagates_nan():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = np.nan
    out = np.empty((1, 1, 2, 2), np.float32)
    max_pool2d_nchw(x, out, 2, 2)
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


# ----------------------------------------------------------------------------- torch oracle


@settings(max_examples=50, deadline=None)
@given(pool_configs(with_dilation=True))
def test_max_pool_matches_torch(cfg):
    torch = pytest.importorskip("torch")
    x = _x(cfg)
    ref = torch.nn.functional.max_pool2d(
        torch.from_numpy(x), cfg["k"], cfg["s"], cfg["p"], cfg["d"], ceil_mode=cfg["ceil_mode"]
    ).numpy()
    out = np.empty(ref.shape, np.float32)
    max_pool2d_nchw(x, out, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil_mode"])
    np.testing.assert_array_equal(out, ref)


@settings(max_examples=60, deadline=None)
@given(pool_configs(with_dilation=False), st.booleans(), st.sampled_from([None, 1, 2, 5]))
def test_avg_pool_matches_torch(cfg, count_include_pad, divisor_override):
    torch = pytest.importorskip("torch")
    x = _x(cfg)
    ref = torch.nn.functional.avg_pool2d(
        torch.from_numpy(x),
        cfg["k"],
        cfg["s"],
        cfg["p"],
        cfg["ceil_mode"],
        count_include_pad,
        divisor_override,
    ).numpy()
    out = np.empty(ref.shape, np.float32)
    avg_pool2d_nchw(
        x, out, cfg["k"], cfg["s"], cfg["p"], cfg["ceil_mode"], count_include_pad, divisor_override
    )
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 11),
    st.integers(1, 11),
    st.integers(1, 7),
    st.integers(1, 7),
    st.integers(0, 2**32 - 1),
)
def test_adaptive_pools_match_torch(h, w, ho, wo, seed):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w)).astype(np.float32)
    out = np.empty((1, 2, ho, wo), np.float32)
    adaptive_avg_pool2d_nchw(x, out)
    ref = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(x), (ho, wo)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    adaptive_max_pool2d_nchw(x, out)
    ref = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(x), (ho, wo)).numpy()
    np.testing.assert_array_equal(out, ref)
