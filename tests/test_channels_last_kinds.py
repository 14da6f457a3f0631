"""mean, permute, layer_norm, layer_norm2d, layer_scale, stochastic_depth and linear over an
axis: hand arithmetic, located messages for every mistake, receptive fields through a
channels-last block, and torchvision's own ConvNeXt block as the oracle of its spec."""

from __future__ import annotations

import pytest

from cnncalc.analysis.receptive import receptive_fields
from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec, parse_spec

from .helpers import SPECS


def _analyze(layers: str, shape: str = "[2, 8, 5, 6]"):
    return analyze(parse_spec(f"input: {shape}\nlayers:\n{layers}", "net.yaml"))


def test_convnext_block_params_by_hand():
    a = analyze(load_spec(SPECS / "examples" / "convnext_block.yaml"))
    params = {r.name: r.params for r in a.layers}
    assert params["block.0"] == 96 * 49 + 96  # 7x7 depthwise, with bias
    assert params["block.2"] == 2 * 96  # layer norm over 96
    assert params["block.3"] == 96 * 384 + 384
    assert params["block.5"] == 384 * 96 + 96
    assert params["layer_scale"] == 96
    assert a.totals.params == 4800 + 192 + 37248 + 36960 + 96 == 79296
    rows = 56 * 56
    assert a.totals.macs == rows * 96 * 49 + 2 * rows * 96 * 384 == 245_962_752
    assert tuple(a.output_shape) == (1, 96, 56, 56)


def test_convnext_block_matches_torchvision():
    pytest.importorskip("torch")
    cnblock = pytest.importorskip("torchvision.models.convnext").CNBlock
    block = cnblock(96, layer_scale=1e-6, stochastic_depth_prob=0.1)
    a = analyze(load_spec(SPECS / "examples" / "convnext_block.yaml"))
    assert a.totals.params == sum(p.numel() for p in block.parameters())
    state = {k: tuple(v.shape) for k, v in block.state_dict().items()}
    ours = {
        f"{r.name}.{k}" if k != "layer_scale" else k: tuple(int(d) for d in p.shape)
        for r in a.layers
        for k, p in r.weights
    }
    assert ours == state  # the same tensors under the same names


def test_costs_by_hand():
    a = _analyze(
        "  - layer_norm2d\n"  # 2*8*5*6 = 480 elements, 60 positions
        "  - linear: {out: 4, axis: 1}\n"  # 60 positions x 8 in x 4 out
        "  - layer_scale\n"
        "  - mean: {axes: [2, 3]}\n"  # 2*4*30 summed, 8 divisions
        "  - stochastic_depth: {p: 0.2, mode: batch}\n"
    )
    by = {r.kind: r for r in a.layers}
    assert (by["layer_norm2d"].params, by["layer_norm2d"].flops) == (16, 7 * 480 + 4 * 60)
    assert by["linear"].params == 8 * 4 + 4
    assert by["linear"].macs == 60 * 8 * 4 == 1920
    assert by["linear"].flops == 2 * 1920 + 60 * 4
    assert tuple(by["linear"].output_shape) == (2, 4, 5, 6)
    assert (by["layer_scale"].params, by["layer_scale"].macs, by["layer_scale"].flops) == (4, 0, 240)
    assert dict(by["layer_scale"].weights)["layer_scale"].shape == (4, 1, 1)
    assert tuple(by["mean"].output_shape) == (2, 4)
    assert (by["mean"].macs, by["mean"].flops) == (0, 240 + 8)
    assert (by["stochastic_depth"].params, by["stochastic_depth"].flops) == (0, 0)


def test_layer_norm_shapes_by_hand():
    a = _analyze(
        "  - permute: {dims: [0, 2, 3, 1]}\n"  # (2, 5, 6, 8)
        "  - layer_norm: {shape: [6, 8], affine: false}\n"  # 10 vectors of 48
        "  - layer_norm\n"  # the last axis: 60 vectors of 8
    )
    two, last = a.layers[1], a.layers[2]
    assert (two.params, two.flops) == (0, 5 * 480 + 4 * 10)
    assert (last.params, last.flops) == (16, 7 * 480 + 4 * 60)
    assert tuple(a.layers[0].output_shape) == (2, 5, 6, 8)


def test_mean_keepdim_and_negative_axes():
    a = _analyze("  - mean: {axes: [-1, 1], keepdim: true}\n")
    assert tuple(a.output_shape) == (2, 1, 5, 1)
    assert a.layers[0].flops == 480 + 10


def test_linear_keeps_its_default_on_the_last_axis():
    a = _analyze("  - linear: {out: 3}\n")
    assert tuple(a.output_shape) == (2, 8, 5, 3)
    assert a.layers[0].macs == 2 * 8 * 5 * 6 * 3


def test_receptive_fields_follow_the_image_axes_through_a_permute():
    a = analyze(load_spec(SPECS / "examples" / "convnext_block.yaml"))
    for f in receptive_fields(a):
        # the depthwise 7x7 is the only window; the linear layers mix channels, not the width
        assert [(ax.size, ax.whole) for ax in f.axes] == [(7, False), (7, False)], f.name


HEAD = "input: [2, 8, 5, 6]\nlayers:\n"


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (
            "mean: {axes: [1, 1]}",
            r"net\.yaml:3:\d+: layers\[0\]\.mean\.axes: axes \[1, 1\] name axis 1 more than once",
        ),
        (
            "mean: {axes: []}",
            r"net\.yaml:3:\d+: layers\[0\]\.mean\.axes: expected at least one axis, found none",
        ),
        (
            "mean: {axes: [4]}",
            r"net\.yaml:3:\d+: layer 'mean1' \(mean\): axes \[4\]: axis 4 is out of range for the "
            r"rank-4 input \[2, 8, 5, 6\] \(axes -4 to 3\)",
        ),
        ("mean: {axes: [3, -1]}", r"axes \[3, -1\]: 3 and -1 are the same axis of the rank-4 input"),
        (
            "mean: {axes: [0, 1, 2, 3]}",
            r"would leave a rank-0 tensor; keep an axis out, or write keepdim: true",
        ),
        (
            "permute: {dims: [0, 2, 1]}",
            r"layer 'permute1' \(permute\): dims \[0, 2, 1\] permutes 3 axes, but the "
            r"input \[2, 8, 5, 6\] has 4: list each of its axes once",
        ),
        (
            "permute: {dims: [0, 2, 3]}",
            r"layers\[0\]\.permute\.dims: dims \[0, 2, 3\] is not a permutation: its 3 "
            r"entries must be the axes 0 to 2 \(or -3 to -1\) each once, and 3 is out of that range",
        ),
        (
            "permute: {dims: [0, 1, 1, 2]}",
            r"net\.yaml:3:\d+: layers\[0\]\.permute\.dims: dims \[0, 1, 1, 2\] is not a "
            r"permutation: 1 and 1 are the same axis",
        ),
        ("permute: {dims: [0, 2, 3, -1]}", r"not a permutation: 3 and -1 are the same axis"),
        (
            "layer_norm: {shape: 5}",
            r"layer 'norm1' \(layer_norm\): shape \[5\] must be the input's last 1 axes, but "
            r"the input \[2, 8, 5, 6\] ends with \[6\]",
        ),
        (
            "layer_norm: {shape: [1, 2, 8, 5, 6]}",
            r"shape \[1, 2, 8, 5, 6\] normalises 5 axes, but the input "
            r"\[2, 8, 5, 6\] has 4",
        ),
        (
            "layer_norm: {shape: []}",
            r"layers\[0\]\.layer_norm\.shape: expected one value or a non-empty list",
        ),
        ("layer_norm: {eps: 0}", r"layers\[0\]\.layer_norm\.eps: must be greater than 0, found 0"),
        ("layer_norm2d: {eps: -1}", r"layers\[0\]\.layer_norm2d\.eps: must be greater than 0, found -1"),
        (
            "stochastic_depth: {p: 1.5}",
            r"net\.yaml:3:\d+: layers\[0\]\.stochastic_depth\.p: must be at most 1, found 1\.5",
        ),
        ("stochastic_depth: {p: -0.1}", r"stochastic_depth\.p: must be at least 0, found -0\.1"),
        (
            "stochastic_depth: {p: 0.1, mode: rows}",
            r"stochastic_depth\.mode: expected 'row' or 'batch', found 'rows'",
        ),
        ("linear: {out: 4, axis: 4}", r"layer 'fc1' \(linear\): axis 4 is out of range for a rank-4 input"),
        ("linear: {out: 4, axis: 0}", r"axis 0 is the batch axis: a linear layer maps features"),
        ("layer_scale: {axis: -4}", r"layer 'layer_scale1' \(layer_scale\): axis 0 is the batch axis"),
    ],
)
def test_mistakes_are_located_and_end_with_status_2(run_cli, tmp_path, layer, match):
    import re

    path = tmp_path / "net.yaml"
    path.write_text(HEAD + f"  - {layer}\n")
    code, _out, err = run_cli("analyze", str(path))
    assert code == 2
    assert "Traceback" not in err
    assert re.search(match, err.replace("\n", " ")), err
