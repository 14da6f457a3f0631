"""A learned tensor added to every image's (ViT's position embedding)."""

from __future__ import annotations

from ..core import dims
from ._base import Layer, Param, Shape, rank_error
from ._registry import register


@register
class PositionEmbedding(Layer):
    """Add a learned tensor of the input's shape without its batch axis, the same for every
    image, as ViT's ``x + pos_embedding`` with a parameter of shape (1, L, D).

    Params: the input's size without the batch axis (L*D on (N, L, D)). MACs: 0.
    FLOPs: 1 per element (an addition).
    """

    kind = "position_embedding"
    prefix = "pos_embedding"

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        return st.builds(
            lambda x: Case({cls.kind: None}, x, x),
            st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
        )

    def checks(self, x: Shape) -> list:
        if len(x) < 2:
            raise rank_error(self, "a batch of tensors (N, ...)", x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        return x

    def weights(self, x: Shape) -> dict[str, Param]:
        return {"embedding": Param((1, *x[1:]), "weight")}

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.prod(x)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Add", [g.inputs[0], g.weight("embedding")], {})

    def forward(self, xs, weights, out) -> int:
        from ._base import copy_checked

        return copy_checked(xs[0] + weights["embedding"], out)
