"""Prose wrapped to a width (``conv``'s arithmetic, ``solve``'s answers, ``export``'s summary):
never wider than the width, never a word split unless it is longer than a whole line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cnncalc.report.layout import wrap_hanging

WORDS = st.one_of(
    st.integers(0, 10**40).map(lambda n: f"{n:,}"),
    st.sampled_from(["=", "+", "floor((28", "2*2", "-", "5)/3)", "macs", "(H):", "H", "x", "per", "output"]),
)


@given(st.lists(WORDS, min_size=1, max_size=30), st.integers(8, 120), st.booleans())
def test_every_line_fits_and_every_word_comes_back(words, width, at_equals):
    line = "label: " + " ".join(words)
    lines = wrap_hanging(line, width, at_equals)
    assert all(len(piece) <= width for piece in lines)
    assert lines[0].startswith("label:")
    # Joined back (a folded word's pieces are adjacent, without a space between them), the
    # words are the line's.
    assert "".join(piece.strip() for piece in lines).replace(" ", "") == line.replace(" ", "")
    short = [w for w in line.split(" ") if len(w) <= width - 7]
    tokens = " ".join(piece.strip() for piece in lines).split(" ")
    assert all(w in tokens for w in short)  # a word shorter than a line is never split


def test_a_worked_calculation_breaks_before_an_equals_sign():
    line = "h: floor((h + 2p - f)/s) + 1 = floor((28 + 2*2 - 5)/3) + 1 = floor(27/3) + 1 = 10"
    assert wrap_hanging(line, 60, at_equals=True) == [
        "h: floor((h + 2p - f)/s) + 1 = floor((28 + 2*2 - 5)/3) + 1",
        "   = floor(27/3) + 1 = 10",
    ]
    assert wrap_hanging(line, 80, at_equals=True) == [
        "h: floor((h + 2p - f)/s) + 1 = floor((28 + 2*2 - 5)/3) + 1 = floor(27/3) + 1",
        "   = 10",
    ]
    assert wrap_hanging(line, 90, at_equals=True) == [line]
    # Without the preference, prose breaks at the last space that fits.
    assert wrap_hanging("head size 64 along axis 2 (H): H = 64, with H % 16 == 0", 50) == [
        "head size 64 along axis 2 (H): H = 64, with H % 16",
        "  == 0",
    ]
