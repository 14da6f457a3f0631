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
from cnncalc.testing import (
    NETWORK_STEPS,
    Case,
    ContractFailure,
    cases,
    check_layer,
    contract_test,
    nearby,
    networks,
)

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
    # 3 outputs of 1 channel, halved: 1.5, a float.
    assert err.value.problems[0].startswith(
        "layer 'test_true_division1' (test_true_division): its rule macs() (the MAC count) returned "
        "1.5 (float): a count is an int, or a formula built with cnncalc.dims; divide with "
        "dims.floordiv or dims.ceildiv, not / (defined at "
    )


def test_a_rule_branching_on_a_size_is_explained(custom):
    def output_shape(self, x):
        if x[2] > 100:  # fine on ints, undecidable on a symbol
            raise ShapeError("too tall")
        return (x[0], self.out, x[2], x[3])

    custom("test_branching", lambda self, x, *, out: dims.mul(dims.prod(out), x[1]), output_shape)
    with pytest.raises(
        ContractFailure,
        match=r"the rules fail when the sizes are symbols \(N, C, H, W\): layer 'test_branching1' "
        r"\(test_branching\): its rule "
        r"output_shape\(\) \(the output shape\) raised TypeError: cannot determine truth value of "
        r"Relational: H > 100 \(a size is a formula when symbols are open: do not use if, int\(\)",
    ):
        check_layer(Case({"test_branching": {"out": 1}}, (1, 1, 2, 2), (1, 1, 2, 2)))


def test_a_configuration_the_rules_refuse():
    case = Case({"conv2d": {"out": 2, "kernel": 5}}, (1, 1, 3, 3))
    with pytest.raises(
        ContractFailure,
        match=r"the rules refuse a configuration built to be valid: layer 'conv1' \(conv2d\): the kernel "
        r"height 5 must fit in the padded input height 3 \(either a check is too strict, or examples\(\)",
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


# -- the contract beyond shapes and counts -----------------------------------------------------


def _kind(kind: str, **rules):
    """Register a small custom kind: a 3x3 convolution without padding (``out`` filters, no
    bias), its rules replaced by ``rules``."""
    from cnncalc.layers import Window

    def examples(cls):
        return st.builds(
            lambda n, c, h, w, o: Case({cls.kind: {"out": o}}, (n, c, h + 2, w + 2), (n, o, h, w)),
            st.integers(1, 2),
            st.integers(1, 3),
            st.integers(1, 3),
            st.integers(1, 3),
            st.integers(1, 3),
        )

    def forward(self, xs, weights, out):
        from cnncalc.kernels.conv import conv2d_nchw

        return conv2d_nchw(xs[0], weights["weight"], None, out)

    namespace = {
        "__doc__": "A 3x3 convolution, no padding. MACs: N*out*H_out*W_out*C*9. FLOPs: 2*MACs.",
        "__module__": __name__,
        "__annotations__": {"out": Int},
        "kind": kind,
        "checks": lambda self, x: [],
        "output_shape": lambda self, x: (x[0], self.out, dims.add(x[2], -2), dims.add(x[3], -2)),
        "weights": lambda self, x: {"weight": Param((self.out, x[1], 3, 3), "weight")},
        "macs": lambda self, x, *, out: dims.mul(dims.prod(out), x[1], 9),
        "flops": lambda self, x, *, out: dims.mul(2, dims.prod(out), x[1], 9),
        "windows": lambda self, x: (Window(3), Window(3)),
        "forward": forward,
        "examples": classmethod(examples),
        **rules,
    }
    namespace = {k: v for k, v in namespace.items() if v is not None}  # None: the rule left out
    return register(type(kind.title().replace("_", ""), (Layer,), namespace))


@pytest.fixture
def kinds():
    made: list[str] = []

    def make(kind, **rules):
        made.append(kind)
        return _kind(kind, **rules)

    yield make
    for kind in made:
        REGISTRY.pop(kind, None)


CONV = {"test_small_conv": {"out": 1}}


def test_the_small_convolution_meets_the_contract(kinds):
    kinds("test_small_conv", checks=_fits)
    contract_test("test_small_conv", max_examples=15)()


def _fits(self, x):
    from cnncalc.layers import at_least

    return [at_least(x[2], 3, "the kernel fits the height"), at_least(x[3], 3, "the kernel fits the width")]


def test_a_missing_check_is_reported_with_the_configuration_that_shows_it(kinds):
    kinds("test_small_conv")  # no check that the 3x3 kernel fits
    with pytest.raises(ContractFailure) as err:
        contract_test("test_small_conv", max_examples=15)()
    failure = err.value
    assert failure.missing_check
    near, change = failure.near
    # The smallest valid case, a 3x3 input, one row shorter: 3 - 2 = 1 becomes 2 - 2 = 0.
    assert near == Case(CONV, (1, 1, 3, 3), (1, 1, 1, 1)) and change == "height 3 -> 2"
    assert failure.case == Case(CONV, (1, 1, 2, 3))
    assert str(failure).startswith(
        'test_small_conv {"out": 1} on input [1, 1, 2, 3] (height 3 -> 2 from the valid test_small_conv '
        '{"out": 1} on input [1, 1, 3, 3]):\n  missing check (or a wrong shape rule): the checks accept this '
        "configuration, but layer 'test_small_conv1' (test_small_conv): the output shape [1, 1, 0, 1] is "
        "impossible: axis 2 (the height) is 0"
    )


def test_nearby_configurations():
    case = Case({"conv2d": {"out": 2, "kernel": [3, 1], "bias": True}}, (1, 3, 5, 4))
    changes = [change for _, change in nearby(case)]
    assert changes[:9] == [
        "batch 1 -> 2",
        "channels 3 -> 4",
        "channels 3 -> 2",
        "height 5 -> 6",
        "height 5 -> 4",
        "width 4 -> 5",
        "width 4 -> 3",
        "spatial sizes [5, 4] -> [1, 1]",
        "out 2 -> 3",
    ]
    assert "kernel[0] 3 -> 6" in changes  # one more than the largest spatial size: larger than the input
    assert "bias true -> false" in changes
    assert all(near != case for near, _ in nearby(case))


def test_flops_below_two_per_mac_are_named(kinds):
    kinds("test_small_conv", checks=_fits, flops=lambda self, x, *, out: dims.mul(dims.prod(out), x[1], 9))
    with pytest.raises(ContractFailure) as err:
        check_layer(Case(CONV, (1, 1, 3, 3), (1, 1, 1, 1)))
    # 1 output of 1 channel, 9 taps: 9 MACs counted, so at least 18 FLOPs.
    assert err.value.problems == (
        "test_small_conv1 (test_small_conv): FLOPs: the rule gives 9, less than 2 per MAC the kernel counted "
        "(2*9 = 18); FLOPs count 2 per multiply-accumulate, plus every other operation "
        "(formula: 9*C*N*(H - 2)*(W - 2))",
    )


def test_flops_against_the_stated_formula(kinds):
    kinds(
        "test_small_conv",
        checks=_fits,
        flops=lambda self, x, *, out: dims.add(dims.mul(2, dims.prod(out), x[1], 9), 1),
    )
    with pytest.raises(
        ContractFailure, match=r"FLOPs: the rule gives 19, the docstring states FLOPs: 2\*MACs = 2\*9 = 18"
    ):
        check_layer(Case(CONV, (1, 1, 3, 3), (1, 1, 1, 1)))


def test_a_declared_tensor_the_kernel_never_reads(kinds):
    def weights(self, x):
        return {"weight": Param((self.out, x[1], 3, 3), "weight"), "scale": Param((self.out,), "norm")}

    kinds("test_small_conv", checks=_fits, weights=weights)
    with pytest.raises(ContractFailure, match=r"'scale' \(norm, shape \[1\]\) is never read by the kernel"):
        check_layer(Case(CONV, (1, 1, 3, 3), (1, 1, 1, 1)))


def test_a_weight_that_meets_only_padding_on_a_tiny_input_is_not_reported():
    # A 1x1 input, kernel 3 with padding 1: the taps of the corners multiply padding only.
    check_layer(
        Case({"conv2d": {"out": 1, "kernel": 3, "padding": 1, "bias": False}}, (1, 1, 1, 1), (1, 1, 1, 1))
    )


def test_windows_that_miss_what_the_kernel_reads(kinds):
    from cnncalc.layers import Window

    kinds("test_small_conv", checks=_fits, windows=lambda self, x: (Window(3, 1, 1), Window(3)))
    with pytest.raises(ContractFailure) as err:
        check_layer(Case(CONV, (1, 1, 3, 3), (1, 1, 1, 1)))
    assert err.value.problems == (
        "test_small_conv1 (test_small_conv): windows(): moving input position 0 of axis 2 (the height) "
        "changed the outputs at 0 of that axis, but by the window it declares, Window(size=3, stride=1, "
        "offset=1), no output reads it",
    )


def test_a_kind_without_windows_gets_a_warning_naming_the_fix(kinds):
    from cnncalc.testing import ContractWarning

    kinds("test_small_conv", checks=_fits, windows=None)
    with pytest.warns(ContractWarning, match=r"without windows\(\) each output reads only its own position"):
        check_layer(Case(CONV, (1, 1, 3, 3), (1, 1, 1, 1)))


def test_an_output_left_unwritten(kinds):
    def forward(self, xs, weights, out):
        from cnncalc.kernels.conv import conv2d_nchw

        full = out.copy()
        macs = conv2d_nchw(xs[0], weights["weight"], None, full)
        out[:, :, :, 1:] = full[:, :, :, 1:]  # the first column never written
        return macs

    kinds("test_small_conv", checks=_fits, forward=forward)
    with pytest.raises(
        ContractFailure,
        match=r"forward left 2 of 4 output elements unwritten \(the first at \[0, 0, 0, 0\]\)",
    ):
        check_layer(Case(CONV, (1, 1, 4, 4), (1, 1, 2, 2)))


def test_case_takes_the_spellings_of_a_spec():
    assert Case("relu", [1, 2, 3, 3]) == Case({"relu": None}, (1, 2, 3, 3))
    check_layer(Case("relu", (1, 2, 3, 3), (1, 2, 3, 3)))
    with pytest.raises(TypeError, match=r"Case: entry is a layer as a spec writes it"):
        Case(3, (1, 2))
    with pytest.raises(TypeError, match=r"Case: input_shape is a sequence of ints"):
        Case("relu", (1, 2.0))


def test_an_examples_that_returns_its_builder_uncalled(kinds):
    from cnncalc.errors import LayerDefinitionError

    def examples(cls):
        @st.composite
        def build(draw):
            return Case(CONV, (1, 1, 3, draw(st.integers(3, 4))))

        return build

    kinds("test_small_conv", checks=_fits, examples=classmethod(examples))
    with pytest.raises(
        LayerDefinitionError,
        match=r"examples\(\) returned the function build itself.*return build\(\), not build",
    ):
        cases("test_small_conv")


def test_the_geometry_of_windows_was_called_window():
    import cnncalc.testing
    from cnncalc.testing import WindowGeometry

    with pytest.warns(
        DeprecationWarning, match=r"cnncalc.testing.Window is now cnncalc.testing.WindowGeometry"
    ):
        assert cnncalc.testing.Window is WindowGeometry


@pytest.mark.parametrize(
    ("doc", "stated"),
    [
        ("MACs: 0. FLOPs: 0 (a copy).", ("zero", 0)),
        ("FLOPs: 2*MACs.", ("macs", 2)),
        ("FLOPs: 3 per element (exp, a sum, a division).", ("per_element", 3)),
        ("FLOPs: 2*MACs, plus bias additions.", None),
        ("FLOPs: 7 per element (5 without affine) plus 4 per vector.", None),
        ("FLOPs: 2*MACs\n    plus the bias.", None),
        ("No formula.", None),
    ],
)
def test_the_flops_formulas_the_contract_reads(doc, stated):
    from cnncalc.testing._probes import stated_flops

    assert stated_flops(doc) == stated


@pytest.mark.parametrize(
    ("kind", "args", "shape"),
    [
        ("softmax", {"dim": 2}, (1, 1, 3, 2)),  # a spatial softmax reads the whole axis
        ("chunk", {"chunks": 2, "index": 1, "dim": 3}, (1, 1, 2, 4)),  # the second half of the width
        ("layer_norm", {}, (1, 2, 2, 3)),  # nn.LayerNorm(W) on NCHW mixes each row
        ("upsample", {"scale": 2, "mode": "bilinear"}, (1, 1, 3, 3)),  # samples between inputs
    ],
)
def test_built_in_windows_found_wrong_by_the_probe_are_right(kind, args, shape):
    from cnncalc.core.engine import analyze
    from cnncalc.lang.spec import parse_spec
    from cnncalc.testing._probes import window_problems

    a = analyze(parse_spec(Case({kind: args}, shape).spec_text(), "<case>"))
    assert window_problems(a.layers[0]) == []
