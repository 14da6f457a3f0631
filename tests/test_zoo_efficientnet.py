"""EfficientNet B0-B7 and EfficientNetV2 S/M/L: one spec per family reproduces every member.

The expected totals are torchvision 0.29.1's published figures (weights metadata `num_params`
and `_ops`, at each weight's crop size; ../shared/reference/published-figures.md), copied here.
Where torch is installed, every layer's output shape and parameters are compared with
torchvision's own models at odd input sizes, module by module.
"""

from __future__ import annotations

import json

import pytest

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec

from .helpers import SPECS

# (width, depth, crop): torchvision's efficientnet_b1 ... b7 (width_mult, depth_mult) and the
# crop size of their weights; params and exact MACs as published.
B_FAMILY = {
    "b1": (("1.0", "1.1", 240), 7_794_184, 686_802_832),
    "b2": (("1.1", "1.2", 288), 9_109_994, 1_087_529_456),
    "b3": (("1.2", "1.4", 300), 12_233_232, 1_827_141_392),
    "b4": (("1.4", "1.8", 380), 19_341_616, 4_393_771_024),
    "b5": (("1.6", "2.2", 456), 30_389_784, 10_266_384_752),
    "b6": (("1.8", "2.6", 528), 43_040_704, 19_067_593_536),
    "b7": (("2.0", "3.1", 600), 66_347_960, 37_745_884_192),
}
# (variant, crop): the spec's variant number and the crop size of the weights.
V2_FAMILY = {
    "s": ((1, 384), 21_458_488, 8_365_617_152),
    "m": ((2, 480), 54_139_356, 24_582_460_384),
    "l": ((3, 480), 118_515_272, 56_079_699_008),
}


def _b(width, depth, size, n=1):
    return analyze(
        load_spec(SPECS / "efficientnet.yaml"), {"N": n, "width": width, "depth": depth, "H": size, "W": size}
    )


def _v2(variant, size, n=1):
    values = {"N": n, "variant": variant, "H": size, "W": size}
    return analyze(load_spec(SPECS / "efficientnet_v2.yaml"), values)


@pytest.mark.parametrize("model", sorted(B_FAMILY))
def test_efficientnet_b_matches_torchvision(model):
    (width, depth, size), params, macs = B_FAMILY[model]
    a = _b(width, depth, size)
    assert a.input_shape == (1, 3, size, size)
    assert a.totals.params == params
    assert a.totals.macs == macs
    assert a.output_shape == (1, 1000)
    assert a.constraints == ()


@pytest.mark.parametrize("model", sorted(V2_FAMILY))
def test_efficientnet_v2_matches_torchvision(model):
    (variant, size), params, macs = V2_FAMILY[model]
    a = _v2(variant, size)
    assert a.input_shape == (1, 3, size, size)
    assert a.totals.params == params
    assert a.totals.macs == macs
    assert a.output_shape == (1, 1000)
    assert a.constraints == ()


def test_b0_is_the_default():
    a = analyze(load_spec(SPECS / "efficientnet.yaml"))
    assert a.input_shape == (1, 3, 224, 224)
    assert a.totals.params == 5_288_548  # torchvision efficientnet_b0 num_params
    assert round(a.totals.macs / 1e9, 2) == 0.39  # its published GFLOPS (_ops), 0.39


def test_the_header_set_lines(run_cli):
    """The `--set` lines in the specs' header comments give the members."""
    code, out, err = run_cli(
        "analyze", "efficientnet", "--set", "width=1.1", "depth=1.2", "H=288", "W=288", "-f", "json"
    )
    assert code == 0, err
    totals = json.loads(out)["totals"]
    assert (totals["params"], totals["macs"]) == B_FAMILY["b2"][1:]
    code, out, err = run_cli(
        "analyze", "efficientnet_v2", "--set", "variant=2", "H=480", "W=480", "-f", "json"
    )
    assert code == 0, err
    totals = json.loads(out)["totals"]
    assert (totals["params"], totals["macs"]) == V2_FAMILY["m"][1:]


def _layer(a, name):
    return next(r for r in a.layers if r.name == name)


def test_b_scaling_rules():
    # B7 (width 2.0, depth 3.1): stage 6 has ceil(4*3.1) = 13 blocks; its channels are
    # _make_divisible(192*2.0, 8) = 384, expanded 6x to 2304, squeezed to 384 // 4 = 96
    a = _b("2.0", "3.1", 600)
    names = {r.name for r in a.layers}
    assert "features.6.12.block.0.0" in names and "features.6.13.block.0.0" not in names
    assert _layer(a, "features.6.12.block.3.1").output_shape[1] == 384
    assert _layer(a, "features.6.12.block.2.fc1").output_shape[1] == 96
    assert _layer(a, "features.6.12.block.2.fc2").output_shape[1] == 2304
    # the last convolution widens 4x the last stage: 4 * _make_divisible(320*2.0, 8) = 2560
    assert _layer(a, "features.8.0").output_shape == (1, 2560, 19, 19)
    # B2 (width 1.1): the stem's 32*1.1 = 35.2 rounds to 32, the first stage's 16*1.1 = 17.6 to 16
    a = _b("1.1", "1.2", 288)
    assert _layer(a, "features.0.0").output_shape == (1, 32, 144, 144)
    assert _layer(a, "features.1.0.block.2.0").output_shape == (1, 16, 144, 144)


def test_blocks_add_their_input_back_only_when_shapes_match():
    a = analyze(load_spec(SPECS / "efficientnet.yaml"))
    adds = [r.name for r in a.layers if r.kind == "add"]
    # B0's stages have 1, 2, 2, 3, 3, 4, 1 blocks; every block but each stage's first adds
    assert len(adds) == 0 + 1 + 1 + 2 + 2 + 3 + 0
    assert "features.2.1.add" in adds and "features.2.0.add" not in adds
    # without an expansion the block starts with the depthwise convolution (block.0)
    assert _layer(a, "features.1.0.block.0.0").params == 32 * 3 * 3
    v2 = _v2(1, 384)
    names = {r.name for r in v2.layers}
    # V2-S: six stages, the last convolution is features.7; fused blocks of ratio 1 are one conv
    assert "features.7.0" in names and "features.8.0" not in names
    assert "features.1.0.block.1.0" not in names
    assert _layer(v2, "features.1.1.add").output_shape == (1, 24, 192, 192)
    assert _layer(v2, "features.2.0.block.1.0").params == 96 * 48  # fused: 3x3 expand, 1x1 project
    assert "features.8.0" in {r.name for r in _v2(3, 480).layers}


# ---------------------------------------------------------------------------------------------
# Per layer, against torchvision's models (torch optional).


def _torch_layers(model, size, torch):
    """(name, output shape, parameters) of every leaf module, in the order they run."""
    seen = []

    def hook(name):
        def record(module, inputs, output):
            seen.append((name, tuple(output.shape), sum(p.numel() for p in module.parameters())))

        return record

    for name, module in model.named_modules():
        if not list(module.children()):
            module.register_forward_hook(hook(name))
    with torch.no_grad():
        model(torch.zeros(2, 3, size, size, device="meta"))
    return seen


#: Layers the spec has and torchvision writes as operators, not modules.
OPERATORS = {"multiply", "add", "flatten"}


@pytest.mark.parametrize("size", [97, 161])
@pytest.mark.parametrize("model", ["efficientnet_b1", "efficientnet_v2_s"])
def test_every_layer_matches_torchvision(model, size):
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    with torch.device("meta"):
        net = getattr(tv.models, model)().eval()
    theirs = _torch_layers(net, size, torch)
    a = _b("1.0", "1.1", size, n=2) if model == "efficientnet_b1" else _v2(1, size, n=2)
    ours = [(r.name, tuple(r.output_shape), r.params) for r in a.layers if r.kind not in OPERATORS]
    assert ours == theirs
    assert a.totals.params == sum(p.numel() for p in net.parameters())


def test_b0_macs_counted_by_torch():
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):  # shapes only: torch counts from them
        net = tv.models.efficientnet_b0().eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net(torch.zeros(1, 3, 224, 224, device="meta"))
    a = analyze(load_spec(SPECS / "efficientnet.yaml"))
    assert a.totals.macs * 2 == counter.get_total_flops() == 771_629_504
    assert a.totals.params == sum(p.numel() for p in net.parameters())
