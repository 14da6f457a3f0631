"""Elementwise activations, softmax, dropout, stochastic depth and identity.

Each is a map of one tensor to a tensor of the same shape. FLOPs count the elementary
operations per element (a comparison, addition, multiplication, division, exp, erf or tanh is
one FLOP each); MACs are zero.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from ..core import dims
from ..errors import ShapeError
from ._base import WHOLE, Layer, Shape, Window, copy_checked
from ._fields import Range
from ._registry import register


class Elementwise(Layer):
    """Base of the activations: same shape out, ``per_element`` FLOPs per element."""

    per_element: ClassVar[int] = 1
    #: The function of cnncalc.kernels.elementwise that computes it (None: a copy).
    kernel_name: ClassVar[str | None] = None
    #: The ONNX operator computing it alone (None: the kind writes its own ``to_onnx``).
    onnx_op: ClassVar[str | None] = None

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        return st.lists(st.integers(1, 5), min_size=1, max_size=4).map(
            lambda x: Case({cls.kind: None}, tuple(x), tuple(x))
        )

    def forward(self, xs, weights, out) -> int:
        if self.kernel_name is None:
            return copy_checked(xs[0], out)
        from ..kernels import elementwise

        return getattr(elementwise, self.kernel_name)(xs[0], out)

    def output_shape(self, x: Shape) -> Shape:
        return x

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(self.per_element, dims.prod(x))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        if self.onnx_op is None:
            raise NotImplementedError
        g.final(self.onnx_op, [g.inputs[0]], {})


@register
class ReLU(Elementwise):
    """max(0, x). Params: none. MACs: 0. FLOPs: 1 per element (one comparison)."""

    kind = "relu"
    kernel_name = "relu"
    onnx_op = "Relu"
    per_element = 1


@register
class ReLU6(Elementwise):
    """min(max(0, x), 6). Params: none. MACs: 0. FLOPs: 2 per element (two comparisons)."""

    kind = "relu6"
    kernel_name = "relu6"
    per_element = 2

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Clip", [g.inputs[0], g.scalar(0.0), g.scalar(6.0)], {})


@register
class LeakyReLU(Elementwise):
    """x if x > 0 else negative_slope*x.

    Params: none. MACs: 0. FLOPs: 2 per element (a comparison and a multiplication).
    """

    kind = "leaky_relu"
    prefix = "lrelu"
    per_element = 2

    negative_slope: float = 0.01

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("LeakyRelu", [g.inputs[0]], {"alpha": self.negative_slope})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.elementwise import leaky_relu

        return leaky_relu(xs[0], out, self.negative_slope)


@register
class Sigmoid(Elementwise):
    """1 / (1 + exp(-x)).

    Params: none. MACs: 0. FLOPs: 4 per element (negation, exp, addition, division).
    """

    kind = "sigmoid"
    kernel_name = "sigmoid"
    onnx_op = "Sigmoid"
    per_element = 4


@register
class Tanh(Elementwise):
    """tanh(x). Params: none. MACs: 0. FLOPs: 1 per element."""

    kind = "tanh"
    kernel_name = "tanh"
    onnx_op = "Tanh"
    per_element = 1


@register
class HardSigmoid(Elementwise):
    """relu6(x + 3) / 6 (PyTorch's hardsigmoid).

    Params: none. MACs: 0. FLOPs: 4 per element (addition, two comparisons, division).
    """

    kind = "hardsigmoid"
    kernel_name = "hardsigmoid"
    per_element = 4

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("HardSigmoid", [g.inputs[0]], {"alpha": 1 / 6, "beta": 0.5})


@register
class HardSwish(Elementwise):
    """x * relu6(x + 3) / 6 (MobileNet v3).

    Params: none. MACs: 0. FLOPs: 5 per element (hardsigmoid's 4 and a multiplication).
    """

    kind = "hardswish"
    kernel_name = "hardswish"
    per_element = 5

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        if g.opset < 14:
            g.refuse(f"hardswish needs opset 14 or later (HardSwish); asked for {g.opset}")
        g.final("HardSwish", [g.inputs[0]], {})


@register
class SiLU(Elementwise):
    """x * sigmoid(x), also called swish.

    Params: none. MACs: 0. FLOPs: 5 per element (sigmoid's 4 and a multiplication).
    """

    kind = "silu"
    kernel_name = "silu"
    per_element = 5

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        gate = g.node("Sigmoid", [g.inputs[0]], {})
        g.final("Mul", [g.inputs[0], gate], {})


@register
class GELU(Elementwise):
    """x * (1 + erf(x / sqrt(2))) / 2, the exact form (PyTorch's default).

    Params: none. MACs: 0. FLOPs: 5 per element (division, erf, addition, two multiplications).
    """

    kind = "gelu"
    kernel_name = "gelu"
    per_element = 5

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Gelu from opset 20; before it, x * (1 + erf(x / sqrt(2))) / 2 in five nodes."""
        if g.opset >= 20:
            g.final("Gelu", [g.inputs[0]], {})
            return
        (source,) = g.inputs
        scaled = g.node("Div", [source, g.scalar(2**0.5)], {})
        shifted = g.node("Add", [g.node("Erf", [scaled], {}), g.scalar(1.0)], {})
        half = g.node("Mul", [source, g.scalar(0.5)], {})
        g.final("Mul", [half, shifted], {})


@register
class Softmax(Elementwise):
    """exp(x) / sum(exp(x)) along axis ``dim`` (default 1, the channels or features).

    Params: none. MACs: 0. FLOPs: 3 per element (exp, addition into the sum, division); the
    maximum subtracted for numerical stability is not counted.
    """

    kind = "softmax"
    per_element = 3

    dim: int = 1

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
            dim = draw(st.integers(-len(x), len(x) - 1))
            return Case({cls.kind: {"dim": dim}}, x, x)

        return build()

    def output_shape(self, x: Shape) -> Shape:
        if not -len(x) <= self.dim < len(x):
            raise ShapeError(f"dim {self.dim} is out of range for a rank-{len(x)} input")
        return x

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """Over a spatial axis, every output reads the whole of it; over the channels, each
        position reads only itself."""
        if len(x) != 4 or self.dim % 4 < 2:
            return None
        return tuple(WHOLE if self.dim % 4 == a else Window(1) for a in (2, 3))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Softmax", [g.inputs[0]], {"axis": self.dim})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.elementwise import softmax

        return softmax(xs[0], self.dim % xs[0].ndim, out)


@register
class Dropout(Elementwise):
    """Identity at inference; ``p`` is the training-time drop probability.

    Params: none. MACs: 0. FLOPs: 0 (inference).
    """

    kind = "dropout"
    per_element = 0

    p: Annotated[float, Range(ge=0, lt=1)] = 0.5

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Dropout", [g.inputs[0], g.scalar(self.p)], {})


@register
class StochasticDepth(Elementwise):
    """Identity at inference: torchvision's StochasticDepth drops a residual branch (``mode:
    row``, per sample, or ``batch``, all at once) with probability ``p`` in training only.

    Params: none. MACs: 0. FLOPs: 0 (inference).
    """

    kind = "stochastic_depth"
    per_element = 0

    p: Annotated[float, Range(ge=0, le=1)] = 0.0
    mode: Literal["row", "batch"] = "row"

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        return st.builds(
            lambda x, p, mode: Case({cls.kind: {"p": p, "mode": mode}}, tuple(x), tuple(x)),
            st.lists(st.integers(1, 5), min_size=1, max_size=4),
            st.sampled_from([0.0, 0.1, 0.5, 1.0]),
            st.sampled_from(["row", "batch"]),
        )

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Identity: ONNX has no stochastic depth, and at inference it is one."""
        g.final("Identity", [g.inputs[0]], {})


@register
class Identity(Elementwise):
    """Returns its input. Params: none. MACs: 0. FLOPs: 0."""

    kind = "identity"
    onnx_op = "Identity"
    per_element = 0
