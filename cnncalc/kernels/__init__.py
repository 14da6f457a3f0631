"""numba reference kernels.

Nothing here is imported eagerly: numba loads only when a kernel module is imported.

Modules (import the one you need, e.g. ``from cnncalc.kernels.conv import conv2d_nchw``):

* ``conv``         conv2d_nchw, conv_transpose2d_nchw  (im2col / col2im + BLAS)
* ``pool``         max_pool2d_nchw, avg_pool2d_nchw, adaptive_avg_pool2d_nchw,
                   adaptive_max_pool2d_nchw, pool_output_size
* ``dense``        linear
* ``norm``         batch_norm2d_nchw, local_response_norm_nchw
* ``elementwise``  relu, relu6, leaky_relu, sigmoid, tanh, hardsigmoid, hardswish, silu,
                   gelu, softmax
* ``shape_ops``    add, mul_broadcast, concat_channels, split_channels, flatten,
                   zero_pad2d, channel_shuffle, upsample_nearest2d, upsample_bilinear2d

Calling convention shared by every kernel:

* arrays are numpy float32 (float64 also works, at the cost of a second compilation);
  all arrays of one call share the dtype; inputs that are not C-contiguous are copied;
* the caller preallocates ``out`` (C-contiguous, writeable, exactly the shape its own
  shape inference predicts); a mismatch raises ``ValueError`` before any computation;
* the return value is an ``int``: the multiply-accumulates the kernel executed, counted
  from its own loops / the BLAS products it ran (taps on zero padding included, biases
  excluded); 0 for layers without MACs;
* every invalid argument raises ``ValueError`` naming it.

Compilation policy and the threading choice: see ``_jit``.
"""


def warm_up(step=None) -> None:
    """Compile (or load from the cache) every kernel, on tiny float32 arrays.

    Verification calls this first so that compilation and execution are timed apart.

    Args:
        step: called as ``step(done, total, kernel)`` after each kernel; it may raise to stop.
    """
    import numpy as np

    from . import conv, dense, elementwise, norm, pool, shape_ops

    f = np.float32
    x = np.ones((1, 2, 4, 4), f)
    w = np.ones((2, 1, 3, 3), f)
    b = np.ones(2, f)
    calls = [
        ("conv2d", lambda: conv.conv2d_nchw(x, w, b, np.empty((1, 2, 2, 2), f), groups=2)),
        (
            "conv2d 1x1",
            lambda: conv.conv2d_nchw(x, np.ones((2, 2, 1, 1), f), None, np.empty((1, 2, 4, 4), f)),
        ),
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
    ]
    for name in ("relu", "relu6", "sigmoid", "tanh", "hardsigmoid", "hardswish", "silu", "gelu"):
        calls.append((name, lambda name=name: getattr(elementwise, name)(x, np.empty_like(x))))
    calls += [
        ("leaky_relu", lambda: elementwise.leaky_relu(x, np.empty_like(x), 0.01)),
        ("softmax", lambda: elementwise.softmax(x, 1, np.empty_like(x))),
        ("add", lambda: shape_ops.add([x, x], np.empty_like(x))),
        ("mul", lambda: shape_ops.mul_broadcast(x, np.ones((1, 2, 1, 1), f), np.empty_like(x))),
        ("concat", lambda: shape_ops.concat_channels([x, x], np.empty((1, 4, 4, 4), f))),
        ("zero_pad2d", lambda: shape_ops.zero_pad2d(x, np.empty((1, 2, 6, 6), f), 1, 1, 1, 1)),
        ("channel_shuffle", lambda: shape_ops.channel_shuffle(x, 2, np.empty_like(x))),
        ("upsample_nearest2d", lambda: shape_ops.upsample_nearest2d(x, np.empty((1, 2, 8, 8), f))),
        ("upsample_bilinear2d", lambda: shape_ops.upsample_bilinear2d(x, np.empty((1, 2, 8, 8), f), False)),
    ]
    for done, (name, call) in enumerate(calls, 1):
        call()
        if step is not None:
            step(done, len(calls), name)
