"""cnncalc.testing explains itself: each quantity named, configurations shrunk, whole random
networks checked three ways (symbolic rules evaluated, rules on integers, kernels executed)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.core import dims
from cnncalc.errors import ShapeError
from cnncalc.layers import BUILTIN_KINDS, REGISTRY, Int, Layer, Param, register
from cnncalc.testing import NETWORK_STEPS, Case, ContractFailure, cases, check_layer, contract_test, networks

# A user's contract test is one assignment: pytest collects it like any test.
test_conv2d_contract = contract_test("conv2d", max_examples=5)


def _pointwise(kind: str, macs, output_shape=None):
    """Register a 1x1 convolution (no bias) whose MAC rule (and maybe shape rule) is given."""

    def examples(cls):
        return st.builds(
            lambda x, o: Case({cls.kind: {"out": o}}, x, (x[0], o, *x[2:])),
            st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)),
            st.integers(1, 3),
        )

    def forward(self, xs, weights, out):
        from cnncalc.kernels.conv import conv2d_nchw

        return conv2d_nchw(xs[0], weights["weight"], None, out)

    namespace = {
        "__doc__": "A 1x1 convolution with a rule under test. MACs: see the test. FLOPs: 2*MACs.",
        "__module__": __name__,
        "__annotations__": {"out": Int},
        "kind": kind,
        "output_shape": output_shape or (lambda self, x: (x[0], self.out, x[2], x[3])),
        "weights": lambda self, x: {"weight": Param((self.out, x[1], 1, 1), "weight")},
        "macs": macs,
        "flops": lambda self, x, *, out: dims.mul(2, self.macs(x, out=out)),
        "forward": forward,
        "examples": classmethod(examples),
    }
    return register(type(kind.title().replace("_", ""), (Layer,), namespace))


@pytest.fixture
def custom():
    made: list[str] = []

    def make(kind, macs, output_shape=None):
        made.append(kind)
        return _pointwise(kind, macs, output_shape)

    yield make
    for kind in made:
        REGISTRY.pop(kind, None)


def test_a_wrong_mac_rule_is_named_with_both_counts_and_the_formula(custom):
    custom("test_off_by_one", lambda self, x, *, out: dims.mul(dims.add(dims.prod(out), -1), x[1]))
    case = Case({"test_off_by_one": {"out": 2}}, (1, 3, 2, 2), (1, 2, 2, 2))
    header = r'^test_off_by_one \{"out": 2\} on input \[1, 3, 2, 2\]:'
    with pytest.raises(ContractFailure, match=header) as err:
        check_layer(case)
    # 8 outputs of 3 products each = 24 counted; the rule forgets one output: 7*3 = 21.
    assert err.value.problems == (
        "test_off_by_one1 (test_off_by_one): MACs: predicted 21, counted by the kernel 24 "
        "(formula: C*(2*H*N*W - 1))",
    )


def test_contract_test_shrinks_to_the_smallest_configuration(custom):
    custom("test_off_by_one", lambda self, x, *, out: dims.mul(dims.add(dims.prod(out), -1), x[1]))
    run = contract_test("test_off_by_one", max_examples=20)
    with pytest.raises(ContractFailure, match=r"MACs: predicted 0, counted by the kernel 1") as info:
        run()
    assert info.value.case == Case({"test_off_by_one": {"out": 1}}, (1, 1, 1, 1), (1, 1, 1, 1))


def test_symbolic_and_integer_rules_that_disagree(custom):
    def macs(self, x, *, out):
        n = dims.mul(dims.prod(out), x[1])
        return n if dims.is_concrete(n) else dims.add(n, 1)  # a symbolic-only slip

    custom("test_symbolic_slip", macs)
    case = Case({"test_symbolic_slip": {"out": 1}}, (1, 1, 2, 2), (1, 1, 2, 2))
    with pytest.raises(ContractFailure) as info:
        check_layer(case)
    assert (
        "test_symbolic_slip1: MACs: the symbolic rule C*H*N*W + 1 gives 5 at N=1, C=1, H=2, W=2, "
        "the rule on integers 4"
    ) in info.value.problems


def test_a_rule_dividing_with_a_slash_is_named(custom):
    custom("test_true_division", lambda self, x, *, out: dims.prod(out) * x[1] / 2)
    with pytest.raises(ContractFailure) as err:
        check_layer(Case({"test_true_division": {"out": 1}}, (1, 1, 1, 3), (1, 1, 1, 3)))
    assert err.value.problems[0] == (
        "test_true_division1: MACs: the rule returned 1.5 (float), not an integer; divide with "
        "cnncalc.dims.floordiv or ceildiv, or dims.div when the division is exact"
    )


def test_a_rule_branching_on_a_size_is_explained(custom):
    def output_shape(self, x):
        if x[2] > 100:  # fine on ints, undecidable on a symbol
            raise ShapeError("too tall")
        return (x[0], self.out, x[2], x[3])

    custom("test_branching", lambda self, x, *, out: dims.mul(dims.prod(out), x[1]), output_shape)
    with pytest.raises(
        ContractFailure,
        match=r"the rules fail when the sizes are symbols \(N, C, H, W\): TypeError: cannot determine "
        r"truth value of Relational: H > 100 \(rules must not branch on a size with `if`",
    ):
        check_layer(Case({"test_branching": {"out": 1}}, (1, 1, 2, 2), (1, 1, 2, 2)))


def test_a_configuration_the_rules_refuse():
    case = Case({"conv2d": {"out": 2, "kernel": 5}}, (1, 1, 3, 3))
    with pytest.raises(
        ContractFailure, match=r"the rules refuse a configuration built to be valid: ShapeError: .*kernel"
    ):
        check_layer(case)


@settings(max_examples=20)
@given(networks())
def test_random_networks_agree_three_ways(case):
    check_layer(case)


@pytest.mark.parametrize("step", ["residual", "concat"])
@settings(max_examples=6)
@given(data=st.data())
def test_random_networks_with_branches(step, data):
    case = data.draw(networks(steps=[step, "conv"], head=False, max_layers=3))
    check_layer(case)


def test_every_kind_of_step_is_drawn():
    seen: set[str] = set()
    kinds = ("residual", "concat", "conv2d", "max_pool2d", "avg_pool2d", "batch_norm2d", "flatten")

    @settings(max_examples=40, database=None)
    @given(networks())
    def collect(case):
        seen.update(kind for kind in kinds if f'"{kind}"' in case.spec_text())

    collect()
    assert seen == set(kinds)


@settings(max_examples=15)
@given(data=st.data())
def test_random_networks_around_every_kind(data):
    kind = data.draw(st.sampled_from(sorted(BUILTIN_KINDS)), label="kind")
    check_layer(data.draw(networks(around=cases(kind), max_layers=3)))


@settings(max_examples=5)
@given(networks())
def test_the_carried_output_shape_is_checked(case):
    wrong = dataclasses.replace(case, expected=(*case.expected[:-1], case.expected[-1] + 1))
    with pytest.raises(ContractFailure, match=r"the configuration was built for"):
        check_layer(wrong)


def test_networks_refuses_unknown_steps():
    with pytest.raises(ValueError, match=r"steps must be a non-empty subset of .*'conv'.*got \['lstm'\]"):
        networks(steps=["lstm"])
    assert "residual" in NETWORK_STEPS and "concat" in NETWORK_STEPS


def test_every_public_name_is_documented():
    import cnncalc.plugins
    import cnncalc.testing

    from .helpers import ROOT

    page = (ROOT / "docs" / "custom-layers.md").read_text()
    for module in (cnncalc.testing, cnncalc.plugins):
        missing = [name for name in module.__all__ if f"`{name}" not in page]
        assert not missing, f"{module.__name__}: {missing} not in docs/custom-layers.md"


def test_contract_test_loads_its_plugin_as_the_command_line_does():
    from cnncalc.errors import PluginError

    with pytest.raises(PluginError, match=r"--plugin no_such_plugin_module: no module named 'no_such_plug"):
        contract_test("conv2d", plugin="no_such_plugin_module")
