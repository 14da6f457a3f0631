"""ConvNeXt's layer scale: a learned factor per channel on a residual branch."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import Check, Layer, Param, Shape
from ._registry import register


@register
class LayerScale(Layer):
    """Multiply by a learned factor per index of ``axis`` (default 1, the channels of NCHW),
    as ConvNeXt's ``self.layer_scale * x`` with a parameter of shape (C, 1, 1).

    The parameter ``layer_scale`` has the size of ``axis`` followed by a 1 for each later axis
    ((C, 1, 1) on (N, C, H, W); (C,) for the last axis), so that it broadcasts as torchvision's.
    Params: C. MACs: 0 (a scale, not a product that accumulates: torch's flop counter and
    torchvision's published ConvNeXt figures leave it out).
    FLOPs: 1 per element (a multiplication).
    """

    kind = "layer_scale"

    axis: int = 1

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
            axis = draw(st.integers(1, len(x) - 1))
            written = axis - len(x) if draw(st.booleans()) else axis
            return Case({cls.kind: {"axis": written}}, x, x)

        return build()

    def _axis(self, x: Shape) -> int:
        if not -len(x) <= self.axis < len(x):
            raise ShapeError(f"axis {self.axis} is out of range for a rank-{len(x)} input")
        axis = self.axis % len(x)
        if axis == 0:
            raise ShapeError(
                "axis 0 is the batch axis: a layer scale has one factor per channel (axis 1 or later)"
            )
        return axis

    def checks(self, x: Shape) -> list[Check]:
        self._axis(x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        return x

    def weights(self, x: Shape) -> dict[str, Param]:
        axis = self._axis(x)
        return {"layer_scale": Param((x[axis],) + (1,) * (len(x) - axis - 1), "weight")}

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.prod(x)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Mul by the parameter, which broadcasts as it is shaped."""
        g.final("Mul", [g.inputs[0], g.weight("layer_scale")], {})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.axes import scale_axis

        return scale_axis(xs[0], weights["layer_scale"], self.axis, out)
