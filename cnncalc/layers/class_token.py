"""Learned tokens put before a sequence (ViT's class token)."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import Int, Layer, Param, Shape, rank_error
from ._registry import register


@register
class ClassToken(Layer):
    """``tokens`` learned vectors put before the sequence of tokens: (N, L, D) to
    (N, tokens + L, D), as ViT's ``torch.cat([class_token.expand(N, -1, -1), x], dim=1)``
    (DeiT adds a second, distillation token: ``tokens: 2``). Every image gets the same vectors.

    Params: tokens*D (a parameter of shape (1, tokens, D)). MACs: 0. FLOPs: 0 (a copy).
    """

    kind = "class_token"
    prefix = "token"

    tokens: Int = 1

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        return st.builds(
            lambda n, length, d, t: Case({cls.kind: {"tokens": t}}, (n, length, d), (n, length + t, d)),
            st.integers(1, 3),
            st.integers(1, 6),
            st.integers(1, 8),
            st.integers(1, 3),
        )

    def checks(self, x: Shape) -> list:
        if len(x) != 3:
            raise rank_error(self, "a sequence (N, L, D)", x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        if len(x) != 3:
            raise ShapeError(f"expects a sequence (N, L, D), got {dims.fmt_shape(x)}")
        return (x[0], dims.add(x[1], self.tokens), x[2])

    def weights(self, x: Shape) -> dict[str, Param]:
        return {"token": Param((1, self.tokens, x[2]), "weight")}

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """The parameter expanded to the batch (its size read from the input), then Concat."""
        shape = g.node("Shape", [g.inputs[0]], {})
        batch = g.node("Slice", [shape, g.const([0]), g.const([1])], {})
        target = g.node("Concat", [batch, g.const(g.ints([self.tokens, x[2]]))], {"axis": 0})
        tokens = g.node("Expand", [g.weight("token"), target], {})
        g.final("Concat", [tokens, g.inputs[0]], {"axis": 1})

    def forward(self, xs, weights, out) -> int:
        import numpy as np

        from ._base import copy_checked

        (x,) = xs
        tokens = np.broadcast_to(weights["token"], (x.shape[0], *weights["token"].shape[1:]))
        return copy_checked(np.concatenate([tokens, x], axis=1), out)
