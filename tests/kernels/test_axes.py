"""mean_axes, permute, scale_axis, layer_norm, layer_norm2d_nchw and linear over an axis,
against NumPy formulations of their own (np.mean, np.transpose, broadcasting, einsum)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.kernels.axes import mean_axes, permute, scale_axis
from cnncalc.kernels.dense import linear
from cnncalc.kernels.norm import layer_norm, layer_norm2d_nchw

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=5).map(tuple)


@settings(max_examples=40, deadline=None)
@given(shapes, st.data(), seeds)
def test_mean_matches_numpy(shape, data, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    keepdim = data.draw(st.booleans())
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    written = [a - len(shape) if data.draw(st.booleans()) else a for a in axes]
    ref = x.astype(np.float64).mean(axis=tuple(axes), keepdims=keepdim)
    out = np.full(ref.shape, np.nan, np.float32)
    assert mean_axes(x, written, keepdim, out) == 0
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_mean_by_hand():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    out = np.empty((2, 4), np.float32)
    mean_axes(x, [1], False, out)
    # x[0, :, 0] = 0, 4, 8: mean 4; x[1, :, 3] = 15, 19, 23: mean 19
    assert out[0, 0] == 4.0 and out[1, 3] == 19.0


@settings(max_examples=40, deadline=None)
@given(shapes, st.data(), seeds)
def test_permute_matches_numpy(shape, data, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    order = data.draw(st.permutations(range(len(shape))))
    ref = np.transpose(x, order)
    out = np.empty(ref.shape, np.float32)
    assert permute(x, [d - len(shape) for d in order], out) == 0
    np.testing.assert_array_equal(out, ref)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple), st.data(), seeds)
def test_scale_axis_matches_broadcasting(shape, data, seed):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(0, len(shape) - 1))
    x = rng.standard_normal(shape).astype(np.float32)
    scale = rng.standard_normal((shape[axis],) + (1,) * (len(shape) - axis - 1)).astype(np.float32)
    out = np.empty_like(x)
    assert scale_axis(x, scale, axis, out) == 0
    np.testing.assert_array_equal(out, x * scale)


def _layer_norm_reference(x, axes, gamma, beta, eps):
    """Centred, divided by sqrt(biased variance + eps), in float64."""
    x = x.astype(np.float64)
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple), st.data(), st.booleans(), seeds)
def test_layer_norm_matches_formula(shape, data, affine, seed):
    rng = np.random.default_rng(seed)
    k = data.draw(st.integers(1, len(shape)))
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    normalized = shape[len(shape) - k :]
    gamma = rng.standard_normal(normalized).astype(np.float32) if affine else None
    beta = rng.standard_normal(normalized).astype(np.float32) if affine else None
    axes = tuple(range(len(shape) - k, len(shape)))
    ref = _layer_norm_reference(x, axes, 1.0 if gamma is None else gamma, 0.0 if beta is None else beta, 1e-5)
    out = np.empty_like(x)
    assert layer_norm(x, k, gamma, beta, 1e-5, out) == 0
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_layer_norm_by_hand():
    # [1, 3]: mean 2, biased variance 1; with eps 0 (not allowed) it would be [-1, 1]
    x = np.array([[1.0, 3.0]], np.float32)
    out = np.empty_like(x)
    layer_norm(x, 1, None, None, 1e-12, out)
    np.testing.assert_allclose(out, [[-1.0, 1.0]], rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.tuples(*[st.integers(1, 4)] * 4), st.booleans(), seeds)
def test_layer_norm2d_normalises_the_channels(shape, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    c = shape[1]
    gamma = rng.standard_normal(c).astype(np.float32) if affine else None
    beta = rng.standard_normal(c).astype(np.float32) if affine else None
    g = 1.0 if gamma is None else gamma[:, None, None]
    b = 0.0 if beta is None else beta[:, None, None]
    ref = _layer_norm_reference(x, (1,), g, b, 1e-6)
    out = np.empty_like(x)
    assert layer_norm2d_nchw(x, gamma, beta, 1e-6, out) == 0
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple), st.data(), st.integers(1, 6), seeds)
def test_linear_over_an_axis_matches_einsum(shape, data, n_out, seed):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(0, len(shape) - 1))
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((n_out, shape[axis])).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    ref = np.moveaxis(
        np.einsum("...i,oi->...o", np.moveaxis(x.astype(np.float64), axis, -1), w) + b, -1, axis
    )
    out = np.empty(ref.shape, np.float32)
    macs = linear(x, w, b, out, axis - len(shape) if data.draw(st.booleans()) else axis)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    assert macs == x.size * n_out  # every input value meets every output feature once


def test_linear_over_channels_by_hand():
    # (1, 2, 1, 3) over axis 1 with w = [[1, 1]]: each position's two channels summed
    x = np.array([[[[1, 2, 3]], [[10, 20, 30]]]], np.float32)
    out = np.empty((1, 1, 1, 3), np.float32)
    assert linear(x, np.ones((1, 2), np.float32), None, out, 1) == 3 * 2 * 1
    np.testing.assert_array_equal(out, [[[[11, 22, 33]]]])


F32 = np.float32


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: mean_axes(np.ones((2, 3), F32), [2], False, np.empty(2, F32)),
            r"axes\[0\] 2 is out of range",
        ),
        (lambda: mean_axes(np.ones((2, 3), F32), [1, -1], False, np.empty(2, F32)), r"name an axis twice"),
        (lambda: mean_axes(np.ones((2, 3), F32), [], False, np.empty(2, F32)), r"non-empty sequence"),
        (lambda: permute(np.ones((2, 3), F32), [0], np.empty((2, 3), F32)), r"list each of the 2 axes once"),
        (lambda: permute(np.ones((2, 3), F32), [1, -1], np.empty((3, 3), F32)), r"not a permutation"),
        (
            lambda: scale_axis(np.ones((2, 3), F32), np.ones(2, F32), 1, np.empty((2, 3), F32)),
            r"scale has 2 values but axis 1 of x has size 3",
        ),
        (
            lambda: layer_norm(np.ones((2, 3), F32), 3, None, None, 1e-5, np.empty((2, 3), F32)),
            r"normalized_ndim=3 exceeds the 2 axes",
        ),
        (
            lambda: layer_norm(np.ones((2, 3), F32), 1, np.ones(2, F32), None, 1e-5, np.empty((2, 3), F32)),
            r"gamma has shape \(2,\) but the normalized shape \(3,\) has 3 values",
        ),
        (
            lambda: layer_norm2d_nchw(
                np.ones((1, 2, 1, 1), F32), None, None, 0.0, np.empty((1, 2, 1, 1), F32)
            ),
            r"eps must be positive",
        ),
        (
            lambda: linear(np.ones((2, 3, 4), F32), np.ones((5, 4), F32), None, np.empty((2, 5, 4), F32), 1),
            r"x.shape\[1\]=3 must equal in_features=4",
        ),
        (
            lambda: linear(np.ones((2, 3), F32), np.ones((5, 3), F32), None, np.empty((2, 5), F32), 2),
            r"axis 2 is out of range for a 2-D x",
        ),
    ],
)
def test_invalid_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
