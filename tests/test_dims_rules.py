"""The small rules of ``cnncalc.dims``: ceilings written as floors, sizes of formulas, limits.

Expected forms and numbers are worked out by hand in the comments.
"""

from __future__ import annotations

from fractions import Fraction

from cnncalc import dims

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
