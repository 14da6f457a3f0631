"""Export and import of the channels-last kinds: each comes back as itself (a layer norm over
the channels through its Transpose pattern, a linear layer over the channels through its
own), ReduceMean over other axes than H and W is a ``mean``, LayerNormalization needs opset 17."""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import parse_spec

onnx = pytest.importorskip("onnx")

from cnncalc.onnx.export import ExportError, export  # noqa: E402
from cnncalc.onnx.importer import import_model  # noqa: E402


def _spec(layers: str, shape: str = "[2, 8, 5, 6]"):
    return parse_spec(f"input: {shape}\nlayers:\n{layers}", "net.yaml")


def _back(spec, opset: int = 18):
    return import_model(export(spec, opset=opset).model, source="net.onnx")


@pytest.mark.parametrize(
    ("layer", "kind", "args"),
    [
        ("layer_norm2d", "layer_norm2d", {}),
        ("layer_norm2d: {eps: 1.0e-5}", "layer_norm2d", {"eps": 1e-5}),
        ("linear: {out: 4, axis: 1}", "linear", {"out": 4, "axis": 1}),
        ("linear: {out: 4, axis: 2, bias: false}", "linear", {"out": 4, "axis": 2, "bias": False}),
        ("layer_scale", "layer_scale", {}),
        ("mean: {axes: [1]}", "mean", {"axes": [1]}),
        ("mean: {axes: [-1, 1], keepdim: true}", "mean", {"axes": [1, 3], "keepdim": True}),
        ("permute: {dims: [0, 2, 3, 1]}", "permute", {"dims": [0, 2, 3, 1]}),
        ("layer_norm: {shape: [5, 6]}", "layer_norm", {"shape": [5, 6]}),
        ("layer_norm: {eps: 1.0e-6}", "layer_norm", {"eps": 1e-6}),
    ],
)
def test_a_kind_comes_back_as_itself(layer, kind, args):
    spec = _spec(f"  - {layer}\n")
    original = analyze(spec)
    imported = _back(spec)
    (entry,) = imported.analysis.layers
    assert (entry.kind, entry.name) == (kind, original.layers[0].name)
    assert _dumped(entry) == args
    assert (entry.params, entry.macs, entry.flops) == (
        original.layers[0].params,
        original.layers[0].macs,
        original.layers[0].flops,
    )


def _dumped(entry) -> dict:
    """The arguments of the imported layer that differ from their defaults."""
    import pydantic

    layer = entry.layer
    out = {}
    for name, info in type(layer).model_fields.items():
        value = getattr(layer, name)
        default = info.default
        if not info.is_required():  # the default as a given value is read
            default = pydantic.TypeAdapter(info.rebuild_annotation()).validate_python(default)
        if name != "name" and value != default:
            out[name] = [int(v) for v in value] if isinstance(value, tuple) else value
    return out


def test_stochastic_depth_is_written_as_identity():
    imported = _back(_spec("  - stochastic_depth: {p: 0.3}\n"))
    assert [r.kind for r in imported.analysis.layers] == ["identity"]


def test_layer_norm_needs_opset_17():
    with pytest.raises(
        ExportError,
        match=r"layer 'norm1' \(layer_norm\): LayerNormalization needs opset 17 or "
        r"later \(--opset 16 was asked\)",
    ):
        export(_spec("  - layer_norm\n"), opset=16)


def test_a_linear_layer_over_the_channels_runs_in_onnxruntime():
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    spec = _spec(
        "  - linear: {out: 4, axis: 1}\n  - layer_norm2d\n  - layer_scale\n  - mean: {axes: [2, 3]}\n"
    )
    exported = export(spec, seed=3)
    names = ["fc1", "norm1", "layer_scale1", "mean1"]
    model = exported.model
    del model.graph.output[:]
    model.graph.output.extend(
        onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in names
    )
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((2, 8, 5, 6)).astype(np.float32)
    got = dict(zip(names, session.run(names, {"input": x}), strict=True))
    # the same layers through cnncalc's kernels, with the weights the export wrote
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in exported.model.graph.initializer}
    y = x
    for r in analyze(spec).layers:
        w = {
            k: weights[f"{r.name}.{k}"].T
            if k == "weight" and r.kind == "linear"
            else weights[f"{r.name}.{k}"]
            for k, _ in r.weights
        }
        out = np.empty(tuple(int(d) for d in r.output_shape), np.float32)
        r.layer.forward([y], w, out)
        np.testing.assert_allclose(got[r.name], out, rtol=1e-4, atol=1e-4)
        y = out


def _reduce_mean_model(axes, keepdims, shape=(1, 3, 4, 5)):
    from onnx import TensorProto, helper

    node = helper.make_node("ReduceMean", ["input", "axes"], ["y"], name="m", keepdims=keepdims)
    axes_t = onnx.numpy_helper.from_array(__import__("numpy").array(axes, "int64"), "axes")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[axes_t],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_reduce_mean_over_h_and_w_stays_a_global_pool_and_other_axes_are_a_mean():
    pooled = import_model(_reduce_mean_model([2, 3], 1), source="m.onnx").analysis
    assert [r.kind for r in pooled.layers] == ["global_avg_pool2d"]
    channels = import_model(_reduce_mean_model([1], 0), source="m.onnx").analysis
    assert [r.kind for r in channels.layers] == ["mean"]
    assert tuple(channels.output_shape) == (1, 4, 5)
    kept = import_model(_reduce_mean_model([-1], 1), source="m.onnx").analysis
    assert tuple(kept.output_shape) == (1, 3, 4, 1)
