"""MobileNetV3-Large: torchvision's published figures, its module names, and torch's shapes at
odd sizes where torch is installed."""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec

from .helpers import SPECS

# torchvision 0.29.1, MobileNet_V3_Large_Weights.IMAGENET1K_V1 meta: num_params, _ops (GMACs)
PARAMS = 5_483_032
PUBLISHED_GMACS = 0.217


def _analyze(values=None):
    return analyze(load_spec(SPECS / "mobilenet_v3_large.yaml"), values)


def test_published_figures():
    a = _analyze()
    assert a.totals.params == PARAMS
    assert round(a.totals.macs / 1e9, 3) == PUBLISHED_GMACS
    assert a.output_shape == (1, 1000)
    assert a.warnings == ()


def test_blocks_without_expansion_or_se_shift_torchvisions_numbers():
    names = {r.name for r in _analyze().layers}
    # features.1 does not expand (16 -> 16): its depthwise convolution is block.0
    assert "features.1.block.0.0" in names and "features.1.block.1.0" in names
    assert "features.1.block.2.0" not in names
    # features.4 expands and has squeeze-and-excitation: block.2 is the SE, block.3 projects
    assert {"features.4.block.0.0", "features.4.block.2.fc1", "features.4.block.3.0"} <= names
    se = next(r for r in _analyze().layers if r.name == "features.4.block.2.fc1")
    # squeeze width make_divisible(72 // 4, 8) = 24 (18 + 4 = 22, 22 // 8 * 8 = 16 < 0.9 * 18,
    # so 16 + 8); fc1 is a 1x1 conv 72 -> 24 with bias
    assert se.params == 72 * 24 + 24


@pytest.mark.parametrize("size", [(97, 131), (33, 33)])
def test_against_torch_at_odd_sizes(size):
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    from torch.utils.flop_counter import FlopCounterMode

    model = tv.models.mobilenet_v3_large().eval()
    shapes = {}
    for name, module in model.named_modules():
        if name:
            module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, list(o.shape)))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, *size))
    a = _analyze({"H": size[0], "W": size[1]})
    assert a.totals.macs == counter.get_total_flops() // 2
    assert a.totals.params == sum(p.numel() for p in model.parameters())
    compared = 0
    for r in a.layers:
        if r.name in shapes:
            assert list(r.output_shape) == shapes[r.name], r.name
            compared += 1
    assert compared > 150
