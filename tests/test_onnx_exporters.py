"""What torch's exporters write, read exactly.

The fixtures (tests/data/onnx/<exporter>-<opset>/<model>.onnx) are graphs torch's dynamo and
legacy exporters wrote for torchvision models with N, H and W dynamic, their weights stripped
(tools/make_onnx_fixtures.py regenerates them). Beside them, oracle.json holds torch's own MAC
counts (forward hooks on Conv2d and Linear, bias excluded; for the transformers, ViT-B/32,
Swin-T and MaxViT-T, torch's flop counter, which sees attention) at 224x224 and at 197x251 (the
transformers at 224x224 only), and the parameters each original file held. These tests need
onnx only.

With torch installed, resnet18, mobilenet_v3_small, vgg16 and shufflenet_v2_x1_0 are also
exported live by the default (dynamo) exporter and checked against forward hooks; every other
torchvision model is behind CNNCALC_SLOW=1 (10-60 s each).
"""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("onnx")

from cnncalc.core.dims import free_symbols
from cnncalc.core.engine import analyze
from cnncalc.onnx.importer import ModelError, import_model, load

from .helpers import DATA

FIXTURES = DATA / "onnx"
ORACLE = json.loads((FIXTURES / "oracle.json").read_text())
CASES = sorted((v.name, f.stem) for v in FIXTURES.iterdir() if v.is_dir() for f in v.glob("*.onnx"))
FOUR = ["resnet18", "mobilenet_v3_small", "vgg16", "shufflenet_v2_x1_0"]


def _sizes(model: str) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in key.split("x")) for key in ORACLE[model]["macs"]]


#: Models torch runs at one size only (224x224: ViT's position embedding, Swin's masks,
#: MaxViT's grid), exported and read at it.
ONE_SIZE = {"vit_b_32", "swin_t", "maxvit_t"}


def _check(imported, model: str, params: int | None) -> None:
    spec, a = imported.spec, imported.analysis
    dynamic = {"N", "H", "W"}
    if model in ONE_SIZE and set(spec.symbols) == {"N"}:
        dynamic = {"N"}  # exported at its one size (the legacy exporter keeps MaxViT's H and W)
    assert set(spec.symbols) == dynamic
    assert a.input_shape[1] == 3
    # Formulas in N, H and W: the totals are expressions of the dynamic sizes.
    symbolic = analyze(spec, symbolic=True).totals.macs
    assert {s.name for s in free_symbols(symbolic)} == dynamic
    for (h, w), want in zip(_sizes(model), ORACLE[model]["macs"].values(), strict=True):
        if model in ONE_SIZE:
            if (h, w) != (224, 224):
                continue  # torch runs Swin at 197x251 too; the exports hold 224x224 only
            sizes = {k: v for k, v in {"H": h, "W": w}.items() if k in spec.symbols}
            assert analyze(spec, {"N": 1, **sizes}).totals.macs == want
            assert analyze(spec, {"N": 3, **sizes}).totals.macs == 3 * want
            continue
        got = analyze(spec, {"N": 1, "H": h, "W": w}).totals.macs
        assert got == want, f"{model} at {h}x{w}: {got:,} MACs, torch counts {want:,}"
        assert analyze(spec, {"N": 3, "H": h, "W": w}).totals.macs == 3 * want
    if params is not None:
        assert a.totals.params + a.totals.buffers == params


@pytest.mark.parametrize(("variant", "model"), CASES, ids=[f"{v}-{m}" for v, m in CASES])
def test_an_export_imports_exactly_without_opaque(variant, model):
    path = FIXTURES / variant / f"{model}.onnx"
    onnx_model = load(str(path))
    dims = [d.dim_param or d.dim_value for d in onnx_model.graph.input[0].type.tensor_type.shape.dim]
    # The legacy exporter cannot keep H and W dynamic through an adaptive pool (AlexNet, VGG):
    # such a file is exported at 224x224, and --symbols makes its sizes symbols again.
    # A vision transformer holds one size (its position embedding's): it is read at it.
    one_size = model in ONE_SIZE
    symbols = "H,W" if dims[2:] == [224, 224] and not one_size else None
    assert symbols is None or (variant.startswith("legacy") and model in ("alexnet", "vgg16"))
    imported = import_model(onnx_model, source=path.name, symbols=symbols)
    assert not imported.analysis.totals.unknown_cost
    _check(imported, model, ORACLE[model]["params"][variant])


def test_the_fixtures_cover_both_exporters_at_opsets_17_to_21():
    """The legacy exporter stops at opset 20."""
    variants = {v for v, _ in CASES}
    assert {f"dynamo-{opset}" for opset in range(17, 22)} | {"legacy-17", "legacy-20"} <= variants
    for model in FOUR:
        assert {v for v, m in CASES if m == model} >= {"dynamo-17", "dynamo-20", "dynamo-21", "legacy-17"}, (
            model
        )
    segmentation = {"fcn_resnet50", "deeplabv3_resnet50", "lraspp_mobilenet_v3_large"}
    assert segmentation <= {m for _, m in CASES}


def test_a_flatten_in_every_spelling_is_a_flatten():
    """The dynamo exporter writes torch.flatten(x, 1) as Reshape to [-1, C] (resnet18) or to a
    target computed from the shape, [N, C*H'*W'] (vgg16); the legacy one as Flatten."""
    for variant, model in [("dynamo-20", "resnet18"), ("dynamo-20", "vgg16"), ("legacy-17", "resnet18")]:
        path = FIXTURES / variant / f"{model}.onnx"
        kinds = [r.kind for r in import_model(load(str(path)), source=path.name).analysis.layers]
        assert "flatten" in kinds and "opaque" not in kinds


def test_a_channel_shuffle_and_a_chunk_from_computed_shapes():
    for variant in ("dynamo-20", "legacy-17"):
        path = FIXTURES / variant / "shufflenet_v2_x1_0.onnx"
        a = import_model(load(str(path)), source=path.name).analysis
        counts = {k: sum(r.kind == k for r in a.layers) for k in ("channel_shuffle", "chunk")}
        # 16 blocks shuffle; 13 of them (not the first of each stage) split their input in two
        assert counts == {"channel_shuffle": 16, "chunk": 26}


def test_a_resize_to_the_input_size_is_an_upsample_in_h_and_w():
    path = FIXTURES / "dynamo-20" / "fcn_resnet50.onnx"
    imported = import_model(load(str(path)), source=path.name)
    up = [line for line in imported.text.splitlines() if "upsample" in line]
    assert len(up) == 1 and "size: [H, W]" in up[0]
    out = analyze(imported.spec, {"N": 1, "H": 197, "W": 251}).output_shape
    assert out == (1, 21, 197, 251)


def test_dynamo_names_are_the_modules_qualified_names():
    path = FIXTURES / "dynamo-20" / "resnet18.onnx"
    names = [r.name for r in import_model(load(str(path)), source=path.name).analysis.layers]
    assert names[:4] == ["conv1", "relu", "maxpool", "layer1.0.conv1"]
    assert "layer1.0.add" in names and "fc" in names


# -- live exports (torch installed) -------------------------------------------------------------


def _torch_macs(torch, module, h: int, w: int) -> int:
    """torch's own count at h x w (tests/helpers.py), run on the module's own device."""
    from .helpers import torch_macs

    return torch_macs(module, torch.zeros(1, 3, h, w), meta=False)


def _live(name: str, tmp_path):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    pytest.importorskip("onnxscript")
    from torch.export import Dim

    model = torchvision.models.get_model(name, weights=None).eval()
    path = tmp_path / f"{name}.onnx"
    dynamic = ({0: Dim("N", min=1), 2: Dim("H", min=32), 3: Dim("W", min=32)},)
    # As a user exports: torch's default exporter, N, H and W dynamic (torch.export's
    # size-oblivious mode lets it keep them so through adaptive pools).
    with torch.fx.experimental._config.patch(backed_size_oblivious=True):
        torch.onnx.export(
            model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=True, dynamic_shapes=dynamic
        )
    imported = import_model(load(str(path)), source=path.name)
    assert set(imported.spec.symbols) == {"N", "H", "W"}
    for h, w in [(224, 224), (197, 251)]:
        got = analyze(imported.spec, {"N": 1, "H": h, "W": w}).totals.macs
        assert got == _torch_macs(torch, model, h, w), f"{name} at {h}x{w}"


@pytest.mark.parametrize("name", FOUR)
def test_a_live_dynamo_export_matches_forward_hooks(name, tmp_path):
    _live(name, tmp_path)


def _every_model() -> list[str]:
    try:
        import torchvision
    except ImportError:
        return []
    return [m for m in torchvision.models.list_models(module=torchvision.models) if m not in FOUR]


@pytest.mark.slow
@pytest.mark.parametrize("name", _every_model())
def test_every_torchvision_classifier_live(name, tmp_path):
    if not os.environ.get("CNNCALC_SLOW"):
        pytest.skip("exporting takes 10-60 s a network: CNNCALC_SLOW=1 runs them")
    _live(name, tmp_path)


def test_repeated_blocks_are_folded_with_the_same_layers_and_totals():
    """An import reads like a spec a person writes: each stage's blocks are one block with
    arguments and repeat, expanding to the same layers, names and totals as one line a layer."""
    path = FIXTURES / "dynamo-20" / "resnet18.onnx"
    folded = import_model(load(str(path)), source=path.name)
    flat = import_model(load(str(path)), source=path.name, fold=False)
    assert "blocks:" in folded.text and "repeat: 2, name: layer1}" in folded.text
    assert "blocks:" not in flat.text
    assert len(folded.text.splitlines()) + 15 < len(flat.text.splitlines())
    assert [r.name for r in folded.analysis.layers] == [r.name for r in flat.analysis.layers]
    for h, w in [(224, 224), (197, 251)]:
        values = {"N": 2, "H": h, "W": w}
        a, b = analyze(folded.spec, values).totals, analyze(flat.spec, values).totals
        assert (a.params, a.macs, a.flops) == (b.params, b.macs, b.flops)


def test_the_legacy_exporters_gelu_is_one_layer():
    """torch.nn.GELU as the legacy exporter writes it: x * (1 + erf(x / sqrt(2))) * 0.5."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    def const(name, value):
        return numpy_helper.from_array(np.array(value, dtype=np.float32), name)

    nodes = [
        helper.make_node("Div", ["input", "sqrt2"], ["d"], name="/act/Div"),
        helper.make_node("Erf", ["d"], ["e"], name="/act/Erf"),
        helper.make_node("Add", ["e", "one"], ["a"], name="/act/Add"),
        helper.make_node("Mul", ["input", "a"], ["m"], name="/act/Mul"),
        helper.make_node("Mul", ["m", "half"], ["y"], name="/act/Mul_1"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[const("sqrt2", 2**0.5), const("one", 1.0), const("half", 0.5)],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    layers = import_model(m, source="gelu.onnx").analysis.layers
    assert [(r.kind, r.name) for r in layers] == [("gelu", "act")]
    # a division by another constant is not a GELU: a scale by 1/2, and the Erf after it is
    # named as the operator without a layer kind
    m.graph.initializer[0].CopyFrom(const("sqrt2", 2.0))
    with pytest.raises(ModelError, match=r"Erf x1 \(/act/Erf\): no layer kind stands for it"):
        import_model(m, source="gelu.onnx")


def test_an_opaque_layer_keeps_the_sizes_symbolic_where_the_rule_is_known():
    """--opaque with N, H and W dynamic: an operator without a layer kind whose output shape
    follows from its inputs' (Erf: the same) keeps the symbols, where onnx's shape inference loses
    H and W after a strided convolution; the layers after it (a product of two tensors) too."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((4, 3, 3, 3), dtype=np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["c"], name="conv", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Erf", ["c"], ["e"], name="erf"),
        helper.make_node("MatMul", ["e", "c"], ["y"], name="mm"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "H"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[w],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    imported = import_model(m, source="m.onnx", opaque=True)
    kinds = [r.kind for r in imported.analysis.layers]
    assert kinds == ["conv2d", "opaque", "matmul"]
    # (H + 2 - 3)//2 + 1 = ceil(H/2), for H = 9 and 10
    for h, side in [(9, 5), (10, 5), (11, 6)]:
        a = analyze(imported.spec, {"N": 2, "H": h})
        assert [r.output_shape for r in a.layers] == [(2, 4, side, side)] * 3


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
def test_a_vision_transformer_imports_with_its_attention_counted(dynamo, tmp_path):
    """A ViT (torchvision's class, small): its attention's products are ``matmul`` layers and its
    class token and position embedding their kinds, so that the MACs equal torch's flop counter
    (the hooks of Conv2d and Linear do not see attention) and the params the module's."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    pytest.importorskip("onnxscript")
    from torchvision.models.vision_transformer import VisionTransformer

    from .helpers import torch_flop_counter_macs

    torch.manual_seed(0)
    model = VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=24, num_classes=5
    ).eval()
    with torch.no_grad():
        for p in model.parameters():  # no zeros or ones for an exporter to fold or share
            p.normal_()
    x = torch.zeros(3, 3, 32, 32)
    path = tmp_path / "vit.onnx"
    if dynamo:
        from torch.export import Dim

        torch.onnx.export(model, (x,), str(path), dynamo=True, dynamic_shapes=({0: Dim("N", min=1)},))
    else:
        torch.onnx.export(
            model, (x,), str(path), dynamo=False, dynamic_axes={"x": {0: "N"}}, input_names=["x"]
        )
    imported = import_model(load(str(path)), source=path.name)
    kinds = {r.kind for r in imported.analysis.layers}
    assert {"matmul", "class_token", "position_embedding", "layer_norm", "linear"} <= kinds
    assert "opaque" not in kinds
    a = analyze(imported.spec, {"N": 3})
    # 17 tokens (16 patches of 8x8, and the class token) of width 16, 2 heads of 8: per layer
    # q @ k^T and attn @ v are each 3 images x 2 heads x 17 x 17 x 8 MACs
    products = [r.macs for r in a.layers if r.kind == "matmul"]
    assert products == [3 * 2 * 17 * 17 * 8] * 4
    assert a.totals.macs == torch_flop_counter_macs(model, x)
    assert a.totals.params == sum(p.numel() for p in model.parameters())


def test_a_vision_transformers_encoder_layers_fold_into_one_block():
    """ViT's layers are named ``encoder.layers.encoder_layer_<k>``: one block repeated 12 times,
    named back by its template, with the flat import's layers and totals."""
    path = FIXTURES / "dynamo-20" / "vit_b_32.onnx"
    folded = import_model(load(str(path)), source=path.name)
    flat = import_model(load(str(path)), source=path.name, fold=False)
    assert 'repeat: 12, name: "encoder.layers.encoder_layer_{i}"' in folded.text
    assert len(folded.text.splitlines()) < 70 < 400 < len(flat.text.splitlines())
    assert [r.name for r in folded.analysis.layers] == [r.name for r in flat.analysis.layers]
    a, b = analyze(folded.spec, {"N": 2}).totals, analyze(flat.spec, {"N": 2}).totals
    assert (a.params, a.macs, a.flops) == (b.params, b.macs, b.flops)
    # torchvision's published 4.409 GFLOPS (its MACs) for ViT-B/32, per image
    assert a.macs == 2 * 4_409_186_304


def test_blocks_one_level_inside_numbered_stages_fold():
    """Swin's blocks are features.<stage>.<k> and ConvNeXt's too: the fold at that depth is
    kept when it is the shorter, with the flat import's layers and totals."""
    for model, most in (("swin_t", 340), ("convnext_tiny", 50)):
        path = FIXTURES / "dynamo-20" / f"{model}.onnx"
        folded = import_model(load(str(path)), source=path.name)
        flat = import_model(load(str(path)), source=path.name, fold=False)
        assert "blocks:" in folded.text, model
        assert len(folded.text.splitlines()) <= most < len(flat.text.splitlines()), model
        assert [r.name for r in folded.analysis.layers] == [r.name for r in flat.analysis.layers]
        a, b = folded.analysis.totals, flat.analysis.totals
        assert (a.params, a.macs, a.flops) == (b.params, b.macs, b.flops)
