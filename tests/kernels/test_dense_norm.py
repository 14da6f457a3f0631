"""linear, batch_norm2d_nchw and local_response_norm_nchw against explicit formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.kernels.dense import linear
from cnncalc.kernels.norm import batch_norm2d_nchw, local_response_norm_nchw

seeds = st.integers(0, 2**32 - 1)


# ----------------------------------------------------------------------------- linear


@pytest.mark.parametrize(
    ("x_shape", "out_features", "expected"),
    [
        ((7,), 3, 1 * 7 * 3),  # a single vector
        ((5, 7), 3, 5 * 7 * 3),  # 5 rows
        ((2, 4, 7), 3, 2 * 4 * 7 * 3),  # leading dims flatten to 8 rows
        ((1, 2048), 1000, 2_048_000),  # ResNet-50 fc
    ],
)
def test_linear_mac_count_by_hand(x_shape, out_features, expected):
    x = np.ones(x_shape, np.float32)
    w = np.ones((out_features, x_shape[-1]), np.float32)
    out = np.empty((*x_shape[:-1], out_features), np.float32)
    assert linear(x, w, np.zeros(out_features, np.float32), out) == expected
    np.testing.assert_array_equal(out, np.full(out.shape, x_shape[-1], np.float32))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=0, max_size=2),
    st.integers(1, 9),
    st.integers(1, 9),
    st.booleans(),
    seeds,
)
def test_linear_matches_explicit_sum(lead, n_in, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, n_in)).astype(np.float32)
    w = rng.standard_normal((n_out, n_in)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32) if bias else None
    ref = (x.astype(np.float64)[..., None, :] * w.astype(np.float64)).sum(axis=-1)
    if bias:
        ref = ref + b
    out = np.full(ref.shape, np.nan, np.float32)
    macs = linear(x, w, b, out)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    rows = int(np.prod(lead)) if lead else 1
    assert macs == rows * n_in * n_out


def test_linear_float64():
    x = np.arange(6.0).reshape(2, 3)
    w = np.array([[1.0, 0.0, -1.0]])
    out = np.empty((2, 1))
    assert linear(x, w, None, out) == 2 * 3 * 1
    np.testing.assert_array_equal(out, [[-2.0], [-2.0]])


# ----------------------------------------------------------------------------- batch norm


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 2), st.integers(1, 5), st.integers(1, 6), st.integers(1, 6), st.booleans(), seeds)
def test_batch_norm_matches_formula(n, c, h, w, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    gamma = rng.uniform(0.5, 2, c).astype(np.float32) if affine else None
    beta = rng.standard_normal(c).astype(np.float32) if affine else None
    mean = rng.standard_normal(c).astype(np.float32)
    var = rng.uniform(0.1, 3, c).astype(np.float32)
    eps = 1e-3
    ref = (x - mean[:, None, None].astype(np.float64)) / np.sqrt(var[:, None, None].astype(np.float64) + eps)
    if affine:
        ref = ref * gamma[:, None, None] + beta[:, None, None]
    out = np.empty_like(x)
    assert batch_norm2d_nchw(x, gamma, beta, mean, var, eps, out) == 0
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    # in place gives the same result
    assert batch_norm2d_nchw(x, gamma, beta, mean, var, eps, x) == 0
    np.testing.assert_array_equal(x, out)


def test_batch_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    g, b, m = (rng.standard_normal(4).astype(np.float32) for _ in range(3))
    v = rng.uniform(0.2, 2, 4).astype(np.float32)
    ref = torch.nn.functional.batch_norm(
        torch.from_numpy(x),
        torch.from_numpy(m),
        torch.from_numpy(v),
        torch.from_numpy(g),
        torch.from_numpy(b),
        False,
        0.1,
        1e-5,
    ).numpy()
    out = np.empty_like(x)
    batch_norm2d_nchw(x, g, b, m, v, 1e-5, out)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- LRN


def lrn_oracle(x, size, alpha, beta, k):
    """Explicit channel loop with the torch window [c - size//2, c + (size-1)//2]."""
    x64 = x.astype(np.float64)
    c_total = x.shape[1]
    out = np.empty_like(x64)
    for c in range(c_total):
        lo, hi = c - size // 2, c + (size - 1) // 2
        s = sum(x64[:, cc] ** 2 for cc in range(lo, hi + 1) if 0 <= cc < c_total)
        out[:, c] = x64[:, c] / (k + alpha / size * s) ** beta
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 7),
    st.sampled_from([1e-4, 0.1, 1.0]),
    st.sampled_from([0.75, 0.5, 1.0]),
    st.sampled_from([1.0, 2.0]),
    seeds,
)
def test_lrn_matches_oracle(c, size, alpha, beta, k, seed):
    x = np.random.default_rng(seed).standard_normal((2, c, 3, 4)).astype(np.float32)
    out = np.empty_like(x)
    assert local_response_norm_nchw(x, size, alpha, beta, k, out) == 0
    np.testing.assert_allclose(out, lrn_oracle(x, size, alpha, beta, k), rtol=1e-5, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 7),
    st.sampled_from([1e-4, 0.1, 1.0]),
    st.sampled_from([0.75, 0.5]),
    st.sampled_from([1.0, 2.0]),
    seeds,
)
def test_lrn_matches_torch(c, size, alpha, beta, k, seed):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(seed).standard_normal((2, c, 3, 4)).astype(np.float32)
    ref = torch.nn.functional.local_response_norm(torch.from_numpy(x), size, alpha, beta, k).numpy()
    out = np.empty_like(x)
    local_response_norm_nchw(x, size, alpha, beta, k, out)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
