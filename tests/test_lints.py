"""Warnings for specs that are valid but almost certainly not what was meant."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import parse_spec

TRAPS = """\
input: [1, 3, 8, 8]
blocks:
  spare:
    layers: [relu]
layers:
  - conv2d: {out: 16, kernel: 3}
  - max_pool2d: {kernel: 1}
  - relu: {repeat: 0}
  - global_avg_pool2d
  - linear: {out: 10}
"""


def warnings(text: str) -> list[str]:
    return [str(w) for w in analyze(parse_spec(text, "net.yaml")).warnings]


def test_each_trap_is_named_where_it_is_written():
    assert warnings(TRAPS) == [
        "net.yaml:4:5: block 'spare' is never used",
        "net.yaml:8:20: repeat = 0 removes the entry (use when: 0 to switch it off)",
        "net.yaml:7:17: layer 'maxpool1' (max_pool2d) has no effect: its output is its input "
        "[1, 16, 6, 6] (kernel 1, stride 1)",
        "net.yaml:10:13: layer 'fc1' (linear) acts on the last axis of a rank-4 input [1, 16, 1, 1], "
        "which has size 1: each output mixes one value; is a flatten missing before it?",
    ]
    # the trap's cost: 1*10 + 10 = 20 params where 16*10 + 10 = 170 were meant
    a = analyze(parse_spec(TRAPS, "net.yaml"))
    assert a.layers[-1].params == 20


@pytest.mark.parametrize(
    "text",
    [
        # a flatten first: the linear layer sees the 16 channels
        "input: [1, 3, 8, 8]\nlayers:\n  - global_avg_pool2d\n  - flatten\n  - linear: {out: 10}\n",
        # a pooling that does something, of kernel 3 and stride 1
        "input: [1, 3, 8, 8]\nlayers:\n  - max_pool2d: {kernel: 3, stride: 1, padding: 1}\n",
        # linear over the channels of a 1x1 map is meant
        "input: [1, 3, 1, 1]\nlayers:\n  - linear: {out: 4, axis: 1}\n",
        # a block used only through another block is used
        "input: [1, 3, 4, 4]\nblocks:\n  a:\n    layers: [relu]\n  b:\n    layers: [a]\nlayers:\n  - b\n",
        # when: 0 is the way to switch an entry off
        "input: [1, 3, 4, 4]\nlayers:\n  - relu: {when: 0}\n  - relu\n",
    ],
)
def test_no_warning_for_what_is_meant(text):
    assert warnings(text) == []


def test_the_bundled_specs_have_no_warnings():
    from cnncalc.lang.spec import load_spec
    from cnncalc.lang.zoo import bundled, find_spec

    for name in bundled():
        assert analyze(load_spec(find_spec(name))).warnings == (), name


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, input=stdin
    )


def test_warnings_reach_stderr_and_json_and_strict_refuses(tmp_path):
    spec = tmp_path / "traps.yaml"
    spec.write_text(TRAPS)
    out = run("analyze", str(spec), "-f", "json")
    assert out.returncode == 0
    assert out.stderr.count("cnncalc: warning: ") == 4
    data = json.loads(out.stdout)
    assert data["warnings"][0]["message"] == "block 'spare' is never used"
    assert data["warnings"][0]["where"].endswith("traps.yaml:4:5")
    strict = run("analyze", str(spec), "--strict")
    assert strict.returncode == 2
    assert strict.stdout == ""
    assert "4 warnings, errors with --strict" in strict.stderr
    assert "Traceback" not in strict.stderr
    clean = run("analyze", "lenet5", "-f", "json", "--strict")
    assert clean.returncode == 0
    assert json.loads(clean.stdout)["warnings"] == []


@pytest.mark.parametrize(
    ("shape", "layer", "warned"),
    [
        ("[1, 8, 4, 4]", "linear: {out: 10}", True),  # 4-D, axis unsaid: the last axis, W
        ("[1, 6, 5]", "linear: {out: 10}", True),  # 3-D likewise
        ("[1, 8, 4, 4]", "linear: {out: 10, axis: -1}", False),  # the last axis, said
        ("[1, 8, 4, 4]", "linear: {out: 10, axis: 1}", False),  # the channels, said
        ("[1, 8]", "linear: {out: 10}", False),  # (N, features)
    ],
)
def test_a_linear_layer_on_more_than_two_axes_names_the_fix(shape, layer, warned):
    found = warnings(f"input: {shape}\nlayers:\n  - {layer}\n")
    if not warned:
        assert found == []
        return
    (message,) = found
    assert message.startswith("net.yaml:3:13: layer 'fc1' (linear) acts on the last axis of a rank-")
    assert "add a flatten before it" in message and "1x1 conv2d" in message and "axis: -1" in message
    # the numbers stay as they were: W (4) features in, 10 out, at every other position
    a = analyze(parse_spec(f"input: {shape}\nlayers:\n  - {layer}\n", "net.yaml"))
    if shape == "[1, 8, 4, 4]":
        assert a.layers[0].output_shape == (1, 8, 4, 10)
        assert a.layers[0].params == 4 * 10 + 10
