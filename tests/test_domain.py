"""Validity domains, inverse questions and sweeps against published figures, hand arithmetic,
integer recurrences written in the test, and torch where installed."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analysis.bounds import bounds
from cnncalc.analysis.exact import compile_formulas, evaluate
from cnncalc.analysis.inverse import largest_within, solve_shape
from cnncalc.analysis.sweep import parse_range, sweep
from cnncalc.core.engine import analyze
from cnncalc.errors import CnncalcError, UsageError
from cnncalc.lang.spec import load_spec, parse_spec

from .helpers import SPECS

# torchvision 0.29.1 weights metadata ``min_size`` (../shared/reference/published-figures.md)
TORCHVISION_MIN_SIZE = {
    "alexnet": 63,
    "vgg16": 32,
    "vgg11_bn": 32,
    "googlenet": 15,
    "resnet50": 1,
    "mobilenet_v2": 1,
}


def spec(name: str):
    return load_spec(SPECS / f"{name}.yaml")


@pytest.mark.parametrize("model", sorted(TORCHVISION_MIN_SIZE))
def test_min_size_matches_torchvision(model):
    b = {s.name: s for s in bounds(spec(model)).symbols}
    assert b["H"].min == b["W"].min == TORCHVISION_MIN_SIZE[model]
    assert b["N"].min == 1 and b["N"].max is None


def test_bounds_of_a_symbol_given_a_value():
    b = {s.name: s for s in bounds(spec("vgg16"), {"H": "100"}).symbols}
    assert (b["H"].value, b["H"].min) == (100, 32) and b["W"].min == 32


def test_exact_downsampling_conditions():
    assert {s.name: s.exact for s in bounds(spec("resnet50")).symbols}["H"] == "H % 32 == 0"
    # U-Net: four 2x2 pools, and its skips need it anyway
    assert {s.name: s.exact for s in bounds(spec("unet")).symbols}["W"] == "W % 16 == 0"
    # AlexNet: conv 11/4 pad 2 gives floor((n - 7)/4) + 1 < n/4 for every n: never exact
    h = {s.name: s for s in bounds(spec("alexnet")).symbols}["H"]
    assert h.exact is None and h.inexact_layers[0] == "conv1"


def test_bounds_reports_the_last_feature_map_field():
    b = bounds(spec("vgg16"))
    assert b.field[0].size == 212  # google-research/receptive_field: vgg_16


def test_torch_accepts_exactly_from_the_minimum():
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    builders = {
        "alexnet": lambda: tv.models.alexnet(),
        "googlenet": lambda: tv.models.googlenet(aux_logits=False, init_weights=False),
    }
    for name, build in builders.items():
        with torch.device("meta"):
            model = build().eval()
        low = TORCHVISION_MIN_SIZE[name]
        assert {s.name: s.min for s in bounds(spec(name)).symbols}["H"] == low
        model(torch.zeros(1, 3, low, low, device="meta"))
        with pytest.raises(RuntimeError):
            model(torch.zeros(1, 3, low - 1, low - 1, device="meta"))


def test_shape_query_resnet50_7x7():
    (h, w) = solve_shape(spec("resnet50"), (7, 7))
    # the last map is ceil(H/32): 7 exactly when 6*32 < H <= 7*32
    assert h.layer == "layer4.2.relu3"
    assert h.interval == (6 * 32 + 1, 7 * 32) and w.interval == (193, 224)


def test_shape_query_with_residues():
    (h, _) = solve_shape(spec("unet"), (64, 64), layer="pool2")
    # pool2 is floor(floor(H/2)/2): 64 for H in 256..259; the skips need H % 16 == 0
    assert h.interval == (256, 259) and h.conditions == ("H % 16 == 0",)


def test_shape_query_unknown_layer():
    with pytest.raises(UsageError, match="unknown layer 'pool9'"):
        solve_shape(spec("vgg16"), (1, 1), layer="pool9")


def test_largest_side_within_a_budget():
    b = largest_within(spec("resnet50"), ("H", "W"), "macs", 10**9)
    assert b.best == 100 and b.next == 101
    assert b.best_cost == analyze(spec("resnet50"), {"H": 100, "W": 100}).totals.macs <= 10**9
    assert b.next_cost == analyze(spec("resnet50"), {"H": 101, "W": 101}).totals.macs > 10**9


def test_largest_alpha_within_300m():
    b = largest_within(spec("mobilenet_v1"), ("alpha",), "macs", 300 * 10**6, step=Fraction(1, 32))
    assert b.best == Fraction(23, 32) and b.best_cost <= 300 * 10**6
    # MobileNet v1 at width 0.75 (paper Table 6, exact): 325,400,448
    assert b.next == Fraction(3, 4) and b.next_cost == 325_400_448


def test_largest_side_within_a_memory_budget(run_cli):
    code, out, _ = run_cli("solve", "resnet50", "--largest", "H,W", "--within", "peak_bytes=64e6")
    # the peak is three 256-channel maps at a quarter of the side, 4 bytes each:
    # 3*256*144*144*4 at 576 (144 = 576/4); at 577, ceil(ceil(577/2)/2) = 145
    assert code == 0 and "576 (peak_bytes 63,700,992)" in out
    assert f"{3 * 256 * 145 * 145 * 4:,}" in out


@pytest.mark.parametrize("answer", [1, 2, 1000, 35_037_920, 10**12, (1 << 40) - 1])
def test_the_search_gallops(answer):
    """The largest v with v <= answer, in O(log v) tests: the gap doubles on the way up, then
    bisection (a gap growing by one step at a time took 8,385 analyses for 35,037,920)."""
    from cnncalc.analysis.inverse import _search_up

    calls = []

    def fn(v: int) -> bool:
        calls.append(v)
        return v <= answer

    assert _search_up(fn, 1) == answer
    assert len(calls) <= 2 * answer.bit_length() + 4


def test_a_search_that_reaches_its_limits_says_so(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line an answer
    # A 3x3 convolution to 8 channels, padding 1: 8*27 = 216 MACs a pixel, 216*H**2 in all.
    path = tmp_path / "maxed.yaml"
    path.write_text(
        "symbols: {H: {default: 32, max: 64}}\ninput: [1, 3, H, H]\n"
        "layers:\n  - conv2d: {out: 8, kernel: 3, padding: 1}\n"
    )
    code, out, _ = run_cli("solve", str(path), "--largest", "H", "--within", "macs=1G")
    assert code == 0
    assert out == (
        f"largest H with macs <= 1,000,000,000: 64 (macs {216 * 64**2:,}): the declared maximum of H "
        f"ends the search, not the budget\n"
    )
    code, out, _ = run_cli("solve", str(path), "--largest", "H", "--within", "macs=10000")
    assert out == f"largest H with macs <= 10,000: 6 (macs {216 * 36:,})\n  next H = 7: macs {216 * 49:,}\n"
    code, out, _ = run_cli("solve", "resnet50", "--largest", "H,W", "--within", "macs=1e40")
    assert code == 0 and out.startswith(f"H = W can be at least {1 << 40} with macs <= 10,000,")
    assert out.endswith("the search stops at 2**40 steps\n")
    code, out, _ = run_cli("solve", str(path), "--largest", "H", "--within", "macs=1G", "-f", "json")
    assert '"stopped_by": "max"' in out


def test_a_size_beyond_the_search_is_not_called_impossible(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line an answer
    # ceiling(H/32) = 10**11 needs H near 3.2 * 10**12, past the 2**40 the search goes to.
    code, out, _ = run_cli("solve", "resnet50", "--shape", f"{10**11}x7")
    assert code == 0
    assert f"size {10**11} along axis 2 (ceiling(H/32)): no value of H up to 2**40 (each gives" in out
    assert "(ceiling(W/32)): 193 <= W <= 224" in out  # 7 = ceiling(W/32) for 193..224
    path = tmp_path / "maxed.yaml"
    path.write_text("symbols: {H: {default: 32, max: 64}}\ninput: [1, 3, H, H]\nlayers:\n  - relu\n")
    code, out, _ = run_cli("solve", str(path), "--shape", "100x100")
    assert "no value of H up to its declared maximum 64" in out
    code, out, _ = run_cli("solve", "resnet50", "--shape", "0x0")  # sizes skip 0: no value at all
    assert out.count("no value of") == 2 and "up to" not in out


def test_a_budget_with_residue_conditions_names_the_next_valid_value():
    """The U-Net needs H % 16 == 0 (its skips concatenate maps pooled four times). Within 10 G
    MACs the largest valid side is 112; 113 to 127 fit the budget but are no network, so the
    next value shown is 128, the next valid one, which exceeds it (it once said "the declared
    maximum of H", which the U-Net does not declare)."""
    b = largest_within(spec("unet"), ("H", "W"), "macs", 10 * 10**9)
    assert (b.best, b.next, b.stopped_by) == (112, 128, "budget")
    assert b.best_cost == analyze(spec("unet"), {"H": 112, "W": 112}).totals.macs <= 10 * 10**9
    assert b.next_cost == analyze(spec("unet"), {"H": 128, "W": 128}).totals.macs > 10 * 10**9
    with pytest.raises(CnncalcError):  # 120 is within budget but breaks the condition
        analyze(spec("unet"), {"H": 120, "W": 120})


def test_budgets_in_the_units_the_reports_print(run_cli):
    """``macs=2G`` is 2 * 10**9 MACs (as ``4.09 G`` is printed); ``peak_bytes=64MiB`` is
    64 * 2**20 bytes: the same answer as the budget written out as a plain number."""

    def answer(within: str) -> str:
        code, out, err = run_cli("solve", "resnet50", "--largest", "H,W", "--within", within)
        assert code == 0, err
        return out

    assert answer("macs=2G") == answer("macs=2000000000") == answer("macs=2e9")
    assert "macs <= 2,000,000,000" in answer("macs=2G")
    assert answer("macs=1.5k") == answer("macs=1500")
    assert answer("peak_bytes=64MiB") == answer(f"peak_bytes={64 * 2**20}")
    assert f"peak_bytes <= {64 * 2**20:,}" in answer("peak_bytes=64MiB")
    assert f"memory_bytes <= {3 * 2**29:,}" in answer("memory_bytes=1.5GiB")


@pytest.mark.parametrize(
    ("within", "message"),
    [
        ("macs=2GiB", "--within macs=2GiB: 'GiB' is not a unit of a count; write k, M, G or T"),
        ("macs=2X", "'X' is not a unit of a count"),
        (
            "macs=1.2345k",
            "--within macs=1.2345k: a budget is a whole number of macs at least 0, found 2469/2",
        ),
        ("macs=-3", "a budget is a whole number of macs at least 0, found -3"),
        ("macs=", "--within macs=: expected a number, found ''; write a budget such as macs=2G"),
        ("macs=1e99999999", "'1e99999999' has more digits than the 101 a number may have"),
        ("macs=1/0", "--within macs=1/0: '1/0' divides by zero"),
        ("peak_bytes=1e400", "'1e400' has more digits than the 101"),
        ("=5", "--within expects METRIC=BUDGET such as macs=2G"),
        ("peak_bytes=2X", "--within peak_bytes=2X: expected a size in bytes such as peak_bytes=512MiB"),
    ],
)
def test_bad_budgets(run_cli, within, message):
    code, out, err = run_cli("solve", "resnet50", "--largest", "H,W", "--within", within)
    assert code == 2 and out == "" and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("spec_name", "symbols", "step", "message"),
    [
        ("resnet50", "H,W", "0", "--step 0: the step must be positive"),  # was a ZeroDivisionError
        ("resnet50", "H,W", "-1", "--step -1: the step must be positive"),  # answered H = -119
        ("resnet50", "H,W", "1/2", "--step 1/2: H takes whole values, so the step must be a whole"),
        ("mobilenet_v1", "alpha", "0", "--step 0: the step must be positive"),
    ],
)
def test_bad_steps(run_cli, spec_name, symbols, step, message):
    code, out, err = run_cli(
        "solve", spec_name, "--largest", symbols, "--within", "macs=1G", f"--step={step}"
    )
    assert code == 2 and out == "" and message in err and "Traceback" not in err


def test_sweep_matches_the_engine_and_marks_invalid_points():
    s = sweep(spec("vgg16"), dict([parse_range("H=16:64:16")]), {"W": 224})
    assert s.points["H"] == (16, 32, 48, 64)
    assert s.valid == (False, True, True, True)  # VGG needs H >= 32
    for h, macs in zip(s.points["H"][1:], s.totals["macs"][1:], strict=True):
        assert macs == analyze(spec("vgg16"), {"H": h, "W": 224}).totals.macs


def test_sweep_rational_width():
    s = sweep(spec("mobilenet_v1"), dict([parse_range("alpha=1/4:1:1/4")]))
    # paper Table 6, exact: 41,030,272 / 149,497,088 / 325,400,448 / 568,740,352
    assert s.totals["macs"] == (41_030_272, 149_497_088, 325_400_448, 568_740_352)


@pytest.mark.parametrize(
    "text",
    [
        "H=1:2:0",
        "H",
        "H=a:b",
        "H=10:2",
        "H=1:1e99999999:1",
        "H=1:2:1/1e200",
        "H=1/0",
        "H=1:2:1/00",
        "H=0." + "0" * 200 + "1:1",
    ],
)
def test_bad_ranges(text):
    with pytest.raises(UsageError, match="--range"):
        parse_range(text)


MIXED = [(7, 2, 3), (3, 2, 1), (3, 1, 0), (5, 3, 2), (2, 2, 0), (3, 1, 1)] * 2  # (kernel, stride, pad)


def test_exact_evaluation_where_floats_fail():
    """A chain whose size float arithmetic gets wrong (float division inside floor)."""
    layers = "".join(f"  - max_pool2d: {{kernel: {k}, stride: {s}, padding: {p}}}\n" for k, s, p in MIXED)
    text = f"symbols: {{H: {{min: 400}}}}\ninput: [1, 1, H, 1000]\nlayers:\n{layers}"
    a = analyze(parse_spec(text, "chain.yaml"))
    f = a.output_shape[2]

    def by_hand(h: int) -> int:
        for k, s, p in MIXED:
            h = (h + 2 * p - k) // s + 1
        return h

    hs = np.arange(400, 5000)
    got = compile_formulas({"h": f}, ["H"])({"H": hs})["h"]
    assert [int(v) for v in got] == [by_hand(int(h)) for h in hs]
    big = 2**60 + 12345
    assert evaluate(f, {"H": big}) == by_hand(big)
    assert evaluate(a.totals.flops, {"H": 2**70}) > 0  # beyond 64 bits: exact Python integers


def test_cli(run_cli):
    code, out, _ = run_cli("bounds", "googlenet", "-f", "json")
    assert code == 0 and '"min": 15' in out
    code, out, _ = run_cli("solve", "resnet50", "--shape", "7x7")
    assert code == 0 and "193 <= H <= 224" in out
    code, out, _ = run_cli("sweep", "resnet50", "--range", "H=224", "--set", "W=224", "-f", "csv")
    assert code == 0 and out.splitlines()[1].split(",")[4] == "4089184256"
    code, _, err = run_cli("solve", "resnet50", "--largest", "H", "--within", "bananas=3")
    assert code == 2 and "unknown budget 'bananas'" in err
    code, _, err = run_cli("sweep", "resnet50", "--range", "Q=1:3")
    assert code == 2 and "unknown symbol 'Q'" in err


@settings(max_examples=25)
@given(
    st.lists(
        st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_compiled_sizes_equal_the_recurrence(chain):
    """Pooling chains (ceil mode included) against PyTorch's output rule written out here."""
    chain = [(k, s, min(p, k // 2), c) for k, s, p, c in chain]
    layers = "".join(
        f"  - max_pool2d: {{kernel: [{k}, 1], stride: [{s}, 1], padding: [{p}, 0], "
        f"ceil_mode: {str(c).lower()}}}\n"
        for k, s, p, c in chain
    )
    a = analyze(parse_spec(f"symbols: {{H: {{min: 60}}}}\ninput: [1, 1, H, 1]\nlayers:\n{layers}", "c.yaml"))

    def by_hand(h: int) -> int:
        for k, s, p, c in chain:
            span = h + 2 * p - k
            out = (-(-span // s) if c else span // s) + 1
            if c and (out - 1) * s >= h + p:
                out -= 1
            h = out
        return h

    hs = np.arange(60, 400)
    got = compile_formulas({"h": a.output_shape[2]}, ["H"])({"H": hs})["h"]
    assert [int(v) for v in got] == [by_hand(int(h)) for h in hs]
