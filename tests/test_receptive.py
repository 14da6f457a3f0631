"""Receptive fields against the published table of google-research/receptive_field and hand
arithmetic on small networks.

The published figures (README of github.com/google-research/receptive_field, commit 9e0227b):

    convnet model   receptive field   effective stride   effective padding
    alexnet_v2      195               32                 64
    vgg_16          212               32                 90
    mobilenet_v1    315               32                 126
    resnet_v1_50    483               32                 239

Those networks are TF-slim's, which pad "SAME" (no padding before the input at stride 2 on an
even input) where PyTorch pads symmetrically; the sizes and strides must agree exactly, the
paddings by the extra leading padding of the PyTorch layers, written below as arithmetic.
"""

from __future__ import annotations

import pytest

from cnncalc.analysis.receptive import receptive_fields
from cnncalc.core.engine import analyze, evaluate_at
from cnncalc.lang.spec import load_spec, parse_spec

from .helpers import SPECS


def field(spec: str, layer: str, **values):
    a = analyze(load_spec(SPECS / f"{spec}.yaml"), values or None)
    return {f.name: f.axes for f in receptive_fields(a)}[layer]


def fields(text: str, **values):
    a = analyze(parse_spec(text, "net.yaml"), values or None)
    return {f.name: f.axes for f in receptive_fields(a)}


@pytest.mark.parametrize(
    "spec, layer, size, stride, padding",
    [
        ("vgg16", "pool5", 212, 32, 90),
        # torchvision's conv1 pads 2 where alexnet_v2's is VALID: 2 more pixels at jump 1
        ("alexnet", "maxpool3", 195, 32, 64 + 2 * 1),
        # five stride-2 3x3 layers pad 1 before where SAME pads 0: at jumps 1, 2, 4, 8, 16
        ("mobilenet_v1", "block13.pw_relu", 315, 32, 126 + (1 + 2 + 4 + 8 + 16)),
        # the max pool pads 1 before where SAME pads 0, at jump 2
        ("resnet50_v1", "layer4.2.relu3", 483, 32, 239 + 1 * 2),
    ],
)
def test_published_receptive_fields(spec, layer, size, stride, padding):
    for axis in field(spec, layer):
        assert (axis.size, axis.jump, axis.padding) == (size, stride, padding)


def test_chain_by_hand():
    net = fields(
        "input: [1, 1, 32, 32]\nlayers:\n"
        "  - conv2d: {out: 1, kernel: 3, padding: 1, name: a}\n"
        "  - conv2d: {out: 1, kernel: 3, stride: 2, name: b}\n"
        "  - max_pool2d: {kernel: 2, name: c}\n"
        "  - conv2d: {out: 1, kernel: 3, dilation: 2, padding: 2, name: d}\n"
    )
    h = net["a"][0]
    assert (h.size, h.jump, h.start) == (3, 1, -1)
    h = net["b"][0]
    assert (h.size, h.jump, h.start) == (3 + 2 * 1, 2, -1)
    h = net["c"][0]
    assert (h.size, h.jump, h.start) == (5 + 1 * 2, 4, -1)
    h = net["d"][0]  # dilated 3x3 spans 5: (5 - 1) * 4 more, padding 2 at jump 4
    assert (h.size, h.jump, h.start) == (7 + 4 * 4, 4, -1 - 2 * 4)


def test_non_square_axes():
    net = fields(
        "input: [1, 1, 20, 20]\nlayers:\n  - conv2d: {out: 1, kernel: [5, 1], stride: [1, 3], name: a}\n"
    )
    h, w = net["a"]
    assert (h.size, h.jump, w.size, w.jump) == (5, 1, 1, 3)


def test_residual_paths_disagree():
    net = fields(
        "input: [1, 4, 16, 16]\nlayers:\n"
        "  - residual:\n"
        "      body:\n"
        "        - conv2d: {out: 4, kernel: 3, stride: 2, padding: 1}\n"
        "        - conv2d: {out: 4, kernel: 3, padding: 1}\n"
        "      shortcut:\n"
        "        - conv2d: {out: 4, kernel: 1, stride: 2}\n"
        "      name: add\n"
    )
    h = net["add"][0]
    # body: 3, then 3 + 2*2 = 7 starting at -1 - 1*2 = -3; shortcut: 1 starting at 0
    assert h.size_range == (1, 7)
    assert (h.size, h.jump, h.start) == (7, 2, -3)
    assert h.disagree


def test_transposed_conv_and_upsampling():
    net = fields(
        "input: [1, 1, 8, 8]\nlayers:\n"
        "  - conv2d: {out: 1, kernel: 3, stride: 2, padding: 1, name: down}\n"
        "  - conv_transpose2d: {out: 1, kernel: 4, stride: 2, padding: 1, name: up}\n"
        "  - upsample: {scale: 2, name: near}\n"
    )
    # up: an output reads floor(3/2) + 1 = 2 inputs, the first at ceil((1 - 3)/2) = -1
    h = net["up"][0]
    assert (h.size, h.jump, h.start) == (3 + (2 - 1) * 2, 1, -1 + (-1) * 2)
    # nearest x2: one input each, half an input (here 1/2 pixel) per output
    h = net["near"][0]
    assert (h.size, h.jump, h.start) == (5, 1 / 2, -3)


def test_global_pool_sees_everything():
    net = fields(
        "input: [1, 1, 9, 9]\nlayers:\n"
        "  - conv2d: {out: 1, kernel: 3, stride: 2, name: a}\n"
        "  - global_avg_pool2d: {name: g}\n"
        "  - flatten\n  - linear: {out: 2, name: fc}\n"
    )
    # a: 4 positions, each 3 wide, 2 apart: 3 + 3*2 = 9 = the whole input
    h = net["fc"][0]
    assert h.whole and h.size == 9


def test_symbolic_when_sizes_matter():
    a = analyze(
        parse_spec(
            "symbols: {H: null}\ninput: [1, 1, H, H]\nlayers:\n  - conv2d: {out: 1, kernel: 3, stride: 2}\n"
            "  - adaptive_avg_pool2d: {output: 1}\n",
            "net.yaml",
        )
    )
    h = receptive_fields(a)[-1].axes[0]
    # floor((H - 3)/2) + 1 positions: 3 + 2*floor((H - 3)/2), H or H - 1
    for size in (7, 8):
        assert evaluate_at(h.size, {"H": size}) == 3 + 2 * ((size - 3) // 2)
