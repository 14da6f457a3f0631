"""Elementwise activations (any rank) and softmax.  No MACs: every kernel returns 0.

Each activation flattens ``x`` and ``out`` (C-contiguous, same shape and dtype) and runs
one 1-D loop; ``out`` may be ``x`` itself (in place).  Formulas follow torch:

=============  =====================================================
relu           max(x, 0)  (NaN stays NaN)
relu6          min(max(x, 0), 6)
leaky_relu     x if x > 0 else slope * x
sigmoid        1 / (1 + exp(-x))
tanh           tanh(x)
hardsigmoid    min(max(x + 3, 0), 6) / 6
hardswish      x * min(max(x + 3, 0), 6) / 6
silu           x / (1 + exp(-x))  (= x * sigmoid(x))
gelu           x/2 * (1 + erf(x / sqrt(2)))  (exact form, torch's default)
softmax        exp(x - max) / sum(exp(x - max)) along ``axis``
=============  =====================================================
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _checks as ck
from ._jit import njit

__all__ = [
    "gelu",
    "hardsigmoid",
    "hardswish",
    "leaky_relu",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "softmax",
    "tanh",
]

_INV_SQRT2 = 1.0 / math.sqrt(2.0)


# ----------------------------------------------------------------------------- numba bodies
# All bodies take 1-D views: x (L,), out (L,).


@njit
def _relu(x, out):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = 0.0 if v < 0 else v


@njit
def _relu6(x, out):
    for i in range(x.shape[0]):
        v = x[i]
        if v < 0:
            v = 0.0
        elif v > 6:
            v = 6.0
        out[i] = v


@njit
def _leaky_relu(x, out, slope):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v if v > 0 else v * slope


@njit
def _sigmoid(x, out):
    for i in range(x.shape[0]):
        out[i] = 1.0 / (1.0 + math.exp(-x[i]))


@njit
def _tanh(x, out):
    for i in range(x.shape[0]):
        out[i] = math.tanh(x[i])


@njit
def _hardsigmoid(x, out):
    for i in range(x.shape[0]):
        out[i] = min(max(x[i] + 3.0, 0.0), 6.0) / 6.0


@njit
def _hardswish(x, out):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v * min(max(v + 3.0, 0.0), 6.0) / 6.0


@njit
def _silu(x, out):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v / (1.0 + math.exp(-v))


@njit
def _gelu(x, out):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT2))


@njit
def _softmax(x, out):
    """x, out: (outer, L, inner); softmax over the middle axis, max-shifted."""
    n_outer, length, n_inner = x.shape
    peak = np.empty(n_inner, dtype=np.float64)
    total = np.empty(n_inner, dtype=np.float64)
    for o in range(n_outer):
        peak[:] = -math.inf
        total[:] = 0.0
        for t in range(length):
            for i in range(n_inner):
                if x[o, t, i] > peak[i]:
                    peak[i] = x[o, t, i]
        for t in range(length):
            for i in range(n_inner):
                e = math.exp(x[o, t, i] - peak[i])
                out[o, t, i] = e
                total[i] += e
        for t in range(length):
            for i in range(n_inner):
                out[o, t, i] = out[o, t, i] / total[i]


# ----------------------------------------------------------------------------- wrappers


def _flat_pair(x, out):
    x = ck.float_array(x, "x")
    ck.out_array(out, x.shape, x.dtype)
    if np.shares_memory(out, x) and out.ctypes.data != x.ctypes.data:
        raise ValueError("out must be x itself (in place) or not overlap x")
    return x.reshape(-1), out.reshape(-1)


def relu(x, out) -> int:
    """max(x, 0).  Returns 0."""
    _relu(*_flat_pair(x, out))
    return 0


def relu6(x, out) -> int:
    """min(max(x, 0), 6).  Returns 0."""
    _relu6(*_flat_pair(x, out))
    return 0


def leaky_relu(x, out, slope=0.01) -> int:
    """x if x > 0 else slope * x (torch's default slope 0.01).  Returns 0."""
    if not isinstance(slope, numbers.Real) or isinstance(slope, bool) or not math.isfinite(slope):
        raise ValueError(f"slope must be a finite real number, got {slope!r}")
    xf, of = _flat_pair(x, out)
    _leaky_relu(xf, of, float(slope))
    return 0


def sigmoid(x, out) -> int:
    """1 / (1 + exp(-x)).  Returns 0."""
    _sigmoid(*_flat_pair(x, out))
    return 0


def tanh(x, out) -> int:
    """tanh(x).  Returns 0."""
    _tanh(*_flat_pair(x, out))
    return 0


def hardsigmoid(x, out) -> int:
    """relu6(x + 3) / 6.  Returns 0."""
    _hardsigmoid(*_flat_pair(x, out))
    return 0


def hardswish(x, out) -> int:
    """x * relu6(x + 3) / 6.  Returns 0."""
    _hardswish(*_flat_pair(x, out))
    return 0


def silu(x, out) -> int:
    """x * sigmoid(x) (a.k.a. swish).  Returns 0."""
    _silu(*_flat_pair(x, out))
    return 0


def gelu(x, out) -> int:
    """Exact GELU, x/2 * (1 + erf(x/sqrt 2)) (torch ``approximate='none'``).  Returns 0."""
    _gelu(*_flat_pair(x, out))
    return 0


def softmax(x, axis, out) -> int:
    """Numerically stable softmax of ``x`` along ``axis`` (negative allowed).  Returns 0."""
    x = ck.float_array(x, "x", min_ndim=1)
    axis = ck.as_int(axis, "axis")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis={axis} is out of range for x with {x.ndim} dimensions")
    axis %= x.ndim
    ck.out_array(out, x.shape, x.dtype)
    ck.no_overlap(out, x=x)
    outer = math.prod(x.shape[:axis])
    inner = math.prod(x.shape[axis + 1 :])
    shape3 = (outer, x.shape[axis], inner)
    _softmax(x.reshape(shape3), out.reshape(shape3))
    return 0
