"""Subtotals by block (--depth, JSON groups), memory figures, and comparisons of many designs.

Stage figures of torchvision's ResNet-50 are written out by hand below from the bottleneck's
layers (1x1 reduce, 3x3, 1x1 expand, each with a batch norm of 2*C parameters; the first block
of a stage also projects its input with a 1x1 conv and a batch norm), and checked to add up to
the published 25,557,032.
"""

from __future__ import annotations

import json

from cnncalc.analysis.groups import groups, rows_at_depth
from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec

from .helpers import SPECS


def bottleneck(c_in: int, width: int, project: bool) -> int:
    """Parameters of one ResNet-50 bottleneck (no conv biases)."""
    out = 4 * width
    convs = c_in * width + width * width * 9 + width * out
    norms = 2 * width + 2 * width + 2 * out
    projection = (c_in * out + 2 * out) if project else 0
    return convs + norms + projection


STAGES = {
    "layer1": bottleneck(64, 64, True) + 2 * bottleneck(256, 64, False),
    "layer2": bottleneck(256, 128, True) + 3 * bottleneck(512, 128, False),
    "layer3": bottleneck(512, 256, True) + 5 * bottleneck(1024, 256, False),
    "layer4": bottleneck(1024, 512, True) + 2 * bottleneck(2048, 512, False),
}
STEM = 3 * 64 * 7 * 7 + 2 * 64
FC = 2048 * 1000 + 1000


def test_hand_stage_figures_add_up_to_the_published_total(published):
    assert STAGES["layer1"] == 215_808
    assert STEM + sum(STAGES.values()) + FC == published["resnet50"]["params"] == 25_557_032


def test_resnet50_at_depth_1(run_cli):
    code, out, _ = run_cli("analyze", "resnet50", "--depth", "1", "--width", "200")
    assert code == 0
    lines = out.splitlines()
    for stage, params in STAGES.items():
        row = next(line for line in lines if f" {stage} " in line)
        assert f"{params:,}" in row, row
    # One row per top-level entry: the stem's four layers, four stages, avgpool, flatten, fc.
    a = analyze(load_spec(SPECS / "resnet50.yaml"))
    names = [r.name for r in rows_at_depth(a, 1)]
    assert names == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
        "avgpool", "flatten1", "fc",
    ]  # fmt: skip
    # Stage outputs: 56x56x256, 28x28x512, 14x14x1024, 7x7x2048.
    by_path = {g.path: g for g in groups(a)}
    assert [by_path[s].output_shape for s in STAGES] == [
        (1, 256, 56, 56),
        (1, 512, 28, 28),
        (1, 1024, 14, 14),
        (1, 2048, 7, 7),
    ]
    # Bottlenecks per stage: 3, 4, 6, 3 blocks, each one level deeper.
    assert [len([g for g in by_path if g.count(".") == 1 and g.startswith(s)]) for s in STAGES] == [
        3,
        4,
        6,
        3,
    ]


def test_depth_2_and_0(run_cli):
    code, out, _ = run_cli("analyze", "resnet50", "--depth", "2", "--width", "200")
    assert code == 0
    assert f"{bottleneck(64, 64, True):,}" in next(line for line in out.splitlines() if " layer1.0 " in line)
    assert " layer1 " not in out
    code, out, _ = run_cli("analyze", "resnet50", "--depth", "0", "--width", "200")
    assert code == 0
    assert " layer1 " not in out and "conv1 " not in out.split("by category")[0]
    assert "25,557,032 (25.56 M)" in out


def test_json_groups(run_cli):
    code, out, _ = run_cli("analyze", "resnet50", "-f", "json")
    assert code == 0
    d = json.loads(out)
    groups_ = {g["path"]: g for g in d["groups"]}
    for stage, params in STAGES.items():
        assert groups_[stage]["params"] == params
        assert groups_[stage]["depth"] == 1
    assert groups_["layer1.0"]["params"] == bottleneck(64, 64, True)
    assert groups_["layer1.0"]["first"] == "layer1.0.conv1"
    assert groups_["layer1.0.downsample"]["layers"] == 2
    # MACs of layer1: 56*56 output positions, batch 1, each bottleneck's weights once per position.
    layer1_weights = STAGES["layer1"] - (2 * 64 + 2 * 64 + 2 * 256) * 3 - 2 * 256
    assert groups_["layer1"]["macs"] == 56 * 56 * layer1_weights


def test_memory_totals_and_layers(run_cli):
    code, out, _ = run_cli("analyze", "lenet5", "-f", "json", "--dtype", "float16")
    assert code == 0
    d = json.loads(out)
    m = d["totals"]["memory"]
    assert m["dtype"] == "float16" and m["bytes_per_element"] == 2
    assert m["input_bytes"] == 32 * 32 * 2
    assert m["params_bytes"] == 61_706 * 2
    conv1 = d["layers"][0]
    assert conv1["output_elements"] == 6 * 28 * 28
    assert conv1["activation_bytes"] == 6 * 28 * 28 * 2
    assert conv1["params_bytes"] == (6 * 5 * 5 + 6) * 2
    # Activations: every layer output once (LeNet-5's shapes, in order).
    outputs = [6 * 28 * 28] * 2 + [6 * 14 * 14] + [16 * 10 * 10] * 2 + [16 * 5 * 5] * 2 + [120] * 2
    outputs += [84] * 2 + [10] * 2
    assert m["activation_bytes"] == 2 * sum(outputs)
    assert m["total_bytes"] == m["input_bytes"] + m["params_bytes"] + m["activation_bytes"]
    code, out, _ = run_cli("analyze", "lenet5", "--dtype", "int8", "--width", "200")
    assert code == 0 and "Input size (int8): 1,024 bytes (1.00 KiB)" in out


def test_compare_many_with_bindings(run_cli, published):
    code, out, err = run_cli("compare", "resnet50", "resnet50@H=160,W=160", "mobilenet_v2", "-f", "json")
    assert code == 0, err
    d = json.loads(out)
    base, small, mobile = d["designs"]
    assert d["baseline"] == "resnet50"
    assert base["totals"]["macs"] == published["resnet50"]["macs"]
    assert mobile["totals"]["macs"] == published["mobilenet_v2"]["macs"]
    assert small["symbols"]["H"] == 160 and small["totals"]["params"] == base["totals"]["params"]
    assert mobile["ratio"]["macs"] == published["mobilenet_v2"]["macs"] / published["resnet50"]["macs"]
    code, out, _ = run_cli("analyze", "resnet50", "--set", "H=160", "W=160", "-f", "json")
    assert small["totals"]["macs"] == json.loads(out)["totals"]["macs"]
    code, out, _ = run_cli("compare", "resnet50", "resnet50@H=160,W=160", "mobilenet_v2", "-f", "csv")
    assert code == 0
    rows = out.splitlines()
    assert rows[0].startswith("label,spec,params,") and len(rows) == 4
    assert rows[3].startswith("mobilenet_v2,")
    code, out, _ = run_cli("compare", "resnet50", "mobilenet_v2", "vgg16", "--width", "60")
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 60


def test_a_spec_file_named_with_an_at_sign(run_cli, tmp_path, specs_dir, monkeypatch):
    (tmp_path / "le@net.yaml").write_text((specs_dir / "lenet5.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("compare", "lenet5", "le@net.yaml", "le@net.yaml@H=64,W=64", "-f", "json")
    assert code == 0, err
    designs = json.loads(out)["designs"]
    assert designs[1]["totals"] == designs[0]["totals"]
    assert designs[2]["symbols"]["H"] == 64


def test_compare_mistakes(run_cli):
    code, _, err = run_cli("compare", "resnet50")
    assert code == 2 and "two or more designs" in err
    code, _, err = run_cli("compare", "resnet50", "resnet50@alpha=2")
    assert code == 2 and "declares no symbol 'alpha'" in err
    code, _, err = run_cli("compare", "resnet50", "resnet50@H")
    assert code == 2 and "resnet50@H: 'H' after '@' is not NAME=VALUE; a design is SPEC or" in err
    code, _, err = run_cli("compare", "resnet50", "resnet50@H=1@W=2")
    assert code == 2 and "one '@' before the bindings, commas between them (e.g. resnet50@H=160,W=160)" in err
    code, _, err = run_cli("compare", "resnet50", "resnet50@H=abc")
    assert code == 2 and "resnet50@H=abc: H=abc: expected a number" in err
    code, _, err = run_cli("compare", "resnet50", "resnet50@W=224,H=0")
    assert code == 2 and "resnet50@W=224,H=0: H=0: H must be in [1, inf]" in err
