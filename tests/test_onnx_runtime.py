"""``cnncalc verify --runtime onnxruntime``: onnxruntime runs the exported spec and computes
every layer's output shape itself; cnncalc's predictions must equal them."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


@pytest.mark.parametrize(
    "spec, sizes",
    [
        ("googlenet", ["H=97", "W=90"]),  # ceil-mode pools on odd sizes
        ("unet", ["H=48", "W=64", "C=4"]),  # transposed convolutions and skips across scales
        ("mobilenet_v2", ["H=61", "W=64"]),
        ("examples/stride_padding", []),
    ],
)
def test_every_layer_shape_is_onnxruntime_s(run_cli, spec, sizes):
    args = ["verify", spec, "--runtime", "onnxruntime", "-f", "json"]
    code, out, _ = run_cli(*args, *(["--set", *sizes] if sizes else []))
    result = json.loads(out)
    assert code == 0
    assert result["ok"] and result["runtime"].startswith("onnxruntime")
    assert all(layer["observed_shape"] == layer["predicted_shape"] for layer in result["layers"])


def test_a_wrong_prediction_is_caught(run_cli, monkeypatch, tmp_path):
    from cnncalc.layers.pool2d import MaxPool2d

    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [1, 3, 9, 9]\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n  - max_pool2d: {kernel: 2}\n"
    )
    right = MaxPool2d.output_shape
    monkeypatch.setattr(MaxPool2d, "output_shape", lambda self, x: (*right(self, x)[:3], 7))
    code, out, _ = run_cli("verify", str(spec), "--runtime", "onnxruntime", "--width", "120")
    assert code == 1
    assert "[1, 4, 3, 7]" in out and "[1, 4, 3, 3]" in out
    assert "1 of 2 layers: the predicted shape is not onnxruntime" in out


def test_open_symbols_are_refused(run_cli):
    code, _, err = run_cli("verify", "examples/separable_conv", "--runtime", "onnxruntime")
    assert code == 2
    assert "give M, N, K, F a value with --set" in err


LESS_COMMON = (
    "input: [1, 4, 6, 6]\n"
    "layers:\n"
    "  - batch_norm2d: {affine: false}\n"
    "  - depthwise_conv2d: {kernel: 3, padding: 1}\n"
    "  - separable_conv2d: {out: 6, kernel: 3}\n"
    "  - upsample: {size: [7, 9], mode: bilinear}\n"
    "  - mean: {axes: [3], keepdim: true}\n"
    "  - linear: {out: 3, bias: false}\n"
    "  - mean: {axes: [2]}\n"
)


def test_less_common_lowerings_run_in_onnxruntime(run_cli, tmp_path):
    """Kinds and arguments the bundled networks do not use: normalisation without affine
    parameters, depthwise and separable convolutions, resizing to a size, means with and without
    kept axes, and a linear layer without bias on a rank-4 tensor (a MatMul)."""
    spec = tmp_path / "net.yaml"
    spec.write_text(LESS_COMMON)
    code, out, err = run_cli("verify", str(spec), "--runtime", "onnxruntime", "-f", "json")
    assert code == 0, err
    result = json.loads(out)
    shapes = [layer["observed_shape"] for layer in result["layers"]]
    assert shapes == [
        [1, 4, 6, 6],
        [1, 4, 6, 6],
        [1, 6, 4, 4],  # 6 - 3 + 1
        [1, 6, 7, 9],
        [1, 6, 7, 1],
        [1, 6, 7, 3],
        [1, 6, 3],
    ]
    assert all(layer["observed_shape"] == layer["predicted_shape"] for layer in result["layers"])


def test_the_oldest_and_newest_opsets_compute_the_same_values():
    """Lowerings differ by opset (ReduceMean's axes, Resize's sizes): the model written for opset
    13 and for opset 18 give the same output for the same input and weights, of the predicted
    shape."""
    import numpy as np
    import onnxruntime as ort

    from cnncalc.lang.spec import parse_spec
    from cnncalc.onnx.export import DEFAULT_OPSET, MIN_OPSET, export

    spec = parse_spec(LESS_COMMON)
    x = np.random.default_rng(0).standard_normal((1, 4, 6, 6)).astype(np.float32)
    results = []
    for opset in (MIN_OPSET, DEFAULT_OPSET):
        model = export(spec, seed=3, opset=opset).model
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        results.append(session.run(None, {session.get_inputs()[0].name: x})[0])
    assert results[0].shape == results[1].shape == (1, 6, 3)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
