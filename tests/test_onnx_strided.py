"""The dynamo exporter's ``as_strided``: a tensor flattened to one axis and gathered at indices
computed from the sizes (ConvNeXt's classifier head). Read as a reshape only when the indices
are the row-major layout of the whole tensor; onnxruntime runs each graph to show what it
computes."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from cnncalc.core.engine import analyze  # noqa: E402
from cnncalc.onnx.importer import ModelError, import_model  # noqa: E402

C = 6


def _model(channel_stride: int = 1, batch_stride: int = C, offset: int = 0, out_channels: int = C):
    """x [N, C, H, W] -> global pool [N, C, 1, 1] -> Reshape [-1] -> Gather at
    Range(0, N)*batch_stride (as [N, 1, 1, 1]) + channel_stride*arange(out_channels) (as
    [1, out_channels, 1, 1]) + offset -> Flatten -> Gemm to 4 classes, as the dynamo exporter
    writes ConvNeXt's head."""
    inits = [
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
        numpy_helper.from_array(np.array(batch_stride, dtype=np.int64), "bstride"),
        numpy_helper.from_array(np.array([1, 2, 3], dtype=np.int64), "axes"),
        numpy_helper.from_array(
            (channel_stride * np.arange(out_channels, dtype=np.int64)).reshape(1, out_channels, 1, 1), "chan"
        ),
        numpy_helper.from_array(np.full((1, 1, 1, 1), offset, dtype=np.int64), "off"),
        numpy_helper.from_array(np.ones((4, out_channels), dtype=np.float32), "fc.weight"),
    ]
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["pool"], name="pool"),
        helper.make_node("Shape", ["x"], ["s0"], start=0, end=1, name="shape"),
        helper.make_node("Squeeze", ["s0"], ["n"], name="squeeze"),
        helper.make_node("Reshape", ["pool", "flat"], ["flattened"], name="reshape"),
        helper.make_node("Range", ["zero", "n", "one"], ["r"], name="range"),
        helper.make_node("Mul", ["r", "bstride"], ["rb"], name="mul"),
        helper.make_node("Unsqueeze", ["rb", "axes"], ["ru"], name="unsqueeze"),
        helper.make_node("Add", ["ru", "chan"], ["i1"], name="add1"),
        helper.make_node("Add", ["i1", "off"], ["idx"], name="add2"),
        helper.make_node("Gather", ["flattened", "idx"], ["strided"], axis=0, name="as_strided"),
        helper.make_node("Flatten", ["strided"], ["f"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["f", "fc.weight"], ["y"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(
        nodes,
        "head",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", C, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model, x):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in model.graph.output]
    return session.run(names, {"x": x})


def test_the_row_major_gather_is_the_tensor_itself():
    model = _model()
    x = np.random.default_rng(0).standard_normal((3, C, 5, 7)).astype(np.float32)
    # What the graph computes: the pooled map, unchanged, into the linear layer.
    model.graph.output.append(helper.make_tensor_value_info("strided", TensorProto.FLOAT, None))
    y, strided = _run(model, x)
    np.testing.assert_allclose(strided, x.mean(axis=(2, 3), keepdims=True), rtol=1e-5)
    del model.graph.output[1]
    imported = import_model(model, source="head.onnx")
    kinds = [r.kind for r in imported.analysis.layers]
    assert kinds == ["global_avg_pool2d", "identity", "flatten", "linear"]
    a = analyze(imported.spec, {"N": 3, "H": 5, "W": 7})
    assert a.output_shape == y.shape == (3, 4)
    assert a.totals.macs == 3 * 4 * C  # three samples, 4 outputs of C features each
    assert a.totals.params == 4 * C


@pytest.mark.parametrize(
    ("args", "found"),
    [
        ({"channel_stride": 2, "out_channels": C // 2}, "2*i1 over [N, 3, 1, 1]"),
        ({"offset": 1, "out_channels": C - 1}, "1 + 6*i0 + 1*i1"),
        ({"batch_stride": 0}, "0*i0 + 1*i1"),
    ],
    ids=["every second channel", "shifted by one", "every sample reads the first"],
)
def test_a_gather_that_is_not_the_whole_tensor_is_refused(args, found):
    model = _model(**args)
    x = np.random.default_rng(1).standard_normal((2, C, 4, 4)).astype(np.float32)
    _run(model, x)  # a valid graph: onnxruntime runs it
    with pytest.raises(ModelError) as err:
        import_model(model, source="head.onnx")
    message = str(err.value)
    assert "as_strided that is not a reshape of the whole tensor" in message and found in message


def test_indices_that_are_no_lattice_are_refused():
    model = _model()
    for t in model.graph.initializer:
        if t.name == "chan":
            t.CopyFrom(
                numpy_helper.from_array(
                    np.array([0, 1, 2, 4, 3, 5], dtype=np.int64).reshape(1, C, 1, 1), "chan"
                )
            )
    with pytest.raises(ModelError, match="not a regular lattice"):
        import_model(model, source="head.onnx")
