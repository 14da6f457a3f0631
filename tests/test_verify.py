"""Verification by execution: every bundled spec runs, and a wrong formula is caught."""

from __future__ import annotations

import json

import pytest

from cnncalc import dims
from cnncalc.engine import analyze
from cnncalc.layers import REGISTRY, register
from cnncalc.layers._base import Int, Layer, Param
from cnncalc.spec import load_spec, parse_spec
from cnncalc.verify import estimate_memory, verify

from .helpers import SPECS, all_specs, small_values


@pytest.mark.parametrize("path", all_specs(), ids=lambda p: str(p.relative_to(SPECS)))
def test_every_spec_verifies_at_a_small_size(path):
    spec = load_spec(path)
    a = analyze(spec, small_values(spec))
    v = verify(a, seed=1)
    assert v.ok, [
        (c.name, c.error, c.predicted_shape, c.observed_shape, c.predicted_macs, c.counted_macs)
        for c in v.failures
    ]
    assert len(v.layers) == len(a.layers)
    # The kernels' own MAC counters add up to the published-style total.
    assert sum(c.counted_macs for c in v.layers) == a.totals.macs


def test_worked_example_counts(run_cli):
    # 6x6 image, one 3x3 filter: 16 outputs of 9 multiply-accumulates each.
    code, out, _ = run_cli("verify", "edge_detection", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["ok"] is True
    (layer,) = d["layers"]
    assert layer["observed_shape"] == [1, 1, 4, 4]
    assert layer["counted_macs"] == 4 * 4 * 3 * 3
    assert layer["allocated_params"] == 3 * 3


@pytest.fixture
def broken_layers():
    """Two layers with deliberately wrong rules, registered for one test."""

    @register
    class OffByOneMacs(Layer):
        """A 1x1 convolution whose MAC formula forgets one output position.

        MACs: wrong on purpose. FLOPs: 2*MACs.
        """

        kind = "test_off_by_one_macs"
        out: Int

        def output_shape(self, x):
            return (x[0], self.out, x[2], x[3])

        def weights(self, x):
            return {"weight": Param((self.out, x[1], 1, 1), "weight")}

        def macs(self, x, *, out):
            return dims.mul(dims.add(dims.prod(out), -1), x[1])

        def flops(self, x, *, out):
            return dims.mul(2, self.macs(x, out=out))

        def forward(self, xs, weights, out):
            from cnncalc.kernels.conv import conv2d_nchw

            return conv2d_nchw(xs[0], weights["weight"], None, out)

    @register
    class WrongShape(Layer):
        """A 3x3 valid convolution that forgets to shrink its output.

        MACs: as conv2d. FLOPs: 2*MACs.
        """

        kind = "test_wrong_shape"
        out: Int

        def output_shape(self, x):
            return (x[0], self.out, x[2], x[3])

        def weights(self, x):
            return {"weight": Param((self.out, x[1], 3, 3), "weight")}

        def macs(self, x, *, out):
            return dims.mul(dims.prod(out), x[1], 9)

        def flops(self, x, *, out):
            return dims.mul(2, self.macs(x, out=out))

        def forward(self, xs, weights, out):
            from cnncalc.kernels.conv import conv2d_nchw

            return conv2d_nchw(xs[0], weights["weight"], None, out)

    yield
    del REGISTRY["test_off_by_one_macs"], REGISTRY["test_wrong_shape"]


def test_wrong_formulas_are_caught(broken_layers, tmp_path, run_cli):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "input: [1, 3, 8, 8]\nlayers:\n  - test_off_by_one_macs: {out: 4}\n"
        "  - test_wrong_shape: {out: 2}\n  - relu\n"
    )
    v = verify(analyze(load_spec(path)))
    assert not v.ok
    macs, shape, relu = v.layers
    assert (macs.predicted_macs, macs.counted_macs) == ((4 * 8 * 8 - 1) * 3, 4 * 8 * 8 * 3)
    assert (shape.predicted_shape, shape.observed_shape) == ((1, 2, 8, 8), (1, 2, 6, 6))
    assert relu.ok
    code, out, _ = run_cli("verify", str(path))
    assert code == 1
    assert "2 of 3 layers disagree" in out
    assert "MACs predicted 765, kernel counted 768" in out
    assert "shape predicted [1, 2, 8, 8], kernel gives [1, 2, 6, 6]" in out


def test_memory_budget_refuses_with_sizes_that_fit(run_cli):
    code, out, err = run_cli("verify", "vgg16", "--set", "H=4096", "W=4096", "--memory-budget", "1GiB")
    assert code == 2 and out == ""
    assert "over the budget of 1.0 GiB" in err
    assert "the largest tensor is the output of 'conv1.0.conv', [1, 64, 4096, 4096] = 4.0 GiB" in err
    assert "Sizes that fit: --set N=1 H=" in err


def test_memory_estimate_counts_what_is_live():
    # input 1x1x8x8 (64), conv to 4x8x8 (256) with a 3x3 im2col of 9*64 and a padded copy of
    # 10*10, then relu: peak = 64 + 256 + 100 + 576 = 996, plus 4*9 + 4 weights.
    spec = parse_spec("input: [1, 1, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3, padding: 1}\n  - relu\n")
    est = estimate_memory(analyze(spec))
    assert est.peak_bytes == (64 + 256 + 100 + 576 + 36 + 4) * 4
    assert est.largest_shape == (1, 4, 8, 8)


def test_open_symbols_need_values(run_cli):
    code, _, err = run_cli("verify", "standard_3x3")
    assert code == 2
    assert "give M, N a value with --set" in err
