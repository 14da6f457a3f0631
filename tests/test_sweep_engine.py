"""The sweep engine: exact totals over grids, checked against the analysis at concrete values
(another code path: no formula, no compilation), against hand arithmetic on a small spec and
against the papers; CSV written by the compiled loop and by Python alike; chunks that can be
evaluated apart; the Pareto front against a comparison of every pair."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from cnncalc.analysis.pareto import Front, parse_objectives
from cnncalc.analysis.sweep import METRICS, check_size, parse_range, plan, sweep
from cnncalc.core.engine import analyze
from cnncalc.errors import UsageError
from cnncalc.lang.spec import load_spec, parse_spec
from cnncalc.report import csvrows, domain

from .helpers import SPECS


def spec(name: str):
    return load_spec(SPECS / f"{name}.yaml")


def ranges(*texts: str) -> dict:
    return dict(parse_range(t) for t in texts)


SMALL = """symbols: {H: 8, W: 8}
input: [1, 3, H, W]
layers:
  - conv2d: {out: 8, kernel: 3, stride: 2, padding: 1, bias: false}
  - relu
"""


def test_a_small_spec_by_hand():
    s = sweep(parse_spec(SMALL, "small.yaml"), ranges("H=1:4", "W=5,9"))
    # output ceil(H/2) x ceil(W/2) with 8 channels; MACs 8*3*3*3 = 216 a position
    # params 8*3*3*3 = 216; activations: the convolution's and the ReLU's outputs
    want = []
    for h in range(1, 5):
        for w in (5, 9):
            positions = -(-h // 2) * -(-w // 2)
            want.append((h, w, 216 * positions, 2 * 8 * positions))
    got = list(zip(s.points["H"], s.points["W"], s.totals["macs"], s.totals["activations"], strict=True))
    assert got == want
    assert set(s.totals["params"]) == {216} and all(s.valid)


@pytest.mark.parametrize("seed", [0, 1])
def test_resnet50_over_h_and_w_against_the_analysis(seed):
    s = spec("resnet50")
    p = plan(s, ranges("H=1:400:3", "W=1:400:7"))
    rows = {}
    for c in p.chunks(size=1000):
        for i in range(len(c)):
            rows[(int(c.points["H"][i]), int(c.points["W"][i]))] = {m: int(c.totals[m][i]) for m in METRICS}
    rng = np.random.default_rng(seed)
    keys = list(rows)
    for k in rng.choice(len(keys), size=12, replace=False):
        h, w = keys[k]
        t = analyze(s, {"H": h, "W": w}).totals
        assert rows[(h, w)] == {m: getattr(t, m) for m in METRICS}, (h, w)


def test_mobilenet_v1_over_alpha_and_h():
    s = sweep(spec("mobilenet_v1"), ranges("alpha=1/8:1:1/8", "H=128:224:32"))
    by = {(a, h): m for a, h, m in zip(s.points["alpha"], s.points["H"], s.totals["macs"], strict=True)}
    # the paper's Table 6 and 7, exact: 569 M, 325 M, 149 M, 41 M at 224; 186 M at alpha 1, 128
    assert by[(1, 224)] == 568_740_352 and by[(Fraction(3, 4), 224)] == 325_400_448
    assert by[(Fraction(1, 2), 224)] == 149_497_088 and by[(Fraction(1, 4), 224)] == 41_030_272
    for a, h in [(Fraction(3, 8), 160), (Fraction(5, 8), 192), (Fraction(7, 8), 128)]:
        assert (
            by[(a, h)]
            == analyze(spec("mobilenet_v1"), {"alpha": f"{a.numerator}/{a.denominator}", "H": h}).totals.macs
        )


def test_a_rational_symbol_is_compiled_in_integers():
    p = plan(spec("mobilenet_v1"), ranges("alpha=1/32:1:1/32"))
    assert p.scales == {"alpha": 32}
    (c,) = list(p.chunks())
    assert c.totals["macs"].dtype == np.int64  # K/32 with an integer K: 64 bits suffice


def test_beyond_64_bits_python_integers():
    h = 2**61 + 12345
    p = plan(spec("resnet50"), {"H": [h], "W": [224]})
    (c,) = list(p.chunks())
    assert c.totals["macs"].dtype == object
    assert int(c.totals["macs"][0]) == analyze(spec("resnet50"), {"H": h, "W": 224}).totals.macs


def test_a_repeat_count_with_another_symbol():
    text = "symbols: {H: 8, n: 2}\ninput: [1, 3, H, H]\nlayers:\n  - conv2d: {out: 3, kernel: 1, repeat: n}\n"
    s = sweep(parse_spec(text, "rep.yaml"), ranges("n=1:3", "H=2,5"))
    # n convolutions 3 -> 3 (1x1, bias): 9 MACs a position each, 12 params each
    assert s.totals["macs"] == tuple(9 * n * h * h for n in (1, 2, 3) for h in (2, 5))
    assert s.totals["params"] == tuple(12 * n for n in (1, 2, 3) for _ in (2, 5))
    assert s.formulas == {}


def test_chunks_evaluated_apart_are_the_whole():
    p = plan(spec("vgg16"), ranges("H=16:400", "W=30,224"))
    whole = [c for c in p.chunks(size=97)]
    parts = [c for lo in range(0, p.size, 250) for c in p.chunks(size=64, start=lo, stop=lo + 250)]
    for m in METRICS:
        assert (
            np.concatenate([c.totals[m] for c in whole]).tolist()
            == np.concatenate([c.totals[m] for c in parts]).tolist()
        )
    assert (
        np.concatenate([c.valid for c in whole]).tolist() == np.concatenate([c.valid for c in parts]).tolist()
    )
    # VGG needs H >= 32 and W >= 32 (torchvision's min_size): 16..31 and W = 30 are marked
    s = sweep(spec("vgg16"), ranges("H=30:33", "W=30,224"))
    assert s.valid == (False, False, False, False, False, True, False, True)


def test_csv_compiled_and_python_write_the_same_text():
    p = plan(spec("mobilenet_v1"), ranges("alpha=1/4:1:1/4", "H=1:6000"))
    (c,) = list(p.chunks(size=p.size))
    assert len(c) >= csvrows.COMPILED_FROM
    compiled = domain.sweep_csv_rows(c)
    s = sweep(spec("mobilenet_v1"), ranges("alpha=1/4:1:1/4", "H=1:6000"))
    assert domain.sweep_csv_header(p.symbols) + compiled == domain.sweep_csv(s)


def test_json_written_in_pieces_is_the_document():
    p = plan(spec("vgg16"), ranges("H=16:64:16"), {"W": 224})
    p.analyse_all()
    text = "".join(domain.sweep_json_parts(p, p.chunks(size=3)))
    s = sweep(spec("vgg16"), ranges("H=16:64:16"), {"W": 224})
    assert text == json.dumps(domain.sweep_dict(s), indent=2) + "\n"


def test_the_pareto_front_against_every_pair():
    p = plan(spec("mobilenet_v1"), ranges("alpha=1/8:1:1/8", "H=96:224:32"))
    objectives = parse_objectives("max:params,macs,H", p.symbols)
    front = Front(objectives, p.symbols, p.scales)
    for c in p.chunks(size=7):
        front.add(c)
    best = front.chunk()
    got = sorted(zip(best.points["alpha"], best.points["H"], strict=True))
    s = sweep(spec("mobilenet_v1"), ranges("alpha=1/8:1:1/8", "H=96:224:32"))
    designs = [(-s.totals["params"][i], s.totals["macs"][i], -s.points["H"][i]) for i in range(len(s))]

    def dominated(i):
        return any(
            all(x <= y for x, y in zip(d, designs[i], strict=True)) and d != designs[i] for d in designs
        )

    want = sorted((s.points["alpha"][i], s.points["H"][i]) for i in range(len(s)) if not dominated(i))
    assert got == want and len(want) > 1


def test_bad_objectives():
    with pytest.raises(UsageError, match="neither a total nor a swept symbol"):
        parse_objectives("params,bananas", ("H",))
    with pytest.raises(UsageError, match="at least two objectives"):
        parse_objectives("macs", ("H",))


def test_a_grid_too_large_is_refused_with_its_size():
    p = plan(spec("lenet5"), ranges("H=1:100000", "W=1:100000"))
    with pytest.raises(UsageError, match=r"10,000,000,000 points \(100,000 \(H\) x 100,000 \(W\)\)"):
        check_size(p, 10**7)
    check_size(p, 10**10)  # a limit raised: streamed, nothing built up front


def test_command_line(run_cli, tmp_path):
    code, out, err = run_cli(
        "sweep",
        "mobilenet_v1",
        "--range",
        "alpha=1/4:1:1/4",
        "--range",
        "H=128,224",
        "--pareto",
        "max:params,macs",
    )
    # for each width the smaller input costs fewer MACs at the same parameters
    assert code == 0 and "4 non-dominated of 8 points" in out
    code, out, err = run_cli("sweep", "lenet5", "--range", "H=32:200033", "--max-points", "1000")
    assert code == 2 and "200,002 points" in err and "--max-points" in err


def test_rounded_widths_and_depthwise_convolutions_stay_in_integers():
    """Channels make_divisible(c*alpha, 8) (a conditional: one multiple more when rounding lost
    more than 10%) and a depthwise convolution over them (in/groups of two equal conditionals):
    still 64-bit integers, and the analysis's values at each width."""
    text = """symbols: {H: 32, alpha: {default: 1, min: 1/4, type: rational}}
input: [1, 3, H, H]
blocks:
  depthwise: {layers: [{conv2d: {out: input.C, groups: input.C, kernel: 3, padding: 1}}]}
layers:
  - conv2d: {out: "make_divisible(32*max(1, alpha), 8)", kernel: 3, stride: 2, padding: 1}
  - conv2d: {out: "make_divisible(20*alpha, 8)", kernel: 1}
  - depthwise
"""
    s = parse_spec(text, "mb.yaml")
    p = plan(s, ranges("alpha=1/4:3:1/20", "H=31,32"))
    (c,) = list(p.chunks())
    assert c.totals["macs"].dtype == np.int64
    for i in range(0, len(c), 5):
        a, h = c.points["alpha"][i], int(c.points["H"][i])
        t = analyze(s, {"alpha": f"{a.numerator}/{a.denominator}", "H": h}).totals
        assert (int(c.totals["macs"][i]), int(c.totals["params"][i])) == (t.macs, t.params), (a, h)


def test_three_symbols_and_past_64_bits_term_by_term():
    """N x H x W: terms of three factors (the sums over two other symbols made point by point),
    and sizes whose products leave 64 bits: against the analysis."""
    s = spec("resnet50")
    big = 2**40
    p = plan(s, {"N": [1, 3], "H": [7, 224, big], "W": [9, 224, big + 5]})
    (c,) = list(p.chunks())
    for i in range(len(c)):
        values = {k: int(c.points[k][i]) for k in ("N", "H", "W")}
        t = analyze(s, values).totals
        assert {m: int(c.totals[m][i]) for m in METRICS} == {m: getattr(t, m) for m in METRICS}, values
