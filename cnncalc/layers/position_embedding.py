"""A learned tensor added to every image's (ViT's position embedding, a relative position bias)."""

from __future__ import annotations

from ..core import dims
from ._base import Check, Layer, Param, Shape, Sizes, broadcast_checks, rank_error
from ._registry import register


@register
class PositionEmbedding(Layer):
    """Add a learned tensor, the same for every image: by default of the input's shape without
    its batch axis, as ViT's ``x + pos_embedding`` with a parameter of shape (1, L, D). With
    ``shape``, the parameter has that shape and broadcasts to the input by NumPy's rules (aligned
    from the last axis, each of its sizes 1 or the input's): a relative position bias of shape
    (1, heads, 49, 49) added to the attention scores of every window.

    Params: the parameter's size (L*D on (N, L, D) by default). MACs: 0.
    FLOPs: 1 per element of the input (an addition).
    """

    kind = "position_embedding"
    prefix = "pos_embedding"

    shape: Sizes | None = None

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
            if draw(st.booleans()):
                return Case({cls.kind: None}, x, x)
            kept = draw(st.integers(1, len(x)))
            shape = [d if draw(st.booleans()) else 1 for d in x[len(x) - kept :]]
            return Case({cls.kind: {"shape": shape}}, x, x)

        return build()

    def _parameter(self, x: Shape) -> Shape:
        return (1, *x[1:]) if self.shape is None else tuple(self.shape)

    def checks(self, x: Shape) -> list[Check]:
        if len(x) < 2:
            raise rank_error(self, "a batch of tensors (N, ...)", x)
        return broadcast_checks("the parameter", self._parameter(x), x)

    def output_shape(self, x: Shape) -> Shape:
        return x

    def weights(self, x: Shape) -> dict[str, Param]:
        return {"embedding": Param(self._parameter(x), "weight")}

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.prod(x)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Add", [g.inputs[0], g.weight("embedding")], {})

    def forward(self, xs, weights, out) -> int:
        from ._base import copy_checked

        return copy_checked(xs[0] + weights["embedding"], out)
