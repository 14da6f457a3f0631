"""Points of a sweep where the network is not valid: a row marked invalid with its reason and
no totals, never a refusal of the whole grid. Where a swept symbol decides the layers (``when:``)
and a layer cannot take its input, the reason is that layer's message; where a condition of the
formulas fails, the first condition it breaks (the formulas' values there are no network's).
Expectations by hand, in every output: the engine, CSV (compiled and Python writers), JSON, the
table, the Python API, the Pareto front, the plot."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cnncalc
from cnncalc.analysis.pareto import Front, parse_objectives
from cnncalc.analysis.sweep import METRICS, parse_range, plan, sweep
from cnncalc.errors import ShapeError
from cnncalc.lang.spec import load_spec, parse_spec
from cnncalc.report import csvrows, domain

from .helpers import SPECS

# A 20x20 convolution that only H > 16 keeps: 16 has no convolution (valid), 17 to 19 are too
# small for it (no network), 20 gives a 1x1 output.
GAP = """symbols: {H: 32}
input: [1, 1, H, H]
layers:
  - relu
  - conv2d: {out: 1, kernel: 20, when: "H > 16"}
"""


def reason(h: int) -> str:
    return f"layer 'conv1' (conv2d): the kernel height 20 must fit in the padded input height {h}"


# By hand, (params, trainable, MACs, FLOPs, activations):
# H = 16: the ReLU alone, 1 FLOP per element: 16*16 FLOPs, 16*16 activations.
AT_16 = (0, 0, 0, 16 * 16, 16 * 16)
# H = 20: the ReLU (20*20 FLOPs, 20*20 activations), then one 20x20 filter and its bias on the
# 20x20 map: a 1x1 output, 20*20*1*1 MACs, 20*20 + 1 params, 2*MACs + 1 bias FLOPs, 1 value out.
AT_20 = (20 * 20 + 1, 20 * 20 + 1, 20 * 20 * 1 * 1, 20 * 20 + 2 * (20 * 20) + 1, 20 * 20 + 1)


@pytest.fixture
def gap(tmp_path):
    path = tmp_path / "gap.yaml"
    path.write_text(GAP)
    return path


def by_point(s) -> dict:
    return {
        h: (s.valid[i], tuple(s.totals[m][i] for m in METRICS), s.reason[i])
        for i, h in enumerate(s.points["H"])
    }


def test_a_layer_too_large_at_some_values_makes_those_rows_invalid():
    s = sweep(parse_spec(GAP, "gap.yaml"), dict([parse_range("H=16:20")]))
    none = (None,) * 5
    assert by_point(s) == {
        16: (True, AT_16, None),
        17: (False, none, reason(17)),
        18: (False, none, reason(18)),
        19: (False, none, reason(19)),
        20: (True, AT_20, None),
    }
    assert s.formulas == {} and s.conditions == ()


def test_csv(run_cli, gap):
    code, out, err = run_cli("sweep", str(gap), "--range", "H=16:20", "-f", "csv")
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "H,valid,params,trainable_params,macs,flops,activations,reason",
        "16,true," + ",".join(map(str, AT_16)) + ",",
        f"17,false,,,,,,{reason(17)}",
        f"18,false,,,,,,{reason(18)}",
        f"19,false,,,,,,{reason(19)}",
        "20,true," + ",".join(map(str, AT_20)) + ",",
    ]


def test_json(run_cli, gap):
    code, out, _ = run_cli("sweep", str(gap), "--range", "H=16:20", "-f", "json")
    assert code == 0
    doc = json.loads(out)
    points = {p["H"]: p for p in doc["points"]}
    assert points[17] == {"H": 17, "valid": False, **dict.fromkeys(METRICS), "reason": reason(17)}
    assert points[20] == {"H": 20, "valid": True, **dict(zip(METRICS, AT_20, strict=True)), "reason": None}
    assert points[16]["flops"] == 16 * 16 and points[16]["reason"] is None
    assert doc["formulas"] == {} and doc["conditions"] == []


def test_table(run_cli, gap):
    code, out, _ = run_cli("sweep", str(gap), "--range", "H=16:20", "--width", "200")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line[:2] in ("16", "17", "20")}
    assert rows["17"].split()[:7] == ["17", "no", "-", "-", "-", "-", "-"]
    assert reason(17) in rows["17"]
    assert rows["20"].split()[:7] == ["20", "yes", "401", "401", "400", "1,201", "401"]
    assert (
        "Rows marked no have no network at those values, so no totals (-): the reason column says why." in out
    )
    # Too narrow for the reasons: the note gives them
    code, out, _ = run_cli("sweep", str(gap), "--range", "H=16:20", "--width", "80")
    text = " ".join(out.split())
    assert "Not shown at 80 columns: reason." in text
    listed = f"H=17: {reason(17)}; H=18: {reason(18)}; H=19: {reason(19)}."
    assert f"no network at those values, so no totals (-): {listed}" in text


def test_python_api(gap):
    s = cnncalc.sweep(str(gap), {"H": range(16, 21)})
    assert s.valid == (True, False, False, False, True)
    assert s.totals["macs"] == (0, None, None, None, 20 * 20)
    assert s.reason == (None, reason(17), reason(18), reason(19), None)
    assert s.to_dict()["points"][1]["macs"] is None
    assert s.to_csv().splitlines()[2] == f"17,false,,,,,,{reason(17)}"
    pd = pytest.importorskip("pandas")
    frame = s.to_pandas()
    assert list(frame["reason"])[1] == reason(17) and pd.isna(frame["macs"][2])


def test_invalid_points_are_never_on_the_pareto_front(run_cli, gap):
    # the fewest FLOPs and the largest H: 16 (256 FLOPs) and 20 (1,201); 17 to 19 have no network
    s = cnncalc.sweep(str(gap), {"H": range(16, 21)}, pareto="flops,H")
    assert s.points["H"] == (16, 20) and all(s.valid) and s.reason == (None, None)
    code, out, _ = run_cli("sweep", str(gap), "--range", "H=16:20", "--pareto", "flops,H", "-f", "csv")
    assert code == 0 and [line.split(",")[0] for line in out.splitlines()[1:]] == ["16", "20"]
    # largest H alone: the invalid 19 would win among 17..19; the valid points are 16 only
    front = cnncalc.sweep(str(gap), {"H": range(16, 20)}, pareto="max:H,min:flops")
    assert front.points["H"] == (16,)


def test_every_point_without_a_network_is_still_an_answer(run_cli, gap):
    """As where every point breaks a condition (VGG at H < 32): exit 0, each row invalid."""
    code, out, _ = run_cli("sweep", str(gap), "--range", "H=17:19", "-f", "csv")
    assert code == 0
    assert out.splitlines()[1:] == [f"{h},false,,,,,,{reason(h)}" for h in (17, 18, 19)]
    code, out, _ = run_cli("sweep", "vgg16", "--range", "H=16:20", "-f", "csv")
    assert code == 0 and all(",false," in line for line in out.splitlines()[1:])
    code, out, _ = run_cli("sweep", str(gap), "--range", "H=17:19", "--width", "200")
    assert code == 0 and [line.split()[:2] for line in out.splitlines()[3:6]] == [
        [f"{h}", "no"] for h in (17, 18, 19)
    ]
    assert "no network at those values" in out


def test_an_analysis_failing_whatever_the_swept_values_is_refused(run_cli, tmp_path):
    """No symbol deciding the layers swept: the one analysis, with the swept symbols open, fails
    for every value they may take; refused with its message, as before."""
    path = tmp_path / "small.yaml"
    path.write_text(
        "symbols: {H: {default: 8, max: 10}}\ninput: [1, 1, H, H]\nlayers: [{conv2d: {out: 1, kernel: 20}}]\n"
    )
    code, out, err = run_cli("sweep", str(path), "--range", "H=1:10", "-f", "csv")
    assert code == 2 and out == ""
    assert "layer 'conv1' (conv2d): the kernel height 20 must fit" in err and "H <= 10" in err
    with pytest.raises(ShapeError, match="kernel height 20"):
        cnncalc.sweep(str(path), {"H": range(1, 11)})


def test_a_spec_mistake_at_one_value_is_not_a_row(run_cli, tmp_path):
    """Only a size the network cannot take is a row: a reference to a layer that the `when:`
    leaves out at H = 16 is a mistake in the spec, refused whole."""
    path = tmp_path / "ref.yaml"
    path.write_text(
        "symbols: {H: 32}\ninput: [1, 1, H, H]\nlayers:\n  - relu: {name: a}\n"
        '  - relu: {name: b, when: "H > 16"}\n  - add: {inputs: [a, b]}\n'
    )
    for values in ("16:18", "17,18,16"):  # the mistake first, or after rows that have totals
        code, out, err = run_cli("sweep", str(path), "--range", f"H={values}", "-f", "csv")
        assert code == 2 and out == "", values  # nothing written before the refusal
        assert "no earlier layer is named 'b'" in err and "Traceback" not in err


def test_an_argument_without_a_value_at_one_size_is_a_row(run_cli, tmp_path):
    """A layer's argument that has no value at a size (36 // (H - 18) at 18), or a value the
    layer refuses (-36 at 17), is the analysis's refusal at that size, as analyze refuses it."""
    path = tmp_path / "div.yaml"
    path.write_text(GAP.replace("out: 1,", 'out: "36 // (H - 18)",'))
    code, out, err = run_cli("sweep", str(path), "--range", "H=17:20", "-f", "csv")
    assert code == 0 and err == ""
    assert out.splitlines()[1:] == [
        "17,false,,,,,,layer 'conv1' (conv2d): out = 36 // (H - 18) = -36 must be at least 1",
        "18,false,,,,,,layer 'conv1' (conv2d): out: in '36 // (H - 18)': division by zero",
        f"19,false,,,,,,{reason(19)}",
        # 36 // 2 = 18 filters of 20x20 on the 20x20 map: 18 outputs of 20*20 MACs each;
        # FLOPs: the ReLU's 20*20, 2 per MAC, 18 bias additions; activations 20*20 + 18
        f"20,true,{18 * 401},{18 * 401},{18 * 20 * 20},{20 * 20 + 2 * 18 * 20 * 20 + 18},{20 * 20 + 18},",
    ]


def test_conditions_broken_name_the_first_one_and_give_no_totals():
    """VGG needs H >= 32 and W >= 32 (pool5): a point breaking one is invalid, its reason the
    first condition it breaks, and it has no totals."""
    s = sweep(load_spec(SPECS / "vgg16.yaml"), dict([parse_range("H=31:32"), parse_range("W=31,32")]))
    h, w = "layer 'pool5' (max_pool2d): needs H >= 32", "layer 'pool5' (max_pool2d): needs W >= 32"
    assert list(zip(s.points["H"], s.points["W"], s.valid, s.reason, strict=True)) == [
        (31, 31, False, h),
        (31, 32, False, h),
        (32, 31, False, w),
        (32, 32, True, None),
    ]
    # VGG-16's 138,357,544 params (torchvision) hold at any size its adaptive pool accepts
    assert s.totals["params"] == (None, None, None, 138_357_544)
    assert s.conditions == ("H >= 32", "W >= 32")


# LeNet-5 (the bundled spec: two 5x5 convolutions, each followed by a 2x2 average pool, then
# 120, 84 and 10 units) has 61,706 params at 32x32 (LeCun et al., 1998). Below 16 rows the
# second pool has nothing to pool: its formula for the params, 9600*floor((H - 12)/4) + 13706,
# gives 13706 - 9600*3 = -15,094 at H = 1, a count no network has.
LENET_H = "layer 'avgpool2' (avg_pool2d): needs H >= 16"


def test_a_formula_s_value_where_its_conditions_fail_is_never_given_as_a_total(run_cli):
    code, out, err = run_cli("sweep", "lenet5", "--range", "H=1,15,16,32", "--set", "W=32", "-f", "csv")
    assert code == 0 and err == ""
    rows = [line.split(",") for line in out.splitlines()[1:]]
    assert [r[:3] for r in rows] == [
        ["1", "false", ""],
        ["15", "false", ""],
        ["16", "true", "23306"],
        ["32", "true", "61706"],
    ]
    for r in rows[:2]:
        assert r[2:7] == [""] * 5 and r[7] == LENET_H
    assert not any(cell.startswith("-") for r in rows for cell in r[2:7])
    # the JSON, the table and the API alike
    code, out, _ = run_cli("sweep", "lenet5", "--range", "H=1,32", "--set", "W=32", "-f", "json")
    first, last = json.loads(out)["points"]
    assert first == {"H": 1, "valid": False, **dict.fromkeys(METRICS), "reason": LENET_H}
    assert last["params"] == 61_706
    code, out, _ = run_cli("sweep", "lenet5", "--range", "H=1,32", "--set", "W=32", "--width", "200")
    assert out.splitlines()[3].split()[:7] == ["1", "no", "-", "-", "-", "-", "-"]
    s = cnncalc.sweep("lenet5", {"H": [1, 32]}, W=32)
    assert s.totals["params"] == (None, 61_706) and s.totals["macs"][0] is None


DEPTH = """symbols: {H: {default: 32, max: 100000}, d: 1}
input: [1, 1, H, H]
layers:
  - relu
  - conv2d: {out: 1, kernel: 200000, when: "d > 1"}
"""


def test_a_structural_value_without_a_network_for_any_open_value():
    """d = 2 keeps a convolution larger than H may ever be (H <= 100,000): every point of d = 2
    is invalid, whatever H; d = 1 is a ReLU over H*H values."""
    s = sweep(parse_spec(DEPTH, "depth.yaml"), {"d": [1, 2], "H": [1, 3, 100_000]})
    assert s.valid == (True,) * 3 + (False,) * 3
    assert s.totals["flops"] == (1 * 1, 3 * 3, 100_000 * 100_000, None, None, None)
    assert s.reason[3] == (
        "layer 'conv1' (conv2d): the kernel height 200000 must fit in the padded input height H: "
        "this needs H >= 200000, but H <= 100000"
    )


def test_csv_of_rows_without_totals_compiled_and_in_python_alike():
    """A chunk large enough for the compiled writer, half of it without totals: the same text
    as Python's csv module writes from the collected sweep (the reason quoted: it holds a
    comma)."""
    spec, ranges = parse_spec(DEPTH, "depth.yaml"), dict([parse_range("d=1:2"), parse_range("H=1:12000")])
    p = plan(spec, ranges)
    (c,) = list(p.chunks(size=p.size))
    assert len(c) >= csvrows.COMPILED_FROM and c.totals["macs"].dtype == np.int64 and not c.valid.all()
    compiled = domain.sweep_csv_header(p.symbols) + domain.sweep_csv_rows(c)
    assert compiled == domain.sweep_csv(sweep(spec, ranges))
    lines = compiled.splitlines()
    assert lines[12000] == "1,12000,true,0,0,0,144000000,144000000,"  # 12000*12000 ReLU
    assert lines[12001].startswith("2,1,false,,,,,,\"layer 'conv1' (conv2d): the kernel height 200000")


def test_chunks_evaluated_apart_are_the_whole():
    p = plan(parse_spec(GAP, "gap.yaml"), dict([parse_range("H=1:60")]))
    whole = list(p.chunks(size=7))
    parts = [c for lo in range(0, p.size, 25) for c in p.chunks(size=4, start=lo, stop=lo + 25)]

    def rows(chunks):
        return [
            (bool(c.valid[i]), c.reasons[c.reason[i]] if c.reason[i] >= 0 else None, c.totals["macs"][i])
            for c in chunks
            for i in range(len(c))
        ]

    assert rows(whole) == rows(parts)
    assert [r[0] for r in rows(whole)] == [h <= 16 or h >= 20 for h in range(1, 61)]


def test_the_front_skips_rows_without_totals_chunk_by_chunk():
    p = plan(parse_spec(GAP, "gap.yaml"), dict([parse_range("H=1:40")]))
    front = Front(parse_objectives("max:H,min:macs", p.symbols), p.symbols, p.scales)
    for c in p.chunks(size=3):
        front.add(c)
    best = front.chunk()
    # 0 MACs up to 16, then 20*20*(H - 19)**2 (an (H - 19)x(H - 19) output): the largest H with
    # 0 MACs (16), then each larger H, costing more (20 to 40); 17 to 19 have no network
    assert [int(h) for h in best.points["H"]] == [16, *range(20, 41)]
    assert best.valid.all() and (best.reason == -1).all()
    assert np.array_equal(
        best.totals["macs"][1:].astype(np.int64), [20 * 20 * (h - 19) ** 2 for h in range(20, 41)]
    )


def test_plot_leaves_a_gap(run_cli, gap, tmp_path):
    pytest.importorskip("matplotlib")
    svg = tmp_path / "gap.svg"
    code, _, err = run_cli("sweep", str(gap), "--range", "H=16:20", "--plot", str(svg), "-f", "csv")
    assert code == 0 and err == "" and b"<svg" in svg.read_bytes()[:2000]


@pytest.mark.parametrize("n", [3, csvrows.COMPILED_FROM])
def test_a_reason_is_one_ascii_cell_in_both_writers(n):
    """A reason holding a comma, a quote or a character beyond ASCII (a custom layer's message
    may): quoted as the csv module quotes, other characters escaped as JSON escapes them."""
    from cnncalc.analysis.sweep import Chunk, Points

    h = np.arange(1, n + 1, dtype=np.int64)
    totals = {m: np.array([None] * n, dtype=object) for m in METRICS}
    reason = np.where(h % 2 == 0, 0, 1)
    chunk = Chunk(
        0, Points(("H",), {"H": h}, {}), {}, totals, np.zeros(n, dtype=bool), reason, ('a, "b"', "≥ 4")
    )
    lines = domain.sweep_csv_rows(chunk).splitlines()
    assert lines[:2] == ["1,false,,,,,,\\u2265 4", '2,false,,,,,,"a, ""b"""'] and len(lines) == n


def test_the_other_symbols_whether_or_not_a_point_has_a_network():
    """The symbols the same at every point: given, defaulted, or derived from those; never one
    derived from a swept symbol (v = H + 1 follows H), and the same when no point has a
    network (no analysis to read them from)."""
    text = GAP.replace("symbols: {H: 32}", 'symbols: {H: 32, N: 2, w: "2*N", v: "H + 1"}')
    text = text.replace("[1, 1, H, H]", "[N, 1, H, H]").replace("out: 1,", "out: w,")
    spec = parse_spec(text, "gapn.yaml")
    assert sweep(spec, {"H": [17, 18]}).fixed == {"N": 2, "w": 4}  # no network at either
    assert sweep(spec, {"H": [16, 17]}, {"N": 3}).fixed == {"N": 3, "w": 6}
    assert sweep(spec, {"H": [16, 17]}, {"v": 3}).fixed == {"N": 2, "w": 4, "v": 3}


def test_totals_beyond_64_bits_beside_a_point_without_a_network(run_cli, gap):
    """Totals of more than 64 bits (Python integers) and a point without totals in one chunk."""
    code, out, _ = run_cli("sweep", str(gap), "--range", "H=17,4000000000", "-f", "csv")
    assert code == 0
    h = 4_000_000_000
    side = h - 20 + 1  # the 20x20 filter's output, 3,999,999,981 a side
    macs = 20 * 20 * side * side
    assert macs > 2**63
    assert out.splitlines()[1:] == [
        f"17,false,,,,,,{reason(17)}",
        f"{h},true,401,401,{macs},{h * h + 2 * macs + side * side},{h * h + side * side},",
    ]
