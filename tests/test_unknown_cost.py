"""A layer of unknown cost (``opaque``) through the engine and every report: ``?`` and ``null``
where its own cost would be, ``+ ?`` on the sums that leave it out, never a silent 0.

The network of these tests, counted by hand on a 1x3x8x8 input:

- ``blk.conv``: conv2d 3 -> 4, 3x3, padding 1: params 4*27 + 4 = 112, MACs 8*8*4*27 = 6,912,
  FLOPs 2*6,912 + 8*8*4 (bias) = 14,080;
- ``blk.mix``: opaque, output [1, 4, 8, 8] (256 elements, 1,024 bytes at float32);
- ``blk.relu``: FLOPs 256;
- ``head``: conv2d 4 -> 2, 1x1: params 2*4 + 2 = 10, MACs 8*8*2*4 = 512, FLOPs 2*512 + 128 = 1,152.
"""

from __future__ import annotations

import json

import pytest

from cnncalc.analysis import breakdown as bd
from cnncalc.analysis.compare import compare
from cnncalc.analysis.conventions import apply
from cnncalc.analysis.groups import groups
from cnncalc.analysis.training import training
from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec, parse_spec
from cnncalc.lang.zoo import find_spec
from cnncalc.report import View, render
from cnncalc.report.structured import md, to_csv, to_dict, to_markdown
from cnncalc.report.text import Partial, exact_bytes, human_bytes, json_value, number, short

SPEC = """\
name: withopaque
input: [1, 3, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, name: blk.conv}
  - opaque: {op: Einsum, shape: [1, 4, 8, 8], name: blk.mix}
  - relu: {name: blk.relu}
  - conv2d: {out: 2, kernel: 1, name: head}
"""


@pytest.fixture
def a():
    return analyze(parse_spec(SPEC, "withopaque.yaml"))


def _text(renderable, width=140) -> str:
    import io

    from rich.console import Console

    c = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    c.print(renderable)
    return c.file.getvalue()


def test_formatting_an_unknown_value_and_a_partial_sum():
    assert number(None) == "?" and short(None) == "?" and human_bytes(None) == "?"
    assert number(Partial(1234)) == "1,234 + ?"
    assert short(Partial(15_470_264_320)) == "15.47 G + ?"
    assert exact_bytes(Partial(488)) == "488 B + ?"
    assert md(None) == "?" and md(Partial(7424)) == "7,424 + ?"
    assert json_value(None) is None


def test_the_engine_records_none_and_the_totals_name_the_layer(a):
    mix = a.layers[1]
    assert (mix.params, mix.buffers, mix.macs, mix.flops) == (None, None, None, None)
    assert mix.output_shape == (1, 4, 8, 8) and not mix.cost_known
    t = a.totals
    assert t.params == 112 + 10 and t.trainable_params == 112 + 10 and t.frozen_params == 0
    assert t.macs == 6912 + 512
    assert t.flops == 14080 + 256 + 1152
    assert t.activations == 256 * 3 + 128  # every output counts, the opaque one's too
    assert t.unknown_cost == ("blk.mix",) and not t.complete


def test_group_subtotals_leave_the_layer_out_and_name_it(a):
    (blk,) = groups(a)
    assert (blk.params, blk.macs, blk.flops) == (112, 6912, 14080 + 256)
    assert blk.unknown_cost == ("blk.mix",)


def test_depth_one_table_marks_the_block_and_the_totals(a):
    out = _text(render(a, View(width=140, depth=1)))
    row = next(line for line in out.splitlines() if line.split()[:2] == ["1-3", "blk"])
    assert row.split()[2:] == [
        "3", "layers", "[1,", "4,", "8,", "8]",
        "112", "+", "?", "6,912", "+", "?", "14,336", "+", "?",  # params, MACs, FLOPs
        "1.00", "KiB", "448", "B", "+", "?", "256", "all",  # out bytes, param bytes, elements, RF
    ]  # fmt: skip
    total = next(line for line in out.splitlines() if line.split()[:1] == ["total"])
    assert total.split()[5:14] == ["122", "+", "?", "7,424", "+", "?", "15,488", "+", "?"]
    assert "Cost unknown (?) for 1 layer: blk.mix (opaque, Einsum)" in out
    assert "Params:               122 + ?" in out
    assert "Activations size:     3,584 bytes (3.50 KiB)" in out  # (256*3 + 128) * 4, known


def test_depth_zero_still_says_what_the_totals_leave_out(a):
    out = _text(render(a, View(width=140, depth=0)))
    assert "+ ?: not counted: the cost of blk.mix is unknown." in out


def test_json_gives_null_and_unknown_cost(a):
    d = json.loads(json.dumps(to_dict(a)))
    mix = d["layers"][1]
    assert [mix[k] for k in ("params", "macs", "flops", "trainable", "params_bytes")] == [None] * 5
    assert mix["activation_bytes"] == 1024
    assert d["totals"]["unknown_cost"] == ["blk.mix"]
    assert d["groups"][0]["unknown_cost"] == ["blk.mix"] and d["groups"][0]["macs"] == 6912
    opaque = next(r for r in d["breakdown"] if r["category"] == "opaque")
    assert opaque["macs"] is None and opaque["macs_share"] is None and opaque["params"] is None
    conv = next(r for r in d["breakdown"] if r["category"] == "conv2d 3x3")
    assert conv["macs_share"] == round(6912 / (6912 + 512), 6)  # a share of the known MACs


def test_json_of_a_spec_without_opaque_layers_has_no_unknown_cost_field():
    d = to_dict(analyze(load_spec(find_spec("lenet5"))))
    assert "unknown_cost" not in d["totals"]
    assert all("unknown_cost" not in g for g in d["groups"])


def test_csv_leaves_the_unknown_cells_empty(a):
    rows = to_csv(a).splitlines()
    assert rows[2] == 'blk.mix,opaque,"[1, 4, 8, 8]",,,,,256,1024,'


def test_markdown_marks_the_block_and_the_totals(a):
    text = to_markdown(a, depth=1)
    assert "| 1-3 | `blk` | 3 layers | [1, 4, 8, 8] | 112 + ? | 6,912 + ? | 14,336 + ? |" in text
    assert "| | **total** | | [1, 2, 8, 8] | **122 + ?** | **7,424 + ?** | **15,488 + ?** |" in text
    assert "| opaque | 1 | ? | ? | ? | ? | ? | ? | ? | ? |" in text


def test_breakdown_puts_it_in_its_own_category_of_unknown_counts(a):
    rows = {r.category: r for r in bd.breakdown(a)}
    assert rows["opaque"].macs is None and rows["opaque"].params is None
    assert bd.share(rows["opaque"].macs, a.totals.macs) is None
    assert bd.total_weights(tuple(rows.values())) == 4 * 27 + 2 * 4


def test_training_and_conventions_keep_the_unknown(a):
    t = training(a)
    mix = next(row for row in t.layers if row.name == "blk.mix")
    assert mix.backward_flops is None
    counted = apply(a, "ptflops")
    assert counted.layers[1].macs is None and counted.totals.unknown_cost == ("blk.mix",)
    # ptflops: conv MACs plus a bias addition per output, ReLU counted twice.
    assert counted.totals.macs == (6912 + 256) + 2 * 256 + (512 + 128)


def test_compare_has_no_ratio_for_an_unknown_cost(a):
    from fractions import Fraction

    without = SPEC.replace("  - opaque: {op: Einsum, shape: [1, 4, 8, 8], name: blk.mix}\n", "")
    c = compare([analyze(parse_spec(without, "b")), a])
    assert c.ratios[1]["macs"] is None and c.ratios[1]["params"] is None
    assert c.ratios[1]["activations"] == Fraction(256 * 3 + 128, 256 * 2 + 128)


def test_sweep_and_solve_refuse_a_cost_they_cannot_count(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text(
        SPEC.replace("input: [1, 3, 8, 8]", "symbols: {H: 8}\ninput: [1, 3, H, H]").replace(
            "shape: [1, 4, 8, 8]", "shape: [1, 4, H, H]"
        )
    )
    code, _, err = run_cli("sweep", str(path), "--range", "H=8:16:8")
    assert code == 2 and "sweep: the cost of 1 layer (blk.mix) is unknown (opaque)" in err
    code, _, err = run_cli("solve", str(path), "--largest", "H", "--within", "macs=100000")
    assert code == 2 and "--within macs: the cost of 1 layer (blk.mix) is unknown" in err
    # The peak of activations reads shapes only: at H, 4*H*H floats of blk.conv and of blk.mix
    # are alive together, 32*H*H bytes: H = 55 is the largest within 100,000 bytes (96,800).
    code, out, _ = run_cli("solve", str(path), "--largest", "H", "--within", "peak_bytes=100000")
    assert code == 0 and "largest H with peak_bytes <= 100,000: 55 (peak_bytes 96,800)" in out


def test_chart_shows_the_unknown_instead_of_a_bar(a):
    from cnncalc.report.chart import chart

    out = _text(chart(a, "macs", width=80))
    line = next(x for x in out.splitlines() if x.startswith("blk.mix"))
    assert line.rstrip().endswith("? (unknown)") and "█" not in line
