"""A tensor of fixed values added (Swin's attention mask)."""

from __future__ import annotations

from ..core import dims
from ._base import Check, Layer, Shape, Sizes, broadcast_checks, copy_checked
from ._registry import register


@register
class AddConstant(Layer):
    """Add a tensor of fixed values (not learned) of shape ``shape``, broadcast over the input
    by NumPy's rules: Swin's shifted-window attention adds a mask of shape
    (1, windows, 1, 49, 49) to its scores, computed from the image's size alone. The values do
    not change a count, and the spec does not hold them (verification adds zeros).

    The output has the input's shape: each axis of ``shape`` (aligned from the last) is 1 or
    the input's size.
    Params: none. MACs: 0. FLOPs: 1 per element (an addition).
    """

    kind = "add_constant"

    shape: Sizes

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
            kept = draw(st.integers(0, len(x)))
            shape = [d if draw(st.booleans()) else 1 for d in x[len(x) - kept :]] or [1]
            return Case({cls.kind: {"shape": shape}}, x, x)

        return build()

    def checks(self, x: Shape) -> list[Check]:
        return broadcast_checks("the constant", self.shape, x)

    def output_shape(self, x: Shape) -> Shape:
        return x

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.prod(x)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Add of zeros of the constant's shape (the values are not kept)."""
        zeros = g.node("Expand", [g.scalar(0.0), g.const(g.ints(self.shape))], {})
        g.final("Add", [g.inputs[0], zeros], {})

    def forward(self, xs, weights, out) -> int:
        return copy_checked(xs[0] + 0, out)
