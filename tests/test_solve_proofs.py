"""solve answers only what it proves: costs and sizes that are not monotone (conditionals of the
symbol, parities, min/max fallbacks, roots, repeat counts), against hand arithmetic and against
a search of every value by the analysis at concrete values (a different code path)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analysis.inverse import largest_within, solve_shape
from cnncalc.analysis.pieces import Piece, split
from cnncalc.core import dims
from cnncalc.core.engine import analyze
from cnncalc.errors import CnncalcError, UsageError
from cnncalc.lang.spec import parse_spec

#: MACs = C*9*(H - 2)**2: a 1-channel 3x3 convolution without bias on a C-channel input.
COST = """symbols: {H: 32}
input: [1, "%s", H, H]
layers:
  - conv2d: {out: 1, kernel: 3, bias: false}
"""


def spec(text: str):
    return parse_spec(text, "t.yaml")


@pytest.mark.parametrize(
    ("channels", "budget", "best", "cost", "nxt", "next_cost"),
    [
        # H <= 50: 9000*(H - 2)**2 <= 1e6 needs H <= 12. H > 50: (H - 2)**2 <= 111,111 needs
        # H - 2 <= 333 (333**2 = 110,889): H = 335, 9*110,889 = 998,001; 336: 9*334**2 = 1,004,004
        ("1000 if H <= 50 else 1", 10**6, 335, 998_001, 336, 1_004_004),
        # even H: 9*(H - 2)**2 <= 1e6, H = 334 (9*332**2 = 992,016); 335 is odd: 9000*333**2
        ("1 if H % 2 == 0 else 1000", 10**6, 334, 992_016, 335, 998_001_000),
        # max(1, 60 - H) is 1 from H = 59: 9*(H - 2)**2 <= 1e5, H = 107 (9*105**2 = 99,225)
        ("max(1, 60 - H)", 10**5, 107, 99_225, 108, 9 * 106**2),
        # 4 below 10, then 1: 9*(H - 2)**2 <= 2000: H = 16 (9*14**2 = 1,764); 17: 9*15**2 = 2,025
        ("4 if H < 10 else 1", 2000, 16, 1_764, 17, 2_025),
    ],
)
def test_costs_with_conditionals(channels, budget, best, cost, nxt, next_cost):
    b = largest_within(spec(COST % channels), ("H",), "macs", budget)
    assert (b.best, b.best_cost, b.next, b.next_cost, b.stopped_by) == (best, cost, nxt, next_cost, "budget")


def test_tied_symbols_with_a_condition_on_one():
    text = COST.replace("{H: 32}", "{H: 32, W: 32}").replace("H, H]", "H, W]") % "1000 if W <= 50 else 1"
    b = largest_within(spec(text), ("H", "W"), "macs", 10**6)
    assert (b.best, b.best_cost) == (335, 998_001)


def test_a_rational_symbol_with_a_condition():
    # 64 channels below alpha = 1/2, 8 from there: 16*64 = 1,024 MACs, then 16*8 = 128; within
    # 200 every alpha from 1/2 to the declared max 2 fits
    text = """symbols: {alpha: {default: 1, type: rational, max: 2}}
input: [1, 1, 4, 4]
layers:
  - conv2d: {out: "64 if alpha < 1/2 else 8", kernel: 1, bias: false}
"""
    b = largest_within(spec(text), ("alpha",), "macs", 200, step=Fraction(1, 4))
    assert (b.best, b.best_cost, b.stopped_by) == (2, 128, "max")


def test_roots_of_known_numbers():
    # out = floor(sqrt(2)*H), 1x1 on 3 channels: 3*H**2*floor(sqrt(2)*H). H = 61: floor(86.27)
    # = 86, 3*3721*86 = 960,018; H = 62: floor(87.68) = 87, 3*3844*87 = 1,003,284
    text = (
        "symbols: {H: 32}\ninput: [1, 3, H, H]\n"
        "layers:\n  - conv2d: {out: 'floor(H*2**(1/2))', kernel: 1, bias: false}\n"
    )
    b = largest_within(spec(text), ("H",), "macs", 10**6)
    assert (b.best, b.best_cost, b.next, b.next_cost) == (61, 960_018, 62, 1_003_284)
    # out = ceil(8*alpha*sqrt(2)) on a 4x4 input: alpha = 3/4, ceil(8.485) = 9, 144 MACs; 7/8:
    # ceil(9.899) = 10, 160
    text = """symbols: {alpha: {default: 1, type: rational}}
input: [1, 1, 4, 4]
layers:
  - conv2d: {out: "ceil(8*alpha*2**(1/2))", kernel: 1, bias: false}
"""
    b = largest_within(spec(text), ("alpha",), "macs", 150, step=Fraction(1, 8))
    assert (b.best, b.best_cost, b.next, b.next_cost) == (Fraction(3, 4), 144, Fraction(7, 8), 160)


REPEAT = """symbols: {H: 32, n: 2}
input: [1, 3, H, H]
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1, bias: false, repeat: n}
"""


@pytest.mark.parametrize(
    ("budget", "best", "cost"),
    [
        # the first convolution 3 -> 8 on 32x32: 8*32*32*3*9 = 221,184; each further one 8 -> 8:
        # 8*32*32*8*9 = 589,824
        (300_000, 1, 221_184),
        (10**7, 17, 221_184 + 16 * 589_824),
        (17 * 10**6, 29, 221_184 + 28 * 589_824),
    ],
)
def test_a_repeat_count_searched_one_analysis_a_value(budget, best, cost):
    b = largest_within(spec(REPEAT), ("n",), "macs", budget, upto=100)
    assert (b.best, b.best_cost, b.formula) == (best, cost, None)
    assert b.next == best + 1 and b.next_cost == cost + 589_824


def test_a_repeat_count_without_a_range_is_refused():
    with pytest.raises(
        UsageError, match=r"n decides which layers exist .* n has no declared max; give --upto"
    ):
        largest_within(spec(REPEAT), ("n",), "macs", 10**7)


WHEN_H = """symbols: {H: 32}
input: [1, 1, H, H]
layers:
  - conv2d: {out: 1, kernel: 1, bias: false}
  - max_pool2d: {kernel: 2, when: "H > 16"}
"""


def test_a_symbol_read_by_when():
    # 1x1 convolution 1 -> 1: H*H MACs whether or not the pooling is there: 31*31 = 961
    b = largest_within(spec(WHEN_H), ("H",), "macs", 1000, upto=500)
    assert (b.best, b.best_cost, b.next, b.next_cost) == (31, 961, 32, 1024)
    # the pool's output: floor(H/2) from H = 17 on: 10 for H = 20, 21
    (h, _) = solve_shape(spec(WHEN_H), (10, 10), layer="maxpool1", upto=500)
    assert h.intervals == ((20, 21),)
    with pytest.raises(UsageError, match="name the layer with --layer"):
        solve_shape(spec(WHEN_H), (10, 10), upto=500)


@pytest.mark.parametrize(
    ("layer", "size", "runs"),
    [
        # kernel 1 for H <= 20 (size H), 10 beyond (size H - 9): 15 at H = 15 and H = 24
        ('kernel: "1 if H <= 20 else 10"', 15, ((15, 15), (24, 24))),
        # stride 1 below 8 (size H), 2 from 8 (size ceil(H/2)): 5 at H = 5, 9, 10
        ('kernel: 1, stride: "1 if H < 8 else 2"', 5, ((5, 5), (9, 10))),
        # padding 3 below 10 (size H + 4), none from 10 (size H - 2): 12 at H = 8 and H = 14
        ('kernel: 3, padding: "3 if H < 10 else 0"', 12, ((8, 8), (14, 14))),
    ],
)
def test_sizes_with_conditionals(layer, size, runs):
    text = f"symbols: {{H: 32}}\ninput: [1, 1, H, H]\nlayers:\n  - conv2d: {{out: 1, {layer}}}\n"
    (h, w) = solve_shape(spec(text), (size, size))
    assert h.intervals == w.intervals == runs and h.interval == runs[0]


def test_a_size_with_a_root():
    # zero padding floor(sqrt(2)*H) around H: H + 2*floor(sqrt(2)*H), 30 at H = 8 (8 + 2*11)
    text = "symbols: {H: 32}\ninput: [1, 1, H, H]\nlayers:\n  - zero_pad2d: {padding: 'floor(H*2**(1/2))'}\n"
    (h, _) = solve_shape(spec(text), (30, 30))
    assert h.intervals == ((8, 8),)


UNPROVED = (
    "symbols: {H: %s}\ninput: [1, 1, H, H]\nlayers:\n  - zero_pad2d: {padding: 'floor(H*H/7) - 5*H + 200'}\n"
)


def test_what_cannot_be_proved_is_refused_and_a_range_answers():
    # 2*floor(H*H/7) - 9*H + 400 falls, then rises: interval arithmetic proves neither, and the
    # range is unbounded
    with pytest.raises(UsageError, match="could not be shown to grow or to shrink from 1 on"):
        largest_within(spec(UNPROVED % "32"), ("H",), "activations", 10**6)
    # with a declared max, every value is evaluated: compare with the analysis of each
    text = UNPROVED % "{default: 32, max: 300}"
    b = largest_within(spec(text), ("H",), "activations", 10**6)
    by_hand = [h for h in range(1, 301) if analyze(spec(text), {"H": h}).totals.activations <= 10**6]
    assert b.best == max(by_hand) and b.stopped_by in ("budget", "max")


# -- the pieces themselves ---------------------------------------------------------------------


def test_pieces_of_a_parity():
    H = dims.symbol("H")
    s = dims.sp()
    f = 9 * (H - 2) ** 2 * s.Piecewise((1, s.Eq(s.Mod(H, 2), 0)), (1000, True))
    assert split(f, H, 3, None) == [Piece(3, None, 2, 1, 1), Piece(4, None, 2, 0, 1)]


def test_pieces_of_a_polynomial_cut_at_its_turning_point():
    H = dims.symbol("H")
    # H**2 - 100*H falls to H = 50, rises after
    assert split(H**2 - 100 * H, H, 3, None) == [Piece(3, 50, 1, 0, -1), Piece(51, None, 1, 0, 1)]


# -- against every value, analysed one by one -----------------------------------------------------

CONDITIONS = st.sampled_from(["H < {t}", "H <= {t}", "H > {t}", "H >= {t}", "H % 2 == 0", "H % 3 != 1"])


@st.composite
def conditional(draw, small: int, large: int) -> str:
    cond = draw(CONDITIONS).format(t=draw(st.integers(2, 120)))
    a, b = draw(st.integers(1, small)), draw(st.integers(1, large))
    inner = f"{a} if {cond} else {b}"
    if draw(st.booleans()):
        other = draw(CONDITIONS).format(t=draw(st.integers(2, 120)))
        inner = f"({inner}) if {other} else {draw(st.integers(1, large))}"
    return inner


@st.composite
def networks(draw) -> str:
    channels = draw(conditional(8, 8))
    kernel = draw(conditional(5, 5))
    stride = draw(st.sampled_from(["1", "2", "1 if H < 40 else 2"]))
    out = draw(st.sampled_from(["4", "max(1, 30 - H)", "H % 5 + 1"]))
    return (
        "symbols: {H: {default: 32, max: 160}}\n"
        f'input: [1, "{channels}", H, H]\n'
        f'layers:\n  - conv2d: {{out: "{out}", kernel: "{kernel}", stride: "{stride}", bias: false}}\n'
    )


def _every_value(text: str) -> dict[int, tuple[int, int]]:
    """H -> (MACs, size of the output along H) for every H from 1 to 160 the network takes."""
    out = {}
    for h in range(1, 161):
        try:
            a = analyze(spec(text), {"H": h})
        except CnncalcError:
            continue
        out[h] = (a.totals.macs, a.layers[-1].output_shape[2])
    return out


@settings(max_examples=25, deadline=None)
@given(networks(), st.integers(10, 60_000))
def test_largest_within_agrees_with_every_value(text, budget):
    every = _every_value(text)
    fits = [h for h, (macs, _) in every.items() if macs <= budget]
    b = largest_within(spec(text), ("H",), "macs", budget)
    if not fits:
        assert b.best is None
        return
    assert (b.best, b.best_cost) == (max(fits), every[max(fits)][0])


@settings(max_examples=25, deadline=None)
@given(networks(), st.integers(1, 40))
def test_solve_shape_agrees_with_every_value(text, size):
    every = _every_value(text)
    (h, _) = solve_shape(spec(text), (size, size))
    found = {v for lo, hi in h.intervals for v in range(lo, hi + 1)}
    # the intervals hold the sizes; the network's other conditions are listed apart
    assert {v for v, (_, n) in every.items() if n == size} <= found
    assert all(every[v][1] == size for v in found if v in every)
