"""One index of an axis, the axis removed: ``x[:, 0]``, ``qkv[1]``."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import WHOLE, Check, Layer, Shape, Window, at_least, axis_index, copy_checked
from ._registry import register


@register
class Select(Layer):
    """Index ``index`` of axis ``axis``, the axis removed, as ``x.select(axis, index)``:
    ViT's classifier reads ``x[:, 0]``, the class token, out of (N, 197, 768); attention's
    ``q, k, v = qkv[0], qkv[1], qkv[2]``. Negative values count from the end.

    Params: none. MACs: 0. FLOPs: 0 (a view).
    """

    kind = "select"

    axis: int
    index: int

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
            axis = draw(st.integers(0, len(x) - 1))
            index = draw(st.integers(0, x[axis] - 1))
            args = {
                "axis": axis - len(x) if draw(st.booleans()) else axis,
                "index": index - x[axis] if draw(st.booleans()) else index,
            }
            return Case({cls.kind: args}, x, x[:axis] + x[axis + 1 :])

        return build()

    def _axis(self, x: Shape) -> int:
        return axis_index(self.axis, x)

    def checks(self, x: Shape) -> list[Check]:
        size = x[self._axis(x)]
        if self.index >= 0:
            need, text = self.index + 1, f"index {self.index}"
        else:
            need, text = -self.index, f"index {self.index} (counted from the end)"
        return [
            at_least(
                size,
                need,
                lambda: f"{text} needs axis {self.axis} of size {need} or more, not {dims.fmt(size)}",
            )
        ]

    def output_shape(self, x: Shape) -> Shape:
        axis = self._axis(x)
        if len(x) == 1:
            raise ShapeError("select removes an axis, and the input has only one: nothing would be left")
        return x[:axis] + x[axis + 1 :]

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """Selecting along a spatial axis removes it: the receptive field is not followed past it
        (the whole input, the bound an unknown reading allows)."""
        return (WHOLE, WHOLE) if len(x) == 4 and self._axis(x) >= 2 else None

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Gather", [g.inputs[0], g.const(self.index)], {"axis": self._axis(x)})

    def forward(self, xs, weights, out) -> int:
        import numpy as np

        return copy_checked(np.take(xs[0], self.index, axis=self.axis), out)
