"""numba reference kernels.

Nothing here is imported eagerly: numba loads only when a kernel module is imported.

Modules (import the one you need, e.g. ``from cnncalc.kernels.conv import conv2d_nchw``):

* ``conv``         conv2d_nchw, conv_transpose2d_nchw  (im2col / col2im + BLAS)
* ``pool``         max_pool2d_nchw, avg_pool2d_nchw, adaptive_avg_pool2d_nchw,
                   adaptive_max_pool2d_nchw, pool_output_size
* ``dense``        linear (over any axis)
* ``norm``         batch_norm2d_nchw, local_response_norm_nchw, layer_norm, layer_norm2d_nchw
* ``axes``         mean_axes, permute, scale_axis
* ``elementwise``  relu, relu6, leaky_relu, sigmoid, tanh, hardsigmoid, hardswish, silu,
                   gelu, softmax
* ``shape_ops``    add, mul_broadcast, concat_channels, split_channels, flatten,
                   zero_pad2d, channel_shuffle, upsample_nearest2d, upsample_bilinear2d

Calling convention shared by every kernel:

* arrays are numpy float32 (float64 also works, at the cost of a second compilation);
  all arrays of one call share the dtype; inputs that are not C-contiguous are copied;
* the caller preallocates ``out`` (C-contiguous, writeable, exactly the shape its own
  shape inference predicts); a mismatch raises :class:`OutShapeError` (a ``ValueError``)
  before any computation;
* the return value is an ``int``: the multiply-accumulates the kernel executed, counted
  from its own loops / the BLAS products it ran (taps on zero padding included, biases
  excluded); 0 for layers without MACs;
* every invalid argument raises ``ValueError`` naming it.

Compilation policy and the threading choice: see ``_jit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["OutShapeError", "warm_up"]


class OutShapeError(ValueError):
    """``out`` does not have the shape the kernel's own arithmetic gives.

    A kernel (built in or custom) raises it before computing anything; verification reports
    ``expected`` as the shape the kernel observed, next to the predicted one::

        raise OutShapeError("out", out.shape, (n, c * 4, h // 2, w // 2))

    Args:
        name: the argument that has the wrong shape (usually ``"out"``).
        found: its shape.
        expected: the shape the kernel's own arithmetic implies.
    """

    def __init__(self, name: str, found: tuple[int, ...], expected: tuple[int, ...]):
        super().__init__(f"{name} has shape {tuple(found)} but the parameters imply {tuple(expected)}")
        self.found = tuple(int(d) for d in found)
        self.expected = tuple(int(d) for d in expected)


def warm_up(progress: Callable[[int, int, str], None] | None = None) -> int:
    """Compile (or load from the cache) every kernel, on tiny float32 arrays.

    Verification calls this first so that compilation and execution are timed apart.

    Args:
        progress: called as ``progress(done, total, kernel)`` before each kernel and once at
            the end with ``kernel = ""``.

    Returns:
        the number of kernels compiled (0 when every one came from numba's cache).
    """
    steps = _warm_up_steps()
    compiled_before = _compiled()
    for i, (name, run) in enumerate(steps):
        if progress:
            progress(i, len(steps), name)
        run()
    if progress:
        progress(len(steps), len(steps), "")
    return _compiled() - compiled_before


def _compiled() -> int:
    """Compilations numba did in this process (cache misses of cnncalc's kernels)."""
    import sys

    from numba.core.registry import CPUDispatcher

    total = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith(__name__ + ".") or module is None:
            continue
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher):
                total += sum(obj.stats.cache_misses.values())  # compilations, cached or not
    return total


def _warm_up_steps() -> list[tuple[str, Callable[[], Any]]]:
    import numpy as np

    from . import axes, conv, dense, elementwise, norm, pool, shape_ops

    f = np.float32
    x = np.ones((1, 2, 4, 4), f)
    w = np.ones((2, 1, 3, 3), f)
    b = np.ones(2, f)

    def convs() -> None:
        conv.conv2d_nchw(x, w, b, np.empty((1, 2, 2, 2), f), groups=2)
        conv.conv2d_nchw(x, np.ones((2, 2, 1, 1), f), None, np.empty((1, 2, 4, 4), f))

    def activation(name: str) -> Callable[[], Any]:
        return lambda: getattr(elementwise, name)(x, np.empty_like(x))

    return [
        ("conv2d", convs),
        (
            "conv_transpose2d",
            lambda: conv.conv_transpose2d_nchw(x, np.ones((2, 1, 2, 2), f), None, np.empty((1, 1, 5, 5), f)),
        ),
        ("max_pool2d", lambda: pool.max_pool2d_nchw(x, np.empty((1, 2, 2, 2), f), 2)),
        ("avg_pool2d", lambda: pool.avg_pool2d_nchw(x, np.empty((1, 2, 2, 2), f), 2)),
        ("adaptive_avg_pool2d", lambda: pool.adaptive_avg_pool2d_nchw(x, np.empty((1, 2, 1, 1), f))),
        ("linear", lambda: dense.linear(np.ones((1, 3), f), np.ones((2, 3), f), b, np.empty((1, 2), f))),
        ("batch_norm2d", lambda: norm.batch_norm2d_nchw(x, b, b, b, b, 1e-5, np.empty_like(x))),
        (
            "local_response_norm",
            lambda: norm.local_response_norm_nchw(x, 2, 1e-4, 0.75, 1.0, np.empty_like(x)),
        ),
        ("layer_norm", lambda: norm.layer_norm(x, 1, None, None, 1e-5, np.empty_like(x))),
        ("mean", lambda: axes.mean_axes(x, [2, 3], False, np.empty((1, 2), f))),
        ("permute", lambda: axes.permute(x, [0, 2, 3, 1], np.empty((1, 4, 4, 2), f))),
        ("layer_scale", lambda: axes.scale_axis(x, b, 1, np.empty_like(x))),
        *(
            (name, activation(name))
            for name in ("relu", "relu6", "sigmoid", "tanh", "hardsigmoid", "hardswish", "silu", "gelu")
        ),
        ("leaky_relu", lambda: elementwise.leaky_relu(x, np.empty_like(x), 0.01)),
        ("softmax", lambda: elementwise.softmax(x, 1, np.empty_like(x))),
        ("add", lambda: shape_ops.add([x, x], np.empty_like(x))),
        ("multiply", lambda: shape_ops.mul_broadcast(x, np.ones((1, 2, 1, 1), f), np.empty_like(x))),
        ("concat", lambda: shape_ops.concat_channels([x, x], np.empty((1, 4, 4, 4), f))),
        ("zero_pad2d", lambda: shape_ops.zero_pad2d(x, np.empty((1, 2, 6, 6), f), 1, 1, 1, 1)),
        ("channel_shuffle", lambda: shape_ops.channel_shuffle(x, 2, np.empty_like(x))),
        ("upsample nearest", lambda: shape_ops.upsample_nearest2d(x, np.empty((1, 2, 8, 8), f))),
        ("upsample bilinear", lambda: shape_ops.upsample_bilinear2d(x, np.empty((1, 2, 8, 8), f), False)),
    ]
