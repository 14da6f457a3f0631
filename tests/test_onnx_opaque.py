"""``cnncalc import --opaque``: operators without a layer kind kept as opaque layers, whose
shapes come from onnx's shape inference and whose cost is unknown (never 0), through analyze,
verify and export. Models are built with onnx.helper; expected counts are written out by hand."""

from __future__ import annotations

import json

import pytest

onnx = pytest.importorskip("onnx")

import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from cnncalc.core.engine import analyze  # noqa: E402
from cnncalc.lang.spec import parse_spec  # noqa: E402
from cnncalc.onnx.importer import ModelError, import_model  # noqa: E402


def _init(name, shape):
    return numpy_helper.from_array(np.ones(shape, dtype=np.float32), name)


def einsum_model(input_shape=(1, 3, 8, 8)):
    """conv1 (3 -> 4, 3x3, padding 1, bias) -> Einsum -> conv2 (4 -> 2, 1x1, bias)."""
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Einsum", ["c1"], ["e"], name="mix", equation="nchw->nchw"),
        helper.make_node("Conv", ["e", "w2", "b2"], ["y"], name="conv2"),
    ]
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[
            _init("w1", (4, 3, 3, 3)),
            _init("b1", (4,)),
            _init("w2", (2, 4, 1, 1)),
            _init("b2", (2,)),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)


def custom_model(value_info=True):
    """A custom-domain operator reading two tensors, on an input of dynamic sizes; its output's
    shape is stated in value_info in the input's dim_params."""
    nodes = [
        helper.make_node("Conv", ["input", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r"], name="relu1"),
        helper.make_node("Gate", ["c1", "r"], ["g"], name="gate", domain="com.example"),
        helper.make_node("Conv", ["g", "w2"], ["y"], name="conv2"),
    ]
    info = [helper.make_tensor_value_info("g", TensorProto.FLOAT, ["batch", 4, "height", "width"])]
    graph = helper.make_graph(
        nodes,
        "gated",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[_init("w1", (4, 3, 3, 3)), _init("w2", (2, 4, 1, 1))],
        value_info=info if value_info else [],
    )
    opsets = [helper.make_opsetid("", 18), helper.make_opsetid("com.example", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)


@pytest.fixture
def einsum_file(tmp_path):
    path = tmp_path / "net.onnx"
    onnx.save(einsum_model(), str(path))
    return path


# conv1: 4 filters of 3x3x3 plus 4 biases; 8*8 positions x 4 filters x 27 taps.
CONV1_PARAMS = 4 * 3 * 3 * 3 + 4  # 112
CONV1_MACS = 8 * 8 * 4 * 27  # 6,912
# conv2: 2 filters of 1x1x4 plus 2 biases; 8*8 positions x 2 filters x 4 taps.
CONV2_PARAMS = 2 * 4 + 2  # 10
CONV2_MACS = 8 * 8 * 2 * 4  # 512


def test_without_opaque_the_import_fails_listing_the_operator_and_naming_the_flag(run_cli, einsum_file):
    code, out, err = run_cli("import", str(einsum_file))
    assert code == 2 and out == ""
    assert "1 node of 1 operator type has no layer kind" in err
    assert "Einsum x1 (mix): an Einsum 'nchw->nchw' that is not a product of two tensors" in err
    assert "Import with --opaque to keep it as an opaque layer" in err
    assert "Traceback" not in err


def test_with_opaque_the_spec_analyses_with_the_unknown_cost_left_out(run_cli, einsum_file, tmp_path):
    spec_path = tmp_path / "net.yaml"
    code, _, err = run_cli("import", str(einsum_file), "--opaque", "-o", str(spec_path))
    assert code == 0
    assert "1 opaque layer of unknown cost (mix)" in err
    lines = spec_path.read_text().splitlines()
    at = lines.index("  - opaque: {op: Einsum, shape: [1, 4, 8, 8], name: mix}")
    comment = " ".join(line.strip() for line in lines[at - 3 : at])
    assert "# Cost unknown: Einsum (node 'mix') has no layer kind (an Einsum" in comment, comment
    assert lines[at - 1].startswith("  # ") and "shape inference at the model's input size." in lines[at - 1]

    code, out, _ = run_cli("analyze", str(spec_path), "--format", "json")
    assert code == 0
    data = json.loads(out)
    layers = {r["name"]: r for r in data["layers"]}
    assert (layers["conv1"]["params"], layers["conv1"]["macs"]) == (CONV1_PARAMS, CONV1_MACS)
    assert (layers["conv2"]["params"], layers["conv2"]["macs"]) == (CONV2_PARAMS, CONV2_MACS)
    mix = layers["mix"]
    assert mix["kind"] == "opaque" and mix["output_shape"] == [1, 4, 8, 8]
    assert [mix[k] for k in ("params", "macs", "flops", "params_bytes", "trainable")] == [None] * 5
    assert mix["activation_bytes"] == 1 * 4 * 8 * 8 * 4  # its output is known: 256 floats
    t = data["totals"]
    assert t["params"] == 112 + 10
    assert t["macs"] == 6912 + 512
    # FLOPs: 2 per MAC plus a bias addition per output element, for the two convolutions only.
    assert t["flops"] == (2 * 6912 + 8 * 8 * 4) + (2 * 512 + 8 * 8 * 2)
    assert t["unknown_cost"] == ["mix"]
    assert t["memory"]["params_bytes"] == (112 + 10) * 4

    code, out, _ = run_cli("analyze", str(spec_path), "--width", "200", "--wide")
    rows = {line.split()[1]: line for line in out.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"])}
    # params, MACs, FLOPs unknown; out bytes 1,024; param bytes unknown; 256 elements; RF all.
    cells = ["opaque", "[1,", "4,", "8,", "8]", "?", "?", "?", "1,024", "B", "?", "256", "all"]
    assert rows["mix"].split()[2:] == cells
    assert "122 + ?" in out and "7,424 + ?" in out
    assert "Cost unknown (?) for 1 layer: mix (opaque, Einsum)" in out


def test_verify_passes_with_the_opaque_layer_not_verified(run_cli, einsum_file, tmp_path):
    spec_path = tmp_path / "net.yaml"
    assert run_cli("import", str(einsum_file), "--opaque", "-o", str(spec_path))[0] == 0
    code, out, _ = run_cli("verify", str(spec_path), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["not_verified"] == ["mix"]
    checks = {c["name"]: c for c in data["layers"]}
    assert checks["conv1"]["ok"] is True and checks["conv1"]["counted_macs"] == CONV1_MACS
    assert checks["conv2"]["ok"] is True and checks["conv2"]["counted_macs"] == CONV2_MACS
    mix = checks["mix"]
    assert mix["ok"] is None and mix["not_verified"].startswith("opaque (Einsum)")
    assert mix["predicted_macs"] is None and mix["counted_macs"] is None

    code, out, _ = run_cli("verify", str(spec_path), "--width", "160")
    assert code == 0
    assert "not verified (opaque)" in out
    assert "All 2 layers run agree" in out
    assert "1 layer was not verified: mix" in out


def test_verify_with_onnxruntime_feeds_the_opaque_layer(run_cli, einsum_file, tmp_path):
    pytest.importorskip("onnxruntime")
    spec_path = tmp_path / "net.yaml"
    assert run_cli("import", str(einsum_file), "--opaque", "-o", str(spec_path))[0] == 0
    code, out, _ = run_cli("verify", str(spec_path), "--runtime", "onnxruntime", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["not_verified"] == ["mix"]
    checks = {c["name"]: c for c in data["layers"]}
    assert checks["conv2"]["observed_shape"] == [1, 2, 8, 8]
    assert checks["mix"]["ok"] is None and checks["mix"]["observed_shape"] is None


def test_export_refuses_an_opaque_layer_by_name(run_cli, einsum_file, tmp_path):
    spec_path = tmp_path / "net.yaml"
    assert run_cli("import", str(einsum_file), "--opaque", "-o", str(spec_path))[0] == 0
    code, out, err = run_cli("export", str(spec_path), "-o", str(tmp_path / "back.onnx"))
    assert code == 2 and out == ""
    assert "layer 'mix' (opaque, operator Einsum): an opaque layer cannot be written as ONNX" in err
    assert not (tmp_path / "back.onnx").exists()


def test_several_inputs_and_symbolic_sizes_from_the_model():
    imported = import_model(custom_model(), source="gated.onnx", opaque=True)
    line = next(x for x in imported.text.splitlines() if "- opaque:" in x)
    assert line == (
        "  - opaque: {op: com.example.Gate, shape: [batch, 4, height, width], "
        "inputs: [conv1, relu1], name: gate}"
    )
    a = imported.analysis
    gate = next(r for r in a.layers if r.name == "gate")
    assert gate.inputs == ("conv1", "relu1") and gate.macs is None
    # At batch 2, 5x7: conv1 (no bias) 2*5*7 positions x 4 filters x 27 taps; conv2 2*5*7 x 2 x 4.
    concrete = analyze(imported.spec, {"batch": 2, "height": 5, "width": 7})
    assert [int(d) for d in concrete.layers[2].output_shape] == [2, 4, 5, 7]
    assert concrete.totals.macs == 2 * 5 * 7 * 4 * 27 + 2 * 5 * 7 * 2 * 4
    assert concrete.totals.params == 4 * 27 + 2 * 4
    assert concrete.totals.unknown_cost == ("gate",)


def test_symbols_keep_inferred_sizes_symbolic_and_fix_the_others_saying_so():
    imported = import_model(einsum_model(), source="net.onnx", symbols="N,H,W", opaque=True)
    # N passes through onnx's inference symbolically; H and W after the Einsum do not.
    assert "  - opaque: {op: Einsum, shape: [N, 4, 8, 8], name: mix}" in imported.text
    lines = imported.text.splitlines()
    comments = " ".join(x.strip().removeprefix("# ") for x in lines if x.strip().startswith("#"))
    assert "axes 2, 3 are not given in the symbols by the inference and stay at the model's size" in comments
    assert "(N=1, H=8, W=8)" in comments


def test_an_operator_onnx_cannot_infer_is_refused_naming_it():
    with pytest.raises(
        ModelError,
        match=r"gated.onnx: node 'gate' \(com.example.Gate\): onnx's shape inference gives no shape "
        r"for its output 'g', and an opaque layer needs one",
    ):
        import_model(custom_model(value_info=False), source="gated.onnx", opaque=True)


def test_a_data_dependent_size_is_refused_naming_the_axis():
    # NonZero's second axis is the number of non-zero elements: no size a spec can state.
    nodes = [
        helper.make_node("Relu", ["input"], ["r"], name="relu1"),
        helper.make_node("NonZero", ["r"], ["y"], name="nz"),
    ]
    graph = helper.make_graph(
        nodes,
        "nz",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)
    with pytest.raises(ModelError, match=r"node 'nz' \(NonZero\): .* axis 1 of its output 'y': a size that "):
        import_model(model, source="nz.onnx", opaque=True)


def test_a_spec_written_by_hand_takes_inputs_and_refuses_a_bad_shape(tmp_path, run_cli):
    spec = parse_spec(
        "input: [1, 3, 8, 8]\nlayers:\n  - relu: {name: a}\n  - relu: {name: b}\n"
        "  - opaque: {shape: [1, 6, 8, 8], inputs: [a, b], name: joined}\n",
        "<t>",
    )
    a = analyze(spec)
    assert a.layers[-1].inputs == ("a", "b") and a.totals.unknown_cost == ("joined",)
    path = tmp_path / "bad.yaml"
    path.write_text("input: [1, 3, 8, 8]\nlayers:\n  - opaque: {shape: [1, 0, 8], op: X}\n")
    code, _, err = run_cli("analyze", str(path))
    assert code == 2
    assert "bad.yaml:3:13: layer 'opaque1' (opaque)" in err and "shape[1] = 0 must be at least 1" in err
    path.write_text("input: [1, 3, 8, 8]\nlayers:\n  - opaque: {shape: 4}\n")
    code, _, err = run_cli("analyze", str(path))
    assert code == 2 and "expected a non-empty list of sizes" in err and "Traceback" not in err


def test_a_size_inference_leaves_to_a_dynamic_input_is_refused_naming_them():
    # onnx's inference carries the batch through the convolution, not H and W.
    model = einsum_model(input_shape=("batch", 3, "height", "width"))
    with pytest.raises(
        ModelError,
        match=r"node 'mix' \(Einsum\): onnx's shape inference does not give axis 2 of its output 'e': "
        r"it depends on the dynamic input sizes \(batch, height, width\); export the model at a "
        r"fixed input size",
    ):
        import_model(model, source="net.onnx", opaque=True)


def test_an_empty_inputs_list_of_an_opaque_layer_is_refused(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text("input: [1, 3, 8, 8]\nlayers:\n  - opaque: {shape: [1, 3, 8, 8], inputs: []}\n")
    code, _, err = run_cli("analyze", str(path))
    assert code == 2 and "inputs is a list of one or more layer names, found []" in err
