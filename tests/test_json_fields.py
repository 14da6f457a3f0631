"""Every field of the JSON report against arithmetic written here or a published figure."""

from __future__ import annotations

import json

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import parse_spec

SHARED_NORM = """
input: [2, 4, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, bias: false, name: a}
  - batch_norm2d: {name: bn}
  - relu
  - conv2d: {out: 4, kernel: 3, padding: 1, bias: false, share: a}
  - batch_norm2d: {share: bn}
"""


def test_a_shared_batch_norm_counts_its_parameters_and_buffers_once():
    a = analyze(parse_spec(SHARED_NORM, "s.yaml"))
    # one 4x4x3x3 conv weight, one batch norm: weight and bias (2*4), running mean and var (2*4)
    assert a.totals.params == 4 * 4 * 3 * 3 + 2 * 4
    assert a.totals.buffers == 2 * 4
    # MACs at both uses: 2 images, 8x8 positions, 4 outputs of 4*3*3 taps each
    assert a.totals.macs == 2 * (2 * 8 * 8 * 4 * 4 * 3 * 3)
    second = a.layers[-1]
    assert second.shares == "bn" and second.params == 0 and second.buffers == 0


def test_json_totals_and_shares(run_cli):
    code, out, _ = run_cli("analyze", "mobilenet_v1", "-f", "json")
    assert code == 0
    d = json.loads(out)
    t = d["totals"]
    # 4,231,976: the paper's 4.2 million, counted exactly (convolutions without bias, batch
    # norms, the 1024x1000 FC with bias)
    assert t["params"] == t["trainable_params"] == 4_231_976
    assert t["frozen_params"] == 0
    # batch norms after every conv, 2 running statistics per channel: the stem (32), then
    # depthwise / pointwise pairs 32/64, 64/128, 128/128, 128/256, 256/256, 256/512,
    # five 512/512, 512/1024, 1024/1024
    channels = [32, 32, 64, 64, 128, 128, 128, 128, 256, 256, 256, 256, 512]
    channels += [512] * 10 + [512, 1024, 1024, 1024]
    assert t["buffers"] == 2 * sum(channels)
    rows = {r["category"]: r for r in d["breakdown"]}
    # MobileNet v1, Table 2: 1x1 convolutions 94.86% of MACs and 74.59% of the weights.
    weights = sum(r["weights"] for r in d["breakdown"])
    assert round(100 * rows["conv2d 1x1"]["weights_share"], 2) == 74.59
    assert rows["conv2d 1x1"]["weights_share"] == round(rows["conv2d 1x1"]["weights"] / weights, 6)
    assert round(100 * rows["conv2d 1x1"]["macs_share"], 2) == 94.86
    assert rows["linear"]["params_share"] == round((1024 * 1000 + 1000) / 4_231_976, 6)
    assert rows["linear"]["biases"] == 1000 and rows["linear"]["norm"] == 0
    # FLOPs of the FC layer: 2 per MAC plus one bias addition per output
    assert rows["linear"]["flops"] == 2 * 1024 * 1000 + 1000
