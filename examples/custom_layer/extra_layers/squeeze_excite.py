"""Squeeze-and-excitation (Hu et al. 2018) as one layer, as torchvision's SqueezeExcitation."""

from __future__ import annotations

from typing import Any

from cnncalc import dims
from cnncalc.layers import WHOLE, Int, Layer, OutShapeError, Param, Shape, Window, register


@register
class SqueezeExcite(Layer):
    """Rescales each channel by a gate computed from the whole image.

    ``s = sigmoid(fc2(relu(fc1(mean over H, W of x))))`` with fc1: C -> ``squeeze`` and
    fc2: ``squeeze`` -> C (both with bias); the output is ``x * s``, same shape as x.

    Params: 2*C*squeeze + squeeze + C.
    MACs: 2*N*C*squeeze (the two fully connected layers; the final scaling is elementwise).
    FLOPs: 2*MACs + N*(2*C*H*W + 6*C + 2*squeeze): the mean (C*(H*W + 1)), the biases
    (squeeze + C), ReLU (squeeze), sigmoid (4*C) and the scaling (C*H*W).
    """

    kind = "squeeze_excite"
    prefix = "se"

    squeeze: Int

    def output_shape(self, x: Shape) -> Shape:
        return x

    def windows(self, x: Shape) -> tuple[Window, Window]:
        # Every output is scaled by a gate computed from the whole image.
        return (WHOLE, WHOLE)

    def weights(self, x: Shape) -> dict[str, Param]:
        c, s = x[1], self.squeeze
        return {
            "fc1.weight": Param((s, c), "weight"),
            "fc1.bias": Param((s,), "bias"),
            "fc2.weight": Param((c, s), "weight"),
            "fc2.bias": Param((c,), "bias"),
        }

    def macs(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(2, x[0], x[1], self.squeeze)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        n, c, h, w = x
        per_sample = dims.add(dims.mul(2, c, h, w), dims.mul(6, c), dims.mul(2, self.squeeze))
        return dims.add(dims.mul(2, self.macs(x, out=out)), dims.mul(n, per_sample))

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any) -> int:
        import numpy as np

        from cnncalc.kernels.dense import linear
        from cnncalc.kernels.pool import adaptive_avg_pool2d_nchw

        (x,) = xs
        if out.shape != x.shape:
            raise OutShapeError("out", out.shape, x.shape)
        n, c = x.shape[:2]
        s = weights["fc1.weight"].shape[0]
        pooled = np.empty((n, c, 1, 1), x.dtype)
        adaptive_avg_pool2d_nchw(x, pooled)
        hidden = np.empty((n, s), x.dtype)
        counted = linear(pooled.reshape(n, c), weights["fc1.weight"], weights["fc1.bias"], hidden)
        np.maximum(hidden, 0, out=hidden)
        gate = np.empty((n, c), x.dtype)
        counted += linear(hidden, weights["fc2.weight"], weights["fc2.bias"], gate)
        gate = 1 / (1 + np.exp(-gate))
        np.multiply(x, gate[:, :, None, None], out=out)
        return counted  # the kernels' own counts of the products they ran

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from cnncalc.testing import Case, shapes

        return st.builds(
            lambda x, s: Case({cls.kind: {"squeeze": s}}, x, x),
            shapes(max_side=5, max_channels=8),
            st.integers(1, 4),
        )
