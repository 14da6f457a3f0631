"""Normalisation layers: batch norm (inference) and local response normalisation."""

from __future__ import annotations

from typing import Annotated

from ..core import dims
from ._base import Check, Int, Layer, Param, Shape, rank_error
from ._fields import Range
from ._registry import register


@register
class BatchNorm2d(Layer):
    """Per-channel normalisation of (N, C, H, W) with running statistics (inference form).

    Params: weight and bias C each when ``affine`` (role ``norm``); buffers running_mean and
    running_var, C each (not parameters).
    MACs: 0. FLOPs: 2 per element (the folded scale and shift, x*a + b).
    """

    kind = "batch_norm2d"
    prefix = "bn"

    eps: Annotated[float, Range(gt=0)] = 1e-5
    affine: bool = True

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        return st.builds(
            lambda x, affine: Case({cls.kind: {"affine": affine}}, x, x), shapes(), st.booleans()
        )

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        return x

    def weights(self, x: Shape) -> dict[str, Param]:
        c = x[1]
        w = {}
        if self.affine:
            w["weight"] = Param((c,), "norm")
            w["bias"] = Param((c,), "norm")
        w["running_mean"] = Param((c,), "buffer")
        w["running_var"] = Param((c,), "buffer", "positive")
        return w

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(2, dims.prod(x))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """BatchNormalization; without ``affine`` the scale and shift are constants 1 and 0."""
        if self.affine:
            scale, shift = g.weight("weight"), g.weight("bias")
        else:
            c = g.int(x[1])
            scale, shift = g.const([1.0] * c, "float"), g.const([0.0] * c, "float")
        inputs = [g.inputs[0], scale, shift, g.weight("running_mean"), g.weight("running_var")]
        g.final("BatchNormalization", inputs, {"epsilon": self.eps})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.norm import batch_norm2d_nchw

        return batch_norm2d_nchw(
            xs[0],
            weights.get("weight"),
            weights.get("bias"),
            weights["running_mean"],
            weights["running_var"],
            self.eps,
            out,
        )


@register
class LocalResponseNorm(Layer):
    """AlexNet's normalisation across ``size`` neighbouring channels (PyTorch semantics).

    y = x / (k + alpha/size * sum of x^2 over the channel window)^beta.
    Params: none. MACs: 0.
    FLOPs: (size + 4) per element: a square, size - 1 additions for the window sum, then a
    multiplication, an addition, a power and a division.
    """

    kind = "local_response_norm"
    prefix = "lrn"

    size: Int
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        return st.builds(
            lambda x, size: Case({cls.kind: {"size": size, "k": 2}}, x, x), shapes(), st.integers(1, 7)
        )

    def checks(self, x: Shape) -> list[Check]:
        if len(x) < 3:
            raise rank_error(self, "an input (N, C, ...)", x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        return x

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(dims.add(self.size, 4), dims.prod(x))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        if g.int(self.size) % 2 == 0:
            g.refuse(
                f"size {g.int(self.size)} is even: ONNX's LRN puts the extra channel of an even "
                f"window after the centre, PyTorch's before (and onnxruntime takes odd sizes only)"
            )
        attrs = {"size": g.int(self.size), "alpha": self.alpha, "beta": self.beta, "bias": self.k}
        g.final("LRN", [g.inputs[0]], attrs)

    def forward(self, xs, weights, out) -> int:
        from ..kernels.norm import local_response_norm_nchw

        return local_response_norm_nchw(xs[0], self.size, self.alpha, self.beta, self.k, out)
