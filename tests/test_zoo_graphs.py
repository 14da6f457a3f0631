"""The graph-shaped zoo: ResNets, GoogLeNet, MobileNets, U-Net and the examples built on them.

Expected numbers come from outside cnncalc: torchvision's published figures
(tests/data/published_figures.json), the MobileNet paper's table of mult-adds, and arithmetic
written out here. None is recomputed with cnncalc's own formulas.
"""

from __future__ import annotations

import json

import pytest
import sympy

from cnncalc.core.engine import analyze
from cnncalc.errors import ShapeError
from cnncalc.lang.spec import load_spec

from .helpers import SPECS


def _analyze(spec: str, values: dict | None = None, **kw):
    return analyze(load_spec(SPECS / f"{spec}.yaml"), values, **kw)


def _layer(a, name: str):
    return next(r for r in a.layers if r.name == name)


def _sym(text: str):
    """Read an expression, every name a plain symbol (sympy's own N is a function)."""
    return sympy.sympify(text, locals={n: sympy.Symbol(n) for n in ("M", "N", "K", "F", "H", "W")})


def _json(run_cli, spec: str, *args: str) -> dict:
    code, out, err = run_cli("analyze", str(SPECS / f"{spec}.yaml"), "-f", "json", *args)
    assert code == 0, err
    return json.loads(out)


# ---------------------------------------------------------------------------------------------
# torchvision's published figures, to the integer.

TORCHVISION = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "googlenet", "mobilenet_v2"]


@pytest.mark.parametrize("model", TORCHVISION)
def test_matches_torchvision(model, published):
    row = published[model]
    a = _analyze(model)
    assert list(a.input_shape) == row["input"]
    assert a.totals.params == row["params"]
    assert a.totals.macs == row["macs"]
    assert round(a.totals.macs / 1e9, 3) == row["published_gmacs"]
    assert a.output_shape == (1, 1000)
    assert a.totals.frozen_params == 0
    assert a.constraints == ()


# ---------------------------------------------------------------------------------------------
# ResNets: torchvision's names and where the stride sits.


@pytest.mark.parametrize(
    ("model", "blocks"),
    [
        ("resnet34", [3, 4, 6, 3]),
        ("resnet50", [3, 4, 6, 3]),
        ("resnet101", [3, 4, 23, 3]),
        ("resnet152", [3, 8, 36, 3]),
    ],
)
def test_resnet_names_follow_torchvision(model, blocks):
    a = _analyze(model)
    names = {r.name for r in a.layers}
    for stage, n in enumerate(blocks, start=1):
        last = f"layer{stage}.{n - 1}.conv2"
        assert last in names
        assert f"layer{stage}.{n}.conv1" not in names
    # projections only where the shape changes: every first block but ResNet-34's layer1.0
    downsample = sorted(n for n in names if n.endswith("downsample.0"))
    first = 1 if model == "resnet34" else 0
    assert downsample == [f"layer{s}.0.downsample.0" for s in range(1 + first, 5)]
    assert "layer3.2.conv1" in names and "layer3.2.bn1" in names


def test_resnet50_stride_on_the_3x3_in_v15_on_the_1x1_in_v1():
    v15, v1 = _analyze("resnet50"), _analyze("resnet50_v1")
    # v1.5: conv1 keeps 56x56, conv2 (3x3/2) gives 28x28; v1: conv1 (1x1/2) already gives 28x28
    assert _layer(v15, "layer2.0.conv1").output_shape == (1, 128, 56, 56)
    assert _layer(v15, "layer2.0.conv2").output_shape == (1, 128, 28, 28)
    assert _layer(v1, "layer2.0.conv1").output_shape == (1, 128, 28, 28)
    assert _layer(v1, "layer2.0.conv2").output_shape == (1, 128, 28, 28)
    for a in (v15, v1):
        assert _layer(a, "layer4.2.conv3").output_shape == (1, 2048, 7, 7)


def test_resnet50_v1_figures(published):
    row = published["resnet50"]
    a = _analyze("resnet50_v1")
    assert a.totals.params == row["params"]  # moving the stride changes no weight
    # In the first block of stages 2-4 v1 runs conv1 (1x1, c_in -> width) on a quarter of
    # the positions: it saves 3/4 of c_in*width*H*W there; the 3x3 costs the same in both.
    saved = sum(
        c_in * width * hw * 3 // 4
        for c_in, width, hw in [(256, 128, 56 * 56), (512, 256, 28 * 28), (1024, 512, 14 * 14)]
    )
    assert saved == 3 * 77_070_336
    assert a.totals.macs == row["macs"] - saved == 3_857_973_248
    assert round(a.totals.macs / 1e9, 2) == 3.86  # the reference's ResNet-50 v1 figure


# ---------------------------------------------------------------------------------------------
# GoogLeNet: the concatenations add up.


def test_googlenet_inception_outputs():
    a = _analyze("googlenet")
    modules = {  # ch1x1 + ch3x3 + ch5x5 + pool_proj, torchvision's table
        "inception3a": (64 + 128 + 32 + 32, 28),
        "inception3b": (128 + 192 + 96 + 64, 28),
        "inception4a": (192 + 208 + 48 + 64, 14),
        "inception4b": (160 + 224 + 64 + 64, 14),
        "inception4c": (128 + 256 + 64 + 64, 14),
        "inception4d": (112 + 288 + 64 + 64, 14),
        "inception4e": (256 + 320 + 128 + 128, 14),
        "inception5a": (256 + 320 + 128 + 128, 7),
        "inception5b": (384 + 384 + 128 + 128, 7),
    }
    for name, (channels, size) in modules.items():
        assert _layer(a, f"{name}.concat").output_shape == (1, channels, size, size)
    # the "5x5" branch is a 3x3 as in torchvision: 16 -> 32 channels, 9 taps, on 28x28
    assert _layer(a, "inception3a.branch3.1.conv").macs == 28 * 28 * 32 * 16 * 9
    # ceil_mode: 112 -> ceil((112 - 3)/2) + 1 = 56
    assert _layer(a, "maxpool1").output_shape == (1, 64, 56, 56)
    assert _layer(a, "fc").params == 1024 * 1000 + 1000


# ---------------------------------------------------------------------------------------------
# MobileNet v1: the paper's figures for every width and resolution.

# Table 1 of Howard et al.: (input channels, output channels, stride) of the 13 blocks
_MOBILENET_V1 = [
    (32, 64, 1),
    (64, 128, 2),
    (128, 128, 1),
    (128, 256, 2),
    (256, 256, 1),
    (256, 512, 2),
    *[(512, 512, 1)] * 5,
    (512, 1024, 2),
    (1024, 1024, 1),
]


def _mobilenet_v1_by_hand(alpha_num: int, alpha_den: int, size: int) -> tuple[int, int]:
    """Params and MACs from the paper's formulas: D_K*D_K*M*D_F*D_F + M*N*D_F*D_F per block."""

    def ch(c):
        return c * alpha_num // alpha_den

    side = size // 2
    params = 3 * 3 * 3 * ch(32) + 2 * ch(32)
    macs = side * side * 3 * 3 * 3 * ch(32)
    for c_in, c_out, stride in _MOBILENET_V1:
        side //= stride
        m, n = ch(c_in), ch(c_out)
        params += 9 * m + 2 * m + m * n + 2 * n  # weights and batch norm (gamma, beta)
        macs += 9 * m * side * side + m * n * side * side
    params += ch(1024) * 1000 + 1000
    macs += ch(1024) * 1000
    return params, macs


@pytest.mark.parametrize(
    ("values", "macs"),
    [
        ({}, 568_740_352),
        ({"alpha": "0.75"}, 325_400_448),
        ({"alpha": "0.5"}, 149_497_088),
        ({"alpha": "0.25"}, 41_030_272),
        ({"H": 192, "W": 192}, 418_121_728),
        ({"H": 160, "W": 160}, 290_675_200),
        ({"H": 128, "W": 128}, 186_400_768),
    ],
)
def test_mobilenet_v1_paper_figures(values, macs):
    a = _analyze("mobilenet_v1", values)
    assert a.totals.macs == macs
    alpha = {"0.75": (3, 4), "0.5": (1, 2), "0.25": (1, 4)}.get(values.get("alpha"), (1, 1))
    params, by_hand = _mobilenet_v1_by_hand(*alpha, values.get("H", 224))
    assert a.totals.macs == by_hand
    assert a.totals.params == params
    assert a.output_shape == (1, 1000)


def test_mobilenet_v1_params():
    a = _analyze("mobilenet_v1")
    assert a.totals.params == 4_231_976
    assert _layer(a, "block13.dw").output_shape == (1, 1024, 7, 7)


def test_mobilenet_v1_rounds_channels_down():
    a = _analyze("mobilenet_v1", {"alpha": "0.3"})
    assert _layer(a, "conv1").output_shape[1] == 9  # floor(32*0.3) = floor(9.6)
    assert _layer(a, "fc").params == 307 * 1000 + 1000  # floor(1024*0.3) = floor(307.2)


# ---------------------------------------------------------------------------------------------
# MobileNetV2: the residual adds and torchvision's names.


def test_mobilenet_v2_structure():
    a = _analyze("mobilenet_v2")
    adds = [r.name for r in a.layers if r.kind == "add"]
    # (t, c, n, s) stages: every block but the first of a stage adds its input
    assert adds == [f"features.{i}.add" for i in (3, 5, 6, 8, 9, 10, 12, 13, 15, 16)]
    assert _layer(a, "features.1.conv.0.0").output_shape == (1, 32, 112, 112)  # t = 1
    assert _layer(a, "features.2.conv.0.0").output_shape == (1, 16 * 6, 112, 112)
    assert _layer(a, "features.2.conv.1.0").output_shape == (1, 96, 56, 56)
    assert _layer(a, "features.17.conv.3").output_shape == (1, 320, 7, 7)
    assert _layer(a, "features.18.0").output_shape == (1, 1280, 7, 7)
    assert _layer(a, "classifier.1").params == 1280 * 1000 + 1000


# ---------------------------------------------------------------------------------------------
# U-Net at 256x256, and its divisibility condition.


def _double_conv(c_in: int, c_out: int, side: int) -> tuple[int, int]:
    """Params (two 3x3 convolutions without bias, two batch norms) and MACs."""
    params = 9 * c_in * c_out + 9 * c_out * c_out + 2 * 2 * c_out
    return params, (9 * c_in * c_out + 9 * c_out * c_out) * side * side


def test_unet_shapes_at_256():
    a = _analyze("unet")
    shape = {r.name: r.output_shape for r in a.layers}
    assert shape["enc1.relu2"] == (1, 64, 256, 256)
    assert shape["pool1"] == (1, 64, 256 // 2, 256 // 2)
    assert shape["enc2.relu2"] == (1, 128, 128, 128)
    assert shape["pool2"] == (1, 128, 128 // 2, 128 // 2)
    assert shape["enc3.relu2"] == (1, 256, 64, 64)
    assert shape["pool3"] == (1, 256, 64 // 2, 64 // 2)
    assert shape["enc4.relu2"] == (1, 512, 32, 32)
    assert shape["pool4"] == (1, 512, 32 // 2, 32 // 2)
    assert shape["bottleneck.relu2"] == (1, 1024, 16, 16)
    # up: (16 - 1)*2 + (2 - 1) + 1 = 32, half the channels; concat doubles them again
    assert shape["up1"] == (1, 512, (16 - 1) * 2 + 2, 32)
    assert shape["cat1"] == (1, 512 + 512, 32, 32)
    assert shape["dec1.relu2"] == (1, 512, 32, 32)
    assert shape["up2"] == (1, 256, 64, 64)
    assert shape["cat2"] == (1, 256 + 256, 64, 64)
    assert shape["dec2.relu2"] == (1, 256, 64, 64)
    assert shape["up3"] == (1, 128, 128, 128)
    assert shape["cat3"] == (1, 128 + 128, 128, 128)
    assert shape["dec3.relu2"] == (1, 128, 128, 128)
    assert shape["up4"] == (1, 64, 256, 256)
    assert shape["cat4"] == (1, 64 + 64, 256, 256)
    assert shape["dec4.relu2"] == (1, 64, 256, 256)
    assert a.output_shape == (1, 2, 256, 256)


def test_unet_params_and_macs_at_256():
    a = _analyze("unet")
    params = macs = 0
    for c_in, c_out, side in [
        (1, 64, 256),
        (64, 128, 128),
        (128, 256, 64),
        (256, 512, 32),
        (512, 1024, 16),  # down
        (1024, 512, 32),
        (512, 256, 64),
        (256, 128, 128),
        (128, 64, 256),
    ]:  # up
        p, m = _double_conv(c_in, c_out, side)
        params, macs = params + p, macs + m
    for c_in, side_in in [(1024, 16), (512, 32), (256, 64), (128, 128)]:  # 2x2/2 transposed
        params += c_in * (c_in // 2) * 4 + c_in // 2
        macs += c_in * side_in * side_in * (c_in // 2) * 4
    params += 64 * 2 + 2
    macs += 64 * 2 * 256 * 256
    assert a.totals.params == params == 31_036_546
    assert a.totals.macs == macs


def test_unet_needs_multiples_of_16(run_cli):
    d = _json(run_cli, "unet", "--symbolic", "--set", "N=1", "C=64", "K=2")
    assert d["output_shape"] == [1, 2, "H", "W"]
    merged = [c for c in d["constraints"] if "must match" in c["reason"]]
    # The eight skip conditions (four skips, two axes) merge into one per axis.
    assert [c["condition"] for c in merged] == ["H % 16 == 0", "W % 16 == 0"]
    assert all(c["layer"] == "cat1, cat2, cat3, cat4" for c in merged)
    H, W = sympy.symbols("H W")
    holds = []  # each "lhs == rhs" as lhs - rhs
    for c in merged:
        lhs, rhs = c["condition"].split("==")
        holds.append(_sym(lhs) - _sym(rhs))
    for h in (16, 32, 48, 256, 272):  # multiples of 16: every condition holds
        assert all(e.subs({H: h, W: h}) == 0 for e in holds)
    for h in (24, 100, 250, 264):  # not multiples of 16: some condition fails
        assert any(e.subs({H: h, W: h}) != 0 for e in holds)
    with pytest.raises(ShapeError, match="cat2"):
        _analyze("unet", {"H": 100})  # 100/4 = 25 is odd


# ---------------------------------------------------------------------------------------------
# Transfer learning: ResNet-50 frozen up to layer4, a new head to K classes.


def test_transfer_resnet50(run_cli, published):
    d = _json(run_cli, "examples/transfer_resnet50")
    backbone = published["resnet50"]["params"] - (2048 * 1000 + 1000)
    assert backbone == 23_508_032
    assert d["symbols"]["K"] is None
    assert d["totals"]["frozen_params"] == backbone
    assert d["totals"]["trainable_params"] == "2049*K"
    assert d["totals"]["params"] == "2049*K + 23508032"
    trainable = [r["name"] for r in d["layers"] if r["trainable"]]
    assert trainable == ["fc"]
    # Layers without parameters are neither trainable nor frozen.
    assert [r["trainable"] for r in d["layers"][-3:]] == [None, None, True]
    assert d["output_shape"] == [1, "K"]


def test_transfer_resnet50_at_1000_classes_is_resnet50(published):
    a = _analyze("examples/transfer_resnet50", {"K": 1000})
    assert a.totals.params == published["resnet50"]["params"]
    assert a.totals.macs == published["resnet50"]["macs"]
    assert a.totals.trainable_params == 2048 * 1000 + 1000


# ---------------------------------------------------------------------------------------------
# The MobileNet paper's derivation, with every size a symbol.


@pytest.mark.parametrize(
    ("spec", "macs", "params"),
    [
        ("standard_conv", "K**2*M*N*F**2", "K**2*M*N"),
        ("separable_conv", "K**2*M*F**2 + M*N*F**2", "K**2*M + M*N"),
    ],
)
def test_mobilenet_derivation(spec, macs, params, run_cli):
    d = _json(run_cli, f"examples/{spec}")
    assert d["symbols"] == {"M": None, "N": None, "K": None, "F": None}
    assert d["output_shape"] == [1, "N", "F", "F"]
    assert _sym(d["totals"]["macs"]) == _sym(macs)
    assert _sym(d["totals"]["params"]) == _sym(params)
    # the JSON contract writes the expression in sympy's order
    assert (
        d["totals"]["macs"]
        == {"standard_conv": "F**2*K**2*M*N", "separable_conv": "F**2*K**2*M + F**2*M*N"}[spec]
    )
    assert d["constraints"] == []


def test_separable_over_standard_is_the_papers_ratio(run_cli):
    std = _sym(_json(run_cli, "examples/standard_conv")["totals"]["macs"])
    sep = _sym(_json(run_cli, "examples/separable_conv")["totals"]["macs"])
    N, K = sympy.symbols("N K")
    assert sympy.simplify(sep / std - (1 / N + 1 / K**2)) == 0
