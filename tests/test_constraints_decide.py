"""Deciding layer checks on open symbols: proven, impossible, or a reported condition.

Each expectation is worked out by hand in the comments from the bounds of the symbols
(integers are at least 1 unless a minimum says otherwise, rationals at least 0) and from
``y - 1 < floor(y) <= y``, ``y <= ceiling(y) < y + 1``, ``0 <= Mod(a, b) < b``.
"""

from __future__ import annotations

import pytest

from cnncalc.core import dims
from cnncalc.core.constraints import Constraint, Decider
from cnncalc.errors import ShapeError
from cnncalc.lang.model import Symbol
from cnncalc.layers import Check

s = dims.sp()
H = dims.symbol("H")
W = dims.symbol("W")
ALPHA = dims.symbol("alpha", integer=False)


def decider(h_min=None, h_max=None) -> Decider:
    symbols = {
        "H": Symbol("H", None, h_min, h_max, True),
        "W": Symbol("W", None, None, None, True),
        "alpha": Symbol("alpha", None, None, None, False),
    }
    return Decider(symbols, {"H": H, "W": W, "alpha": ALPHA, "N": 2})


def require(d: Decider, value, relation: str, layer: str = "L", message: str = "the check") -> None:
    d.require(Check(value, relation, message), layer)


def conditions(d: Decider) -> list[str]:
    return [str(c) for c in d.constraints]


def refused(d: Decider, value, relation: str) -> str:
    with pytest.raises(ShapeError) as info:
        require(d, value, relation)
    return str(info.value)


def test_concrete_checks():
    d = decider()
    require(d, 0, "nonneg")
    require(d, 5, "nonneg")
    require(d, 0, "zero")
    assert refused(d, -1, "nonneg") == "the check"
    assert refused(d, 1, "zero") == "the check"
    assert refused(d, -1, "zero") == "the check"
    assert d.constraints == []


def test_a_condition_on_one_symbol_becomes_its_tightest_bound():
    d = decider()
    # H - 32 >= 0: H >= 32
    require(d, H - 32, "nonneg", "conv1", "needs 32")
    assert conditions(d) == ["H >= 32  (conv1: needs 32)"]
    # H >= 16 is implied: nothing new
    require(d, H - 16, "nonneg", "conv2")
    assert conditions(d) == ["H >= 32  (conv1: needs 32)"]
    # H >= 32 again is implied too (t <= lower)
    require(d, H - 32, "nonneg", "conv2")
    assert conditions(d) == ["H >= 32  (conv1: needs 32)"]
    # 2*H - 65 >= 0: H >= 32.5, an integer: H >= 33
    require(d, 2 * H - 65, "nonneg", "conv3", "needs 33")
    assert conditions(d) == ["H >= 33  (conv3: needs 33)"]
    assert d.constraints[0] == Constraint("H >= 33", "conv3", "needs 33")


def test_upper_bounds_and_their_conflicts():
    d = decider()
    # 10 - H >= 0: H <= 10; 21 - 2*H >= 0: H <= 10.5, so H <= 10 (implied)
    require(d, 10 - H, "nonneg", "a")
    require(d, 21 - 2 * H, "nonneg", "b")
    assert conditions(d) == ["H <= 10  (a: the check)"]
    # 19 - 2*H >= 0: H <= 9.5, so H <= 9
    require(d, 19 - 2 * H, "nonneg", "c")
    assert conditions(d) == ["H <= 9  (c: the check)"]
    # H <= 9 and now H >= 9: still possible
    require(d, H - 9, "nonneg", "d")
    assert conditions(d) == ["H <= 9  (c: the check)", "H >= 9  (d: the check)"]
    assert refused(d, H - 10, "nonneg") == "the check: this needs H >= 10, but H <= 9"
    assert refused(d, 8 - H, "nonneg") == "the check: this needs H <= 8, but H >= 9"


def test_the_declared_maximum_bounds_what_a_check_may_need():
    d = decider(h_max=20)
    require(d, H - 20, "nonneg")
    assert conditions(d) == ["H >= 20  (L: the check)"]
    assert refused(decider(h_max=20), H - 21, "nonneg") == "the check: this needs H >= 21, but H <= 20"
    # the declared minimum: H >= 4 is implied by min 4, H <= 3 contradicts it
    d = decider(h_min=4)
    require(d, H - 4, "nonneg")
    assert d.constraints == []
    assert refused(d, 3 - H, "nonneg") == "the check: this needs H <= 3, but H >= 4"


def test_a_rational_symbol_gets_an_exact_bound():
    d = decider()
    # 4*alpha - 1 >= 0: alpha >= 1/4 (not rounded); 3 - 4*alpha >= 0: alpha <= 3/4
    require(d, 4 * ALPHA - 1, "nonneg")
    require(d, 3 - 4 * ALPHA, "nonneg")
    assert conditions(d) == ["alpha >= 1/4  (L: the check)", "alpha <= 3/4  (L: the check)"]


def test_floors_are_stripped_before_bounding():
    d = decider()
    # floor((H - 3)/2) >= 0  <=>  (H - 3)/2 >= 0  <=>  H >= 3
    require(d, s.floor((H - 3) / 2), "nonneg")
    # floor(floor(H/2)/3) - 2 = floor(H/6) - 2 >= 0  <=>  H/6 >= 2  <=>  H >= 12
    require(d, dims.add(dims.floordiv(dims.floordiv(H, 2), 3), -2), "nonneg")
    assert conditions(d) == ["H >= 12  (L: the check)"]


def test_what_holds_for_every_allowed_value_is_proven():
    d = decider()
    # H*W - 1 = t1 + t2 + t1*t2 >= 0 with H = 1 + t1, W = 1 + t2
    require(d, H * W - 1, "nonneg")
    # H/2 >= 0 for H >= 1: a bound below the minimum
    require(d, s.floor((H + 6) / 2) - 3, "nonneg")
    assert d.constraints == []
    # H*W - 2 can be -1 (H = W = 1) or 0 and more: a condition, reported as written
    require(d, H * W - 2, "nonneg")
    assert conditions(d) == ["H*W - 2 >= 0  (L: the check)"]
    # with H >= 2 now known, H*W - 2 >= 0 is proven
    d = decider(h_min=2)
    require(d, H * W - 2, "nonneg")
    assert d.constraints == []


def test_conditions_on_two_symbols_are_reported_once_in_order():
    d = decider()
    require(d, H - W, "nonneg", "a")
    require(d, H - W, "zero", "b")
    require(d, s.Mod(H, W), "zero", "c")
    require(d, H - W, "nonneg", "d")  # the same condition: the first layer is kept
    assert conditions(d) == [
        "H - W >= 0  (a: the check)",
        "H - W == 0  (b: the check)",
        "H is a multiple of W  (c: the check)",
    ]


def test_impossible_equalities():
    # floor(H/2) <= H/2 < H for H >= 1, so -H + floor(H/2) < 0
    assert refused(decider(), -H + s.floor(H / 2), "zero") == (
        "the check: -H + floor(H/2) == 0 holds for no value of H (H >= 1)"
    )
    # H - 2*floor(H/2) >= 0, so W + 1 + H - 2*floor(H/2) >= 2
    assert refused(decider(), W + 1 + H - 2 * s.floor(H / 2), "zero") == (
        "the check: H + W - 2*floor(H/2) + 1 == 0 holds for no value of H, W (H >= 1, W >= 1)"
    )
    # W - 1 + ceiling(H/2) - floor(H/2) >= W - 1 + H/2 - H/2 = W - 1 >= 0, and it is 0 for
    # W = 1 and H even: possible, so a condition
    d = decider()
    require(d, W - 1 + s.ceiling(H / 2) - s.floor(H / 2), "zero")
    assert len(d.constraints) == 1


def test_impossible_inequalities():
    # -H - W + floor(H/2) <= -H/2 - W < 0
    assert refused(decider(), -H - W + s.floor(H / 2), "nonneg") == (
        "the check: -H - W + floor(H/2) >= 0 holds for no value of H, W (H >= 1, W >= 1)"
    )
    # -W - Mod(H, 3) <= -W < 0
    assert refused(decider(), -W - s.Mod(H, 3), "nonneg") == (
        "the check: -W - Mod(H, 3) >= 0 holds for no value of H, W (H >= 1, W >= 1)"
    )
    # ceiling(H/2) < H/2 + 1, so -H + ceiling(H/2) - 1 < -H/2 < 0; the bound found first
    # (H >= 3) is named
    d = decider()
    require(d, H - 3, "nonneg")
    assert refused(d, -H + s.ceiling(H / 2) - 1, "nonneg") == (
        "the check: -H + ceiling(H/2) - 1 >= 0 holds for no value of H (H >= 3)"
    )
    # a symbol without a lower bound in the scope is not listed
    d = Decider({}, {})
    with pytest.raises(ShapeError) as info:
        require(d, -H - W + s.floor(H / 2) - 1, "nonneg")
    assert str(info.value) == "the check: -H - W + floor(H/2) - 1 >= 0 holds for no value of H, W"


def test_possible_inequalities_with_floors_stay_conditions():
    # W - 2 - floor(H/2) can be >= 0 (W large) or not (W = 1)
    d = decider()
    require(d, W - 2 - s.floor(H / 2), "nonneg")
    assert conditions(d) == ["W - floor(H/2) - 2 >= 0  (L: the check)"]


def test_periodic_conditions_become_residues_and_merge():
    d = decider()
    # H even, then H a multiple of 4: one condition naming both layers
    require(d, s.Mod(H, 2), "zero", "pool1")
    assert conditions(d) == ["H % 2 == 0  (pool1: the check)"]
    require(d, s.Mod(H, 4), "zero", "pool2")
    assert conditions(d) == ["H % 4 == 0  (pool1, pool2: the check)"]
    # the same layer again is not named twice
    require(d, s.Mod(H, 4), "zero", "pool2")
    assert conditions(d) == ["H % 4 == 0  (pool1, pool2: the check)"]
    # H % 4 == 0 and H odd: no value
    assert refused(d, s.Mod(H + 1, 2), "zero") == (
        "the check: no value of H satisfies this together with the conditions before it"
    )


def test_periodic_residues():
    d = decider()
    # H + 1 divisible by 3: H = 2, 5, 8, ...
    require(d, s.Mod(H + 1, 3), "zero")
    assert conditions(d) == ["H % 3 == 2  (L: the check)"]
    # Mod(H, 4) - 2*floor(Mod(H, 4)/2) is H % 2 within a period 4: residues 0 and 2
    d = decider()
    require(d, s.Mod(H, 4) - 2 * s.floor(s.Mod(H, 4) / 2), "zero")
    assert conditions(d) == ["H % 4 in {0, 2}  (L: the check)"]
    # 2*floor(H/2) + Mod(H, 2) - H is 0 for every H: nothing recorded
    d = decider()
    require(d, 2 * s.floor(H / 2) + s.Mod(H, 2) - H, "zero")
    assert d.constraints == []
    # Mod(H, 3) + 5 is never 0
    assert refused(decider(), s.Mod(H, 3) + 5, "zero") == (
        "the check: no value of H satisfies this together with the conditions before it"
    )


def test_residues_start_at_the_lower_bound():
    # with H >= 5 the residues are still those of every H: H % 3 == 1 for H = 7, 10, ...
    d = decider(h_min=5)
    require(d, s.Mod(H + 2, 3), "zero")
    assert conditions(d) == ["H % 3 == 1  (L: the check)"]
    # floor(H/3)*3 - H == 0: H a multiple of 3, found from H = 5, 6, 7
    d = decider(h_min=5)
    require(d, 3 * s.floor(H / 3) - H, "zero")
    assert conditions(d) == ["H % 3 == 0  (L: the check)"]


def test_constraint_text():
    c = Constraint("H >= 32", "conv1", "the window fits")
    assert str(c) == "H >= 32  (conv1: the window fits)"


# -- the floor-free interval of an expression -----------------------------------------------


def interval(e):
    from cnncalc.core.constraints import _interval

    return _interval(e)


def test_interval_of_atoms_and_products():
    assert interval(s.Integer(5)) == (5, 5)
    assert interval(H) == (H, H)
    assert interval(H * W) == (H * W, H * W)
    assert interval(H**2) == (H**2, H**2)
    # a product of a symbol and a floor, ceiling or remainder is not bounded
    assert interval(H * s.floor(W / 2)) is None
    assert interval(H * s.ceiling(W / 2)) is None
    assert interval(H * s.Mod(W, 3)) is None
    # nor a power of one
    assert interval(s.floor(H / 2) ** 2) is None
    assert interval(s.ceiling(H / 2) ** 2) is None
    assert interval(s.Mod(H, 3) ** 2) is None


def test_interval_of_floors_ceilings_and_remainders():
    # H/2 - 1 < floor(H/2) <= H/2 and H/2 <= ceiling(H/2) < H/2 + 1
    assert interval(s.floor(H / 2)) == (H / 2 - 1, H / 2)
    assert interval(s.ceiling(H / 2)) == (H / 2, H / 2 + 1)
    # 0 <= Mod(H, 3) < 3, and 0 <= Mod(alpha, 1) < 1 for a rational alpha
    assert interval(s.Mod(H, 3)) == (0, 3)
    assert interval(s.Mod(ALPHA, 1)) == (0, 1)
    # a remainder by a symbol is not bounded
    assert interval(s.Mod(H, W)) is None
    # -2*floor(H/2) lies in [-H, 2 - H]: a negative multiple swaps the ends
    assert interval(-2 * s.floor(H / 2)) == (-H, 2 - H)
    # floor(W/3)/2 lies in [W/6 - 1/2, W/6]
    assert interval(s.floor(W / 3) / 2) == (W / 6 - s.Rational(1, 2), W / 6)
    # sums add their ends
    assert interval(W + s.floor(H / 2)) == (W + H / 2 - 1, W + H / 2)


def test_a_bound_found_earlier_can_make_a_condition_impossible():
    # 9 - H - W + floor(W/2) <= 9 - H - W/2: below 0 once H >= 10, possible for H = 1
    d = decider()
    require(d, 9 - H - W + s.floor(W / 2), "nonneg")
    assert len(d.constraints) == 1
    d = decider()
    require(d, H - 10, "nonneg")
    assert refused(d, 9 - H - W + s.floor(W / 2), "nonneg") == (
        "the check: -H - W + floor(W/2) + 9 >= 0 holds for no value of H, W (H >= 10, W >= 1)"
    )
    # H*W + floor(H/2) + 1 >= H*W + H/2 > 0: never 0
    assert refused(decider(), H * W + s.floor(H / 2) + 1, "zero") == (
        "the check: H*W + floor(H/2) + 1 == 0 holds for no value of H, W (H >= 1, W >= 1)"
    )


def test_high_degree_conditions_are_reported_not_decided():
    # degree 4 is decided: -H**4 - W + floor(H/2) <= -H**4 + H/2 - W < 0
    assert "holds for no value" in refused(decider(), -(H**4) - W + s.floor(H / 2), "nonneg")
    # degree 5 is beyond MAX_DECIDED_DEGREE: kept as a condition although it never holds
    d = decider()
    require(d, -(H**5) - W + s.floor(H / 2), "nonneg")
    assert conditions(d) == ["-H**5 - W + floor(H/2) >= 0  (L: the check)"]


def test_periods_of_ceilings_remainders_and_their_combinations():
    # 3*ceiling(H/3) - H == 0 exactly when H is a multiple of 3
    d = decider()
    require(d, 3 * s.ceiling(H / 3) - H, "zero")
    assert conditions(d) == ["H % 3 == 0  (L: the check)"]
    # Mod(H/2, 3) == 0: H/2 a multiple of 3, period 3 * 2 = 6
    d = decider()
    require(d, s.Mod(H / 2, 3), "zero")
    assert conditions(d) == ["H % 6 == 0  (L: the check)"]
    # 2*floor(H/2) - H is 0 (H even) or -1 (H odd); adding Mod(H, 3) gives 0 for
    # H = 0 (even, 0) and H = 1 (odd, 1) among 0..5, period lcm(2, 3) = 6
    d = decider()
    require(d, 2 * s.floor(H / 2) - H + s.Mod(H, 3), "zero")
    assert conditions(d) == ["H % 6 in {0, 1}  (L: the check)"]


def test_residues_are_only_for_one_integer_symbol():
    # a rational symbol: Mod(alpha, 1) == 0 (alpha whole) is a plain condition
    d = decider()
    require(d, s.Mod(ALPHA, 1), "zero")
    assert conditions(d) == ["alpha is a multiple of 1  (L: the check)"]
    # two symbols: W*Mod(H, 2) == 0 is a plain condition too
    d = decider()
    require(d, W * s.Mod(H, 2), "zero")
    assert conditions(d) == ["W*(Mod(H, 2)) == 0  (L: the check)"]


def test_residues_of_a_symbol_without_declared_bounds():
    # H is not declared: its values are taken from 1 on; H even
    d = Decider({}, {})
    require(d, s.Mod(H, 2), "zero")
    assert conditions(d) == ["H % 2 == 0  (L: the check)"]


def test_the_period_of_two_floors_is_their_least_common_multiple():
    # (H - 2*floor(H/2)) + (H - 3*floor(H/3)) is a sum of two remainders (each >= 0):
    # 0 exactly when H is a multiple of 2 and of 3
    d = decider()
    require(d, 2 * H - 2 * s.floor(H / 2) - 3 * s.floor(H / 3), "zero")
    assert conditions(d) == ["H % 6 == 0  (L: the check)"]


def test_bounds_of_two_symbols_are_kept_apart():
    d = decider()
    require(d, H - 3, "nonneg")
    require(d, W - 5, "nonneg")
    require(d, 8 - H, "nonneg")
    require(d, 9 - W, "nonneg")
    assert conditions(d) == [
        "H >= 3  (L: the check)",
        "W >= 5  (L: the check)",
        "H <= 8  (L: the check)",
        "W <= 9  (L: the check)",
    ]


def test_an_upper_bound_equal_to_the_lower_one_is_allowed():
    d = decider()
    require(d, H - 9, "nonneg")
    require(d, 9 - H, "nonneg")
    assert conditions(d) == ["H >= 9  (L: the check)", "H <= 9  (L: the check)"]


def test_a_condition_of_higher_degree_in_one_symbol_is_not_a_bound():
    # H**2 - 5 >= 0 holds from H = 3 on, but only linear conditions become bounds
    d = decider()
    require(d, H**2 - 5, "nonneg")
    assert conditions(d) == ["H**2 - 5 >= 0  (L: the check)"]


def test_merged_residues():
    # H odd, then H a multiple of 3: H = 3, 9, 15, ... (period 6, residue 3)
    d = decider()
    require(d, s.Mod(H + 1, 2), "zero", "a")
    require(d, s.Mod(H, 3), "zero", "b")
    assert conditions(d) == ["H % 6 == 3  (a, b: the check)"]
    # the first layer named again is not repeated
    require(d, s.Mod(H + 1, 2), "zero", "a")
    assert conditions(d) == ["H % 6 == 3  (a, b: the check)"]
    # H even, then H a multiple of 3: period lcm(2, 3) = 6
    d = decider()
    require(d, s.Mod(H, 2), "zero", "a")
    require(d, s.Mod(H, 3), "zero", "b")
    assert conditions(d) == ["H % 6 == 0  (a, b: the check)"]


def test_merged_periods_beyond_the_limit_stay_plain_conditions():
    # lcm(256, 257) = 65792 > 65536: the second condition is kept as written
    d = decider()
    require(d, s.Mod(H, 256), "zero", "a")
    require(d, s.Mod(H + 1, 257), "zero", "b")
    assert conditions(d) == ["H % 256 == 0  (a: the check)", "H + 1 is a multiple of 257  (b: the check)"]


def test_proofs_are_tried_up_to_degree_4():
    # H**4 - 1 >= 0 for H >= 1: proven, nothing reported
    d = decider()
    require(d, H**4 - 1, "nonneg")
    assert d.constraints == []
    # H**5 - 1 >= 0 holds too, but degree 5 is not tried: reported as a condition
    d = decider()
    require(d, H**5 - 1, "nonneg")
    assert conditions(d) == ["H**5 - 1 >= 0  (L: the check)"]


def test_an_undeclared_name_in_the_scope_has_no_bound():
    d = Decider({}, {"H": H, "N": 3})
    require(d, H - 4, "nonneg")
    assert conditions(d) == ["H >= 4  (L: the check)"]
