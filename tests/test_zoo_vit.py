"""ViT B/16, B/32, L/16, L/32 and H/14, one spec (specs/vit.yaml) sized by P, D, heads, depth
and mlp.

Oracles from outside cnncalc: torchvision 0.29.1's published parameter counts and GFLOPS
(tests/data/published_figures.json, recounted exactly with torch's flop counter, attention
included), hand arithmetic of ViT-B/16's parts, and, where torch is installed, torchvision's
own models counted by torch's flop counter on the meta device.
"""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze, evaluate_at
from cnncalc.lang.spec import load_spec

from .helpers import SPECS

L16 = {"heads": 16, "depth": 24, "mlp": 4096}
#: torchvision's models: the spec's values
SIZES = {
    "vit_b_16": {},
    "vit_b_32": {"P": 32},
    "vit_l_16": L16,
    "vit_l_32": {"P": 32, **L16},
}


def _spec():
    return load_spec(SPECS / "vit.yaml")


@pytest.mark.parametrize("model", SIZES)
def test_published_figures(model, published):
    row = published[model]
    a = analyze(_spec(), SIZES[model])
    assert list(a.input_shape) == row["input"]
    assert a.totals.params == row["params"]
    assert a.totals.macs == row["macs"]
    assert round(a.totals.macs / 1e9, 3) == row["published_gmacs"]
    assert a.output_shape == (1, 1000)


def test_vit_b_16_by_hand():
    """196 patches and the class token: 197 tokens of 768, 12 heads of 64."""
    a = analyze(_spec())
    by_kind: dict[str, int] = {}
    for r in a.layers:
        by_kind[r.kind] = by_kind.get(r.kind, 0) + r.macs
    tokens, width, heads, d = 197, 768, 12, 64
    assert by_kind["conv2d"] == 196 * 768 * 3 * 16 * 16
    # per layer: q k^T and the weighted sum of v, each 12 heads x 197 x 197 outputs of 64 terms
    assert by_kind["matmul"] == 12 * 2 * heads * tokens * tokens * d
    # per layer: qkv (768 -> 2304), out (768 -> 768), MLP (768 -> 3072 -> 768); the head 768 -> 1000
    per_layer = tokens * width * (3 * width + width + 2 * 3072)
    assert by_kind["linear"] == 12 * per_layer + 768 * 1000
    params = {r.kind: 0 for r in a.layers}
    for r in a.layers:
        params[r.kind] += r.params
    assert params["class_token"] == 768
    assert params["position_embedding"] == 197 * 768


def test_the_cost_grows_with_the_tokens():
    """With H and W open, the attention's products grow with the square of the tokens."""
    spec = _spec()
    fixed = {n: s.default for n, s in spec.symbols.items() if n not in ("H", "W") and s.derived is None}
    a = analyze(spec, fixed, symbolic=True)
    for h, w in [(224, 224), (384, 384), (224, 320)]:
        tokens = (h // 16) * (w // 16) + 1
        matmul = sum(evaluate_at(r.macs, {"H": h, "W": w}) for r in a.layers if r.kind == "matmul")
        assert matmul == 12 * 2 * 12 * tokens * tokens * 64


@pytest.mark.parametrize("model", [*SIZES, "vit_h_14"])
def test_torchvision_models_flop_counter(model):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from .helpers import torch_flop_counter_macs

    values = SIZES.get(model, {"P": 14, "heads": 16, "d": 80, "depth": 32, "mlp": 5120})
    m = torchvision.models.get_model(model, weights=None).eval().to("meta")
    macs = torch_flop_counter_macs(m, torch.zeros(1, 3, 224, 224, device="meta"))
    a = analyze(_spec(), values)
    assert a.totals.macs == macs
    assert a.totals.params == sum(p.numel() for p in m.parameters())
