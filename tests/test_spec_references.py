"""References to tensors: here.C, layer.H, network.W, block arguments naming tensors, name
templates and lists of names in from:/inputs:, and the top-level input.* lint."""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.lang.spec import parse_spec


def run(text: str, values=None):
    return analyze(parse_spec(text, "net.yaml"), values)


def test_here_is_the_tensor_arriving_at_the_entry_at_any_level():
    text = """
input: [1, 3, 32, 32]
blocks:
  widen:
    layers:
      - conv2d: {out: "2*here.C", kernel: 1, name: a}
      - conv2d: {out: "2*here.C", kernel: 1, name: b}
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1}
  - conv2d: {out: "here.C + 1", kernel: 1}
  - widen
"""
    a = run(text)
    assert [r.output_shape[1] for r in a.layers] == [8, 9, 18, 36]
    assert a.warnings == ()


def test_the_lint_names_the_fix_where_top_level_input_is_read_after_a_layer_changed_it():
    text = """
input: [1, 3, 32, 32]
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1}
  - conv2d: {out: "4*input.C", kernel: 1}
  - upsample: {size: [input.H, input.W]}
  - max_pool2d: {kernel: 2}
  - upsample: {size: [network.H, network.W]}
"""
    a = run(text)
    assert a.layers[1].output_shape[1] == 12  # input.C is still the network's 3: the same numbers
    assert [(w.line, w.message) for w in a.warnings] == [
        (
            5,
            "input.C = 3 (arriving here: 8): at top level input.* is the network's input, not the "
            "tensor arriving here; write here.C for the tensor arriving here, or network.C to say "
            "that the network's input is meant",
        )
    ]  # input.H on line 6 is the size arriving there (nothing changed it): no warning


def test_an_earlier_layer_is_named_by_its_name_nested_ones_by_their_path():
    text = """
input: [1, 3, 37, 41]
blocks:
  down:
    layers:
      - conv2d: {out: 8, kernel: 3, stride: 2, padding: 1, name: conv}
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, name: stem}
  - down: {name: d1}
  - down: {repeat: 2, name: stage}
  - upsample: {size: [stem.H, stem.W], name: up1}
  - upsample: {size: [d1.conv.H, "stage.0.conv.W"], name: up2}
  - conv2d: {out: "stage.C + stem.C", kernel: 1}
"""
    shapes = {r.name: r.output_shape for r in run(text).layers}
    # 37 x 41 -> 19 x 21 -> 10 x 11 -> 5 x 6
    assert shapes["up1"] == (1, 8, 37, 41)
    assert shapes["up2"] == (1, 8, 19, 11)
    # `stage` names the output of its last repetition (conv2: stem counts as the first conv2d)
    assert shapes["conv2"] == (1, 12, 19, 11)


@pytest.mark.parametrize(
    ("out", "match"),
    [
        (
            "later.C",
            r"later.C reads a tensor, but no earlier layer is named 'later'; a layer 'later' is "
            r"defined at net.yaml:6:13, below",
        ),
        ("stem.X", r"the tensor 'stem' has no dimension 'X'; write stem.N, stem.C, stem.H or stem.W"),
        ("K.C", r"'K' is a number, not a tensor"),
        ("stem*2", r"'stem\*2' uses 'stem', which is not defined as a number: 'stem' is a layer; its "),
    ],
)
def test_reference_mistakes_are_located(out, match):
    text = f"""symbols: {{K: 3}}
input: [1, 3, 8, 8]
layers:
  - conv2d: {{out: 4, kernel: 1, name: stem}}
  - conv2d: {{out: "{out}", kernel: 1}}
  - conv2d: {{out: 4, kernel: 1, name: later}}
"""
    with pytest.raises(SpecError, match=match) as info:
        run(text)
    assert info.value.line == 5


def test_a_flattened_tensor_has_no_height():
    text = "input: [1, 3, 8, 8]\nlayers:\n  - flatten: {name: f}\n  - linear: {out: 'f.H'}\n"
    with pytest.raises(SpecError, match=r"f.H: the tensor 'f' has 2 dimensions \[1, 192\], so no H"):
        run(text)


HEAD_BLOCK = """
input: [1, 3, 32, 32]
blocks:
  head:
    args: {low: null, high: null, k: 5}
    layers:
      - conv2d: {out: k, kernel: 1, from: high, name: high_cls}
      - upsample: {size: [low.H, low.W], name: up}
      - conv2d: {out: k, kernel: 1, from: low, name: low_cls}
      - add: {inputs: [low_cls, up], name: add}
layers:
  - conv2d: {out: 8, kernel: 3, stride: 2, padding: 1, name: s2}
  - conv2d: {out: 16, kernel: 3, stride: 2, padding: 1, name: s4}
  - head: {low: s2, high: s4, name: seg}
"""


def test_a_block_argument_may_name_a_tensor():
    a = run(HEAD_BLOCK)
    layers = {r.name: r for r in a.layers}
    assert layers["seg.high_cls"].inputs == ("s4",)
    assert layers["seg.up"].output_shape == (1, 5, 16, 16)
    assert layers["seg.low_cls"].inputs == ("s2",)
    assert layers["seg.add"].inputs == ("seg.low_cls", "seg.up")
    assert a.totals.params == (16 * 5 + 5) + (8 * 5 + 5) + (3 * 8 * 9 + 8) + (8 * 16 * 9 + 16)


def test_a_tensor_argument_is_not_a_number_and_a_number_argument_is_not_a_tensor():
    bad = HEAD_BLOCK.replace("out: k, kernel: 1, from: high", "out: high, kernel: 1, from: high")
    with pytest.raises(SpecError, match="'high' names a tensor"):
        run(bad)
    with pytest.raises(SpecError, match="no earlier layer is named 'nowhere'"):
        run(HEAD_BLOCK.replace("low: s2,", "low: nowhere,"))


def test_an_argument_read_as_a_number_leaves_a_layer_of_its_name_to_references():
    """Before arguments could name tensors, `from: proj` named the layer proj even where the block
    had an argument proj: that still holds when the argument is a number, with a warning; an
    argument only ever given layer names names a tensor."""
    text = """
input: [1, 3, 8, 8]
blocks:
  unit:
    args: {proj: 4}
    layers:
      - conv2d: {out: proj, kernel: 1, name: proj}
      - relu: {name: act}
      - add: {inputs: [proj, act], name: add}
      - conv2d: {out: 2, kernel: 1, from: proj}
layers:
  - unit: {proj: 6}
"""
    a = run(text)
    layers = {r.name: r for r in a.layers}
    assert layers["unit1.add"].inputs == ("unit1.proj", "unit1.act")
    assert layers["unit1.conv2"].inputs == ("unit1.proj",)
    # 6 filters on 3 channels, then 2 filters on 6 channels, with biases
    assert a.totals.params == (6 * 3 + 6) + (2 * 6 + 2)
    assert [m for _, m in parse_spec(text, "net.yaml").warnings] == [
        "argument 'proj' of block 'unit' is a number, and a reference in 'unit' has its name: that "
        "reference names a layer 'proj', as before block arguments could name tensors; rename the "
        "argument (such as proj_n) to keep the two apart"
    ]


DENSE = """
input: [1, 4, 8, 8]
blocks:
  layer:
    args: {k: null, block_in: null}
    layers:
      - concat: {inputs: [block_in, "dense{j} for j in range(k)"], when: "k > 0", name: cat}
      - conv2d: {out: 2, kernel: 1, name: conv}
  block:
    args: {n: null}
    layers:
      - layer: {k: i, block_in: input, repeat: n, name: "dense{i}"}
      - concat: {inputs: [input, "dense{j} for j in range(n)"], name: cat}
layers:
  - block: {n: 4, name: b}
  - conv2d: {out: 3, kernel: 1, from: "b.dense{1 + 2}"}
"""


def test_inputs_may_be_built_over_a_range_and_from_may_be_a_template():
    a = run(DENSE)
    layers = {r.name: r for r in a.layers}
    assert layers["b.dense2.cat"].inputs == ("input", "b.dense0.conv", "b.dense1.conv")
    assert layers["b.dense3.cat"].output_shape == (1, 4 + 3 * 2, 8, 8)
    assert layers["b.cat"].output_shape == (1, 4 + 4 * 2, 8, 8)
    assert layers["conv1"].inputs == ("b.dense3.conv",)
    # each layer's 1x1 convolution reads 4 + 2k channels
    assert a.totals.params == sum((4 + 2 * k) * 2 + 2 for k in range(4)) + 12 * 0 + (2 * 3 + 3)


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ('"dense{j} for j in range(k + 1)"', r"no earlier layer is named 'dense1' \('dense\{j\} for j"),
        ('"dense{j} for k in range(2)"', r"'j' is not defined"),
        ('"dense0 for k in range(2)"', r"the name does not use k"),
        ('"dense{j} for j in range(1, 2, 3)"', r"range\(\) takes 1 or 2 arguments"),
        ('"dense{j} for j in items"', r"cannot read .* as a list of names"),
    ],
)
def test_list_mistakes_are_located(inputs, match):
    text = DENSE.replace('"dense{j} for j in range(k)"', inputs)
    with pytest.raises(CnncalcError, match=match) as info:
        run(text)
    assert info.value.file == "net.yaml" and info.value.line == 7


def test_a_list_of_one_name_is_not_merged_with_the_previous_output():
    text = "input: [1, 4, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1, name: a}\n"
    text += '  - concat: {inputs: ["a{j} for j in range(1)"]}\n'
    with pytest.raises(CnncalcError, match=r"concat takes at least 2 inputs; the list gives 1"):
        run(text.replace("name: a}", "name: a0}"))
    # a written list of one name merges it with the previous output, as before
    text = "input: [1, 4, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1, name: a}\n  - relu\n"
    text += "  - concat: {inputs: [a]}\n"
    assert run(text).layers[-1].inputs == ("relu1", "a")


def test_names_built_over_ranges_are_bounded_by_the_expansion_limits():
    text = "input: [1, 4, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1, name: a}\n"
    huge = text + '  - concat: {inputs: [a, "a{j} for j in range(10**9)"]}\n'
    with pytest.raises(SpecError, match=r"range\(0, 1000000000\) names more than 20000 layers"):
        run(huge)
    many = text + "  - concat: {inputs: [a" + ', "a for j in range(20000)"' * 11 + "]}\n"
    with pytest.raises(SpecError, match=r"expanding the network takes more than 200,000 steps"):
        run(many.replace('"a for j', '"a{0*j} for j').replace("name: a}", "name: a0}").replace("[a,", "[a0,"))
