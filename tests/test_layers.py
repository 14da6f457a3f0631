"""Each layer kind against hand computations written as arithmetic (and PyTorch if present)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.core.engine import analyze
from cnncalc.errors import ShapeError
from cnncalc.lang.spec import parse_spec


def one(shape, layer: str, **values):
    """Analyse a single layer on an input of ``shape``; returns its LayerResult."""
    text = f"input: {list(shape)}\nlayers:\n  - {layer}\n"
    return analyze(parse_spec(text, "layer.yaml"), values or None).layers[-1]


def test_conv2d_everything_non_square():
    r = one(
        (2, 6, 11, 13),
        "conv2d: {out: 4, kernel: [3, 5], stride: [2, 3], padding: [1, 2], dilation: [2, 1], groups: 2}",
    )
    # H: floor((11 + 2 - 2*(3-1) - 1)/2) + 1 = 5;  W: floor((13 + 4 - 1*(5-1) - 1)/3) + 1 = 5
    assert r.output_shape == (2, 4, 5, 5)
    assert r.params == 4 * (6 // 2) * 3 * 5 + 4
    assert r.macs == 2 * 4 * 5 * 5 * (6 // 2) * 3 * 5
    assert r.flops == 2 * r.macs + 2 * 4 * 5 * 5


def test_conv2d_same_with_stride_pads_like_tensorflow():
    r = one((1, 1, 7, 8), "conv2d: {out: 1, kernel: 4, stride: 2, padding: same}")
    assert r.output_shape == (1, 1, 4, 4)  # ceil(7/2), ceil(8/2)
    # total padding (4-1)*2 + 4 - 7 = 3: 1 on top, 2 at the bottom; (4-1)*2 + 4 - 8 = 2: 1 and 1
    assert r.layer.pads((1, 1, 7, 8)) == ((1, 2), (1, 1))
    assert r.macs == 4 * 4 * 16


def test_conv2d_valid_and_bias_false():
    r = one((1, 3, 6, 6), "conv2d: {out: 2, kernel: 3, padding: valid, bias: false}")
    assert r.output_shape == (1, 2, 4, 4)
    assert r.params == 2 * 3 * 3 * 3
    assert r.flops == 2 * (2 * 4 * 4 * 27)


@pytest.mark.parametrize(
    ("size", "ceil", "expected"),
    [
        (10, False, 4),  # floor((10 - 3)/2) + 1
        (10, True, 5),  # ceil((10 - 3)/2) + 1; the last window starts at 8 < 10
        (11, True, 5),  # ceil(8/2) + 1 = 5
    ],
)
def test_max_pool_ceil_mode(size, ceil, expected):
    r = one((1, 2, size, size), f"max_pool2d: {{kernel: 3, stride: 2, ceil_mode: {str(ceil).lower()}}}")
    assert r.output_shape == (1, 2, expected, expected)
    assert r.flops == 2 * expected * expected * (9 - 1)


def test_pool_ceil_mode_drops_a_window_starting_in_the_padding():
    # kernel 2, stride 2, padding 1 on 5: ceil((5 + 2 - 2)/2) + 1 = 4, but the 4th window would
    # start at 6 = 5 + 1, in the right padding: PyTorch keeps 3.
    r = one((1, 1, 5, 5), "avg_pool2d: {kernel: 2, stride: 2, padding: 1, ceil_mode: true}")
    assert r.output_shape == (1, 1, 3, 3)
    assert r.flops == 3 * 3 * 4


def test_adaptive_and_global_pool():
    r = one((2, 8, 7, 9), "adaptive_avg_pool2d: {output: [2, 3]}")
    assert r.output_shape == (2, 8, 2, 3)
    assert r.flops == 2 * 8 * 7 * 9 + 2 * 8 * 2 * 3
    g = one((2, 8, 7, 9), "global_avg_pool2d")
    assert g.output_shape == (2, 8, 1, 1) and g.flops == 2 * 8 * (7 * 9 + 1)


def test_linear_acts_on_the_last_axis():
    r = one((2, 5, 7), "linear: {out: 3}")
    assert r.output_shape == (2, 5, 3)
    assert r.params == 7 * 3 + 3
    assert r.macs == 2 * 5 * 7 * 3
    assert r.flops == 2 * r.macs + 2 * 5 * 3


def test_flatten_ranges():
    assert one((2, 3, 4, 5), "flatten").output_shape == (2, 60)
    assert one((2, 3, 4, 5), "flatten: {start: 2}").output_shape == (2, 3, 20)
    assert one((2, 3, 4, 5), "flatten: {start: 0, end: 1}").output_shape == (6, 4, 5)
    with pytest.raises(ShapeError, match="cannot flatten axes 3 to 1"):
        one((2, 3, 4, 5), "flatten: {start: 3, end: 1}")


def test_batch_norm_params_buffers_flops():
    r = one((2, 16, 5, 5), "batch_norm2d")
    assert r.params == 2 * 16 and r.buffers == 2 * 16
    assert r.params_by_role() == {"weight": 0, "bias": 0, "norm": 32}
    assert r.flops == 2 * (2 * 16 * 5 * 5)
    assert one((2, 16, 5, 5), "batch_norm2d: {affine: false}").params == 0


@pytest.mark.parametrize(
    ("layer", "per_element"),
    [
        ("relu", 1),
        ("relu6", 2),
        ("leaky_relu", 2),
        ("sigmoid", 4),
        ("tanh", 1),
        ("hardsigmoid", 4),
        ("hardswish", 5),
        ("silu", 5),
        ("gelu", 5),
        ("softmax", 3),
        ("dropout", 0),
        ("identity", 0),
        ("local_response_norm: {size: 5}", 5 + 4),
    ],
)
def test_elementwise_flops(layer, per_element):
    r = one((2, 3, 4, 5), layer)
    assert r.output_shape == (2, 3, 4, 5)
    assert r.flops == per_element * 2 * 3 * 4 * 5
    assert r.macs == 0 and r.params == 0


def test_conv_transpose_counts_over_the_input():
    r = one((1, 4, 5, 5), "conv_transpose2d: {out: 3, kernel: 3, stride: 2, padding: 1, output_padding: 1}")
    # (5 - 1)*2 - 2*1 + (3 - 1) + 1 + 1 = 10
    assert r.output_shape == (1, 3, 10, 10)
    assert r.params == 4 * 3 * 3 * 3 + 3
    # every input element scatters 3 x 3x3 products: 4*5*5 * 27, not 3*10*10 * 4*9 / ...
    assert r.macs == 4 * 5 * 5 * 3 * 3 * 3
    with pytest.raises(ShapeError, match=r"output_padding 2 .* must be smaller than the stride"):
        one((1, 4, 5, 5), "conv_transpose2d: {out: 3, kernel: 3, stride: 2, output_padding: 2}")


def test_depthwise_and_separable():
    d = one((1, 8, 10, 10), "depthwise_conv2d: {kernel: 3, padding: 1, multiplier: 2, bias: false}")
    assert d.output_shape == (1, 16, 10, 10)
    assert d.params == 16 * 3 * 3
    assert d.macs == 16 * 10 * 10 * 9
    s = one((1, 8, 10, 10), "separable_conv2d: {out: 12, kernel: 3, padding: 1}")
    assert s.output_shape == (1, 12, 10, 10)
    assert s.params == 8 * 9 + 12 * 8 + 12
    assert s.macs == 8 * 10 * 10 * 9 + 12 * 10 * 10 * 8
    assert s.category == "separable_conv2d 3x3"


def test_upsample_pad_chunk_shuffle():
    up = one((1, 2, 3, 4), "upsample: {scale: 2, mode: bilinear}")
    assert up.output_shape == (1, 2, 6, 8) and up.flops == 7 * 2 * 6 * 8
    assert one((1, 2, 3, 4), "upsample: {size: [5, 7]}").output_shape == (1, 2, 5, 7)
    pad = one((1, 2, 3, 4), "zero_pad2d: {padding: [1, 2], bottom: 3}")
    assert pad.output_shape == (1, 2, 3 + 1 + 1 + 3, 4 + 2 + 2)
    assert one((1, 6, 3, 4), "chunk: {chunks: 3, index: 2}").output_shape == (1, 2, 3, 4)
    with pytest.raises(ShapeError, match="chunks = 4 must divide the size 6 along dim 1"):
        one((1, 6, 3, 4), "chunk: {chunks: 4}")
    with pytest.raises(ShapeError, match="groups = 4 must divide the channels 6"):
        one((1, 6, 3, 4), "channel_shuffle: {groups: 4}")


def test_categories():
    assert one((1, 8, 5, 5), "conv2d: {out: 8, kernel: 3, groups: 8}").category == "conv2d 3x3 depthwise"
    assert one((1, 8, 5, 5), "conv2d: {out: 8, kernel: 1, groups: 2}").category == "conv2d 1x1 grouped"
    assert one((1, 8), "linear: {out: 2}").category == "linear"


# ---------------------------------------------------------------------------------------------
# PyTorch as an oracle for shapes and parameter counts, when it is installed.

geometry = st.fixed_dictionaries(
    {
        "c_in_per_group": st.integers(1, 3),
        "groups": st.integers(1, 3),
        "c_out_per_group": st.integers(1, 3),
        "kh": st.integers(1, 4),
        "kw": st.integers(1, 4),
        "sh": st.integers(1, 3),
        "sw": st.integers(1, 3),
        "ph": st.integers(0, 2),
        "pw": st.integers(0, 2),
        "dh": st.integers(1, 2),
        "dw": st.integers(1, 2),
        "h": st.integers(1, 12),
        "w": st.integers(1, 12),
    }
)


@settings(max_examples=40)
@given(g=geometry)
def test_conv_shapes_and_params_match_torch(g):
    torch = pytest.importorskip("torch")
    c_in, c_out = g["c_in_per_group"] * g["groups"], g["c_out_per_group"] * g["groups"]
    h = max(g["h"], g["dh"] * (g["kh"] - 1) + 1 - 2 * g["ph"])
    w = max(g["w"], g["dw"] * (g["kw"] - 1) + 1 - 2 * g["pw"])
    layer = (
        f"conv2d: {{out: {c_out}, kernel: [{g['kh']}, {g['kw']}], stride: [{g['sh']}, {g['sw']}], "
        f"padding: [{g['ph']}, {g['pw']}], dilation: [{g['dh']}, {g['dw']}], groups: {g['groups']}}}"
    )
    r = one((1, c_in, h, w), layer)
    m = torch.nn.Conv2d(
        c_in,
        c_out,
        (g["kh"], g["kw"]),
        (g["sh"], g["sw"]),
        (g["ph"], g["pw"]),
        (g["dh"], g["dw"]),
        g["groups"],
    )
    y = m(torch.zeros(1, c_in, h, w))
    assert r.output_shape == tuple(y.shape)
    assert r.params == sum(p.numel() for p in m.parameters())
    t = torch.nn.ConvTranspose2d(
        c_in, c_out, (g["kh"], g["kw"]), (g["sh"], g["sw"]), 0, 0, g["groups"], True, (g["dh"], g["dw"])
    )
    rt = one(
        (1, c_in, h, w),
        layer.replace("conv2d", "conv_transpose2d").replace(f"padding: [{g['ph']}, {g['pw']}], ", ""),
    )
    assert rt.output_shape == tuple(t(torch.zeros(1, c_in, h, w)).shape)
    assert rt.params == sum(p.numel() for p in t.parameters())


@settings(max_examples=40)
@given(
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    h=st.integers(1, 12),
    ceil=st.booleans(),
    d=st.integers(1, 2),
)
def test_pool_shapes_match_torch(k, s, p, h, ceil, d):
    torch = pytest.importorskip("torch")
    p = min(p, k // 2)
    h = max(h, d * (k - 1) + 1 - 2 * p)
    r = one(
        (1, 2, h, h),
        f"max_pool2d: {{kernel: {k}, stride: {s}, padding: {p}, dilation: {d}, "
        f"ceil_mode: {str(ceil).lower()}}}",
    )
    y = torch.nn.MaxPool2d(k, s, p, d, ceil_mode=ceil)(torch.zeros(1, 2, h, h))
    assert r.output_shape == tuple(y.shape)
