"""Details of the layers, the engine and the kernels' entry points that the network-level tests
pass over: the windows receptive fields are built from, lints, the forward paths of less common
arguments, name resolution across nested scopes, and the messages of refused inputs (each names
the layer or argument and what was found)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from cnncalc.core.engine import analyze
from cnncalc.errors import ShapeError, SpecError, UsageError
from cnncalc.lang.spec import parse_spec
from cnncalc.layers import BUILTIN_KINDS, REGISTRY, WHOLE, Layer, Window

F32 = np.float32


def bound(kind: str, **args) -> Layer:
    layer, _ = REGISTRY[kind].read(args).bind({})
    return layer


# -- windows ---------------------------------------------------------------------------------


def test_mean_over_the_width_reads_the_whole_width_and_one_row():
    # x.mean(3, keepdim=True) on (1, 2, 5, 6): output (r, 0) averages row r over all 6 columns.
    assert bound("mean", axes=[3], keepdim=True).windows((1, 2, 5, 6)) == (Window(1), WHOLE)
    assert bound("mean", axes=[2], keepdim=True).windows((1, 2, 5, 6)) == (WHOLE, Window(1))


def test_zero_padding_shifts_the_window_by_the_top_and_left_padding():
    # Output (0, 0) is padding; output (2, 1) is input (0, 0): offsets -top and -left.
    assert bound("zero_pad2d", top=2, left=1, right=3).windows((1, 1, 4, 4)) == (
        Window(1, 1, -2),
        Window(1, 1, -1),
    )


def test_bilinear_upsampling_reads_two_inputs_around_its_sample():
    # Output o of a 2x bilinear upsample samples input position (o + 1/2)/2 - 1/2 = o/2 - 1/4
    # and reads the inputs on either side: o = 0 samples -1/4 (clamped to input 0), o = 2
    # samples 3/4 (inputs 0 and 1, so a window starting at o/2 = 1 would miss input 0): two
    # inputs, advancing by half an input per output, from a quarter of an input before o/2.
    half, quarter = Fraction(1, 2), Fraction(1, 4)
    assert bound("upsample", scale=2, mode="bilinear").windows((1, 1, 4, 4)) == (
        Window(2, half, -quarter),
        Window(2, half, -quarter),
    )
    # Downsampling 4 to 1 samples (0 + 1/2)*4 - 1/2 = 3/2: inputs 1 and 2, from 3/2.
    assert bound("upsample", size=[1, 1], mode="bilinear").windows((1, 1, 4, 4))[0] == Window(
        2, 4, Fraction(3, 2)
    )
    assert bound("upsample", scale=2).windows((1, 1, 4, 4)) == (Window(1, half, 0), Window(1, half, 0))


def test_a_spatial_softmax_chunk_or_layer_norm_reads_beyond_its_position():
    # softmax over H: every output of a column reads the whole column; over C, only itself.
    assert bound("softmax", dim=2).windows((1, 2, 5, 6)) == (WHOLE, Window(1))
    assert bound("softmax", dim=1).windows((1, 2, 5, 6)) is None
    # The second of 2 chunks of a width of 6: output column o is input column 3 + o.
    assert bound("chunk", chunks=2, index=1, dim=3).windows((1, 2, 5, 6)) == (Window(1), Window(1, 1, 3))
    # nn.LayerNorm(W) on NCHW normalises each row: a whole width; over (H, W), both axes.
    assert bound("layer_norm").windows((1, 2, 5, 6)) == (Window(1), WHOLE)
    assert bound("layer_norm", shape=[5, 6]).windows((1, 2, 5, 6)) == (WHOLE, WHOLE)


def test_adaptive_pooling_bins_that_do_not_tile():
    # 10 inputs into 3 bins: [0, 4), [3, 7), [6, 10), each 4 wide, starting every 10/3.
    layer = bound("adaptive_avg_pool2d", output=3)
    assert layer.windows((1, 1, 10, 10)) == (Window(4, Fraction(10, 3), 0), Window(4, Fraction(10, 3), 0))
    # 7 into 4: [0, 2), [1, 4), [3, 6), [5, 7): the widest bin has 3 inputs.
    assert bound("adaptive_avg_pool2d", output=4).windows((1, 1, 7, 7))[0] == Window(3, Fraction(7, 4), 0)


# -- lints -----------------------------------------------------------------------------------


def test_a_linear_layer_on_a_last_axis_of_size_one_is_flagged():
    linear = bound("linear", out=4, axis=-1)  # the last axis meant (channels-last features)
    assert linear.lints((2, 3, 4, 1), out=(2, 3, 4, 4))  # maps a single feature
    assert linear.lints((2, 1, 3, 5), out=(2, 1, 3, 4)) == []  # axis 1 of size 1 is not read
    assert linear.lints((2, 3, 4, 2), out=(2, 3, 4, 4)) == []
    assert bound("linear", out=4).lints((2, 1), out=(2, 4)) == []  # a plain regression head


# -- forward paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shapes", "dim"),
    [
        ([(2, 3), (2, 5)], 1),  # features of rank-2 tensors
        ([(1, 2, 3, 4), (1, 2, 1, 4)], 2),  # heights
        ([(1, 2, 3, 4), (1, 2, 3, 2)], -1),  # widths
        ([(1, 2, 3, 4), (1, 3, 3, 4)], -3),  # channels, counted from the end
    ],
)
def test_concat_forward_on_any_axis_equals_numpy(shapes, dim):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s).astype(F32) for s in shapes]
    expected = np.concatenate(xs, axis=dim)
    out = np.empty(expected.shape, F32)
    bound("concat", dim=dim).forward(xs, {}, out)
    np.testing.assert_array_equal(out, expected)


def test_nearest_upsampling_forward_repeats_each_pixel():
    x = np.arange(6, dtype=F32).reshape(1, 1, 2, 3)
    out = np.empty((1, 1, 4, 6), F32)
    bound("upsample", scale=2).forward([x], {}, out)
    np.testing.assert_array_equal(out, x.repeat(2, axis=2).repeat(2, axis=3))


# -- names across scopes ---------------------------------------------------------------------


def test_a_reference_inside_a_residual_finds_a_layer_of_the_enclosing_block():
    spec = parse_spec(
        "input: [1, 4, 6, 6]\n"
        "blocks:\n"
        "  unit:\n"
        "    layers:\n"
        "      - conv2d: {out: 4, kernel: 1, name: a}\n"
        "      - relu\n"
        "      - residual:\n"
        "          body:\n"
        "            - conv2d: {out: 4, kernel: 3, padding: 1, from: a}\n"
        "layers: [unit, unit]\n"
    )
    a = analyze(spec)
    convs = [r for r in a.layers if r.kind == "conv2d"]
    # Each residual's body reads its own unit's `a` (4*4*1*1 + 4 and 4*4*3*3 + 4 params each).
    assert [r.params for r in convs] == [20, 148, 20, 148]
    body = [r for r in convs if r.params == 148]
    assert [list(r.inputs) for r in body] == [["unit1.a"], ["unit2.a"]]


def test_a_reference_inside_a_nested_block_finds_a_layer_of_the_calling_block():
    spec = parse_spec(
        "input: [1, 4, 6, 6]\n"
        "blocks:\n"
        "  inner:\n"
        "    layers:\n"
        "      - relu\n"
        "      - conv2d: {out: 2, kernel: 1, from: a}\n"
        "  outer:\n"
        "    layers:\n"
        "      - conv2d: {out: 3, kernel: 1, name: a}\n"
        "      - inner\n"
        "layers: [outer, outer]\n"
    )
    a = analyze(spec)
    reads = {r.name: list(r.inputs) for r in a.layers if r.kind == "conv2d" and "inner" in r.name}
    # Each inner block reads the `a` of the outer block that calls it: 3 channels in, 2 out.
    assert reads == {"outer1.inner1.conv1": ["outer1.a"], "outer2.inner1.conv1": ["outer2.a"]}
    # outer1.a reads the 4 input channels, outer2.a the 2 that outer1's inner block wrote.
    assert [r.params for r in a.layers if r.kind == "conv2d"] == [4 * 3 + 3, 3 * 2 + 2, 2 * 3 + 3, 3 * 2 + 2]


def test_a_layer_inside_a_block_is_found_by_its_full_name_from_outside():
    spec = parse_spec(
        "input: [1, 4, 6, 6]\n"
        "blocks:\n"
        "  unit:\n"
        "    layers:\n"
        "      - conv2d: {out: 3, kernel: 1, name: a}\n"
        "      - conv2d: {out: 5, kernel: 1}\n"
        "layers:\n"
        "  - unit\n"
        "  - conv2d: {out: 2, kernel: 1, from: unit1.a}\n"
    )
    last = analyze(spec).layers[-1]
    assert list(last.inputs) == ["unit1.a"] and last.params == 3 * 2 + 2  # 3 channels of `a`, not 5


def test_an_input_too_large_to_count_is_located_at_the_input():
    big = "'10**60 * 10**39'"  # 10**99 each: 100 digits, within the limit of a size
    spec = parse_spec(f"input: [{big}, {big}, {big}, {big}]\nlayers: [relu]\n", "net.yaml")
    with pytest.raises(ShapeError) as info:
        analyze(spec)
    # 10**396 elements: 397 digits.
    assert str(info.value).startswith("net.yaml:1:8: input: the input has a number of elements of 397 digits")


@pytest.mark.parametrize(
    ("symbols", "expression", "names", "verb"),
    [
        ("{a: null}", "a", "a", "has"),
        ("{a: null, b: null}", "a*b", "a and b", "have"),
        ("{a: null, b: null, c: null}", "a*b*c", "a, b and c", "have"),
    ],
)
def test_a_repeat_or_when_of_open_symbols_names_them(symbols, expression, names, verb):
    from cnncalc.cli import render

    said = {
        "repeat": f"repeat = {expression} must be a known number, but {names} {verb} no value; give it one",
        "when": f"when = {expression} depends on {names}, which {verb} no value; it decides whether the "
        "layer exists (0: no); give it one",
    }
    for key, message in said.items():
        text = f"symbols: {symbols}\ninput: [1, 1, 4, 4]\nlayers:\n  - relu: {{{key}: {expression}}}\n"
        with pytest.raises(SpecError) as info:
            analyze(parse_spec(text, "net.yaml"), symbolic=True)
        where = f"net.yaml:4:{14 + len(key)}: layers[0].relu.{key}"
        assert str(info.value) == f"{where}: {message}"
        assert render(info.value.diagnostic) == f"{where}: {message} with --set"
        d = info.value.diagnostic
        assert (d.file, d.line, d.column, d.where) == ("net.yaml", 4, 14 + len(key), f"layers[0].relu.{key}")


def test_a_repeat_that_is_not_a_whole_number_is_located():
    spec = parse_spec("input: [1, 1, 4, 4]\nlayers:\n  - relu: {repeat: 3/2}\n", "net.yaml")
    with pytest.raises(SpecError) as info:
        analyze(spec)
    assert str(info.value) == "net.yaml:3:20: layers[0].relu.repeat: repeat = 3/2 = 3/2 is not an integer"


# -- messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "args", "x", "message"),
    [
        ("linear", {"out": 3}, (4,), "expects an input (N, features), got a rank-1 input [4]"),
        ("local_response_norm", {"size": 2}, (4,), "expects an input (N, C, ...), got a rank-1 input [4]"),
        (
            "zero_pad2d",
            {"padding": 1},
            (1, 2, 3),
            "expects an input (N, C, H, W), got a rank-3 input [1, 2, 3]",
        ),
        (
            "depthwise_conv2d",
            {"kernel": 1},
            (2, 3),
            "expects an input (N, C, H, W), got a rank-2 input [2, 3]",
        ),
    ],
)
def test_a_wrong_rank_is_refused_saying_what_was_expected(kind, args, x, message):
    with pytest.raises(ShapeError) as info:
        bound(kind, **args).checks(x)
    assert str(info.value) == message


@pytest.mark.parametrize("kind", ["add", "multiply"])
def test_merging_tensors_of_different_ranks_names_the_kind_and_the_ranks(kind):
    with pytest.raises(ShapeError) as info:
        bound(kind).checks((1, 2, 3, 3), (1, 2))
    assert str(info.value) == f"{kind} needs inputs of one rank, got ranks 4, 2"


def test_describe_writes_booleans_as_the_spec_does():
    assert bound("conv2d", out=2, kernel=3, bias=False).describe() == (
        "out=2, kernel=3, stride=1, padding=0, dilation=1, groups=1, bias=false"
    )


def test_a_value_given_that_is_no_number_is_named():
    """The engine names the binding as given; the command line says it was given with --set."""
    from cnncalc.cli import render

    spec = parse_spec("symbols: {H: 8}\ninput: [1, 1, H, H]\nlayers: [relu]\n")
    with pytest.raises(UsageError) as info:
        analyze(spec, {"H": "2 +"})
    assert str(info.value).startswith("H=2 +: ") and info.value.binding == "H=2 +"
    assert render(info.value.diagnostic).startswith("--set H=2 +: ")
    with pytest.raises(UsageError) as info:
        analyze(spec, {"H": "1/0"})
    assert str(info.value).startswith("H=1/0: ") and "zero" in str(info.value)


def test_kernel_arguments_are_checked_by_name():
    from cnncalc.kernels import conv, dense, shape_ops

    x, w = np.ones((1, 2, 4, 4), F32), np.ones((2, 2, 3, 3), F32)
    with pytest.raises(ValueError, match=r"^stride must be positive, got \(0, 1\)$"):
        conv.conv2d_nchw(x, w, None, np.empty((1, 2, 2, 2), F32), stride=(0, 1))
    with pytest.raises(ValueError, match=r"^padding must be >= 0, got \(-1, -1\)$"):
        conv.conv_transpose2d_nchw(
            x, np.ones((2, 2, 3, 3), F32), None, np.empty((1, 2, 6, 6), F32), padding=-1
        )
    with pytest.raises(ValueError, match=r"^b must have 1 dimensions, got shape \(2, 1\)$"):
        conv.conv2d_nchw(x, w, np.ones((2, 1), F32), np.empty((1, 2, 2, 2), F32))
    with pytest.raises(ValueError, match=r"^b must have 1 dimensions, got shape \(2, 1\)$"):
        dense.linear(np.ones((1, 3), F32), np.ones((2, 3), F32), np.ones((2, 1), F32), np.empty((1, 2), F32))
    out = np.empty((1, 2, 2, 2), F32)
    with pytest.raises(ValueError, match=r"^out must not share memory with b$"):
        conv.conv2d_nchw(x, w, out.reshape(-1)[:2], out)
    with pytest.raises(ValueError, match=r"^outs must be a non-empty sequence of arrays$"):
        shape_ops.split_channels(x, [])


# -- the strategies of the built-in kinds -----------------------------------------------------

#: Kinds whose strategies also draw configurations without a stated output shape (ceil-mode
#: pooling, transposed convolutions): their outputs are checked against the kernels alone.
_WITHOUT_EXPECTED = {"avg_pool2d", "max_pool2d", "conv_transpose2d"}


@pytest.mark.parametrize("kind", sorted(BUILTIN_KINDS - _WITHOUT_EXPECTED - {"opaque"}))
def test_every_example_states_the_output_shape_it_was_built_for(kind):
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=10, suppress_health_check=list(HealthCheck))
    @given(REGISTRY[kind].examples())
    def check(case):
        assert case.expected is not None, case
        assert all(isinstance(d, int) and d >= 1 for d in case.expected), case

    check()
