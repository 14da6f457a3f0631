"""Activations and softmax against explicit float64 formulas (and torch when importable)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.kernels import elementwise as ew

_erf = np.vectorize(math.erf)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# name -> (kernel call, float64 formula, torch functional name or None)
ACTIVATIONS = {
    "relu": (ew.relu, lambda x: np.where(x > 0, x, 0.0), "relu"),
    "relu6": (ew.relu6, lambda x: np.clip(x, 0.0, 6.0), "relu6"),
    "leaky_relu": (
        lambda x, o: ew.leaky_relu(x, o, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        "leaky_relu",
    ),
    "sigmoid": (ew.sigmoid, _sig, "sigmoid"),
    "tanh": (ew.tanh, lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1), "tanh"),
    "hardsigmoid": (ew.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0.0, 1.0), "hardsigmoid"),
    "hardswish": (ew.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0.0, 1.0), "hardswish"),
    "silu": (ew.silu, lambda x: x * _sig(x), "silu"),
    "gelu": (ew.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), "gelu"),
}

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4)
seeds = st.integers(0, 2**32 - 1)


def _data(shape, seed):
    # spread over the interesting ranges (hardswish kinks at +-3, relu6 at 6)
    return (np.random.default_rng(seed).standard_normal(shape) * 4).astype(np.float32)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=seeds)
def test_activation_matches_formula(name, shape, seed):
    kernel, formula, _ = ACTIVATIONS[name]
    x = _data(shape, seed)
    out = np.full_like(x, np.nan)
    assert kernel(x, out) == 0
    np.testing.assert_allclose(out, formula(x.astype(np.float64)), rtol=2e-6, atol=2e-7)
    # in place is allowed
    y = x.copy()
    kernel(y, y)
    np.testing.assert_array_equal(y, out)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(name):
    torch = pytest.importorskip("torch")
    kernel, _, torch_name = ACTIVATIONS[name]
    x = _data((2, 3, 7, 5), 11)
    x.flat[:4] = [0.0, -3.0, 3.0, 6.0]  # kinks
    args = (0.2,) if name == "leaky_relu" else ()
    ref = getattr(torch.nn.functional, torch_name)(torch.from_numpy(x), *args).numpy()
    out = np.empty_like(x)
    kernel(x, out)
    # torch's vectorised float32 erf/exp are a few ulp off the exact value near zero
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_extreme_inputs_do_not_produce_nan():
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    out = np.empty_like(x)
    ew.sigmoid(x, out)
    np.testing.assert_allclose(out, [0, 0, 0.5, 1, 1], atol=1e-30)
    ew.silu(x, out)
    assert np.isfinite(out).all()


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=seeds, data=st.data())
def test_softmax_matches_formula(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = _data(shape, seed) * 10  # large logits: needs the max shift
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=axis, keepdims=True))
    ref = e / e.sum(axis=axis, keepdims=True)
    out = np.empty_like(x)
    assert ew.softmax(x, axis, out) == 0
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-7)


def test_softmax_is_stable_for_huge_logits():
    x = np.array([[1000.0, 1000.0, -1000.0]], np.float32)
    out = np.empty_like(x)
    ew.softmax(x, 1, out)
    np.testing.assert_allclose(out, [[0.5, 0.5, 0.0]])


def test_softmax_matches_torch():
    torch = pytest.importorskip("torch")
    x = _data((2, 5, 3, 4), 2)
    for axis in range(4):
        out = np.empty_like(x)
        ew.softmax(x, axis, out)
        ref = torch.softmax(torch.from_numpy(x), axis).numpy()
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-7)
