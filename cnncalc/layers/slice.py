"""A range of one axis: ``x[:, 3:56]``, ``x[..., 0::2, :]``."""

from __future__ import annotations

from ..core import dims
from ._base import Check, Int, Layer, NonNegInt, Shape, Window, at_least, axis_index, copy_checked
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
    start: NonNegInt = 0
    end: Int
    step: Int = 1

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
        return axis_index(self.axis, x)

    def checks(self, x: Shape) -> list[Check]:
        size = x[self._axis(x)]
        start, end = self.start, self.end
        return [
            at_least(
                end, dims.add(start, 1), lambda: f"end {dims.fmt(end)} must be past start {dims.fmt(start)}"
            ),
            at_least(
                size, end, lambda: f"end {dims.fmt(end)} is past axis {self.axis}'s size {dims.fmt(size)}"
            ),
        ]

    def output_shape(self, x: Shape) -> Shape:
        axis = self._axis(x)
        taken = dims.ceildiv(dims.add(self.end, dims.mul(-1, self.start)), self.step)
        return (*x[:axis], taken, *x[axis + 1 :])

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """Along a spatial axis sliced, output position o is input position start + o*step."""
        axis = self._axis(x)
        if len(x) != 4 or axis < 2:
            return None
        return tuple(Window(1, self.step, self.start) if a == axis else Window(1) for a in (2, 3))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        starts, ends = g.const(g.ints([self.start])), g.const(g.ints([self.end]))
        axes, steps = g.const([self._axis(x)]), g.const(g.ints([self.step]))
        g.final("Slice", [g.inputs[0], starts, ends, axes, steps], {})

    def forward(self, xs, weights, out) -> int:
        (x,) = xs
        index = [slice(None)] * x.ndim
        index[self.axis % x.ndim] = slice(int(self.start), int(self.end), int(self.step))
        return copy_checked(x[tuple(index)], out)
