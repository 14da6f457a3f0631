"""Conditionals of conditionals of one symbol, folded into one list of ranges: the formula
agrees with the analysis at each concrete value (where no conditional is ever built), and two
symbols that cannot be folded are refused before they grow."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analysis.exact import evaluate
from cnncalc.core.engine import analyze
from cnncalc.errors import CnncalcError
from cnncalc.lang.spec import parse_spec

OPS = ["<", "<=", ">", ">=", "==", "!="]


def chain(steps: list[tuple[str, int, str]]) -> str:
    """Blocks b0, b1, ... each passing ``v`` on changed when a comparison of H holds; the last
    one's convolution has ``v`` channels."""
    lines = ["symbols: {H: 32}", "input: [1, 1, H, H]", "blocks:"]
    for i, (op, t, change) in enumerate(steps):
        lines.append(
            f"  b{i}: {{args: {{v: null}}, layers: [{{b{i + 1}: {{v: 'v {change} if H {op} {t} else v'}}}}]}}"
        )
    lines.append(
        f"  b{len(steps)}: {{args: {{v: null}}, layers: [{{conv2d: {{out: v, kernel: 1, bias: false}}}}]}}"
    )
    lines.append("layers: [{b0: {v: 3}}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(1, 40), st.sampled_from(["+ 1", "+ 2", "* 2", "- 1"])),
        min_size=2,
        max_size=12,
    )
)
def test_folded_formula_agrees_with_each_concrete_analysis(steps):
    spec = parse_spec(chain(steps), "chain.yaml")
    try:
        symbolic = analyze(spec, symbolic=True)
    except CnncalcError:
        return  # a width of 0 or less somewhere: refused as it should be (checked below)
    macs = symbolic.totals.macs
    for h in range(1, 46):
        try:
            concrete = analyze(spec, {"H": h}).totals.macs
        except CnncalcError:
            continue
        assert evaluate(macs, {"H": h}) == concrete, h


def test_the_fold_by_hand():
    # v = 3, then +1 when H > 4, then *2 when H >= 10: 3 (H <= 4), 4 (5 <= H <= 9), 8 (H >= 10)
    spec = parse_spec(chain([(">", 4, "+ 1"), (">=", 10, "* 2")]), "chain.yaml")
    out = analyze(spec, symbolic=True).layers[-1].output_shape[1]
    from cnncalc.core import dims

    assert dims.fmt(out) == "(3 if H < 5 else 4 if H < 10 else 8)"


def test_two_symbols_are_refused_before_they_grow():
    steps = "".join(
        f"  b{i}: {{args: {{v: null}}, layers: [{{b{i + 1}: {{v: 'v + 1 if {x} > {i} else v'}}}}]}}\n"
        for i, x in zip(range(40), "HW" * 20, strict=True)
    )
    text = (
        "symbols: {H: 32, W: 32}\ninput: [1, 1, H, W]\nblocks:\n"
        + steps
        + "  b40: {args: {v: null}, layers: [{conv2d: {out: v, kernel: 1}}]}\nlayers: [{b0: {v: 1}}]\n"
    )
    with pytest.raises(CnncalcError, match="grows to more than 20,000 operations"):
        analyze(parse_spec(text, "two.yaml"), symbolic=True)
    # with the symbols given, nothing is folded and nothing grows: 1 + 40 at H = W = 50
    assert analyze(parse_spec(text, "two.yaml"), {"H": 50, "W": 50}).layers[-1].output_shape[1] == 41
