"""A product by a fixed number (attention's 1/sqrt(d))."""

from __future__ import annotations

from ..core import dims
from ._base import Layer, Shape, copy_checked
from ._registry import register


@register
class Scale(Layer):
    """Multiply every element by the number ``factor``, as ``x * factor``: attention scales its
    scores by 1/sqrt(d) (torch's exporter writes it as a factor d^(-1/4) on q and on k).

    Params: none (the factor is fixed, not learned). MACs: 0 (a scale, not a product that
    accumulates). FLOPs: 1 per element (a multiplication).
    """

    kind = "scale"

    factor: float

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        return st.builds(
            lambda x, f: Case({cls.kind: {"factor": f}}, tuple(x), tuple(x)),
            st.lists(st.integers(1, 5), min_size=1, max_size=4),
            st.sampled_from([0.125, 0.5, 2.0, -1.0]),
        )

    def output_shape(self, x: Shape) -> Shape:
        return x

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.prod(x)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Mul", [g.inputs[0], g.scalar(self.factor)], {})

    def forward(self, xs, weights, out) -> int:
        return copy_checked(xs[0] * xs[0].dtype.type(self.factor), out)
