"""The proof behind a budget over a range: the largest value of a formula, or a refusal.

The oracle is enumeration: every integer point of a small box, evaluated. Whenever the proof
answers, its answer is the largest value found there; formulas built to be monotone are never
refused; the refusals name what could not be shown.
"""

from __future__ import annotations

import itertools

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.analysis.budget import Unproved, largest
from cnncalc.core import dims

H = dims.symbol("H")
W = dims.symbol("W")


def _brute(e, box):
    names = sorted(box)
    best = None
    for point in itertools.product(*(range(lo, hi + 1) for lo, hi in (box[n] for n in names))):
        v = e.subs(
            {sympy.Symbol(n, integer=True, positive=True): p for n, p in zip(names, point, strict=True)}
        )
        best = v if best is None or v > best else best
    return best


# Formulas as the analysis writes them: sums and products of floors of shifted ratios.
_leaf = st.sampled_from(
    [
        H,
        W,
        H - 3,
        sympy.floor((H - 1) / 2) + 1,
        sympy.floor((W + 2 - 3) / 2) + 1,
        sympy.ceiling(H / 3),
        sympy.Integer(7),
        sympy.Integer(-2),
        sympy.Max(H, 5),
        sympy.Min(W, 6),
        sympy.Mod(H, 3),
        1 / H,
        W - H,
    ]
)


def _combine(children):
    return st.one_of(
        st.tuples(children, children).map(lambda p: p[0] + p[1]),
        st.tuples(children, children).map(lambda p: p[0] * p[1]),
        st.tuples(children, st.integers(1, 3)).map(lambda p: p[0] ** p[1]),
        children.map(lambda c: sympy.floor(c / 4)),
    )


formulas = st.recursive(_leaf, _combine, max_leaves=5)
boxes = st.fixed_dictionaries(
    {
        "H": st.tuples(st.integers(1, 6), st.integers(0, 5)),
        "W": st.tuples(st.integers(1, 6), st.integers(0, 5)),
    }
).map(lambda d: {n: (lo, lo + span) for n, (lo, span) in d.items()})


@given(formulas, boxes)
def test_an_answer_is_the_largest_value(e, box):
    used = {s.name: box[s.name] for s in e.free_symbols}
    try:
        value, corner = largest(e, used)
    except Unproved:
        return
    assert value == _brute(e, used)
    point = {sympy.Symbol(n, integer=True, positive=True): v for n, v in corner.items()}
    assert e.subs(point) == value


_monotone_leaf = st.sampled_from(
    [H, W, H + 1, sympy.floor((H - 1) / 2) + 1, sympy.ceiling(W / 3), sympy.Integer(3), sympy.Max(H, W)]
)
monotone = st.recursive(
    _monotone_leaf,
    lambda c: st.one_of(
        st.tuples(c, c).map(lambda p: p[0] + p[1]),
        st.tuples(c, c).map(lambda p: p[0] * p[1]),
        c.map(lambda x: sympy.floor(x / 2)),
    ),
    max_leaves=6,
)


@given(monotone, boxes)
def test_monotone_formulas_are_proved(e, box):
    used = {s.name: box[s.name] for s in e.free_symbols}
    value, _ = largest(e, used)
    assert value == _brute(e, used)


def test_decreasing_formulas_are_largest_at_the_low_corner():
    value, corner = largest(100 - 3 * H, {"H": (2, 9)})
    assert (value, corner) == (100 - 3 * 2, {"H": 2})


@pytest.mark.parametrize(
    ("e", "box", "message"),
    [
        (sympy.Mod(H, 3), {"H": (1, 10)}, "remainder"),
        (9 * (H - 2) ** 2, {"H": (1, 10)}, "changes sign"),
        (H * (20 - H), {"H": (1, 10)}, "growing factor by a shrinking one"),
        (H - W, {"H": (1, 10), "W": (1, 10)}, "grow and parts that shrink"),
        (H, {}, "no range for H"),
    ],
)
def test_refusals_say_why(e, box, message):
    with pytest.raises(Unproved, match=message):
        largest(e, box)


def test_an_irrational_extreme_is_refused():
    with pytest.raises(Unproved, match="not a rational number"):
        largest(sympy.sqrt(H), {"H": (1, 2)})
    # a floor of it is a whole number again: proved
    assert largest(sympy.floor(sympy.sqrt(H)), {"H": (1, 10)}) == (3, {"H": 10})
