"""Fully connected layer."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import WHOLE, Check, Int, Layer, Param, Shape, Window, rank_error, shape_text
from ._registry import register


@register
class Linear(Layer):
    """Affine map of one axis, the last by default: (N, ..., in) to (N, ..., out), as
    PyTorch's nn.Linear; ``axis: 1`` maps the channels of (N, C, H, W) at every position (a 1x1
    convolution's arithmetic). On an input of more than two axes with no ``axis`` written, a
    warning says that the last axis is mapped and names the fixes: a flatten before it, a 1x1
    convolution, or ``axis: -1`` when the last axis is meant (channels-last features).

    Params: weight out*in, plus bias ``out`` when ``bias`` is true (in = the size of ``axis``).
    MACs: rows*in*out, where rows is the product of the other axes (the vectors transformed).
    FLOPs: 2*MACs, plus rows*out bias additions when ``bias`` is true.
    """

    kind = "linear"
    prefix = "fc"

    out: Int
    bias: bool = True
    axis: int | None = None  # None: the last axis, unsaid

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
            axis = draw(st.sampled_from([-1, -1, *range(1, len(x))]))
            x[axis] = draw(st.integers(1, 12))
            out = draw(st.integers(1, 9))
            expected = list(x)
            expected[axis] = out
            args = {"out": out, "bias": draw(st.booleans())}
            if axis != -1:
                # the same axis counted from either end
                args["axis"] = axis - len(x) if draw(st.booleans()) else axis
            return Case({cls.kind: args}, tuple(x), tuple(expected))

        return build()

    def _axis(self, x: Shape) -> int:
        axis = -1 if self.axis is None else self.axis
        if not -len(x) <= axis < len(x):
            raise ShapeError(f"axis {axis} is out of range for a rank-{len(x)} input")
        return axis % len(x)

    def describe(self) -> str:
        return super().describe().replace("axis=None", "axis=last")

    def checks(self, x: Shape) -> list[Check]:
        if len(x) < 2:
            raise rank_error(self, "an input (N, features)", x)
        if self._axis(x) == 0:
            raise ShapeError("axis 0 is the batch axis: a linear layer maps features, axis 1 or later")
        return []

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """On a 4-D input a spatial axis transformed (W by default) is mixed whole; rows and
        the other axis stay apart. Over the channels, each position reads only itself."""
        if len(x) != 4:
            return None
        axis = self._axis(x)
        return tuple(WHOLE if axis == a else Window(1) for a in (2, 3)) if axis >= 2 else None

    def lints(self, x: Shape, *, out: Shape) -> list[str]:
        axis = getattr(self, "axis", None)
        if len(x) > 2 and axis in (-1, None, len(x) - 1) and dims.add(x[-1], -1) == 0:
            return [
                f"acts on the last axis of a rank-{len(x)} input {shape_text(x)}, which has size 1: "
                f"each output mixes one value; is a flatten missing before it?"
            ]
        if len(x) > 2 and axis is None:
            return [
                f"acts on the last axis of a rank-{len(x)} input {shape_text(x)} (size "
                f"{dims.fmt(x[-1])}), each of the other positions apart; add a flatten before it "
                f"to map the whole tensor, or use a 1x1 conv2d to map the channels (or write "
                f"axis: -1 if the last axis is meant)"
            ]
        return []

    def output_shape(self, x: Shape) -> Shape:
        out = list(x)
        out[self._axis(x)] = self.out
        return tuple(out)

    def weights(self, x: Shape) -> dict[str, Param]:
        w = {"weight": Param((self.out, x[self._axis(x)]), "weight")}
        if self.bias:
            w["bias"] = Param((self.out,), "bias")
        return w

    def macs(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(dims.prod(x), self.out)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.add(dims.mul(2, self.macs(x, out=out)), dims.prod(out) if self.bias else 0)

    def workspace(self, x: Shape, *, out: Shape) -> dims.Dim:
        """Over another axis than the last, the input and the output moved to put it last."""
        return 0 if self._axis(x) == len(x) - 1 else dims.add(dims.prod(x), dims.prod(out))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Gemm (transB) on a matrix; MatMul by the transposed weight, then Add, on more axes;
        over another axis than the last, between two Transposes moving it last and back."""
        axis = self._axis(x)
        if axis != len(x) - 1:
            last = [d for d in range(len(x)) if d != axis] + [axis]
            back = [last.index(d) for d in range(len(x))]
            moved = g.node("Transpose", [g.inputs[0]], {"perm": last})
            y = g.node("MatMul", [moved, g.weight("weight", transpose=True)], {})
            if self.bias:
                y = g.node("Add", [y, g.weight("bias")], {})
            g.final("Transpose", [y], {"perm": back})
        elif len(x) == 2:
            inputs = [g.inputs[0], g.weight("weight")] + ([g.weight("bias")] if self.bias else [])
            g.final("Gemm", inputs, {"transB": 1})
        elif self.bias:
            y = g.node("MatMul", [g.inputs[0], g.weight("weight", transpose=True)], {})
            g.final("Add", [y, g.weight("bias")], {})
        else:
            g.final("MatMul", [g.inputs[0], g.weight("weight", transpose=True)], {})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.dense import linear

        return linear(xs[0], weights["weight"], weights.get("bias"), out, self._axis(xs[0].shape))
