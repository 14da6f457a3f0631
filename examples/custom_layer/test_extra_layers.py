"""Tests of the two custom layers, written with cnncalc.testing.

Run them from this directory with ``python -m pytest`` (cnncalc installed), or from the root
of the cnncalc repository with ``python -m pytest examples/custom_layer``.
"""

from __future__ import annotations

import numpy as np
import pytest
from extra_layers import SpaceToDepth, SqueezeExcite
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc import dims
from cnncalc.layers import REGISTRY, Int, Layer, Param, Window, register
from cnncalc.testing import Case, ContractFailure, cases, check_layer, contract_test, networks

# The contract (symbolic rules = rules on integers = the kernel's shape, MACs and weights) on
# configurations drawn by each layer's examples(): one line per layer.
test_space_to_depth_contract = contract_test(SpaceToDepth, max_examples=25)
test_squeeze_excite_contract = contract_test(SqueezeExcite, max_examples=25)


# The same layers inside whole random networks (convolutions, pools, residual and concat
# blocks built backwards to the layer's input, and more layers after it).
@settings(max_examples=10, deadline=None)
@given(case=networks(around=cases("space_to_depth") | cases("squeeze_excite"), max_layers=3))
def test_inside_random_networks(case):
    check_layer(case)


# The kernels' values, against formulations written independently (loops and plain NumPy).
def test_space_to_depth_moves_each_pixel_to_its_channel():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 6)).astype(np.float32)
    out = np.empty((2, 3 * 2 * 2, 2, 3), np.float32)
    layer, _ = SpaceToDepth(block=2).bind({})  # arguments evaluated, as the engine calls it
    assert layer.forward([x], {}, out) == 0
    for n, c, y, z, i, j in np.ndindex(2, 3, 2, 3, 2, 2):
        assert out[n, c * 4 + i * 2 + j, y, z] == x[n, c, 2 * y + i, 2 * z + j]


def test_squeeze_excite_values_and_count():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3, 4)).astype(np.float32)
    w = {
        "fc1.weight": rng.standard_normal((2, 5)).astype(np.float32),
        "fc1.bias": rng.standard_normal(2).astype(np.float32),
        "fc2.weight": rng.standard_normal((5, 2)).astype(np.float32),
        "fc2.bias": rng.standard_normal(5).astype(np.float32),
    }
    out = np.empty_like(x)
    layer, _ = SqueezeExcite(squeeze=2).bind({})
    counted = layer.forward([x], w, out)
    assert counted == 2 * (5 * 2) + 2 * (2 * 5)  # two samples through 5x2 and 2x5 products
    mean = x.astype(np.float64).mean(axis=(2, 3))
    hidden = np.maximum(mean @ w["fc1.weight"].T + w["fc1.bias"], 0)
    gate = 1 / (1 + np.exp(-(hidden @ w["fc2.weight"].T + w["fc2.bias"])))
    np.testing.assert_allclose(out, x * gate[:, :, None, None], rtol=1e-5, atol=1e-6)


# -------------------------------------------------------------------------------------------
# A deliberately wrong rule, and the toolkit catching it.


class SlippedPatchify(Layer):
    """A patch embedding: a convolution with kernel ``patch`` and stride ``stride``, no padding,
    whose shape rule has a slip: the stride-1 size ``H - patch + 1`` divided by the stride,
    instead of ``floor((H - patch)/stride) + 1``. Right at stride 1; at stride 2 or more,
    wrong whenever the stride does not divide ``H - patch + 1``.

    MACs: N*out*H_out*W_out*C*patch*patch. FLOPs: 2*MACs.
    """

    kind = "slipped_patchify"

    out: Int
    patch: Int
    stride: Int = 1

    def output_shape(self, x):
        size = [dims.floordiv(dims.add(s, -self.patch, 1), self.stride) for s in x[2:]]  # the slip
        return (x[0], self.out, *size)

    def windows(self, x):
        return (Window(self.patch, self.stride, 0), Window(self.patch, self.stride, 0))

    def weights(self, x):
        return {"weight": Param((self.out, x[1], self.patch, self.patch), "weight")}

    def macs(self, x, *, out):
        return dims.mul(dims.prod(out), x[1], self.patch, self.patch)

    def flops(self, x, *, out):
        return dims.mul(2, self.macs(x, out=out))

    def forward(self, xs, weights, out):
        from cnncalc.kernels.conv import conv2d_nchw

        return conv2d_nchw(xs[0], weights["weight"], None, out, stride=int(self.stride))

    @classmethod
    def examples(cls):
        # Built backwards from the output size, so the expected shape is known without the
        # formula: out windows of the stride, the patch, and a rest the last window leaves.
        @st.composite
        def build(draw):
            patch, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            outs = [draw(st.integers(1, 3)) for _ in "hw"]
            sizes = [(o - 1) * stride + patch + draw(st.integers(0, stride - 1)) for o in outs]
            entry = {cls.kind: {"out": 2, "patch": patch, "stride": stride}}
            return Case(entry, (1, 1, *sizes), (1, 2, *outs))

        return build()


@pytest.fixture
def slipped():
    register(SlippedPatchify)
    yield SlippedPatchify
    REGISTRY.pop(SlippedPatchify.kind)


def test_the_slip_is_caught_with_a_small_counterexample(slipped):
    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(case=cases(slipped))
    def search(case):
        check_layer(case)

    with pytest.raises(ContractFailure) as caught:
        search()
    failure = caught.value
    print(failure)  # shown with pytest -s: the shrunk configuration and what disagrees
    assert failure.case.entry["slipped_patchify"]["stride"] == 2  # stride 1 is always right
    assert max(failure.case.input_shape) <= 3
    # Stride 2 on a 1x1 input: (1 - 1 + 1)//2 = 0 rows, an impossible size, where the
    # configuration was built for 1.
    assert any("is impossible" in p and "built for [1, 2, 1, 1]" in p for p in failure.problems)


def test_the_slip_passes_at_stride_1(slipped):
    # Stride 1 alone: the slip is invisible, which is why the strategy must draw strides.
    for size in range(1, 6):
        case = Case({"slipped_patchify": {"out": 2, "patch": 1}}, (1, 1, size, size), (1, 2, size, size))
        check_layer(case)
