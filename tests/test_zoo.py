"""Every zoo spec reproduces its published figure to the integer; the worked examples too.

The expected numbers come from outside cnncalc: torchvision's weights metadata and the papers
(tests/data/published_figures.json), and the course's worked examples written as arithmetic.
"""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec

from .helpers import SPECS

ZOO = ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]


@pytest.mark.parametrize("model", ZOO)
def test_zoo_matches_torchvision(model, published):
    row = published[model]
    a = analyze(load_spec(SPECS / f"{model}.yaml"))
    assert list(a.input_shape) == row["input"]
    assert a.totals.params == row["params"]
    assert a.totals.macs == row["macs"]
    assert a.output_shape == (1, 1000)


def _shapes(a, kind):
    return [r.output_shape for r in a.layers if r.kind == kind]


def test_lenet5_course_figures():
    a = analyze(load_spec(SPECS / "lenet5.yaml"))
    assert a.totals.params == 61_706
    assert a.totals.macs == 416_520
    convs, pools = _shapes(a, "conv2d"), _shapes(a, "avg_pool2d")
    assert [s[1:] for s in convs] == [(6, 28, 28), (16, 10, 10)]
    assert [s[1:] for s in pools] == [(6, 14, 14), (16, 5, 5)]
    assert _shapes(a, "flatten") == [(1, 400)]
    # conv: (5*5*1 + 1)*6 + (5*5*6 + 1)*16; FC: 400*120 + 120, 120*84 + 84, 84*10 + 10
    assert a.totals.params == (26 * 6 + 151 * 16) + (48_120 + 10_164 + 850)


def test_alexnet_224_shapes():
    a = analyze(load_spec(SPECS / "alexnet.yaml"))
    assert [s[2] for s in _shapes(a, "max_pool2d")] == [27, 13, 6]
    assert _shapes(a, "flatten") == [(1, 9216)]


def test_alexnet_227_of_the_notes():
    a = analyze(load_spec(SPECS / "examples" / "alexnet_227.yaml"))
    convs = [s[1:] for s in _shapes(a, "conv2d")]
    pools = [s[1:] for s in _shapes(a, "max_pool2d")]
    assert convs == [(96, 55, 55), (256, 27, 27), (384, 13, 13), (384, 13, 13), (256, 13, 13)]
    assert pools == [(96, 27, 27), (256, 13, 13), (256, 6, 6)]
    assert _shapes(a, "flatten") == [(1, 6 * 6 * 256)]
    assert a.totals.params == 62_378_344


@pytest.mark.parametrize(
    ("spec", "shape", "params", "macs"),
    [
        # n - f + 1 = 6 - 3 + 1; 16 outputs x 9 taps
        ("edge_detection", (1, 1, 4, 4), 9, 4 * 4 * 9),
        # floor((28 + 2*2 - 5)/3) + 1 = 10, floor((31 + 4 - 5)/3) + 1 = 11
        ("stride_padding", (1, 1, 10, 11), 5 * 5 + 1, 10 * 11 * 25),
        # two 3x3x3 filters with biases
        ("rgb_conv", (1, 2, 4, 4), 2 * (27 + 1), 2 * 4 * 4 * 27),
        ("one_by_one", (1, 32, 28, 28), 32 * 192 + 32, 28 * 28 * 32 * 192),
        ("inception_5x5", (1, 32, 28, 28), 32 * 5 * 5 * 192 + 32, 120_422_400),
        (
            "inception_bottleneck",
            (1, 32, 28, 28),
            (192 * 16 + 16) + (16 * 25 * 32 + 32),
            2_408_448 + 10_035_200,
        ),
    ],
)
def test_worked_examples(spec, shape, params, macs):
    a = analyze(load_spec(SPECS / "examples" / f"{spec}.yaml"))
    assert a.output_shape == shape
    assert a.totals.params == params
    assert a.totals.macs == macs


def test_inception_bottleneck_is_about_a_tenth():
    direct = analyze(load_spec(SPECS / "examples" / "inception_5x5.yaml")).totals.macs
    bottleneck = analyze(load_spec(SPECS / "examples" / "inception_bottleneck.yaml")).totals.macs
    assert direct == 120_422_400 and bottleneck == 12_443_648


@pytest.mark.parametrize(("spec", "macs"), [("standard_3x3", "4608*M*N"), ("separable_3x3", "656*M*N")])
def test_symbolic_worked_examples(spec, macs, run_cli):
    import json

    code, out, _ = run_cli("analyze", str(SPECS / "examples" / f"{spec}.yaml"), "-f", "json")
    assert code == 0
    d = json.loads(out)
    assert d["totals"]["macs"] == macs
    assert d["symbols"] == {"M": None, "N": None}
    assert d["output_shape"] == [1, 32, "M", "N"]
