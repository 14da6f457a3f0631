"""add / mul_broadcast / concat / split / flatten / pad / shuffle / upsampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.kernels import shape_ops as so

seeds = st.integers(0, 2**32 - 1)
dims = st.integers(1, 5)


def _rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@settings(max_examples=25, deadline=None)
@given(st.lists(dims, min_size=1, max_size=4), st.integers(1, 4), seeds)
def test_add_matches_numpy(shape, k, seed):
    arrays = [_rand(shape, seed + i) for i in range(k)]
    out = np.empty(shape, np.float32)
    assert so.add(arrays, out) == 0
    np.testing.assert_allclose(out, np.sum(np.stack(arrays).astype(np.float64), axis=0), rtol=1e-6, atol=1e-6)


def test_add_two_array_form_and_in_place():
    a, b = _rand((2, 3, 4, 4), 1), _rand((2, 3, 4, 4), 2)
    ref = a + b
    out = np.empty_like(a)
    assert so.add(a, b, out) == 0
    np.testing.assert_array_equal(out, ref)
    so.add((b, a), a)  # out is the second input: still a + b
    np.testing.assert_array_equal(a, ref)


@settings(max_examples=30, deadline=None)
@given(st.lists(dims, min_size=1, max_size=5), seeds, st.data())
def test_mul_broadcast_matches_numpy(shape, seed, data):
    # b gets 1 in a random subset of axes and possibly fewer leading axes
    b_shape = [1 if data.draw(st.booleans()) else s for s in shape]
    b_shape = b_shape[data.draw(st.integers(0, len(shape) - 1)) :]
    a, b = _rand(shape, seed), _rand(b_shape, seed + 1)
    if data.draw(st.booleans()):
        a, b = b, a
    ref = a.astype(np.float64) * b
    out = np.empty(ref.shape, np.float32)
    assert so.mul_broadcast(a, b, out) == 0
    np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_mul_broadcast_zero_dim_inputs():
    a, b = np.array(3.0, np.float32), np.array(-2.0, np.float32)
    out = np.empty((), np.float32)
    so.mul_broadcast(a, b, out)
    assert out == -6.0
    out = np.empty((2, 3), np.float32)
    so.mul_broadcast(a, np.ones((2, 3), np.float32), out)
    np.testing.assert_array_equal(out, np.full((2, 3), 3.0))


def test_mul_broadcast_squeeze_excitation_gating():
    x = _rand((2, 4, 3, 5), 0)
    gate = _rand((2, 4, 1, 1), 1)
    out = np.empty_like(x)
    so.mul_broadcast(x, gate, out)
    for n in range(2):
        for c in range(4):
            np.testing.assert_array_equal(out[n, c], x[n, c] * gate[n, c, 0, 0])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), dims, dims, seeds)
def test_concat_and_split_channels(channels, h, w, seed):
    parts = [_rand((2, c, h, w), seed + i) for i, c in enumerate(channels)]
    out = np.empty((2, sum(channels), h, w), np.float32)
    assert so.concat_channels(parts, out) == 0
    np.testing.assert_array_equal(out, np.concatenate(parts, axis=1))
    back = [np.empty_like(p) for p in parts]
    assert so.split_channels(out, back) == 0
    for p, q in zip(parts, back, strict=True):
        np.testing.assert_array_equal(p, q)


def test_flatten():
    x = _rand((2, 3, 4, 5), 0)
    out = np.empty((2, 60), np.float32)
    assert so.flatten(x, out) == 0
    np.testing.assert_array_equal(out[1, 20:40], x[1, 1].ravel())


@settings(max_examples=25, deadline=None)
@given(dims, dims, st.tuples(*[st.integers(0, 3)] * 4), seeds)
def test_zero_pad2d_matches_np_pad(h, w, pads, seed):
    top, bottom, left, right = pads
    x = _rand((2, 3, h, w), seed)
    out = np.full((2, 3, h + top + bottom, w + left + right), np.nan, np.float32)
    assert so.zero_pad2d(x, out, top, bottom, left, right) == 0
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right))))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), seeds)
def test_channel_shuffle(groups, per_group, seed):
    x = _rand((2, groups * per_group, 3, 2), seed)
    out = np.empty_like(x)
    assert so.channel_shuffle(x, groups, out) == 0
    # ShuffleNet: reading the output channels in order visits group 0's first channel,
    # group 1's first channel, ... i.e. out channel j*groups + i = in channel i*per_group + j
    for i in range(groups):
        for j in range(per_group):
            np.testing.assert_array_equal(out[:, j * groups + i], x[:, i * per_group + j])


def test_channel_shuffle_matches_torch():
    torch = pytest.importorskip("torch")
    x = _rand((2, 12, 3, 3), 4)
    out = np.empty_like(x)
    so.channel_shuffle(x, 3, out)
    ref = torch.nn.ChannelShuffle(3)(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(out, ref)


# ----------------------------------------------------------------------------- upsampling


@settings(max_examples=20, deadline=None)
@given(dims, dims, st.integers(1, 4), st.integers(1, 4), seeds)
def test_upsample_nearest_integer_factor_is_repeat(h, w, fh, fw, seed):
    x = _rand((1, 2, h, w), seed)
    out = np.empty((1, 2, h * fh, w * fw), np.float32)
    assert so.upsample_nearest2d(x, out) == 0
    np.testing.assert_array_equal(out, x.repeat(fh, axis=2).repeat(fw, axis=3))


def nearest_oracle(x, ho, wo):
    """torch's rule in float32 arithmetic: src = min(floor(d * float32(in/out)), in-1)."""
    h, w = x.shape[2:]
    rows = np.floor(np.arange(ho, dtype=np.float32) * (np.float32(h) / np.float32(ho)))
    cols = np.floor(np.arange(wo, dtype=np.float32) * (np.float32(w) / np.float32(wo)))
    rows = np.minimum(rows.astype(np.int64), h - 1)
    cols = np.minimum(cols.astype(np.int64), w - 1)
    return x[:, :, rows][:, :, :, cols]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 20), st.integers(1, 20), seeds)
def test_upsample_nearest_matches_oracle(h, w, ho, wo, seed):
    x = _rand((1, 2, h, w), seed)
    out = np.empty((1, 2, ho, wo), np.float32)
    so.upsample_nearest2d(x, out)
    np.testing.assert_array_equal(out, nearest_oracle(x, ho, wo))


def test_upsample_nearest_float32_rule_of_torch():
    # the exact integer rule floor(d*2/82) would give source 1 at d = 41; torch's float32
    # scale 2/82 rounds below 1/41, so it still reads source 0 there
    x = np.array([[[[10.0, 20.0]]]], np.float32)
    out = np.empty((1, 1, 1, 82), np.float32)
    so.upsample_nearest2d(x, out)
    idx = (np.arange(82) * 2) // 82
    assert (out[0, 0, 0] != x[0, 0, 0, idx]).sum() >= 1
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=(1, 82), mode="nearest")
    np.testing.assert_array_equal(out, ref.numpy())


def bilinear_oracle(x, ho, wo, align_corners):
    def axis(n_in, n_out):
        d = np.arange(n_out, dtype=np.float64)
        if align_corners:
            src = d * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
        else:
            src = np.maximum((d + 0.5) * (n_in / n_out) - 0.5, 0.0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0

    h0, h1, fh = axis(x.shape[2], ho)
    w0, w1, fw = axis(x.shape[3], wo)
    x = x.astype(np.float64)
    fh, fw = fh[:, None], fw[None, :]
    top = x[:, :, h0][:, :, :, w0] * (1 - fw) + x[:, :, h0][:, :, :, w1] * fw
    bot = x[:, :, h1][:, :, :, w0] * (1 - fw) + x[:, :, h1][:, :, :, w1] * fw
    return top * (1 - fh) + bot * fh


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 8),
    st.integers(1, 16),
    st.integers(1, 16),
    st.booleans(),
    seeds,
)
def test_upsample_bilinear_matches_oracle(h, w, ho, wo, align_corners, seed):
    x = _rand((1, 2, h, w), seed)
    out = np.empty((1, 2, ho, wo), np.float32)
    assert so.upsample_bilinear2d(x, out, align_corners) == 0
    np.testing.assert_allclose(out, bilinear_oracle(x, ho, wo, align_corners), rtol=1e-5, atol=1e-6)


def test_upsample_bilinear_hand_example():
    x = np.array([[[[0.0, 4.0]]]], np.float32)
    out = np.empty((1, 1, 1, 3), np.float32)
    so.upsample_bilinear2d(x, out, align_corners=True)
    np.testing.assert_allclose(out[0, 0, 0], [0.0, 2.0, 4.0])
    out = np.empty((1, 1, 1, 4), np.float32)
    so.upsample_bilinear2d(x, out, align_corners=False)
    # sources (d + 0.5)/2 - 0.5 = -0.25 -> 0, 0.25, 0.75, 1.25 -> clamped to the last pixel
    np.testing.assert_allclose(out[0, 0, 0], [0.0, 1.0, 3.0, 4.0])


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 8),
    st.integers(1, 16),
    st.integers(1, 16),
    st.booleans(),
    seeds,
)
def test_upsampling_matches_torch(h, w, ho, wo, align_corners, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = _rand((1, 2, h, w), seed)
    xt = torch.from_numpy(x)
    out = np.empty((1, 2, ho, wo), np.float32)
    so.upsample_bilinear2d(x, out, align_corners)
    ref = F.interpolate(xt, size=(ho, wo), mode="bilinear", align_corners=align_corners)
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-5, atol=1e-6)
    so.upsample_nearest2d(x, out)
    np.testing.assert_array_equal(out, F.interpolate(xt, size=(ho, wo), mode="nearest").numpy())
