"""ConvNeXt T/S/B/L, one spec (specs/convnext.yaml) sized by C and the stage depths.

Oracles from outside cnncalc: torchvision 0.29.1's published parameter and MAC counts
(../shared/reference/published-figures.md, the numbers copied here), and, where torch is
installed, torchvision's own models: every layer's output shape and parameters, and the names
and shapes of every parameter tensor.
"""

from __future__ import annotations

import json

import pytest
import sympy

from cnncalc.core.engine import analyze, evaluate_at
from cnncalc.errors import ShapeError
from cnncalc.lang.spec import load_spec

from .helpers import SPECS

# torchvision 0.29.1 weights metadata at 1x3x224x224: (--set values, params, MACs)
PUBLISHED = {
    "convnext_tiny": ({}, 28_589_128, 4_455_531_264),
    "convnext_small": ({"d3": 27}, 50_223_688, 8_683_712_256),
    "convnext_base": ({"C": 128, "d3": 27}, 88_591_464, 15_354_729_472),
    "convnext_large": ({"C": 192, "d3": 27}, 197_767_336, 34_361_433_600),
}


def _spec():
    return load_spec(SPECS / "convnext.yaml")


@pytest.mark.parametrize("model", PUBLISHED)
def test_published_figures(model):
    values, params, macs = PUBLISHED[model]
    a = analyze(_spec(), values)
    assert tuple(a.input_shape) == (1, 3, 224, 224)
    assert a.totals.params == params
    assert a.totals.macs == macs
    assert a.output_shape == (1, 1000)
    assert a.constraints == ()


@pytest.mark.parametrize("model", PUBLISHED)
def test_formulas_in_h_and_w_at_224(model):
    values, params, macs = PUBLISHED[model]
    spec = _spec()
    # H and W open, the rest at the model's values
    fixed = {n: values.get(n, s.default) for n, s in spec.symbols.items() if n not in ("H", "W")}
    a = analyze(spec, fixed, symbolic=True)
    assert a.symbols["H"] is None and a.symbols["W"] is None
    at = {"H": 224, "W": 224}
    assert evaluate_at(a.totals.macs, at) == macs
    assert evaluate_at(a.totals.params, at) == params  # no parameter depends on the input size
    assert a.totals.params == params
    assert sorted(c.condition for c in a.constraints) == ["H >= 32", "W >= 32"]


@pytest.mark.parametrize("d3", [9, 27])
def test_symbolic_command_at_224(d3, run_cli):
    # C open too: one formula gives ConvNeXt-S, B and L
    code, out, err = run_cli(
        "analyze", "convnext", "--symbolic", "--set", "d1=3", "d2=3", f"d3={d3}", "d4=3", "-f", "json"
    )
    assert code == 0, err
    d = json.loads(out)
    assert {k for k, v in d["symbols"].items() if v is None} == {"N", "H", "W", "C", "K"}
    for values, params, macs in PUBLISHED.values():
        if values.get("d3", 9) == d3:
            at = {"N": 1, "H": 224, "W": 224, "C": values.get("C", 96), "K": 1000}
            assert _at(d["totals"]["params"], at) == params
            assert _at(d["totals"]["macs"], at) == macs


def _at(text: str, values: dict) -> int:
    """A JSON formula read by sympy (every name a plain symbol) at the given values."""
    names = {n: sympy.Symbol(n) for n in values}
    return int(sympy.sympify(text, locals=names).subs({names[n]: v for n, v in values.items()}))


def test_depths_keep_their_values_when_the_rest_is_open(run_cli):
    import json

    code, out, err = run_cli("analyze", "convnext", "--symbolic", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {k: data["symbols"][k] for k in ("d1", "d2", "d3", "d4")} == {"d1": 3, "d2": 3, "d3": 9, "d4": 3}
    assert data["symbols"]["C"] is None and data["symbols"]["H"] is None
    # Tiny's blocks: 3 + 3 + 9 + 3 CNBlocks, each with a layer_scale
    assert sum(1 for layer in data["layers"] if layer["kind"] == "layer_scale") == 18


def test_names_and_stages():
    a = analyze(_spec(), {"d3": 27})
    shape = {r.name: r.output_shape for r in a.layers}
    assert shape["features.0.0"] == (1, 96, 56, 56)
    assert shape["features.1.2.add"] == (1, 96, 56, 56)
    assert shape["features.2.1"] == (1, 192, 28, 28)
    assert shape["features.5.26.block.3"] == (1, 14, 14, 4 * 384)  # channels-last
    assert "features.5.27.add" not in shape
    assert shape["features.7.2.layer_scale"] == (1, 768, 7, 7)
    assert shape["classifier.2"] == (1, 1000)
    blocks = {n.rsplit(".", 1)[0] for n in shape if n.endswith(".add")}
    assert len(blocks) == 3 + 3 + 27 + 3


def test_minimum_input_is_32():
    # torchvision's min_size for ConvNeXt: the fourth downsampling needs a 2x2 input
    assert analyze(_spec(), {"H": 32, "W": 32}).output_shape == (1, 1000)
    with pytest.raises(ShapeError, match=r"features\.6\.1"):
        analyze(_spec(), {"H": 31, "W": 32})


# ---------------------------------------------------------------------------------------------
# torchvision's models as the oracle, built on the meta device (shapes only, no weights drawn).

TORCH_MODELS = [
    ("convnext_tiny", 64),
    ("convnext_tiny", 161),
    ("convnext_small", 97),
    ("convnext_base", 96),
    ("convnext_large", 33),
]


def _torch_layers(model: str, size: int):
    """torchvision's per-module output shapes, direct parameter counts and state dict shapes."""
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    with torch.device("meta"):
        net = getattr(tv.models, model)().eval()
        shapes = {}
        hooks = [
            m.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
            for name, m in net.named_modules()
            if name
        ]
        with torch.no_grad():
            net(torch.zeros(1, 3, size, size))
        for h in hooks:
            h.remove()
    params = {}
    for name, m in net.named_modules():
        n = sum(p.numel() for p in m.parameters(recurse=False))
        if n:
            # the layer scale is a parameter of the CNBlock: the spec's layer_scale layer
            params[f"{name}.layer_scale" if type(m).__name__ == "CNBlock" else name] = n
    state = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    return shapes, params, state


@pytest.mark.parametrize(("model", "size"), TORCH_MODELS)
def test_layers_match_torchvision(model, size):
    shapes, params, state = _torch_layers(model, size)
    values = {**PUBLISHED[model][0], "H": size, "W": size}
    a = analyze(_spec(), values)
    ours = {r.name: tuple(r.output_shape) for r in a.layers}
    compared = 0
    for name, shape in ours.items():
        if name in shapes:
            assert shape == shapes[name], name
            compared += 1
        else:  # the add and the layer scale: no module of their own, the CNBlock's output
            block, _, leaf = name.rpartition(".")
            assert leaf in ("add", "layer_scale"), name
            assert shape == shapes[block], name
    assert compared == len(ours) - 2 * sum(n.endswith(".add") for n in ours)
    assert {r.name: r.params for r in a.layers if r.params} == params
    assert a.totals.params == sum(params.values())
    weights = {f"{r.name}.{k}": tuple(int(d) for d in p.shape) for r in a.layers for k, p in r.weights}
    # torchvision's layer scale is features.S.B.layer_scale, the name of the layer here
    weights = {k.replace(".layer_scale.layer_scale", ".layer_scale"): v for k, v in weights.items()}
    assert weights == state
    assert tuple(a.output_shape) == shapes["classifier.2"]


def test_torchvision_accepts_from_32():
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    with torch.device("meta"):
        net = tv.models.convnext_tiny().eval()
        net(torch.zeros(1, 3, 32, 32))
        with pytest.raises(RuntimeError):
            net(torch.zeros(1, 3, 31, 32))
