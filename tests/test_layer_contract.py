"""Every registered layer kind meets the contract of cnncalc.testing.check_layer.

Each kind's own strategy builds valid configurations by construction (carrying the output
shape they must produce); the check runs the symbolic rules, the integer rules and the
reference kernel on each, and compares all three.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.layers import REGISTRY
from cnncalc.testing import Case, cases, check_layer


@pytest.mark.parametrize("kind", sorted(REGISTRY))
@settings(max_examples=15)
@given(data=st.data())
def test_layer_contract(kind, data):
    check_layer(data.draw(cases(kind), label=kind))


def test_check_layer_catches_a_wrong_expected_shape():
    case = Case({"conv2d": {"out": 2, "kernel": 3}}, (1, 1, 6, 6), expected=(1, 2, 5, 5))
    with pytest.raises(
        AssertionError,
        match=r"conv1: output shape: predicted \[1, 2, 4, 4\], the configuration was built for "
        r"\[1, 2, 5, 5\] \(formula: \[N, 2, H - 2, W - 2\]\)",
    ):
        check_layer(case)
