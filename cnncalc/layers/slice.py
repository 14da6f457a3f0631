"""A range of one axis: ``x[:, 3:56]``, ``x[..., 0::2, :]``."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import Check, Layer, Shape, at_least, copy_checked
from ._registry import register


@register
class Slice(Layer):
    """Positions ``start``, ``start + step``, ... before ``end`` of axis ``axis``, as
    ``x.narrow`` or ``x[:, start:end:step]``: Swin's shifted windows roll a feature map by two
    slices put back together (a ``concat``), and its patch merging takes every second row and
    column (``step: 2``). ``start`` and ``end`` count from 0, ``end`` is past the last position
    taken (at most the axis's size) and ``step`` is at least 1.

    Params: none. MACs: 0. FLOPs: 0 (a view).
    """

    kind = "slice"

    axis: int
    start: int = 0
    end: int
    step: int = 1

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
            axis = draw(st.integers(0, len(x) - 1))
            start = draw(st.integers(0, x[axis] - 1))
            end = draw(st.integers(start + 1, x[axis]))
            step = draw(st.integers(1, 3))
            taken = len(range(start, end, step))
            args = {
                "axis": axis - len(x) if draw(st.booleans()) else axis,
                "start": start,
                "end": end,
                "step": step,
            }
            return Case({cls.kind: args}, x, (*x[:axis], taken, *x[axis + 1 :]))

        return build()

    def _axis(self, x: Shape) -> int:
        if not -len(x) <= self.axis < len(x):
            raise ShapeError(
                f"axis {self.axis} is out of range for the rank-{len(x)} input {dims.fmt_shape(x)}"
            )
        return self.axis % len(x)

    def checks(self, x: Shape) -> list[Check]:
        size = x[self._axis(x)]
        if self.start < 0 or self.step < 1 or self.end <= self.start:
            raise ShapeError(
                f"start {self.start}, end {self.end} and step {self.step} take nothing: write 0 <= start < "
                f"end and a step of 1 or more"
            )
        return [
            at_least(
                size, self.end, lambda: f"end {self.end} is past axis {self.axis}'s size {dims.fmt(size)}"
            )
        ]

    def output_shape(self, x: Shape) -> Shape:
        axis = self._axis(x)
        taken = (self.end - self.start + self.step - 1) // self.step
        return (*x[:axis], taken, *x[axis + 1 :])

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        starts, ends = g.const([self.start]), g.const([self.end])
        axes, steps = g.const([self._axis(x)]), g.const([self.step])
        g.final("Slice", [g.inputs[0], starts, ends, axes, steps], {})

    def forward(self, xs, weights, out) -> int:
        (x,) = xs
        index = [slice(None)] * x.ndim
        index[self.axis % x.ndim] = slice(self.start, self.end, self.step)
        return copy_checked(x[tuple(index)], out)
