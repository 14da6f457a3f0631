"""Blocks, repeats, residuals, branches, references, shared weights and freezing."""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.errors import ShapeError, SpecError
from cnncalc.lang.spec import parse_spec


def run(text: str, **values):
    return analyze(parse_spec(text, "net.yaml"), values or None)


def names(a):
    return [r.name for r in a.layers]


BLOCK = """
input: [1, 8, 16, 16]
blocks:
  unit:
    args: {out: null, stride: 1}
    layers:
      - conv2d: {out: out, kernel: 3, stride: stride, padding: 1, name: conv}
      - relu
layers:
  - unit: {out: 16, repeat: 3, first: {stride: 2}, name: stage}
  - unit: {out: 4}
"""


def test_blocks_repeat_first_and_names():
    a = run(BLOCK)
    assert names(a) == [
        "stage.0.conv",
        "stage.0.relu1",
        "stage.1.conv",
        "stage.1.relu1",
        "stage.2.conv",
        "stage.2.relu1",
        "unit2.conv",  # the second use of the block here: the first is named stage
        "unit2.relu1",
    ]
    shapes = [r.output_shape for r in a.layers if r.kind == "conv2d"]
    # Only the first repetition has stride 2: 16 -> 8, then 8, 8; the last block keeps 8.
    assert shapes == [(1, 16, 8, 8), (1, 16, 8, 8), (1, 16, 8, 8), (1, 4, 8, 8)]
    # conv params: 16*8*9+16, 2 * (16*16*9+16), 4*16*9+4
    assert a.totals.params == (16 * 8 * 9 + 16) + 2 * (16 * 16 * 9 + 16) + (4 * 16 * 9 + 4)


def test_first_repetition_can_be_another_block_and_repeat_can_be_zero():
    a = run("""
symbols: {extra: 1}
input: [1, 8, 16, 16]
blocks:
  plain:
    args: {out: null}
    layers:
      - conv2d: {out: out, kernel: 3, padding: 1, name: conv}
  down:
    args: {out: null, stride: 2}
    layers:
      - conv2d: {out: out, kernel: 3, stride: stride, padding: 1, name: conv}
      - batch_norm2d: {name: bn}
layers:
  - plain: {out: 16, repeat: 3, first: {block: down}, name: stage}
  - relu: {repeat: "extra - 1"}
""")
    assert names(a) == ["stage.0.conv", "stage.0.bn", "stage.1.conv", "stage.2.conv"]
    assert a.output_shape == (1, 16, 8, 8)


def test_when_keeps_a_layer_only_when_not_zero_and_repeat_names_are_indexed():
    a = run("""
input: [1, 4, 8, 8]
blocks:
  unit:
    args: {out: null, project: 0}
    layers:
      - residual:
          body: [conv2d: {out: out, kernel: 3, padding: 1, name: conv}]
          shortcut: [conv2d: {out: out, kernel: 1, name: proj, when: project}]
          name: add
layers:
  - unit: {out: 6, repeat: 2, first: {project: 1}, name: stage}
  - unit: {out: 6, repeat: 1, name: last}
""")
    assert names(a) == [
        "stage.0.conv",
        "stage.0.proj",
        "stage.0.add",
        "stage.1.conv",
        "stage.1.add",
        "last.0.conv",
        "last.0.add",
    ]
    assert a.layers[4].inputs == ("stage.1.conv", "stage.0.add")
    with pytest.raises(SpecError, match=r"when = P depends on P, which has no value"):
        analyze(
            parse_spec("symbols: {P: null}\ninput: [1, 4, 8, 8]\nlayers:\n  - relu: {when: P}\n", "w.yaml")
        )


def test_block_defaults_use_earlier_arguments_and_symbols():
    a = run("""
symbols: {width: 4}
input: [1, 3, 8, 8]
blocks:
  b:
    args: {mid: null, out: "2*mid + width"}
    layers:
      - conv2d: {out: mid, kernel: 1}
      - conv2d: {out: out, kernel: 1}
layers:
  - b: {mid: 3}
""")
    assert a.output_shape == (1, 2 * 3 + 4, 8, 8)


def test_residual_identity_and_projection():
    a = run("""
input: [1, 4, 8, 8]
layers:
  - residual:
      body:
        - conv2d: {out: 4, kernel: 3, padding: 1}
  - residual:
      body:
        - conv2d: {out: 6, kernel: 3, stride: 2, padding: 1}
      shortcut:
        - conv2d: {out: 6, kernel: 1, stride: 2}
      name: down
""")
    add1, down = [r for r in a.layers if r.kind == "add"]
    assert add1.inputs == ("conv1", "input")
    assert down.name == "down" and down.inputs == ("conv2", "conv3")
    assert down.output_shape == (1, 6, 4, 4)
    # FLOPs of an add: one addition per output element
    assert down.flops == 6 * 4 * 4


def test_branches_concat_and_references():
    a = run("""
input: [1, 3, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, name: stem}
  - concat:
      branches:
        - [conv2d: {out: 2, kernel: 1}]
        - [conv2d: {out: 3, kernel: 3, padding: 1}]
        - []
  - conv2d: {out: 5, kernel: 1, from: stem, name: side}
  - concat: {inputs: [concat1, side, input]}
""")
    assert a.layers[-1].inputs == ("concat1", "side", "input")
    assert [r.output_shape for r in a.layers if r.kind == "concat"] == [
        (1, 2 + 3 + 4, 8, 8),
        (1, 9 + 5 + 3, 8, 8),
    ]


def test_squeeze_excitation_multiply_broadcasts():
    a = run("""
input: [1, 16, 8, 8]
layers:
  - multiply:
      branches:
        - []
        - [global_avg_pool2d, conv2d: {out: 4, kernel: 1}, relu, conv2d: {out: 16, kernel: 1}, sigmoid]
""")
    assert a.output_shape == (1, 16, 8, 8)
    assert a.layers[-1].flops == 16 * 8 * 8


def test_shared_weights_count_once():
    a = run("""
input: [1, 8, 6, 6]
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1, name: a}
  - conv2d: {out: 8, kernel: 3, padding: 1, share: a}
""")
    _first, second = a.layers
    assert second.shares == "a" and second.params == 0
    assert a.totals.params == 8 * 8 * 9 + 8
    assert a.totals.macs == 2 * (8 * 6 * 6 * 8 * 9)


def test_shared_weights_must_fit():
    with pytest.raises(ShapeError, match="cannot share the weights of 'a': weight would be"):
        run(
            "input: [1, 8, 6, 6]\nlayers:\n  - conv2d: {out: 4, kernel: 3, name: a}\n"
            "  - conv2d: {out: 4, kernel: 3, share: a}\n"
        )
    with pytest.raises(SpecError, match="share names the layer whose weights to use; 'input' is the input"):
        run("input: [1, 8, 6, 6]\nlayers:\n  - conv2d: {out: 4, kernel: 3, share: input}\n")
    with pytest.raises(SpecError, match="'a' is this layer"):
        run("input: [1, 8, 6, 6]\nlayers:\n  - conv2d: {out: 4, kernel: 3, name: a, share: a}\n")
    with pytest.raises(SpecError, match="cannot share the weights of 'a', a conv2d, with a linear"):
        run(
            "input: [1, 8, 6, 6]\nlayers:\n  - linear: {out: 8}\n"
            "  - conv2d: {out: 4, kernel: 3, name: a, from: input}\n"
            "  - linear: {out: 8, share: a, from: fc1}\n"
        )


def test_freeze_layer_block_and_until():
    a = run(BLOCK.replace("name: stage}", "name: stage, freeze: true}"))
    frozen = [r.name for r in a.layers if not r.trainable]
    assert frozen == names(a)[:6]
    assert a.totals.frozen_params == (16 * 8 * 9 + 16) + 2 * (16 * 16 * 9 + 16)
    assert a.totals.trainable_params == 4 * 16 * 9 + 4
    b = run(BLOCK + "freeze_until: stage.1\n")
    assert [r.name for r in b.layers if not r.trainable] == names(b)[:4]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "input: [1, 3, 8, 8]\nlayers:\n  - relu: {name: a}\n  - relu: {name: a}\n",
            r"net\.yaml:4:\d+: layers\[1\]\.relu: the name 'a' is already used \(at net\.yaml:3:",
        ),
        (
            "input: [1, 3, 8, 8]\nlayers:\n  - relu: {from: nowhere}\n",
            r"from: no earlier layer is named 'nowhere'",
        ),
        (
            "input: [1, 3, 8, 8]\nlayers:\n  - add: {inputs: [input, relu9]}\n",
            r"no earlier layer is named 'relu9'",
        ),
        ("input: [1, 3, 8, 8]\nlayers:\n  - add\n", r"add merges several tensors"),
        (
            "input: [1, 3, 8, 8]\nlayers:\n  - add: {inputs: [input], branches: [[], []]}\n",
            r"either 'inputs' or 'branches'",
        ),
        (
            "input: [1, 3, 8, 8]\nblocks:\n  a: {layers: [b]}\n  b: {layers: [a]}\nlayers: [a]\n",
            r"blocks use each other in a cycle: a -> b -> a",
        ),
        (
            "input: [1, 3, 8, 8]\nblocks:\n  a: {args: {k: null}, layers: [relu]}\nlayers: [a]\n",
            r"block 'a' needs argument k",
        ),
        (
            "input: [1, 3, 8, 8]\nblocks:\n  a: {args: {k: 1}, layers: [relu]}\nlayers:\n  - a: {kk: 2}\n",
            r"block 'a' has no argument 'kk'; did you mean 'k'\?",
        ),
        (
            "input: [1, 3, 8, 8]\nblocks:\n  relu: {layers: [relu]}\nlayers: [relu]\n",
            r"block 'relu' has the name of a built-in layer kind",
        ),
        (
            "symbols: {D: null}\ninput: [1, 3, 8, 8]\nlayers:\n  - relu: {repeat: D}\n",
            r"repeat = D must be a known number, but D has no value",
        ),
        ("input: [1, 3, 8, 8]\nlayers:\n  - relu: {repeat: -1}\n", r"repeat = -1 must not be negative"),
        (
            "input: [1, 3, 8, 8]\nblocks:\n  a: {layers: [relu]}\nlayers:\n  - a: {first: {block: c}}\n",
            r"first\.block: unknown block 'c'",
        ),
        ("input: [1, 3, 8, 8]\nlayers:\n  - relu: {repeat: 10000000}\n", r"repeat = 10000000 is too large"),
        ("input: [1, 3, 8, 8]\nlayers:\n  - relu: {first: {x: 1}}\n", r"'first' applies to repeated blocks"),
        ("input: [1, 3, 8, 8]\nlayers:\n  - residual: {shortcut: [relu]}\n", r"residual needs a 'body'"),
        (
            "input: [1, 3, 8, 8]\nlayers:\n  - residual: {body: [relu], skip: []}\n",
            r"residual has no argument 'skip'",
        ),
        (
            "input: [1, 3, 8, 8]\nlayers:\n  - relu\nfreeze_until: nothing\n",
            r"freeze_until: no layer or block is named 'nothing'",
        ),
    ],
)
def test_graph_errors(text, match):
    with pytest.raises(SpecError, match=match):
        run(text)


def test_unet_skip_gives_a_divisibility_constraint():
    text = """
symbols: {H: 64}
input: [1, 3, H, H]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, name: enc}
  - max_pool2d: {kernel: 2}
  - upsample: {scale: 2}
  - concat: {inputs: [up1, enc]}
"""
    a = analyze(parse_spec(text, "u.yaml"), symbolic=True)
    conditions = [c.condition for c in a.constraints]
    # The pool needs H >= 2; concatenating the upsampled map with the skip needs H even.
    assert conditions == ["H >= 2", "H % 2 == 0"]
    # Bound to an odd size, the concat cannot line up: an error naming both inputs.
    with pytest.raises(
        ShapeError,
        match=r"axis 2 must match: 64 \(input 1\) vs 65 \(input 2\); "
        r"inputs: 'up1' \[1, 4, 64, 64\], 'enc' \[1, 4, 65, 65\]",
    ):
        analyze(parse_spec(text, "u.yaml"), {"H": 65})


def test_symbolic_chunk_count_becomes_conditions():
    a = analyze(
        parse_spec(
            "symbols: {K: null}\ninput: [1, 4, 8, 8]\nlayers:\n  - chunk: {chunks: K, index: 3}\n", "c.yaml"
        )
    )
    assert [c.condition for c in a.constraints] == ["K >= 4", "4 is a multiple of K"]
