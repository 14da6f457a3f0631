"""Every wrapper rejects bad arguments with a ValueError naming them, before compiled code."""

from __future__ import annotations

import numpy as np
import pytest

from cnncalc.kernels import elementwise as ew
from cnncalc.kernels import shape_ops as so
from cnncalc.kernels.conv import conv2d_nchw, conv_transpose2d_nchw
from cnncalc.kernels.dense import linear
from cnncalc.kernels.norm import batch_norm2d_nchw, local_response_norm_nchw
from cnncalc.kernels.pool import (
    adaptive_avg_pool2d_nchw,
    avg_pool2d_nchw,
    max_pool2d_nchw,
)

f32 = np.float32


def z(*shape, dtype=f32):
    return np.zeros(shape, dtype)


X = z(1, 4, 6, 6)  # shared input: 4 channels, 6x6
W = z(2, 4, 3, 3)  # 3x3, 4 -> 2 channels
OUT = z(1, 2, 4, 4)  # its valid output


def readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


BAD_CALLS = [
    # --- conv2d
    ("conv x rank", lambda: conv2d_nchw(z(4, 6, 6), W, None, OUT), r"x must have 4 dimensions"),
    ("conv x int", lambda: conv2d_nchw(X.astype(np.int32), W, None, OUT), r"x must have dtype"),
    ("conv x list", lambda: conv2d_nchw(X.tolist(), W, None, OUT), r"x must be a numpy"),
    ("conv x empty", lambda: conv2d_nchw(z(0, 4, 6, 6), W, None, z(0, 2, 4, 4)), r"not be empty"),
    (
        "conv mixed dtype",
        lambda: conv2d_nchw(X, W.astype(np.float64), None, OUT),
        r"w has dtype float64",
    ),
    ("conv groups 0", lambda: conv2d_nchw(X, W, None, OUT, groups=0), r"groups must be >= 1"),
    ("conv groups bool", lambda: conv2d_nchw(X, W, None, OUT, groups=True), r"groups must be an"),
    (
        "conv groups divide",
        lambda: conv2d_nchw(X, z(2, 4, 3, 3), None, OUT, groups=3),
        r"groups=3 must divide C_in=4",
    ),
    ("conv w channels", lambda: conv2d_nchw(X, z(2, 3, 3, 3), None, OUT), r"w.shape\[1\]=3"),
    ("conv stride 0", lambda: conv2d_nchw(X, W, None, OUT, stride=0), r"stride must be positive"),
    (
        "conv stride float",
        lambda: conv2d_nchw(X, W, None, OUT, stride=(1.0, 1)),
        r"stride must contain integers",
    ),
    (
        "conv stride triple",
        lambda: conv2d_nchw(X, W, None, OUT, stride=(1, 1, 1)),
        r"stride must be an int or a pair",
    ),
    (
        "conv dilation 0",
        lambda: conv2d_nchw(X, W, None, OUT, dilation=(1, 0)),
        r"dilation must be positive",
    ),
    (
        "conv negative pad",
        lambda: conv2d_nchw(X, W, None, OUT, padding=(0, -1, 0, 0)),
        r"padding must be non-negative",
    ),
    (
        "conv pad length 3",
        lambda: conv2d_nchw(X, W, None, OUT, padding=(1, 1, 1)),
        r"padding must be an int, a pair",
    ),
    (
        "conv kernel too big",
        lambda: conv2d_nchw(z(1, 4, 2, 2), W, None, OUT),
        r"larger than the padded input",
    ),
    ("conv bias length", lambda: conv2d_nchw(X, W, z(3), OUT), r"b has shape \(3,\)"),
    (
        "conv bias dtype",
        lambda: conv2d_nchw(X, W, z(2, dtype=np.float64), OUT),
        r"b has dtype float64",
    ),
    (
        "conv out shape",
        lambda: conv2d_nchw(X, W, None, z(1, 2, 6, 6)),
        r"out has shape \(1, 2, 6, 6\) but the parameters imply \(1, 2, 4, 4\)",
    ),
    (
        "conv out dtype",
        lambda: conv2d_nchw(X, W, None, z(1, 2, 4, 4, dtype=np.float64)),
        r"out has dtype float64",
    ),
    (
        "conv out strided",
        lambda: conv2d_nchw(X, W, None, z(1, 2, 4, 8)[..., ::2]),
        r"out must be C-contiguous",
    ),
    ("conv out readonly", lambda: conv2d_nchw(X, W, None, readonly(OUT)), r"out must be writeable"),
    ("conv out is list", lambda: conv2d_nchw(X, W, None, OUT.tolist()), r"out must be a numpy"),
    (
        "conv out aliases x",
        lambda: conv2d_nchw(X, z(4, 4, 1, 1), None, X),
        r"out must not share memory with x",
    ),
    # --- conv_transpose2d
    (
        "convT w channels",
        lambda: conv_transpose2d_nchw(X, z(3, 2, 3, 3), None, z(1, 2, 8, 8)),
        r"w.shape\[0\]=3 must equal C_in=4",
    ),
    (
        "convT output_padding",
        lambda: conv_transpose2d_nchw(X, z(4, 2, 3, 3), None, z(1, 2, 14, 14), stride=2, output_padding=2),
        r"output_padding=\(2, 2\) must be smaller than stride",
    ),
    (
        "convT empty output",
        lambda: conv_transpose2d_nchw(z(1, 4, 1, 1), z(4, 2, 1, 1), None, z(1, 2, 1, 1), padding=1),
        r"leaves an empty output",
    ),
    (
        "convT groups",
        lambda: conv_transpose2d_nchw(X, z(4, 2, 3, 3), None, z(1, 6, 8, 8), groups=3),
        r"groups=3 must divide C_in=4",
    ),
    (
        "convT out shape",
        lambda: conv_transpose2d_nchw(X, z(4, 2, 3, 3), None, z(1, 2, 6, 6)),
        r"out has shape \(1, 2, 6, 6\) but the parameters imply \(1, 2, 8, 8\)",
    ),
    # --- pools
    (
        "maxpool pad > k/2",
        lambda: max_pool2d_nchw(X, z(1, 4, 4, 4), 3, 2, 2),
        r"padding=\(2, 2\) must be at most half of kernel",
    ),
    (
        "maxpool no fit",
        lambda: max_pool2d_nchw(z(1, 1, 2, 2), z(1, 1, 1, 1), 3, dilation=2),
        r"does not fit the input",
    ),
    (
        "maxpool ceil int",
        lambda: max_pool2d_nchw(X, z(1, 4, 3, 3), 2, ceil_mode=1),
        r"ceil_mode must be a bool",
    ),
    (
        "maxpool out shape",
        lambda: max_pool2d_nchw(X, z(1, 4, 2, 2), 2),
        r"parameters imply \(1, 4, 3, 3\)",
    ),
    ("maxpool kernel 0", lambda: max_pool2d_nchw(X, z(1, 4, 3, 3), 0), r"kernel must be positive"),
    (
        "avgpool divisor 0",
        lambda: avg_pool2d_nchw(X, z(1, 4, 3, 3), 2, divisor_override=0),
        r"divisor_override must be >= 1",
    ),
    (
        "avgpool cip",
        lambda: avg_pool2d_nchw(X, z(1, 4, 3, 3), 2, count_include_pad=None),
        r"count_include_pad must be a bool",
    ),
    ("adaptive out rank", lambda: adaptive_avg_pool2d_nchw(X, z(1, 4, 3)), r"out must be a 4-D"),
    (
        "adaptive out C",
        lambda: adaptive_avg_pool2d_nchw(X, z(1, 3, 2, 2)),
        r"parameters imply \(1, 4, 2, 2\)",
    ),
    # --- linear
    (
        "linear in mismatch",
        lambda: linear(z(2, 5), z(3, 4), None, z(2, 3)),
        r"x.shape\[-1\]=5 must equal in_features=4",
    ),
    (
        "linear w rank",
        lambda: linear(z(2, 4), z(3, 4, 1), None, z(2, 3)),
        r"w must have 2 dimensions",
    ),
    ("linear bias", lambda: linear(z(2, 4), z(3, 4), z(4), z(2, 3)), r"b has shape \(4,\)"),
    ("linear out", lambda: linear(z(2, 4), z(3, 4), None, z(3, 2)), r"parameters imply \(2, 3\)"),
    # --- norms
    (
        "bn gamma length",
        lambda: batch_norm2d_nchw(X, z(3), z(4), z(4), z(4) + 1, 1e-5, X.copy()),
        r"gamma has shape \(3,\) but x has C=4",
    ),
    (
        "bn eps negative",
        lambda: batch_norm2d_nchw(X, None, None, z(4), z(4) + 1, -1.0, X.copy()),
        r"eps must be non-negative",
    ),
    (
        "bn eps nan",
        lambda: batch_norm2d_nchw(X, None, None, z(4), z(4) + 1, float("nan"), X.copy()),
        r"eps must be a finite real",
    ),
    (
        "bn zero variance",
        lambda: batch_norm2d_nchw(X, None, None, z(4), z(4), 0.0, X.copy()),
        r"var \+ eps must be positive",
    ),
    (
        "lrn size 0",
        lambda: local_response_norm_nchw(X, 0, 1e-4, 0.75, 1.0, X.copy()),
        r"size must be >= 1",
    ),
    (
        "lrn alpha str",
        lambda: local_response_norm_nchw(X, 3, "a", 0.75, 1.0, X.copy()),
        r"alpha must be a finite real",
    ),
    # --- elementwise
    ("relu out shape", lambda: ew.relu(X, z(1, 4, 6, 5)), r"out has shape"),
    (
        "relu partial overlap",
        lambda: (buf := z(12), ew.relu(buf[:10], buf[2:])),
        r"out must be x itself \(in place\) or not overlap x",
    ),
    ("leaky slope", lambda: ew.leaky_relu(X, X.copy(), "0.1"), r"slope must be a finite real"),
    ("softmax axis", lambda: ew.softmax(X, 4, X.copy()), r"axis=4 is out of range"),
    ("softmax axis float", lambda: ew.softmax(X, 1.0, X.copy()), r"axis must be an integer"),
    # --- shape ops
    (
        "add shapes",
        lambda: so.add(X, z(1, 4, 6, 5), X.copy()),
        r"inputs\[1\] has shape \(1, 4, 6, 5\)",
    ),
    ("add none", lambda: so.add([], X.copy()), r"at least one input"),
    ("add arity", lambda: so.add(X), r"add takes"),
    ("mul no broadcast", lambda: so.mul_broadcast(X, z(1, 3, 1, 1), X.copy()), r"do not broadcast"),
    (
        "mul out shape",
        lambda: so.mul_broadcast(X, z(1, 4, 1, 1), z(1, 4, 1, 1)),
        r"parameters imply \(1, 4, 6, 6\)",
    ),
    (
        "concat H",
        lambda: so.concat_channels([X, z(1, 4, 5, 6)], z(1, 8, 6, 6)),
        r"inputs\[1\] has shape \(1, 4, 5, 6\); all inputs need",
    ),
    (
        "split sum",
        lambda: so.split_channels(X, [z(1, 1, 6, 6), z(1, 2, 6, 6)]),
        r"outs have 3 channels in total but x has 4",
    ),
    (
        "pad negative",
        lambda: so.zero_pad2d(X, X.copy(), 0, -1, 0, 0),
        r"padding must be non-negative",
    ),
    ("shuffle groups", lambda: so.channel_shuffle(X, 3, X.copy()), r"groups=3 must divide C=4"),
    ("nearest out rank", lambda: so.upsample_nearest2d(X, z(1, 4, 12)), r"out must be a 4-D"),
    (
        "bilinear flag",
        lambda: so.upsample_bilinear2d(X, z(1, 4, 12, 12), "yes"),
        r"align_corners must be a bool",
    ),
    ("flatten out", lambda: so.flatten(X, z(1, 4, 36)), r"parameters imply \(1, 144\)"),
]


@pytest.mark.parametrize(("call", "match"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
