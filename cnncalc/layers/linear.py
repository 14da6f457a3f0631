"""Fully connected layer."""

from __future__ import annotations

from .. import dims
from . import register
from ._base import WHOLE, Check, Int, Layer, Param, Shape, Window, rank_error, shape_text


@register
class Linear(Layer):
    """Affine map of the last axis: (N, ..., in) to (N, ..., out), as PyTorch's nn.Linear.

    Params: weight out*in, plus bias ``out`` when ``bias`` is true.
    MACs: rows*in*out, where rows = N*... is the number of vectors transformed.
    FLOPs: 2*MACs, plus rows*out bias additions when ``bias`` is true.
    """

    kind = "linear"
    prefix = "fc"

    out: Int
    bias: bool = True

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..testing import Case

        return st.builds(
            lambda lead, features, out, bias: Case(
                {cls.kind: {"out": out, "bias": bias}}, (*lead, features), (*lead, out)
            ),
            st.lists(st.integers(1, 3), min_size=1, max_size=3),
            st.integers(1, 12),
            st.integers(1, 9),
            st.booleans(),
        )

    def checks(self, x: Shape) -> list[Check]:
        if len(x) < 2:
            raise rank_error(self, "an input (N, features)", x)
        return []

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """On a 4-D input the last axis (W) is mixed whole; rows stay apart."""
        return (Window(1), WHOLE) if len(x) == 4 else None

    def lints(self, x: Shape, *, out: Shape) -> list[str]:
        axis = getattr(self, "axis", -1)
        if len(x) > 2 and axis in (-1, len(x) - 1) and dims.add(x[-1], -1) == 0:
            return [
                f"acts on the last axis of a rank-{len(x)} input {shape_text(x)}, which has size 1: "
                f"each output mixes one value; is a flatten missing before it?"
            ]
        return []

    def output_shape(self, x: Shape) -> Shape:
        return (*x[:-1], self.out)

    def weights(self, x: Shape) -> dict[str, Param]:
        w = {"weight": Param((self.out, x[-1]), "weight")}
        if self.bias:
            w["bias"] = Param((self.out,), "bias")
        return w

    def macs(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(dims.prod(x), self.out)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.add(dims.mul(2, self.macs(x, out=out)), dims.prod(out) if self.bias else 0)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Gemm (transB) on a matrix; MatMul by the transposed weight, then Add, on more axes."""
        if len(x) == 2:
            inputs = [g.inputs[0], g.weight("weight")] + ([g.weight("bias")] if self.bias else [])
            g.final("Gemm", inputs, {"transB": 1})
        elif self.bias:
            y = g.node("MatMul", [g.inputs[0], g.weight("weight", transpose=True)], {})
            g.final("Add", [y, g.weight("bias")], {})
        else:
            g.final("MatMul", [g.inputs[0], g.weight("weight", transpose=True)], {})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.dense import linear

        return linear(xs[0], weights["weight"], weights.get("bias"), out)
