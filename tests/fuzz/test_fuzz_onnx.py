"""Fuzzing ``cnncalc import`` with mutated ONNX protobufs: real exports (the dynamo exporter's
ResNet-18, ShuffleNet v2 and FCN graphs, the legacy exporter's ShuffleNet) with their nodes,
attributes, constants, shapes and names changed, or their bytes flipped and cut. For any of
them cnncalc exits 0 with a spec that loads, or 2 with one message; never a traceback, a hang
(the child is killed after TIMEOUT seconds) or a raw escape character.

    CNNCALC_FUZZ_EXAMPLES=500 HYPOTHESIS_PROFILE=dev python -m pytest tests/fuzz/test_fuzz_onnx.py
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")

from ..helpers import DATA, run_forked  # noqa: E402
from .test_fuzz import FUZZ, MEMORY, TIMEOUT  # noqa: E402

SOURCES = [
    "dynamo-20/resnet18.onnx",
    "dynamo-20/shufflenet_v2_x1_0.onnx",
    "dynamo-20/fcn_resnet50.onnx",
    "legacy-17/shufflenet_v2_x1_0.onnx",
]
OPS = [
    "Relu",
    "Conv",
    "Reshape",
    "Shape",
    "Gather",
    "Concat",
    "Div",
    "Add",
    "Transpose",
    "Slice",
    "Erf",
    "Resize",
]
WEIRD = ["", "a\nb: c", "\u202e", "x" * 300, "..", "/dev/zero", "input", "-1", "s0"]


@functools.cache
def _model(name: str):
    return onnx.load(str(DATA / "onnx" / name), load_external_data=False)


def _ints():
    return st.one_of(st.integers(-3, 70), st.sampled_from([0, -1, 2**31, 2**63 - 1, -(2**63)]))


class Mutated(bytes):
    """A model's bytes, shown by their size (hypothesis prints failing examples)."""

    def __repr__(self) -> str:
        return f"<mutated model, {len(self)} bytes>"


@st.composite
def mutated_models(draw) -> bytes:
    m = type(_model(SOURCES[0]))()
    m.CopyFrom(_model(draw(st.sampled_from(SOURCES))))
    g = m.graph
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["op", "input", "attr", "delete", "dims", "dim", "name", "value", "dup"]))
        i = draw(st.integers(0, len(g.node) - 1))
        node = g.node[i]
        if what == "op":
            node.op_type = draw(st.sampled_from(OPS))
        elif what == "input" and node.input:
            k = draw(st.integers(0, len(node.input) - 1))
            j = draw(st.integers(0, len(g.node) - 1))
            node.input[k] = draw(st.sampled_from([*g.node[j].output, "", "input", "nothing"]))
        elif what == "attr" and node.attribute:
            a = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
            if a.type == a.INTS and a.ints:
                a.ints[draw(st.integers(0, len(a.ints) - 1))] = draw(_ints())
            elif a.type == a.INT:
                a.i = draw(_ints())
            elif a.type == a.STRING:
                a.s = draw(st.sampled_from(WEIRD)).encode()
        elif what == "delete":
            del g.node[i]
        elif what == "dims" and g.initializer:
            t = g.initializer[draw(st.integers(0, len(g.initializer) - 1))]
            if t.dims:
                t.dims[draw(st.integers(0, len(t.dims) - 1))] = draw(st.integers(0, 5000))
        elif what == "dim":
            d = g.input[0].type.tensor_type.shape.dim[draw(st.integers(0, 3))]
            if draw(st.booleans()):
                d.dim_param = draw(st.sampled_from(WEIRD))
            else:
                d.dim_value = draw(st.integers(0, 2**40))
        elif what == "name":
            node.name = draw(st.sampled_from(WEIRD))
        elif what == "value":
            small = [t for t in g.initializer if t.data_type == onnx.TensorProto.INT64 and t.int64_data]
            if small:
                t = draw(st.sampled_from(small))
                t.int64_data[draw(st.integers(0, len(t.int64_data) - 1))] = draw(_ints())
        elif what == "dup":
            g.node.insert(draw(st.integers(0, len(g.node))), node)
    data = bytearray(m.SerializeToString())
    if draw(st.integers(0, 4)) == 0:  # and sometimes the bytes themselves
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        data = data[: draw(st.integers(len(data) // 2, len(data)))]
    return Mutated(data)


@FUZZ
@given(data=mutated_models(), symbols=st.sampled_from([None, "N,H,W", "H,W"]))
def test_mutated_onnx_models(data, symbols, tmp_path):
    path = tmp_path / "fuzz.onnx"
    path.write_bytes(data)
    out = tmp_path / "fuzz.yaml"
    out.unlink(missing_ok=True)  # hypothesis reuses tmp_path between examples
    args = ["import", str(path), "-o", str(out)] + (["--symbols", symbols] if symbols else [])
    code, stdout, err = run_forked(args, None, tmp_path, timeout=TIMEOUT, memory=MEMORY)
    assert "Traceback" not in err, err[-3000:]
    assert "\x1b" not in stdout + err and "\u202e" not in stdout + err
    if code == 0:
        from cnncalc.lang.spec import load_spec

        load_spec(out)  # the spec written loads
    else:
        assert code == 2, (code, err[-3000:])
        assert err.startswith("cnncalc: error: ") and err.count("\n") == 1, err
        assert not out.exists()
