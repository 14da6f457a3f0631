"""The spec language for today's networks: conditions, make_divisible, the input's shape in
blocks, pair and kind arguments, and the repeat index.

Expected values are worked out by hand in the tests (torchvision's ``_make_divisible`` is
written out as Python's own integer arithmetic where it is the oracle).
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

from cnncalc.core import dims
from cnncalc.core.engine import analyze
from cnncalc.errors import ExpressionError, ShapeError, SpecError, UnknownLayerError
from cnncalc.lang.expr import evaluate, parse
from cnncalc.lang.spec import parse_spec


def run(text: str, **values):
    return analyze(parse_spec(text, "net.yaml"), values or None)


def value(text: str, **scope):
    return evaluate(parse(text), scope)


def torchvision_make_divisible(v, divisor, min_value=None):
    """torchvision.models._utils._make_divisible, as published (the oracle)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# -- expressions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 < 4", 1),
        ("4 < 3", 0),
        ("2 <= 2 < 3", 1),
        ("1 < 3 < 2", 0),
        ("3 == 3", 1),
        ("3 != 3", 0),
        ("1 and 0", 0),
        ("0 or 2", 1),
        ("not 0", 1),
        ("not 5", 0),
        ("7 if 2 > 1 else 9", 7),
        ("7 if 2 < 1 else 9", 9),
        # the branch not taken is not evaluated, as in Python
        ("5 if 1 else 1/0", 5),
        ("0 and 1/0", 0),
        ("1 or 1/0", 1),
        ("round(5/2)", 2),  # halves to even, as torch.round and numpy.round
        ("round(7/2)", 4),
        ("round(2.6)", 3),
        ("(9/4)**(1/2)", Fraction(3, 2)),
        ("floor(10 * 2**(1/2))", 14),  # 14.142...
        ("ceil(2.52**(3/2))", 5),  # 4.0003...
    ],
)
def test_conditions_and_rounding_are_exact(text, expected):
    assert value(text) == expected


@pytest.mark.parametrize(
    ("v", "divisor"),
    [(32 * 0.75, 8), (20, 8), (3, 8), (96 * 1.4, 8), (24 * 0.35, 8), (1280 * 1.1, 8), (100, 16), (11, 8)],
)
def test_make_divisible_is_torchvisions(v, divisor):
    text = f"make_divisible({Fraction(v).limit_denominator(1000)}, {divisor})"
    assert value(text) == torchvision_make_divisible(v, divisor)


def test_make_divisible_bumps_when_rounding_loses_more_than_ten_percent():
    # 11 rounds to 8 (loses 27%), so one more multiple: 16; 13 rounds to 16 directly.
    assert value("make_divisible(11, 8)") == 16
    assert value("make_divisible(13, 8)") == 16
    assert value("make_divisible(3, 8, 4)") == 4  # at least min_value


def test_an_undecided_condition_is_piecewise_and_exact():
    H = dims.symbol("H")
    v = value("64 if H >= 32 else 32", H=H)
    assert dims.fmt(v) == "(64 if H >= 32 else 32)"
    for h, expected in [(31, 32), (32, 64), (500, 64)]:
        assert v.subs(H, h) == expected
    # the printed form reads back to the same value
    again = value(dims.fmt(v), H=H)
    assert all(again.subs(H, h) == v.subs(H, h) for h in (1, 31, 32, 33))
    # make_divisible of an open width multiplier: exact at every value
    a = dims.symbol("a", integer=False)
    md = value("make_divisible(32*a, 8)", a=a)
    for alpha in (Fraction(1, 4), Fraction(35, 100), Fraction(1, 2), Fraction(3, 4), 1, Fraction(14, 10)):
        assert md.subs(a, dims.to_sympy(alpha)) == torchvision_make_divisible(32 * float(alpha), 8)


def test_round_of_an_open_symbol_is_refused_not_guessed():
    with pytest.raises(ExpressionError, match=r"round\(\) needs a known value, but H has none"):
        value("round(H/2)", H=dims.symbol("H"))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("input", "'input' is a tensor"),
        ("input.X", "the input has no dimension 'X'"),
        ("k in 3", "In is not allowed"),
        ("make_divisible(3)", "takes 2 or 3 arguments"),
        ("make_divisible(3, k)", "divisor must be a known positive integer"),
        ("(0 - 2) ** (1/2)", "exponents must be integer constants"),
    ],
)
def test_refusals(text, match):
    with pytest.raises(ExpressionError, match=match):
        value(text, k=dims.symbol("k"))


# -- blocks read their input -------------------------------------------------------------------

SE = """
input: [1, 24, 8, 8]
blocks:
  se:
    args: {squeeze: "make_divisible(input.C // 4, 8)"}
    layers:
      - adaptive_avg_pool2d: {output: 1, name: avgpool}
      - conv2d: {out: squeeze, kernel: 1, name: fc1}
      - relu
      - conv2d: {out: input.C, kernel: 1, name: fc2}
      - hardsigmoid
      - multiply: {inputs: [input, hardsigmoid1], name: scale}
layers:
  - conv2d: {out: 40, kernel: 1, bias: false}
  - se
"""


def test_a_block_reads_the_channels_it_takes():
    a = run(SE)
    by = {r.name: r for r in a.layers}
    # the SE sees 40 channels: squeeze make_divisible(10, 8) = 8 (10 + 4 = 14, 14 // 8 * 8 = 8;
    # 8 >= 0.9 * 10 = 9 is false, so 8 + 8 = 16)
    assert by["se1.fc1"].output_shape == (1, 16, 1, 1)
    assert by["se1.fc1"].params == 40 * 16 + 16
    assert by["se1.fc2"].params == 16 * 40 + 40
    assert by["se1.scale"].output_shape == (1, 40, 8, 8)


def test_input_dims_beyond_the_rank_are_an_error():
    with pytest.raises(ShapeError, match=r"input\.H is not defined: the input here has fewer than 3"):
        run(
            "input: [1, 8, 4, 4]\nblocks:\n  head:\n    layers:\n      - linear: {out: input.H}\n"
            "layers:\n  - flatten\n  - head\n"
        )


# -- pairs and kinds ---------------------------------------------------------------------------

ASYMMETRIC = """
input: [1, 16, 17, 17]
blocks:
  unit:
    args: {out: null, kernel: [1, 7], padding: [0, 3], act: relu}
    layers:
      - conv2d: {out: out, kernel: kernel, padding: padding, bias: false, name: conv}
      - act
layers:
  - unit: {out: 8}
  - unit: {out: 8, kernel: [7, 1], padding: [3, 0], act: hardswish}
  - unit: {out: 4, kernel: 3, padding: 0, act: identity}
"""


def test_pairs_and_kinds_pass_through_blocks():
    a = run(ASYMMETRIC)
    assert [(r.name, r.kind, r.output_shape) for r in a.layers] == [
        ("unit1.conv", "conv2d", (1, 8, 17, 17)),
        ("unit1.relu1", "relu", (1, 8, 17, 17)),
        ("unit2.conv", "conv2d", (1, 8, 17, 17)),
        ("unit2.hardswish1", "hardswish", (1, 8, 17, 17)),
        ("unit3.conv", "conv2d", (1, 4, 15, 15)),
        ("unit3.identity1", "identity", (1, 4, 15, 15)),
    ]
    assert a.layers[0].params == 8 * 16 * 1 * 7
    assert a.layers[0].macs == 8 * 17 * 17 * 16 * 7
    assert a.layers[2].params == 8 * 8 * 7 * 1


def test_a_kind_passed_on_through_two_blocks():
    text = """
input: [1, 4, 8, 8]
blocks:
  inner:
    args: {act: relu}
    layers:
      - conv2d: {out: 4, kernel: 1}
      - act
  outer:
    args: {act: null}
    layers:
      - inner: {act: act}
layers:
  - outer: {act: silu}
  - outer: {act: sigmoid}
"""
    assert [r.kind for r in run(text).layers] == ["conv2d", "silu", "conv2d", "sigmoid"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ("act: silu}", UnknownLayerError, r"net.yaml:11:\d+: .*unknown layer kind or block 'silly'"),
        ("act: relu, bad: 1}", SpecError, r"block 'unit' has no argument 'bad'"),
    ],
)
def test_kind_arguments_are_checked_when_loading(change, error, match):
    text = ASYMMETRIC.replace("act: hardswish}", change.replace("silu", "silly"))
    with pytest.raises(error, match=match):
        parse_spec(text, "net.yaml")


def test_a_kind_argument_is_validated_as_each_kind_passed():
    # relu6 takes no `out`: the entry is checked against every kind the block receives
    text = """
input: [1, 4, 8, 8]
blocks:
  unit:
    args: {op: conv2d}
    layers:
      - op: {out: 4, kernel: 1}
layers:
  - unit
  - unit: {op: relu6}
"""
    with pytest.raises(SpecError, match=r"net.yaml:7:\d+: .*relu6 has no argument 'out'"):
        parse_spec(text, "net.yaml")


def test_a_pair_in_arithmetic_is_an_error():
    text = ASYMMETRIC.replace("out: out, kernel: kernel", "out: kernel, kernel: kernel")
    with pytest.raises(ShapeError, match=r"out: .*kernel is the pair \[1, 7\]"):
        run(text)


# -- the repeat index --------------------------------------------------------------------------

DENSE = """
input: [1, 64, 8, 8]
symbols: {g: 32}
blocks:
  dense_layer:
    layers:
      - concat:
          name: cat
          branches:
            - []
            - - batch_norm2d: {name: norm1}
              - relu: {name: relu1}
              - conv2d: {out: "4*g", kernel: 1, bias: false, name: conv1}
              - conv2d: {out: g, kernel: 3, padding: 1, bias: false, name: conv2}
layers:
  - dense_layer: {name: "denselayer{i + 1}", repeat: 3}
"""


def test_the_repeat_index_in_names_and_channels():
    a = run(DENSE)
    concats = [r for r in a.layers if r.kind == "concat"]
    assert [r.name for r in concats] == ["denselayer1.cat", "denselayer2.cat", "denselayer3.cat"]
    assert a.layers[2].name == "denselayer1.conv1"
    # conv1 of the third layer reads 64 + 2*32 = 128 channels: 128 * 4*32 weights
    assert a.layers[2 + 5 + 5].params == 128 * 128
    # channels grow by g per layer: 64, 96, 128, 160
    assert [r.output_shape[1] for r in concats] == [96, 128, 160]
    text = """
input: [1, 3, 8, 8]
layers:
  - conv2d: {out: "8 + 4*i", kernel: 1, repeat: 3, name: "c{2*i}"}
  - relu: {repeat: 2, when: "i > 0"}
"""
    a = run(text)
    assert [(r.name, r.output_shape[1]) for r in a.layers] == [
        ("c0", 8),
        ("c2", 12),
        ("c4", 16),
        ("relu1", 16),
    ]
    assert a.layers[1].params == 12 * 8 + 12


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("symbols: {i: 3}\ninput: [1, 3, 8, 8]\nlayers: [relu]\n", SpecError, "'i' is reserved"),
        ("input: [1, 3, 8, 8]\nlayers:\n  - conv2d: {out: i, kernel: 1}\n", SpecError, "'i' is not defined"),
        (
            "input: [1, 3, 8, 8]\nlayers:\n  - relu: {repeat: 2, name: 'r{i'}\n",
            SpecError,
            "a layer name is letters",
        ),
        (
            "input: [1, 3, 8, 8]\nlayers:\n  - relu: {repeat: 2, name: 'r'}\n"
            "  - relu: {repeat: 2, name: 'x{0}'}\n",
            SpecError,
            "the name 'x0' is already used",
        ),
    ],
)
def test_index_mistakes(text, error, match):
    with pytest.raises(error, match=match):
        run(text)


def test_mistakes_reach_the_user_as_one_message(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(ASYMMETRIC.replace("act: hardswish}", "act: hardswich}"))
    proc = subprocess.run(
        [sys.executable, "-m", "cnncalc", "analyze", str(spec)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "did you mean 'hardswish'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


# -- conditions through the rest of the pipeline -------------------------------------------------

WIDTH = """
symbols:
  H: 224
  alpha: {default: 1, type: rational}
input: [1, 3, H, H]
layers:
  - conv2d: {out: "make_divisible(32*alpha, 8)", kernel: 3, stride: 2, padding: 1, bias: false}
  - conv2d: {out: "make_divisible(16*alpha, 8)", kernel: 1, bias: false}
  - conv2d: {out: "64 if H >= 64 else 32", kernel: 1, bias: false}
  - global_avg_pool2d
  - flatten
  - linear: {out: 10}
"""


def test_a_sweep_over_piecewise_formulas_is_each_points_analysis():
    from cnncalc.analysis.sweep import sweep

    spec = parse_spec(WIDTH, "net.yaml")
    alphas = [Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), 1, Fraction(5, 4), 2]
    result = sweep(spec, {"alpha": alphas, "H": [32, 64, 65]})
    assert len(result) == 18
    by_point = {
        (result.points["alpha"][k], result.points["H"][k]): {m: result.totals[m][k] for m in result.totals}
        for k in range(len(result))
    }
    # alpha = 1/4, H = 32: 8 and 8 channels (make_divisible's floor of 8), 32 at the 1x1 conv:
    # 3*8*9 + 8*8 + 8*32 + 32*10 + 10
    assert by_point[(Fraction(1, 4), 32)]["params"] == 216 + 64 + 256 + 330
    for (alpha, h), point in by_point.items():
        concrete = analyze(spec, {"alpha": str(alpha), "H": h})  # no formula involved
        assert point["params"] == concrete.totals.params
        assert point["macs"] == concrete.totals.macs


def test_one_input_merges_with_the_previous_output():
    text = """
input: [1, 8, 5, 5]
blocks:
  unit:
    args: {out: null, stride: 1}
    layers:
      - conv2d: {out: out, kernel: 3, stride: stride, padding: 1, name: conv}
      - add: {inputs: [input], when: "stride == 1 and input.C == out", name: add}
layers:
  - unit: {out: 8}
  - unit: {out: 16}
  - unit: {out: 16, stride: 2}
"""
    a = run(text)
    assert [(r.name, r.inputs) for r in a.layers] == [
        ("unit1.conv", ("input",)),
        ("unit1.add", ("unit1.conv", "input")),
        ("unit2.conv", ("unit1.add",)),
        ("unit3.conv", ("unit2.conv",)),
    ]


def test_an_argument_named_like_a_block_is_the_block_where_used_as_a_kind_with_a_warning():
    # Loaded before kind arguments existed: `- se` invokes the block, `se` in expressions is
    # the argument. A warning names the fix.
    text = """
input: [1, 8, 5, 5]
blocks:
  se:
    layers: [relu]
  unit:
    args: {se: 1}
    layers:
      - se: {when: se}
layers: [unit, {unit: {se: 0}}]
"""
    spec = parse_spec(text, "net.yaml")
    assert [m for _, m in spec.warnings] == [
        "argument 'se' of block 'unit' has the name of a block: `- se` in 'unit' invokes block "
        "'se', and se in expressions is the argument; rename the argument (such as use_se) to "
        "keep the two apart"
    ]
    assert [r.name for r in analyze(spec).layers] == ["unit1.se1.relu1"]


def test_an_argument_named_like_a_block_used_as_a_kind_with_nothing_to_tell_is_refused():
    text = """
input: [1, 8, 5, 5]
blocks:
  se:
    layers: [relu]
  unit:
    args: {se: null}
    layers:
      - se
layers: [relu]
"""
    with pytest.raises(
        SpecError, match="argument 'se' of block 'unit' has the name of a block and is used as a layer kind"
    ):
        parse_spec(text, "net.yaml")


STAGES = """
symbols:
  H: 32
  C: 8
  d: {default: 2, doc: blocks in the stage}
input: [1, 3, H, H]
blocks:
  stage:
    args: {n: 1, out: null}
    layers:
      - conv2d: {out: out, kernel: 3, padding: 1, repeat: n, name: "conv{i}"}
layers:
  - stage: {n: d, out: C}
"""


def test_symbols_that_count_layers_keep_their_values_when_others_open():
    spec = parse_spec(STAGES, "net.yaml")
    assert spec.structural == frozenset({"d"})
    a = analyze(spec, symbolic=True)
    assert a.symbols["d"] == 2 and a.symbols["C"] is None and a.symbols["H"] is None
    assert len(a.layers) == 2
    # C*3*9 + C + 2 * (C*C*9 + C)... the second conv reads C channels: written out at C = 8
    params = a.totals.params.subs({s: 8 for s in a.totals.params.free_symbols})
    assert params == (3 * 8 * 9 + 8) + (8 * 8 * 9 + 8)


def test_a_sweep_over_a_depth_analyses_each_depth():
    from cnncalc.analysis.sweep import sweep

    spec = parse_spec(STAGES, "net.yaml")
    result = sweep(spec, {"d": [1, 2, 3], "H": [8, 16]})
    for k in range(len(result)):
        d, h = result.points["d"][k], result.points["H"][k]
        # first conv 3 -> 8, then d - 1 convs 8 -> 8; every conv 3x3 same-padded on h x h
        assert result.totals["params"][k] == (3 * 8 * 9 + 8) + (d - 1) * (8 * 8 * 9 + 8)
        assert result.totals["macs"][k] == (3 * 8 * 9 + (d - 1) * 8 * 8 * 9) * h * h


def test_bounds_of_a_spec_with_a_depth(run_cli, tmp_path):
    path = tmp_path / "stages.yaml"
    path.write_text(STAGES)
    code, out, err = run_cli("bounds", str(path), "--set", "d=3", "-f", "json")
    assert code == 0, err
    import json

    data = json.loads(out)
    assert data["symbols"]["d"]["value"] == 3  # the depth given, kept fixed
    assert data["symbols"]["H"]["min"] == 1  # padded 3x3 convolutions fit any size
    # three stacked 3x3 convolutions (d = 3) see 1 + 3*2 = 7 pixels; the default d = 2 would see 5
    assert data["receptive_field"]["layer"] == "stage1.conv2"
    assert data["receptive_field"]["height"]["size"] == 7


KIND_BLOCKS = """
input: [1, 8, 8, 8]
blocks:
  plain:
    layers:
      - conv2d: {out: input.C, kernel: 3, padding: 1, name: conv}
  fused:
    layers:
      - conv2d: {out: "2*input.C", kernel: 1, name: expand}
      - conv2d: {out: 8, kernel: 1, name: project}
  unit:
    args: {body: plain}
    layers:
      - body: {name: block}
      - relu
layers:
  - unit
  - unit: {body: fused}
"""


def test_a_block_passed_as_a_kind():
    a = run(KIND_BLOCKS)
    assert [(r.name, r.output_shape[1]) for r in a.layers] == [
        ("unit1.block.conv", 8),
        ("unit1.relu1", 8),
        ("unit2.block.expand", 16),
        ("unit2.block.project", 8),
        ("unit2.relu1", 8),
    ]
    # 8*8*9 + 8, then 8*16 + 16 and 16*8 + 8
    assert a.totals.params == (8 * 8 * 9 + 8) + (8 * 16 + 16) + (16 * 8 + 8)
    assert a.warnings == ()  # plain and fused are used, through the kind argument


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "input: [1, 8, 8, 8]\nblocks:\n  a:\n    args: {x: b}\n    layers:\n      - x\n"
            "  b:\n    layers: [a]\nlayers:\n  - a\n",
            "blocks use each other in a cycle: a -> b -> a",
        ),
        (
            "input: [1, 8, 8, 8]\nblocks:\n  a:\n    args: {x: relu}\n    layers:\n      - x\n"
            "layers:\n  - a: {x: nope}\n",
            "unknown layer kind or block 'nope'",
        ),
    ],
)
def test_blocks_passed_as_kinds_cannot_recur(text, match):
    with pytest.raises(SpecError, match=match):
        run(text)


def test_nesting_through_kinds_is_bounded():
    lines = ["input: [1, 3, 4, 4]", "blocks:"]
    for k in range(150):
        lines += [f"  w{k}:", "    layers:", f"      - u: {{x: w{k + 1}}}" if k < 149 else "      - relu"]
    lines += ["  u:", "    args: {x: relu}", "    layers:", "      - x", "layers:", "  - w0"]
    with pytest.raises(SpecError, match="blocks nest more than 100 levels deep"):
        run("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not k", 0),
        ("not (k - 3)", 1),
        ("k and 1", 1),
        ("0 or k", 1),
        ("k > 1 and not (k < 0)", 1),
        ("k if k > 2 and k < 4 else 0", 3),
        ("1 < k < 4", 1),
        ("(k > 1) + (k > 2) + (k > 3)", 2),
    ],
)
def test_conditions_read_names(text, expected):
    assert value(text, k=3) == expected


@pytest.mark.parametrize(
    "text",
    ["not (1/0)", "1/0 > 0", "0 or 1/0", "1 and 1/0", "2 if 1/0 else 3", "0 < 1 < 1/0", "not (1/0 > 0)"],
)
def test_an_error_inside_a_condition_names_the_expression(text):
    with pytest.raises(ExpressionError) as info:
        value(text)
    assert str(info.value) == f"in {text!r}: division by zero"


def test_a_root_compared_with_an_open_symbol_is_piecewise():
    H = dims.symbol("H")
    v = value("1 if H > 2**(1/2) else 0", H=H)
    assert [v.subs(H, h) for h in (1, 2, 3)] == [0, 1, 1]  # sqrt(2) = 1.41...
    w = value("1 if 2**(1/2) >= H else 0", H=H)
    assert [w.subs(H, h) for h in (1, 2)] == [1, 0]


def test_names_that_are_not_numbers_are_named_in_messages():
    with pytest.raises(ExpressionError) as info:
        value("act + 1", act="relu")
    assert str(info.value) == "in 'act + 1': act names a layer kind (relu), not a number"
    with pytest.raises(ExpressionError) as info:
        value("K + 1", H=2, **{"input.C": 3})
    # the input's dimensions are not listed among the names a spec declares
    assert str(info.value) == "in 'K + 1': unknown name 'K' (names in scope: H)"
