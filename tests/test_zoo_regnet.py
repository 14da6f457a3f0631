"""RegNetX and RegNetY from their design-space parameters: torchvision's 14 models.

The parameters are copied from torchvision 0.29.1's model builders (regnet.py), the expected
params and MACs at 1x3x224x224 from its weights metadata (the published table). Where torch is
installed, torchvision itself is the oracle for the stages and for every layer's shape and
parameters at other input sizes.
"""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.errors import CnncalcError
from cnncalc.lang.spec import load_spec

from .helpers import SPECS

# model: (depth, w_0, w_a, w_m, group_width), torchvision's BlockParams.from_init_params(...)
DESIGNS = {
    "regnet_x_400mf": (22, 24, "24.48", "2.54", 16),
    "regnet_x_800mf": (16, 56, "35.73", "2.28", 16),
    "regnet_x_1_6gf": (18, 80, "34.01", "2.25", 24),
    "regnet_x_3_2gf": (25, 88, "26.31", "2.25", 48),
    "regnet_x_8gf": (23, 80, "49.56", "2.88", 120),
    "regnet_x_16gf": (22, 216, "55.59", "2.1", 128),
    "regnet_x_32gf": (23, 320, "69.86", "2.0", 168),
    "regnet_y_400mf": (16, 48, "27.89", "2.09", 8),
    "regnet_y_800mf": (14, 56, "38.84", "2.4", 16),
    "regnet_y_1_6gf": (27, 48, "20.71", "2.65", 24),
    "regnet_y_3_2gf": (21, 80, "42.63", "2.66", 24),
    "regnet_y_8gf": (17, 192, "76.82", "2.19", 56),
    "regnet_y_16gf": (18, 200, "106.23", "2.48", 112),
    "regnet_y_32gf": (20, 232, "115.89", "2.53", 232),
}

# model: (params, MACs) at 1x3x224x224, torchvision 0.29.1's `num_params` and exact `_ops`
PUBLISHED = {
    "regnet_x_400mf": (5_495_976, 413_812_608),
    "regnet_x_800mf": (7_259_656, 799_699_712),
    "regnet_x_1_6gf": (9_190_136, 1_602_849_792),
    "regnet_x_3_2gf": (15_296_552, 3_176_621_952),
    "regnet_x_8gf": (39_572_648, 7_995_132_416),
    "regnet_x_16gf": (54_278_536, 15_940_755_456),
    "regnet_x_32gf": (107_811_560, 31_735_929_792),
    "regnet_y_400mf": (4_344_144, 401_842_848),
    "regnet_y_800mf": (6_432_512, 833_856_256),
    "regnet_y_1_6gf": (11_202_430, 1_612_076_160),
    "regnet_y_3_2gf": (19_436_338, 3_176_482_752),
    "regnet_y_8gf": (39_381_472, 8_473_070_592),
    "regnet_y_16gf": (83_590_140, 15_911_510_272),
    "regnet_y_32gf": (145_046_770, 32_279_552_832),
}


def _values(model: str, **sizes) -> dict:
    d, w0, wa, wm, g = DESIGNS[model]
    return {"d": d, "w0": w0, "wa": wa, "wm": wm, "g": g, **sizes}


def _analyze(model: str, **sizes):
    family = model[: len("regnet_x")]
    return analyze(load_spec(SPECS / f"{family}.yaml"), _values(model, **sizes))


@pytest.mark.parametrize("model", sorted(DESIGNS))
def test_matches_torchvision(model):
    params, macs = PUBLISHED[model]
    a = _analyze(model)
    assert a.input_shape == (1, 3, 224, 224)
    assert a.totals.params == params
    assert a.totals.macs == macs
    assert a.output_shape == (1, 1000)
    assert a.constraints == ()


@pytest.mark.parametrize("family", ["regnet_x", "regnet_y"])
def test_defaults_are_the_400mf_models(family):
    a = analyze(load_spec(SPECS / f"{family}.yaml"))
    assert (a.totals.params, a.totals.macs) == PUBLISHED[f"{family}_400mf"]


def test_more_stages_than_written_are_refused():
    # wm = 1.2 spreads regnet_x_400mf's 22 blocks over 17 capacities: more than six stages
    with pytest.raises(CnncalcError, match="must not be negative"):
        analyze(load_spec(SPECS / "regnet_x.yaml"), {"wm": "1.2"})


def test_fewer_stages():
    # three blocks of widths 24, 224, 424: capacities 0, 2, 3 (log(u/24)/log(2.54)), three
    # stages of one block, each halving the size: 224 -> 112 (stem) -> 56 -> 28 -> 14
    a = analyze(load_spec(SPECS / "regnet_x.yaml"), {"d": 3, "wa": 200})
    blocks = sorted({r.name.split(".")[2] for r in a.layers if r.name.startswith("trunk_output.")})
    assert blocks == ["block1-0", "block3-0", "block4-0"]
    assert next(r for r in a.layers if r.name == "avgpool").output_shape == (1, 400, 1, 1)
    assert a.layers[-4].output_shape == (1, 400, 14, 14)


# ---------------------------------------------------------------------------------------------
# torchvision as the oracle (skipped without torch).


def _stages(a) -> tuple[list[int], list[int]]:
    """Per stage (trunk_output.blockS), its width and its number of blocks."""
    widths: dict[str, int] = {}
    blocks: dict[str, set[str]] = {}
    for r in a.layers:
        parts = r.name.split(".")
        if parts[0] == "trunk_output":
            widths[parts[1]] = r.output_shape[1]
            blocks.setdefault(parts[1], set()).add(parts[2])
    order = sorted(widths, key=lambda s: int(s.removeprefix("block")))
    return [widths[s] for s in order], [len(blocks[s]) for s in order]


@pytest.mark.parametrize("model", sorted(DESIGNS))
def test_stages_are_torchvisions(model):
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    from torchvision.models.regnet import BlockParams

    d, w0, wa, wm, g = DESIGNS[model]
    bp = BlockParams.from_init_params(depth=d, w_0=w0, w_a=float(wa), w_m=float(wm), group_width=g)
    assert _stages(_analyze(model)) == (bp.widths, bp.depths)


def _torch_layers(model: str, size: int) -> dict[str, tuple[tuple[int, ...], int]]:
    """Every leaf module of torchvision's model: output shape and own parameters, run on the
    meta device (shapes only; the model is built on the CPU, its stages are computed there)."""
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    net = getattr(tv.models, model)().eval().to("meta")
    out: dict[str, tuple[tuple[int, ...], int]] = {}
    hooks = []
    for name, module in net.named_modules():
        if not list(module.children()):

            def hook(_m, _inputs, output, name=name):
                out[name] = tuple(output.shape)

            hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        net(torch.zeros(1, 3, size, size, device="meta"))
    for h in hooks:
        h.remove()
    modules = dict(net.named_modules())
    return {n: (shape, sum(p.numel() for p in modules[n].parameters())) for n, shape in out.items()}


@pytest.mark.parametrize("size", [160, 97])
@pytest.mark.parametrize("model", ["regnet_x_1_6gf", "regnet_x_8gf", "regnet_y_400mf"])
def test_every_layer_against_torchvision(model, size):
    expected = _torch_layers(model, size)
    a = _analyze(model, H=size, W=size)
    ours = {r.name: (tuple(r.output_shape), r.params) for r in a.layers}
    # The adds, the SE's product and the flatten are functions in torchvision, not modules.
    functional = {n for n, r in zip(ours, a.layers, strict=True) if r.kind in ("add", "multiply", "flatten")}
    assert set(ours) - functional == set(expected)
    for name, (shape, params) in expected.items():
        assert ours[name] == (shape, params), name
    assert a.output_shape == (1, 1000)
