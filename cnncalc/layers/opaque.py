"""A layer whose computation cnncalc does not know: only its output shape is declared."""

from __future__ import annotations

from ._base import WHOLE, Layer, Shape, Sizes, Window
from ._registry import register


@register
class Opaque(Layer):
    """An operator cnncalc has no layer kind for, kept in the graph by its output shape alone.

    ``cnncalc import --opaque`` writes one for each ONNX node it cannot map, ``op`` naming the
    operator (``Einsum``) and ``shape`` giving the output shape the model's own shape inference
    gives. It reads one tensor (the previous layer's, or ``from:``) or several (``inputs:``)
    and ignores their shapes.

    Params, MACs and FLOPs: unknown. They are not 0: the engine records them as ``None``, the
    reports show ``?``, and the totals count the other layers only, naming this one
    (``unknown_cost``). Its receptive field is the whole input (an unknown operator may read
    any position). Verification has no kernel to run for it: it feeds the layers after it
    a seeded random tensor of the declared shape and reports it as not verified.
    """

    kind = "opaque"
    arity = None
    min_inputs = 1
    cost_known = False

    shape: Sizes
    op: str | None = None

    @classmethod
    def examples(cls):
        """The declared shape is the oracle: any shape, after any input, one input or two."""
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        @st.composite
        def build(draw):
            x = draw(shapes())
            out = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
            op = draw(st.sampled_from(["Einsum", "NonMaxSuppression", "custom.Op"]))
            args = {"op": op, "shape": list(out)}
            if draw(st.booleans()):
                args["branches"] = [[], [{"relu": None}]]
            return Case({cls.kind: args}, x, out)

        return build()

    def output_shape(self, *xs: Shape) -> Shape:
        """The declared shape, whatever the inputs."""
        return tuple(self.shape)

    def windows(self, *xs: Shape) -> tuple[Window, Window]:
        """Receptive field: the whole input, the only bound an unknown operator allows (any
        output position may read any input position)."""
        return (WHOLE, WHOLE)

    def macs(self, *xs: Shape, out: Shape) -> None:
        """Unknown (the engine does not call the cost rules of a kind with ``cost_known`` False)."""
        return None

    def flops(self, *xs: Shape, out: Shape) -> None:
        """Unknown, as :meth:`macs`."""
        return None

    def forward(self, xs, weights, out) -> int:
        """There is no kernel: the computation is unknown. ``cnncalc verify`` does not call it;
        it fills the output with seeded random values instead."""
        raise NotImplementedError(
            f"an opaque layer ({self.op or 'an unknown operator'}) has no reference kernel"
        )
