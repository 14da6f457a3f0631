"""Ceil-mode pooling is valid when PyTorch gives at least one output, not only when the window fits."""

from __future__ import annotations

import itertools

import pytest

from cnncalc.core.engine import analyze
from cnncalc.errors import ShapeError
from cnncalc.lang.spec import load_spec, parse_spec

from .helpers import SPECS


def one(size: int, layer: str):
    text = f"input: [1, 1, {size}, {size}]\nlayers:\n  - {layer}\n"
    return analyze(parse_spec(text, "pool.yaml")).layers[-1]


@pytest.mark.parametrize("kind", ["max_pool2d", "avg_pool2d"])
def test_ceil_mode_window_larger_than_input(kind):
    # 2x2 input, kernel 3, stride 2: ceil((2 - 3)/2) + 1 = 0 + 1 = 1 window, starting at 0 < 2
    r = one(2, f"{kind}: {{kernel: 3, stride: 2, ceil_mode: true}}")
    assert r.output_shape == (1, 1, 1, 1)


@pytest.mark.parametrize("kind", ["max_pool2d", "avg_pool2d"])
def test_ceil_mode_needs_one_window(kind):
    # 1x1 input, kernel 3, stride 2: ceil((1 - 3)/2) + 1 = -1 + 1 = 0 windows
    with pytest.raises(ShapeError, match="ceil mode needs one window along the height"):
        one(1, f"{kind}: {{kernel: 3, stride: 2, ceil_mode: true}}")


def test_floor_mode_still_needs_the_window_to_fit():
    # floor((2 - 3)/2) + 1 = -1 + 1 = 0
    with pytest.raises(ShapeError, match="window height 3 must fit"):
        one(2, "max_pool2d: {kernel: 3, stride: 2}")


def test_ceil_mode_with_padding_and_dilation():
    # 1x1 input, kernel 3 dilated by 2 (span 5), padding 1, stride 3:
    # ceil((1 + 2 - 5)/3) + 1 = ceil(-2/3) + 1 = 0 + 1 = 1 window, starting at -1 (in the pad)
    r = one(1, "max_pool2d: {kernel: 3, stride: 3, padding: 1, dilation: 2, ceil_mode: true}")
    assert r.output_shape == (1, 1, 1, 1)


def test_symbolic_ceil_mode_bound():
    text = (
        "symbols: {H: null}\ninput: [1, 1, H, H]\n"
        "layers:\n  - max_pool2d: {kernel: 3, stride: 2, ceil_mode: true}\n"
    )
    a = analyze(parse_spec(text, "pool.yaml"))
    # H + 2 - 1 >= 3
    assert [c.condition for c in a.constraints] == ["H >= 2"]


def test_googlenet_accepted_from_15_pixels():
    spec = load_spec(SPECS / "googlenet.yaml")
    # torchvision's googlenet min_size is 15
    assert analyze(spec, {"H": 15, "W": 15}).output_shape == (1, 1000)
    with pytest.raises(ShapeError, match="maxpool3"):
        analyze(spec, {"H": 14, "W": 15})
    assert "H >= 15" in [c.condition for c in analyze(spec, {"W": 224}, symbolic=True).constraints]


def _settings():
    for k, s in itertools.product(range(1, 5), range(1, 4)):
        for p in range(0, k // 2 + 1):
            yield k, s, p


def test_sweep_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    checked = 0
    for (k, s, p), size, kind in itertools.product(_settings(), range(1, 14), ("max", "avg")):
        layer = f"{kind}_pool2d: {{kernel: {k}, stride: {s}, padding: {p}, ceil_mode: true}}"
        fn = F.max_pool2d if kind == "max" else F.avg_pool2d
        try:
            expected = tuple(fn(torch.zeros(1, 1, size, size), k, s, p, ceil_mode=True).shape)
        except RuntimeError:
            expected = None
        try:
            got = one(size, layer).output_shape
        except ShapeError:
            got = None
        assert got == expected, (layer, size)
        checked += 1
    assert checked == 2 * 13 * len(list(_settings()))
