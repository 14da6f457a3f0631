"""Flatten a range of axes into one."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import WHOLE, Layer, Shape, Window, copy_checked
from ._registry import register


@register
class Flatten(Layer):
    """Merge axes ``start`` to ``end`` (inclusive, negative counts from the end) into one.

    The default (1 to -1) turns (N, C, H, W) into (N, C*H*W), as PyTorch's nn.Flatten.
    Params: none. MACs: 0. FLOPs: 0 (a view).
    """

    kind = "flatten"

    start: int = 1
    end: int = -1

    @classmethod
    def examples(cls):
        import math

        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)))
            start = draw(st.integers(0, len(x) - 1))
            end = draw(st.integers(start, len(x) - 1))
            expected = (*x[:start], math.prod(x[start : end + 1]), *x[end + 1 :])
            end_arg = end - len(x) if draw(st.booleans()) else end  # negative axes too
            return Case({cls.kind: {"start": start, "end": end_arg}}, x, expected)

        return build()

    def output_shape(self, x: Shape) -> Shape:
        start = self.start + len(x) if self.start < 0 else self.start
        end = self.end + len(x) if self.end < 0 else self.end
        if not (0 <= start < len(x) and 0 <= end < len(x)) or start > end:
            raise ShapeError(f"cannot flatten axes {self.start} to {self.end} of a rank-{len(x)} input")
        return (*x[:start], dims.prod(x[start : end + 1]), *x[end + 1 :])

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """Flattening a spatial axis makes every output read the whole of it."""
        if len(x) != 4:
            return None
        start = self.start % 4
        end = self.end % 4
        return tuple(WHOLE if start <= axis <= end and start < end else Window(1) for axis in (2, 3))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """ONNX Flatten keeps the axes before ``axis`` merged into one: it is this layer for
        start 1 to the end; other ranges are a Reshape to the output size."""
        if self.start % len(x) == 1 and self.end % len(x) == len(x) - 1:
            g.final("Flatten", [g.inputs[0]], {"axis": 1})
        else:
            g.final("Reshape", [g.inputs[0], g.const(g.ints(out))], {})

    def forward(self, xs, weights, out) -> int:
        (x,) = xs
        start = self.start % x.ndim
        end = self.end % x.ndim
        return copy_checked(x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :]), out)
