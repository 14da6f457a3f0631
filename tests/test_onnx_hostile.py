"""Hostile ONNX files: whatever a model holds, ``cnncalc import`` ends with a spec that says only
what cnncalc writes, or one message and exit status 2; never a traceback, a read outside the
model's folder, raw control characters on the terminal, or a hang.

Each case runs the command line in a forked child under a timeout and an address-space limit.
"""

from __future__ import annotations

import os

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from cnncalc.onnx.importer import import_model  # noqa: E402

from .helpers import run_forked  # noqa: E402

TIMEOUT = 600
MEMORY = 4 * 2**30
#: The keys cnncalc writes at the top of an imported spec, and in a layer's arguments.
TOP_KEYS = {"name", "symbols", "input", "layers", "blocks"}
BIDI = "\u202e\u2066\u2067\u2068\u2069\u200f"


def _model(
    *,
    shape=(1, 3, 8, 8),
    nodes=None,
    initializers=(),
    producer="",
    graph_name="g",
    output="y",
    opset=17,
):
    if nodes is None:
        nodes = [helper.make_node("Relu", ["input"], [output], name="relu")]
    graph = helper.make_graph(
        nodes,
        graph_name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        initializer=list(initializers),
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.producer_name = producer
    return m


def _run(args, tmp_path):
    code, out, err = run_forked(args, None, tmp_path, timeout=TIMEOUT, memory=MEMORY)
    assert "Traceback" not in err, err[-3000:]
    return code, out, err


def _layer_keys(spec_text: str) -> tuple[set, set]:
    data = yaml.safe_load(spec_text)
    keys = set()
    for entry in data["layers"]:
        assert isinstance(entry, dict) and len(entry) == 1
        ((_kind, args),) = entry.items()
        keys |= set(args or {})
    return set(data), keys


HOSTILE = st.text(
    st.sampled_from(list("ab:#\n\r\t'\"{}[],&*!|>%@`-? \\\x00\x1b\x85") + list(BIDI) + ["\u2028", "é", "😀"]),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(producer=HOSTILE, name=HOSTILE, output=HOSTILE, op=HOSTILE)
def test_text_from_the_file_never_becomes_yaml_structure(producer, name, output, op):
    """The producer, the graph's and an output's names, a custom operator's name and the file's
    name go into the spec as comments or quoted strings: the spec loads and has exactly the
    keys cnncalc writes."""
    nodes = [
        helper.make_node("Relu", ["input"], ["r"], name="relu"),
        helper.make_node("Relu", ["r"], [output], name="relu2"),
    ]
    m = _model(nodes=nodes, producer=producer, graph_name=name, output=output)
    m.producer_version = producer
    imported = import_model(m, source=f"{name}\nfreeze_until: relu.onnx")
    top, keys = _layer_keys(imported.text)
    assert top <= TOP_KEYS and "freeze_until" not in top
    assert keys <= {"name", "from", "inputs"}
    written = yaml.safe_load(imported.text)["name"]
    assert written.isprintable() and not set(written) & set(BIDI)
    if name.isprintable() and not set(name) & set(BIDI + "\u2028"):
        assert written == name
    # A custom operator kept opaque: its name is an argument, written quoted.
    custom = helper.make_node("Gate", ["input"], ["z"], name="gate", domain="ex")
    m2 = _model(nodes=[custom], output="z")
    m2.opset_import.append(helper.make_opsetid("ex", 1))
    m2.graph.node[0].op_type = op if op.strip() else "Gate"
    m2.graph.output[0].type.tensor_type.shape.dim.add().dim_value = 1
    for d in (3, 8, 8):
        m2.graph.output[0].type.tensor_type.shape.dim.add().dim_value = d
    imported = import_model(m2, source="m.onnx", opaque=True)
    top, keys = _layer_keys(imported.text)
    assert top <= TOP_KEYS
    assert keys <= {"name", "op", "shape"}
    written = yaml.safe_load(imported.text)["layers"][0]["opaque"]["op"]
    assert written.isprintable() and not set(written) & set(BIDI)


def test_a_bidirectional_producer_never_reaches_the_terminal_raw(tmp_path):
    path = tmp_path / "m.onnx"
    m = _model(producer="evil\u202e\x1b[2Jtxt", graph_name="net\u2066", output="y\u202e")
    m.graph.node[0].name = "relu\u202e"
    onnx.save(m, str(path))
    code, out, err = _run(["import", str(path)], tmp_path)
    assert code == 0
    for ch in BIDI + "\x1b":
        assert ch not in out + err
    assert "evil\\u202e\\x1b[2Jtxt" in out
    bad = _model(nodes=[helper.make_node("Erf", ["input"], ["y"], name="e\u202e\x1b[31m")])
    onnx.save(bad, str(path))
    code, out, err = _run(["import", str(path)], tmp_path)
    assert code == 2 and "e\\u202e\\x1b[31m" in err
    for ch in BIDI + "\x1b":
        assert ch not in out + err


@pytest.mark.parametrize(
    ("first", "second"),
    [("h-w", "h_w"), ("?", "!"), ("h", ""), ("", ""), ("N", "N_")],
)
def test_different_dim_params_stay_different_symbols(first, second):
    """Cleaning names up for a spec must not tie axes the model keeps independent."""
    m = _model(shape=(1, 3, 8, 8))
    dims = m.graph.input[0].type.tensor_type.shape.dim
    dims[2].Clear()
    dims[3].Clear()
    if first:
        dims[2].dim_param = first
    if second:
        dims[3].dim_param = second
    imported = import_model(m, source="m.onnx")
    shape = imported.spec.input
    h, w = (e.text for e in shape[2:])
    assert h != w
    assert len(imported.spec.symbols) == 2


def test_one_dim_param_on_two_axes_is_one_symbol():
    m = _model(shape=(1, 3, 8, 8))
    dims = m.graph.input[0].type.tensor_type.shape.dim
    for d in dims[2:]:
        d.Clear()
        d.dim_param = "s-1"
    imported = import_model(m, source="m.onnx")
    h, w = (e.text for e in imported.spec.input[2:])
    assert h == w and len(imported.spec.symbols) == 1


def _external(tmp_path, location: str, *, data: bytes | None = None, reshape: bool = False):
    """A model whose 4-value int64 initializer keeps its data at ``location``: a Reshape target
    (read by the import) or a Conv weight's shape (never read)."""
    t = TensorProto(name="target", data_type=TensorProto.INT64, dims=[2])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "16")):
        t.external_data.add(key=k, value=v)
    nodes = [
        helper.make_node("GlobalAveragePool", ["input"], ["p"], name="pool"),
        helper.make_node("Reshape", ["p", "target"], ["y"], name="flat"),
    ]
    m = _model(nodes=nodes, initializers=[t])
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    if data is not None:
        (tmp_path / location).write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("location", "message"),
    [
        (
            "/etc/passwd",
            "at the absolute path '/etc/passwd': external data is read only from the model's own folder",
        ),
        ("../outside.bin", "outside the model's folder"),
        ("/dev/zero", "at the absolute path '/dev/zero'"),
        ("sub/../../x.bin", "outside the model's folder"),
        ("", "names no file"),
    ],
)
def test_external_data_outside_the_models_folder_is_refused(location, message, tmp_path):
    path = _external(tmp_path, location)
    code, _out, err = _run(["import", str(path), "-o", str(tmp_path / "out.yaml")], tmp_path)
    assert code == 2 and message in err, err
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize("location", ["../outside/secret.bin", "/dev/zero", "/etc/passwd"])
def test_a_weight_kept_anywhere_is_counted_from_its_shape_and_never_read(location, tmp_path):
    """Only the weight's shape is needed: the import answers, whatever the reference, and opens
    nothing (the folder outside holds a file it would have to read, made unreadable)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(b"\x00" * 432)
    (outside / "secret.bin").chmod(0)
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 3, 3, 3])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "432")):
        w.external_data.add(key=k, value=v)
    m = _model(nodes=[helper.make_node("Conv", ["input", "w"], ["y"], name="conv")], initializers=[w])
    folder = tmp_path / "model"
    folder.mkdir()
    onnx.save(m, str(folder / "m.onnx"))
    code, _out, err = _run(["import", str(folder / "m.onnx"), "-o", str(folder / "m.yaml")], tmp_path)
    assert code == 0, err
    assert "params 108" in err  # 4 filters x 3 channels x 3 x 3, no bias


def test_external_data_in_the_models_folder_is_read(tmp_path):
    import numpy as np

    path = _external(tmp_path, "target.bin", data=np.array([1, -1], dtype=np.int64).tobytes())
    code, out, err = _run(["import", str(path)], tmp_path)
    assert code == 0, err
    assert "- flatten" in out


def test_missing_external_data_is_a_message(tmp_path):
    path = _external(tmp_path, "missing.bin")
    code, _out, err = _run(["import", str(path)], tmp_path)
    assert code == 2
    assert "its external data 'missing.bin' cannot be read: No such file or directory" in err


def test_a_relative_reference_is_not_read_from_the_current_folder(tmp_path, monkeypatch):
    """The data file sits in the current folder, not beside the model: it is never read."""
    import numpy as np

    (tmp_path / "target.bin").write_bytes(np.array([1, -1], dtype=np.int64).tobytes())
    folder = tmp_path / "models"
    folder.mkdir()
    path = _external(folder, "target.bin")
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run(["import", str(path.relative_to(tmp_path))], tmp_path)
    assert code == 2
    assert "its external data 'target.bin' cannot be read: No such file or directory" in err


def test_a_link_out_of_the_folder_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(b"\x01" + b"\x00" * 7 + b"\xff" * 8)
    inside = tmp_path / "model"
    inside.mkdir()
    path = _external(inside, "link.bin")
    os.symlink(outside / "secret.bin", inside / "link.bin")
    code, _out, err = _run(["import", str(path)], tmp_path)
    assert code == 2 and "leads outside the model's folder" in err


def test_many_nodes_of_one_name_are_named_in_linear_time(tmp_path):
    nodes = [helper.make_node("Relu", ["input"], ["r0"], name="same")]
    nodes += [helper.make_node("Relu", [f"r{i}"], [f"r{i + 1}"], name="same") for i in range(19_000)]
    m = _model(nodes=nodes, output="r19000")
    imported = import_model(m, source="m.onnx", fold=False)
    names = [r.name for r in imported.analysis.layers]
    assert names[:3] == ["same", "same_2", "same_3"] and len(set(names)) == len(names) == 19_001


@pytest.mark.parametrize(
    ("symbols", "message"),
    [
        ("H:" + "9" * 5000, "--symbols: longer than 1000 characters"),
        ("H:" + "9" * 900, "axis 9999999999... of a rank-4 input"),
        ("X" * 5000, "--symbols: longer than 1000 characters"),
        ("H:٣", "the axis after ':' is a number"),
    ],
    ids=["5000 digits", "900 digits", "a long name", "an arabic digit"],
)
def test_huge_numbers_in_symbols_are_a_message(symbols, message, tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(_model(), str(path))
    code, _out, err = _run(["import", str(path), "--symbols", symbols], tmp_path)
    assert code == 2 and message in err, err


def test_import_torch_without_torch_says_how_to_install(monkeypatch, capsys):
    import sys

    from cnncalc.cli import main

    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    assert main(["import", "--torch", "torchvision.models:resnet18"]) == 2
    err = capsys.readouterr().err
    assert 'needs torch: pip install "cnncalc[torch]"' in err and "Traceback" not in err
    from cnncalc.errors import UsageError
    from cnncalc.onnx.pytorch import from_torch

    with pytest.raises(UsageError, match=r'pip install "cnncalc\[torch\]"'):
        from_torch(object(), object())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import"], "import: give an ONNX file, or --torch MODULE:CALLABLE"),
        (["import", "m.onnx", "--torch", "a:b"], "--torch reads a module: it takes no ONNX file"),
        (["import", "--torch", "a:b", "--input-shape", "1,3,x"], "--input-shape: sizes are positive whole"),
    ],
)
def test_import_arguments_are_checked(args, message, capsys):
    from cnncalc.cli import main

    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_flat_writes_one_line_a_layer(tmp_path):
    from .helpers import DATA

    path = DATA / "onnx" / "dynamo-20" / "resnet18.onnx"
    code, out, _ = _run(["import", str(path), "--flat"], tmp_path)
    assert code == 0 and "blocks:" not in out and "layer1.1.conv2" in out
    code, out, _ = _run(["import", str(path)], tmp_path)
    assert code == 0 and "blocks:" in out


def test_symbol_defaults_survive_export_and_import():
    from cnncalc.lang.spec import load_spec
    from cnncalc.onnx.export import export

    from .helpers import SPECS

    spec = load_spec(SPECS / "resnet18.yaml")
    model = export(spec, weights=False).model
    back = import_model(model, source="resnet18.onnx").spec
    for name in ("N", "H", "W"):
        assert back.symbols[name].default == spec.symbols[name].default
        assert back.symbols[name].doc == spec.symbols[name].doc
    # a hostile record is ignored, not trusted
    for prop in model.metadata_props:
        if prop.key == "cnncalc.symbols":
            prop.value = '{"H": {"default": -3, "doc": 7}, "W": "x", "N": {"default": true}}'
    back = import_model(model, source="resnet18.onnx").spec
    assert {n: s.default for n, s in back.symbols.items()} == {"N": None, "H": None, "W": None}


def _array(name, values, dtype="float32"):
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(values, dtype=dtype), name)


#: Attention's and tokens' operators given what they cannot stand for: (nodes, initializers,
#: what the refusal says). Every one is refused naming the node, never read as something else.
ATTENTION_MISTAKES = {
    "an Einsum of three tensors": (
        [helper.make_node("Einsum", ["input", "input", "input"], ["y"], equation="abcd,abcd,abcd->abcd")],
        [],
        "an Einsum 'abcd,abcd,abcd->abcd' that is not a product of two tensors",
    ),
    "an Einsum with an ellipsis": (
        [helper.make_node("Einsum", ["input", "input"], ["y"], equation="...ij,...jk->...ik")],
        [],
        "that is not a product of two tensors",
    ),
    "a product by NaN": (
        [helper.make_node("Mul", ["input", "n"], ["y"])],
        [_array("n", [float("nan")])],
        "a product by nan, not a finite number",
    ),
    "a division by 0": (
        [helper.make_node("Div", ["input", "n"], ["y"])],
        [_array("n", [0.0])],
        "a division by 0",
    ),
    "a slice of step 0": (
        [helper.make_node("Slice", ["input", "s", "e", "a", "st"], ["y"])],
        [_array(n, [v], "int64") for n, v in (("s", 0), ("e", 3), ("a", 2), ("st", 0))],
        "a slice with step 0",
    ),
    "a power of a size past any exponent": (
        [
            helper.make_node("Shape", ["input"], ["s"]),
            helper.make_node("Cast", ["s"], ["f"], to=1),
            helper.make_node("Pow", ["f", "e"], ["p"]),
            helper.make_node("Mul", ["input", "p"], ["y"]),
        ],
        [_array("e", [1e9])],
        "Mul x1 (y)",
    ),
    "a stored tensor that does not broadcast": (
        [helper.make_node("Add", ["input", "m"], ["y"])],
        [_array("m", [[[[0.0] * 8] * 8] * 5])],
        "an addition of a stored [1, 5, 8, 8] that does not broadcast to [1, 3, 8, 8]",
    ),
    "an output computed from stored tensors alone": (
        [helper.make_node("Expand", ["t", "sh"], ["y"])],
        [_array("t", [[[1.0] * 4]]), _array("sh", [1, 2, 4], "int64")],
        "no layer reads the model's input",
    ),
    "a reshape to another number of values": (
        [helper.make_node("Relu", ["input"], ["r"]), helper.make_node("Reshape", ["r", "t"], ["y"])],
        [_array("t", [1, 5, 7], "int64")],
        "a reshape of [1, 3, 8, 8] to [1, 5, 7], which do not hold as many values",
    ),
}


@pytest.mark.parametrize("case", ATTENTION_MISTAKES)
def test_attention_operators_refuse_what_they_cannot_stand_for(case):
    from cnncalc.onnx.reading import ModelError

    nodes, initializers, says = ATTENTION_MISTAKES[case]
    m = _model(nodes=nodes, initializers=initializers, opset=20)
    with pytest.raises(ModelError) as info:
        import_model(m, source="m.onnx")
    assert says in str(info.value)
    assert "Traceback" not in str(info.value)


def test_a_constant_node_with_external_data_is_refused_not_a_traceback(tmp_path):
    """A Constant node whose value is external data (cnncalc does not read it) feeding a Reshape:
    one message naming the node, as before the import followed tensors built from stored ones."""
    import numpy as np

    (tmp_path / "shape.bin").write_bytes(np.array([1, 192], dtype=np.int64).tobytes())
    t = TensorProto(name="s", data_type=TensorProto.INT64, dims=[2])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "shape.bin"), ("offset", "0"), ("length", "16")):
        t.external_data.add(key=k, value=v)
    nodes = [
        helper.make_node("Constant", [], ["s"], name="c", value=t),
        helper.make_node("Reshape", ["input", "s"], ["y"], name="r"),
    ]
    onnx.save(_model(nodes=nodes), str(tmp_path / "m.onnx"))
    code, out, err = _run(["import", str(tmp_path / "m.onnx")], tmp_path)
    assert code == 2 and "Reshape x1 (r)" in err and "Traceback" not in err, err
    assert out == ""
