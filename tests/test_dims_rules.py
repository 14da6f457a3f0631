"""The small rules of ``cnncalc.dims``: ceilings written as floors, sizes of formulas, limits.

Expected forms and numbers are worked out by hand in the comments.
"""

from __future__ import annotations

import math
from fractions import Fraction

from cnncalc.core import dims

s = dims.sp()
H = dims.symbol("H")
W = dims.symbol("W")
ALPHA = dims.symbol("alpha", integer=False)


def test_a_ceiling_of_an_integer_ratio_is_a_floor():
    # ceiling(u/a) = floor((u + a - 1)/a) for integer u and a positive integer a
    assert dims.ceil(H / 2) == s.floor((H + 1) / 2)
    assert dims.ceil(H / 3) == s.floor((H + 2) / 3)
    assert dims.ceil(H / W) == s.floor((H + W - 1) / W)
    # ceiling(H) is H
    assert dims.ceil(H) == H
    assert dims.ceildiv(H, 1) == H


def test_a_ceiling_of_a_rational_symbol_stays_a_ceiling():
    # alpha = 1/2: ceiling(1/4) = 1, while floor((1/2 + 1)/2) = floor(3/4) = 0
    c = dims.ceil(ALPHA / 2)
    assert c == s.ceiling(ALPHA / 2)
    assert c.subs(ALPHA, s.Rational(1, 2)) == 1
    assert dims.ceildiv(ALPHA, 2).subs(ALPHA, s.Rational(1, 2)) == 1


def test_concrete_floors_and_ceilings():
    assert dims.ceil(Fraction(7, 2)) == 4
    assert dims.floor(Fraction(7, 2)) == 3
    assert dims.ceil(Fraction(-7, 2)) == -3
    assert dims.floordiv(-7, 2) == -4
    assert dims.ceildiv(-7, 2) == -3
    assert dims.ceildiv(7, 2) == 4
    assert dims.floordiv(Fraction(15, 2), Fraction(3, 2)) == 5
    assert dims.mod(7, 3) == 1
    assert dims.mod(Fraction(7, 2), 1) == Fraction(1, 2)
    assert dims.dmin(3, Fraction(5, 2), 4) == Fraction(5, 2)
    assert dims.dmax(3, Fraction(7, 2), 2) == Fraction(7, 2)
    assert dims.div(6, 4) == Fraction(3, 2)
    assert dims.div(6, 3) == 2
    assert type(dims.div(6, 3)) is int


def test_min_and_max_of_symbols():
    assert dims.dmin(H, 3) == s.Min(H, 3)
    assert dims.dmax(H, W) == s.Max(H, W)


def test_sizes_of_formulas():
    assert dims.expanded_terms(7) == 1
    assert dims.expanded_terms(H) == 1
    assert dims.expanded_terms(H + W + 1) == 3
    # (H + W + 1)**2 multiplied out: C(2 + 3 - 1, 3 - 1) = C(4, 2) = 6 terms
    assert dims.expanded_terms((H + W + 1) ** 2) == 6
    # (H + 1)*(W + 1): 2 * 2 = 4 terms
    assert dims.expanded_terms(s.Mul(H + 1, W + 1, evaluate=False)) == 4
    # a floor counts as one term
    assert dims.expanded_terms(s.floor(H / 2) + s.floor(W / 3)) == 2
    assert dims.degree(5) == 0
    assert dims.degree(H) == 1
    assert dims.degree(H * W + H) == 2
    assert dims.degree((H + 1) ** 3) == 3
    assert dims.degree(H**3 * W**2) == 5
    assert dims.degree(s.floor(H / 2) * W) == 2
    assert dims.nesting(3) == 0
    assert dims.nesting(H) == 1
    # floor(H/2) + 1: Add -> floor -> Mul -> H
    assert dims.nesting(s.floor(H / 2) + 1) == 4


def test_digits_beyond_the_limit():
    # the limit is 300 * 3.33 = 999 bits: 10**300 (997 bits) and 2**998 (999 bits) are within
    assert dims.too_large(10**300) == 0
    assert dims.too_large(2**998) == 0
    # 2**999 has 1000 bits: int(1000 * 0.30103) + 1 = 302
    assert dims.too_large(2**999) == 302
    # 2**1000 has 302 digits (1001 bits: int(1001 * 0.30103) + 1 = 302)
    assert dims.too_large(2**1000) == 302
    assert dims.too_large(-(2**1000)) == 302
    assert dims.too_large(Fraction(1, 2**1000)) == 302
    assert dims.too_large(2**1000 * H) == 302
    assert dims.too_large(H + 1) == 0
    assert dims.too_large(1.5) == 0


def test_integer_valued():
    assert dims.is_integer_valued(3) is True
    assert dims.is_integer_valued(Fraction(4, 2)) is True
    assert dims.is_integer_valued(Fraction(1, 2)) is False
    assert dims.is_integer_valued(H + 1) is True
    assert dims.is_integer_valued(ALPHA) is None


def test_free_symbols_and_nesting_of_numbers():
    assert dims.free_symbols(3) == set()
    assert dims.free_symbols(Fraction(1, 2)) == set()
    assert dims.free_symbols(H + 2 * W) == {H, W}
    # a float (a custom rule's value) is a number too: depth 0
    assert dims.nesting(1.5) == 0
    assert dims.nesting(Fraction(1, 2)) == 0


def _windows(size, kernel, stride, pad_before, pad_after, dilation, ceil_mode):
    """Count the window positions one by one.

    In padded coordinates window ``i`` starts at ``i*stride`` and covers ``span`` cells. Floor
    mode keeps the windows that end inside the padded input. Ceil mode also keeps one partial
    window after the last full one (``(i - 1)*stride < padded - span``), but never one that
    starts past the input (``i*stride <= pad_before + size - 1``).
    """
    padded = size + pad_before + pad_after
    span = dilation * (kernel - 1) + 1
    count = 0
    for i in range(padded + 1):
        start = i * stride
        if ceil_mode:
            ok = (i == 0 or start - stride < padded - span) and start <= pad_before + size - 1
        else:
            ok = start + span <= padded
        count += ok
    return count


GRID = [
    (k, st, pb, pa, d)
    for k in (1, 2, 3)
    for st in (1, 2, 3)
    for pb in (0, 1, 2)
    for pa in (0, 1, 2)
    for d in (1, 2)
]


def test_unequal_padding_in_ceil_mode():
    # one cell, kernel 1, stride 1, padding 0 before and 1 after: the second window would
    # start in the trailing padding, so there is one window
    assert dims.window_out(1, 1, 1, 0, 1, 1, True) == 1
    assert dims.window_out(H, 1, 1, 0, 1, 1, True).subs(H, 1) == 1
    # padding 1 before and 0 after: windows at -1 and 0 both start in the input or its
    # leading padding
    assert dims.window_out(1, 1, 1, 1, 0, 1, True) == 2


def test_window_count_on_integers():
    for k, st, pb, pa, d in GRID:
        for ceil_mode in (False, True):
            for size in range(1, 14):
                if size + pb + pa < d * (k - 1) + 1:
                    continue
                expected = _windows(size, k, st, pb, pa, d, ceil_mode)
                assert dims.window_out(size, k, st, pb, pa, d, ceil_mode) == expected, (
                    size,
                    k,
                    st,
                    pb,
                    pa,
                    d,
                    ceil_mode,
                )


def test_window_count_as_a_formula():
    for k, st, pb, pa, d in GRID[::2]:
        for ceil_mode in (False, True):
            f = dims.window_out(H, k, st, pb, pa, d, ceil_mode)
            for size in range(1, 10):
                if size + pb + pa < d * (k - 1) + 1:
                    continue
                expected = _windows(size, k, st, pb, pa, d, ceil_mode)
                assert f.subs(H, size) == expected, (f, size, k, st, pb, pa, d, ceil_mode)


def test_window_count_with_an_open_stride_or_kernel():
    S = dims.symbol("S")
    K = dims.symbol("K")
    f = dims.window_out(H, 3, S, 1, 1, 1, True)
    g = dims.window_out(H, K, 2, 0, 1, 1, True)
    for size in range(3, 12):
        for stride in (1, 2, 3, 4):
            assert f.subs({H: size, S: stride}) == _windows(size, 3, stride, 1, 1, 1, True)
        for kernel in (1, 2, 3):
            assert g.subs({H: size, K: kernel}) == _windows(size, kernel, 2, 0, 1, 1, True)


def test_symbols_are_positive_integers_or_positive_rationals():
    h = dims.symbol("H")
    assert h.is_integer is True
    assert h.is_positive is True
    a = dims.symbol("alpha", integer=False)
    assert a.is_rational is True
    assert a.is_positive is True
    assert a.is_integer is None


def test_products_of_fractions_are_canonical():
    # 3/2 * 2/3 = 1, an int
    assert dims.mul(Fraction(3, 2), Fraction(2, 3)) == 1
    assert type(dims.mul(Fraction(3, 2), Fraction(2, 3))) is int
    assert dims.mul(Fraction(1, 2), Fraction(2, 3)) == Fraction(1, 3)


def test_a_ceiling_over_a_divisor_not_known_positive_stays_a_ceiling():
    # H - 1 may be 0 for H = 1: no floor rewriting
    assert dims.ceildiv(W, H - 1) == s.ceiling(W / (H - 1))


def test_multiples_of_the_divisor_leave_the_floor():
    # floor((2*floor(H/3) + 1)/2) = floor(H/3) + floor(1/2) = floor(H/3): no nesting
    assert dims.floordiv(dims.add(dims.mul(2, dims.floordiv(H, 3)), 1), 2) == s.floor(H / 3)
    # floor((3*floor(H/2) + 2)/3) = floor(H/2)
    assert dims.floordiv(dims.add(dims.mul(3, dims.floordiv(H, 2)), 2), 3) == s.floor(H / 2)


def test_sums_products_and_quotients_of_known_values_are_exact():
    # 1/2 + 1/3 = 5/6; a sum of whole Fractions comes back an int
    assert dims.add(Fraction(1, 2), Fraction(1, 3)) == Fraction(5, 6)
    whole = dims.add(Fraction(1, 2), Fraction(1, 2))
    assert whole == 1 and type(whole) is int
    assert dims.add() == 0 and dims.mul() == 1
    assert dims.mul(Fraction(2, 3), 3) == 2 and type(dims.mul(Fraction(2, 3), 3)) is int
    assert dims.prod([2, 3, Fraction(1, 6)]) == 1
    assert dims.div(3, 4) == Fraction(3, 4) and dims.div(8, 4) == 2
    assert dims.mod(Fraction(7, 2), 2) == Fraction(3, 2) and dims.mod(7, 3) == 1
    assert dims.dmin(3, Fraction(5, 2)) == Fraction(5, 2)
    assert dims.dmax(3, Fraction(7, 2), 1) == Fraction(7, 2)
    assert dims.canon(True) == 1 and type(dims.canon(True)) is int
    assert dims.canon(s.Integer(4)) == 4 and dims.canon(s.Rational(3, 6)) == Fraction(1, 2)


def test_sums_and_products_with_symbols():
    # ints and Fractions join the formula exactly: H + 1/2, 3/2 * H
    assert dims.add(H, Fraction(1, 2)) == H + s.Rational(1, 2)
    assert dims.mul(Fraction(3, 2), H) == s.Rational(3, 2) * H
    assert dims.add(H, -H) == 0 and type(dims.add(H, -H)) is int
    assert dims.mul(H, 0) == 0
    assert dims.div(H, 2) == H / 2
    assert dims.mod(H + 2, 2) == s.Mod(H, 2)
    assert dims.dmin(H, H + 1) == H and dims.dmax(H, H + 1) == H + 1


# -- conditions ------------------------------------------------------------------------------


def _holds(c, **values) -> bool:
    """The truth of a condition (a bool or a sympy boolean) at integer values of its symbols."""
    if isinstance(c, bool):
        return c
    got = c.xreplace({dims.symbol(k): s.Integer(v) for k, v in values.items()})
    assert got in (s.true, s.false), got
    return bool(got)


def test_comparisons_decided_or_kept_open():
    # H is a positive integer: 0 < H always, H < 0 never
    assert dims.compare("<", 0, H) is True
    assert dims.compare(">", 0, H) is False
    assert dims.compare("<", 2, 3) is True and dims.compare("!=", Fraction(1, 2), Fraction(2, 4)) is False
    # 3 == H holds for H = 3 only, 3 >= H for H = 1, 2, 3
    eq = dims.compare("==", 3, H)
    ge = dims.compare(">=", 3, H)
    assert [_holds(eq, H=h) for h in range(1, 6)] == [False, False, True, False, False]
    assert [_holds(ge, H=h) for h in range(1, 6)] == [True, True, True, False, False]


def test_and_or_not_of_open_conditions():
    big = dims.compare(">", H, 3)  # H > 3
    wide = dims.compare(">", W, 2)  # W > 2
    grid = [(h, w) for h in range(1, 7) for w in range(1, 5)]
    for a, b in [(big, wide), (wide, big), (big, True), (True, big), (big, False), (False, wide)]:
        conj, disj = dims.both(a, b), dims.either(a, b)
        for h, w in grid:
            x, y = _holds(a, H=h, W=w), _holds(b, H=h, W=w)
            assert _holds(conj, H=h, W=w) is (x and y), (a, b, h, w)
            assert _holds(disj, H=h, W=w) is (x or y), (a, b, h, w)
    # a decided side gives the other side itself, or the decided answer
    assert dims.both(big, True) == big and dims.both(True, big) == big
    assert dims.either(big, False) == big and dims.either(False, big) == big
    assert dims.both(big, False) is False and dims.either(True, big) is True
    nb = dims.negate(big)
    assert [_holds(nb, H=h) for h in range(1, 7)] == [True, True, True, False, False, False]
    assert dims.negate(True) is False and dims.negate(False) is True


def test_truth_of_values():
    assert dims.truth(3) is True and dims.truth(0) is False and dims.truth(Fraction(1, 2)) is True
    # H - 3 is zero only at H = 3
    t = dims.truth(dims.add(H, -3))
    assert [_holds(t, H=h) for h in range(1, 6)] == [True, True, False, True, True]
    assert dims.truth(dims.add(H, 1)) is True  # H + 1 >= 2
    # a condition turned into a value and back is the condition itself, printed as written
    big = dims.compare(">", H, 3)
    assert dims.truth(dims.from_truth(big)) == big
    assert dims.fmt(dims.truth(dims.from_truth(big))) == "H > 3"
    # (2 if H > 3 else 0) is non-zero exactly when H > 3; (1 if H > 3 else 2) never zero
    two = dims.truth(dims.where(big, 2, 0))
    assert [_holds(two, H=h) for h in range(1, 7)] == [False] * 3 + [True] * 3
    assert dims.truth(dims.where(big, 1, 2)) is True


def test_conditions_as_values():
    assert dims.from_truth(True) == 1 and type(dims.from_truth(True)) is int
    assert dims.from_truth(False) == 0 and type(dims.from_truth(False)) is int
    v = dims.from_truth(dims.compare(">", H, 3))
    assert [v.xreplace({H: h}) for h in range(1, 7)] == [0, 0, 0, 1, 1, 1]
    assert dims.fmt(v) == "(1 if H > 3 else 0)"
    assert dims.where(False, H, W) == W and dims.where(True, H, W) == H
    assert dims.where(dims.compare(">", H, 3), 5, 5) == 5


def _make_divisible(v, divisor, min_value=None):
    """torchvision's _make_divisible in exact arithmetic: int(v + d/2) // d * d for v >= 0."""
    if min_value is None:
        min_value = divisor
    new = max(min_value, math.floor(Fraction(v) + Fraction(divisor, 2)) // divisor * divisor)
    if new < Fraction(9, 10) * Fraction(v):
        new += divisor
    return new


def test_make_divisible_on_a_range_of_values():
    # by hand: 17 -> 16 (lost 1/17 < 10%), 19 -> 16 lost 3/19 > 10% -> 24, 100 -> 104 (100 + 4 = 104)
    assert dims.make_divisible(17, 8) == 16
    assert dims.make_divisible(19, 8) == 24
    assert dims.make_divisible(100, 8) == 104
    assert dims.make_divisible(12, 8) == 16  # 12 + 4 = 16: halves go up
    for divisor in (3, 4, 8, 16):
        for v in range(1, 200):
            assert dims.make_divisible(v, divisor) == _make_divisible(v, divisor), (v, divisor)
            alpha = Fraction(v, 7)
            assert dims.make_divisible(alpha * 16, divisor) == _make_divisible(alpha * 16, divisor)
        assert dims.make_divisible(1, divisor, 1) == _make_divisible(1, divisor, 1)


def test_make_divisible_of_an_open_size():
    md = dims.make_divisible(H, 8)
    for n in range(1, 120, 3):
        assert md.xreplace({H: n}) == _make_divisible(n, 8), n


# -- sizes of formulas -----------------------------------------------------------------------


def test_degree_counts_numbers_as_degree_zero():
    assert dims.degree(2 * H) == 1
    assert dims.degree(6 * H**2 * W) == 3
    assert dims.degree(s.Integer(7) + 3 * H) == 1


def test_terms_of_powers():
    # (H + 1)**3 = H**3 + 3H**2 + 3H + 1: C(3 + 1, 1) = 4 terms
    assert dims.expanded_terms((H + 1) ** 3) == 4
    # a power of one term stays one term, however high
    assert dims.expanded_terms(H**20000) == 1
    # a non-integer power is not multiplied out: one term
    assert dims.expanded_terms((H + W + 1) ** s.Rational(5, 2)) == 1
    # (H + 1)**10000 has 10001 terms; beyond an exponent of 10,000 the count is capped
    assert dims.expanded_terms((H + 1) ** 10000) == 10001
    assert dims.expanded_terms((H + 1) ** 10001) == 10**12
    assert dims.expanded_terms((H + W + 1) ** 20000) == 10**12
    # a base of 10,000 terms squared: C(2 + 9999, 9999) = 10001*10000/2 = 50,005,000 terms;
    # a base of 10,001 terms is beyond the exact count: capped
    base = (H + 1) ** 9998 + W  # 9999 + 1 = 10,000 terms
    assert dims.expanded_terms(base) == 10000
    assert dims.expanded_terms(base**2) == 50_005_000
    assert dims.expanded_terms(((H + 1) ** 9999 + W) ** 2) == 10**12


# -- floors: what is folded and what is kept --------------------------------------------------


def _ints(n):
    return [dims.symbol(f"x{i}") for i in range(n)]


def test_a_ceiling_in_a_floor_is_folded():
    # ceiling(H/2) = floor((H + 1)/2), so floor((ceiling(H/2) + 1)/3) = floor((H + 3)/6)
    f = dims.floordiv(s.ceiling(H / 2) + 1, 3)
    assert len(f.atoms(s.floor, s.ceiling)) == 1
    assert dims.fmt(f) == "floor((H + 3)/6)"
    assert [f.xreplace({H: n}) for n in range(1, 40)] == [(-(-n // 2) + 1) // 3 for n in range(1, 40)]


def test_a_floor_over_a_divisor_not_known_to_be_a_positive_integer_is_not_folded():
    alpha = dims.symbol("alpha", integer=False)
    f = dims.floordiv(dims.add(dims.floordiv(H, 2), 1), alpha)
    # H = 1, alpha = 1/2: floor((0 + 1)/(1/2)) = 2 (folding would give floor(3/2 * 2) = 3)
    for h in range(1, 9):
        for a in (Fraction(1, 2), Fraction(2, 3), Fraction(3, 2)):
            expected = math.floor((h // 2 + 1) / a)
            assert f.xreplace({H: h, alpha: dims.to_sympy(a)}) == expected, (h, a)


def test_floor_folding_stops_at_the_size_of_quick_simplifications():
    # Folding multiplies the numerator out; it is done up to 16 terms of degree 4, and a larger
    # numerator is kept as written (exact, with the inner floor).
    def outer(rest):
        return dims.floordiv(dims.add(dims.floordiv(H, 2), rest), 3)

    xs = _ints(16)
    cases = [
        (W**4, 1),  # floor(H/2) + W**4: degree 4, folded into floor((H + 2*W**4)/6)
        (W**5, 2),  # degree 5: kept
        (s.Add(*xs[:15]), 1),  # 16 terms: folded
        (s.Add(*xs), 2),  # 17 terms: kept
    ]
    for rest, floors in cases:
        f = outer(rest)
        assert len(f.atoms(s.floor)) == floors, (rest, f)
        for h, w in [(1, 1), (7, 2), (10, 3)]:
            values = {H: h, W: w, **{x: i + 1 for i, x in enumerate(xs)}}
            r = dims.to_sympy(rest).xreplace(values)
            assert f.xreplace(values) == (h // 2 + int(r)) // 3
    assert dims.fmt(outer(W**4)) == "floor((H + 2*W**4)/6)"
    assert dims.fmt(outer(W**5)) == "floor((W**5 + floor(H/2))/3)"


def test_whole_multiples_leave_the_floor_up_to_the_term_limit():
    # (2*H + x1 + ... + x63)/2: 64 terms, within MAX_TERMS: floor = H + floor((x1 + ... + x63)/2)
    xs = _ints(64)
    f = dims.floordiv(s.Add(2 * H, *xs[:63]), 2)
    assert H not in (f - H).free_symbols
    # 65 terms: beyond the limit, kept as one floor
    g = dims.floordiv(s.Add(2 * H, *xs), 2)
    assert isinstance(g, s.floor) and H in g.free_symbols


def test_integer_terms_leave_a_floor_over_a_symbolic_divisor():
    # floor(H + H/W) = H + floor(H/W) (H an integer)
    assert dims.fmt(dims.floor(H + H / W)) == "H + floor(H/W)"


def test_a_large_floor_is_kept_as_written():
    # degree 5 is beyond the quick simplifications: not split into H**5 + floor(alpha)
    alpha = dims.symbol("alpha", integer=False)
    f = dims.floor(H**5 + alpha)
    assert dims.fmt(f) == "floor(H**5 + alpha)"
    assert f.xreplace({H: 2, alpha: s.Rational(1, 2)}) == 32


# -- conversions -----------------------------------------------------------------------------


def test_to_sympy_gives_sympy_numbers():
    assert isinstance(dims.to_sympy(3), s.Integer) and dims.to_sympy(3) == 3
    assert dims.to_sympy(Fraction(3, 4)) == s.Rational(3, 4)
    assert dims.to_sympy(H) is H


def test_canon_refuses_what_is_not_a_dimension():
    import pytest

    with pytest.raises(TypeError, match=r"not a dimension value: 1\.5"):
        dims.canon(1.5)
