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
