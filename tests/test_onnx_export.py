"""``cnncalc export``: every layer kind lowers to ONNX, and onnxruntime, running the exported
model, computes the output shapes cnncalc predicts (an execution oracle independent of
cnncalc's rules and kernels)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec, parse_spec
from cnncalc.lang.zoo import find_spec
from cnncalc.layers import REGISTRY
from cnncalc.testing import cases

onnx = pytest.importorskip("onnx")

from cnncalc.onnx.export import ExportError, export  # noqa: E402


def _run(model, x_shape, outputs=None):
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random(x_shape, dtype=np.float32)
    return session.run(outputs, {"input": x})


@pytest.mark.parametrize("kind", sorted(REGISTRY))
@settings(max_examples=4)
@given(data=st.data())
def test_every_kind_runs_in_onnxruntime_at_the_predicted_shape(kind, data):
    case = data.draw(cases(kind), label=kind)
    spec = parse_spec(case.spec_text(), "<case>")
    expected = tuple(int(d) for d in analyze(spec).output_shape)
    if kind == "opaque":
        # Its computation is unknown: refused, named; written as a graph input on request.
        refusal = r"layer 'opaque1' \(opaque, operator .*\): an opaque layer cannot"
        with pytest.raises(ExportError, match=refusal):
            export(spec)
        exported = export(spec, opaque_inputs=True)
        assert [i.name for i in exported.model.graph.input] == ["input", "opaque1"]
        return
    try:
        exported = export(spec, {name: sym.default for name, sym in spec.symbols.items()})
    except ExportError as exc:
        # The refusals among the built-in kinds: pooling bins that do not tile the input, and
        # an LRN window of even size (ONNX centres it on the other side).
        reason = {"adaptive_avg_pool2d": "bins overlap", "local_response_norm": "is even"}.get(kind)
        assert reason is not None and reason in str(exc), exc
        return
    onnx.checker.check_model(exported.model)
    (y,) = _run(exported.model, case.input_shape)
    assert y.shape == expected


def test_a_kind_without_a_lowering_is_refused_by_name():
    from cnncalc.layers import Layer, register

    @register
    class Unlowered(Layer):
        """A test kind. Params: none. MACs: 0. FLOPs: 0."""

        kind = "unlowered_test_kind"

        def output_shape(self, x):
            return x

        def flops(self, x, *, out):
            return 0

        def forward(self, xs, weights, out):
            out[...] = xs[0]
            return 0

    try:
        spec = parse_spec("input: [1, 3, 8, 8]\nlayers:\n  - unlowered_test_kind\n", "<t>")
        with pytest.raises(ExportError, match="layer kind 'unlowered_test_kind' has no ONNX lowering"):
            export(spec)
    finally:
        del REGISTRY["unlowered_test_kind"]


def test_input_symbols_stay_dynamic_unless_a_weight_needs_them():
    # ResNet-18 pools globally: N, H and W stay dim_params and the model runs at any size.
    exported = export(load_spec(find_spec("resnet18")), {"K": 10})
    dims_ = exported.model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims_] == ["N", 3, "H", "W"]
    assert exported.dynamic == ("N", "H", "W")
    (y,) = _run(exported.model, (2, 3, 40, 56))
    assert y.shape == (2, 10)
    # LeNet-5's first linear layer reads 16*5*5 features: H and W are fixed at 32.
    exported = export(load_spec(find_spec("lenet5")))
    assert exported.dynamic == ("N",)
    assert exported.fixed == {"H": 32, "W": 32}
    (y,) = _run(exported.model, (3, 1, 32, 32))
    assert y.shape == (3, 10)


def test_weights_are_seeded_and_named_after_the_layers():
    spec = load_spec(find_spec("lenet5"))
    a, b, c = (export(spec, seed=s).model for s in (1, 1, 2))
    names = [t.name for t in a.graph.initializer if "/" not in t.name]
    assert names[:2] == ["conv1.weight", "conv1.bias"]
    first = {t.name: t.raw_data for t in a.graph.initializer}
    assert first == {t.name: t.raw_data for t in b.graph.initializer}
    assert first["conv1.weight"] != {t.name: t.raw_data for t in c.graph.initializer}["conv1.weight"]


def test_cli_export(run_cli, tmp_path):
    out = tmp_path / "m.onnx"
    code, stdout, _ = run_cli("export", "lenet5", "--set", "N=2", "-o", str(out), "--opset", "13")
    assert code == 0
    assert "61,706 parameters in 10 initializers" in " ".join(stdout.split())  # wrapped to the width
    model = onnx.load(str(out))
    assert model.opset_import[0].version == 13
    code, _, err = run_cli("export", "lenet5", "-o", str(out), "--opset", "7")
    assert code == 2
    assert "--opset 7: cnncalc writes opsets 13 to" in err
    code, _, err = run_cli("export", "lenet5", "-o", str(out), "--set", "Q=2")
    assert code == 2
    assert "unknown symbol 'Q'" in err


def test_help_and_analyze_never_import_onnx():
    import subprocess
    import sys

    from .helpers import ROOT

    code = (
        "import sys\n"
        "from cnncalc.cli import main\n"
        "main(['analyze', 'lenet5', '--format', 'json'])\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert not {'onnx', 'onnxruntime'} & set(sys.modules), 'onnx imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


def test_without_onnx_the_commands_say_how_to_install_it(run_cli, monkeypatch, tmp_path):
    import builtins

    real = builtins.__import__

    def no_onnx(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.split(".")[0] in ("onnx", "onnxruntime"):
            raise ImportError(f"No module named {name!r}")
        return real(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    monkeypatch.setattr("importlib.import_module", lambda name, *a: no_onnx(name))
    for args in (("export", "lenet5", "-o", str(tmp_path / "m.onnx")), ("import", str(tmp_path / "m.onnx"))):
        code, _, err = run_cli(*args)
        assert code == 2
        assert "this command needs the 'onnx' package: pip install \"cnncalc[onnx]\"" in err
