"""Layer normalisation: over the trailing axes (nn.LayerNorm), and over the channels of an
NCHW tensor (torchvision's LayerNorm2d, ConvNeXt's stem, downsampling and head)."""

from __future__ import annotations

from typing import Annotated, Any

from ..core import dims
from ..errors import ShapeError
from ._base import WHOLE, Check, IntList, Layer, Param, Shape, Window, rank_error
from ._fields import Range
from ._registry import register

_show = dims.fmt_shape


def _flops(layer: Layer, x: Shape, normalized: Shape) -> dims.Dim:
    per_element = 7 if layer.affine else 5
    rows = dims.floordiv(dims.prod(x), dims.prod(normalized))
    return dims.add(dims.mul(per_element, dims.prod(x)), dims.mul(4, rows))


@register
class LayerNorm(Layer):
    """Normalise over the trailing axes, as nn.LayerNorm(normalized_shape, eps, affine).

    ``shape`` is the normalized shape: the sizes of the input's last axes (an int for one
    axis); omitted, it is the last axis alone (``input.shape[-1:]``, what nn.LayerNorm(C) on a
    channels-last tensor normalises). Each vector over those axes is centred and divided by
    its standard deviation (the biased variance, plus ``eps``), then scaled and shifted.
    Params: weight and bias of the normalized shape each when ``affine`` (role ``norm``): 2 *
    prod(shape). MACs: 0.
    FLOPs: 7 per element (5 without ``affine``) plus 4 per normalised vector: a sum and a
    subtraction for the mean and the centring, a square and a sum for the variance, a
    multiplication by the inverse standard deviation, then the scale and the shift; per vector,
    the divisions of the two means, the eps addition and the square root.
    """

    kind = "layer_norm"
    prefix = "norm"

    shape: IntList | None = None
    eps: Annotated[float, Range(gt=0)] = 1e-5
    affine: bool = True

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
            args: dict[str, Any] = {"affine": draw(st.booleans()), "eps": draw(st.sampled_from([1e-5, 1e-6]))}
            trailing = draw(st.integers(0, len(x) - 1))  # 0: the shape omitted
            if trailing:
                shape = list(x[len(x) - trailing :])
                args["shape"] = shape[0] if trailing == 1 and draw(st.booleans()) else shape
            return Case({cls.kind: args}, x, x)

        return build()

    def normalized(self, x: Shape) -> Shape:
        """The normalized shape: ``shape``, or the input's last axis."""
        if self.shape is None:
            return (x[-1],)
        if len(self.shape) > len(x):
            raise ShapeError(
                f"shape {_show(self.shape)} normalises {len(self.shape)} axes, but the input "
                f"{_show(x)} has {len(x)}"
            )
        return tuple(self.shape)

    def checks(self, x: Shape) -> list[Check]:
        if len(x) < 2:
            raise rank_error(self, "an input (N, ..., features)", x)
        normalized = self.normalized(x)
        trailing = x[len(x) - len(normalized) :]
        return [
            Check(
                dims.add(want, dims.mul(-1, have)),
                "zero",
                lambda: (
                    f"shape {_show(normalized)} must be the input's last {len(normalized)} "
                    f"axes, but the input {_show(x)} ends with {_show(trailing)}"
                ),
            )
            for want, have in zip(normalized, trailing, strict=True)
        ]

    def output_shape(self, x: Shape) -> Shape:
        return x

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """On a 4-D input, a spatial axis among the normalised ones is read whole by every
        output (nn.LayerNorm(W) on NCHW mixes a row); the others position by position."""
        if len(x) != 4:
            return None
        first = 4 - len(self.normalized(x))
        return tuple(WHOLE if a >= first else Window(1) for a in (2, 3))

    def weights(self, x: Shape) -> dict[str, Param]:
        if not self.affine:
            return {}
        normalized = self.normalized(x)
        return {"weight": Param(normalized, "norm"), "bias": Param(normalized, "norm")}

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return _flops(self, x, self.normalized(x))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """LayerNormalization (opset 17) over the last ``len(shape)`` axes."""
        if g.opset < 17:
            g.refuse(f"LayerNormalization needs opset 17 or later (--opset {g.opset} was asked)")
        normalized = g.ints(self.normalized(x))
        if self.affine:
            scale, shift = g.weight("weight"), g.weight("bias")
        else:
            size = 1
            for d in normalized:
                size *= d
            scale = g.node("Reshape", [g.const([1.0] * size, "float"), g.const(normalized)], {})
            shift = None
        inputs = [g.inputs[0], scale] + ([shift] if shift else [])
        g.final("LayerNormalization", inputs, {"axis": -len(normalized), "epsilon": self.eps})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.norm import layer_norm

        normalized = self.normalized(xs[0].shape)
        return layer_norm(xs[0], len(normalized), weights.get("weight"), weights.get("bias"), self.eps, out)


@register
class LayerNorm2d(Layer):
    """torchvision's LayerNorm2d: layer norm over the channels of (N, C, H, W), at each
    position (ConvNeXt permutes to channels-last, normalises, and permutes back).

    ``eps`` defaults to 1e-6, the value every ConvNeXt passes (``partial(LayerNorm2d,
    eps=1e-6)``); the class alone would take nn.LayerNorm's 1e-5: write ``eps: 1e-5`` then.
    Params: weight and bias C each when ``affine`` (role ``norm``): 2*C. MACs: 0.
    FLOPs: 7 per element (5 without ``affine``) plus 4 per position (N*H*W vectors of C), as
    layer_norm counts.
    """

    kind = "layer_norm2d"
    prefix = "norm"

    eps: Annotated[float, Range(gt=0)] = 1e-6
    affine: bool = True

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        return st.builds(
            lambda x, affine, eps: Case({cls.kind: {"affine": affine, "eps": eps}}, x, x),
            shapes(),
            st.booleans(),
            st.sampled_from([1e-6, 1e-5]),
        )

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        return x

    def weights(self, x: Shape) -> dict[str, Param]:
        if not self.affine:
            return {}
        return {"weight": Param((x[1],), "norm"), "bias": Param((x[1],), "norm")}

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return _flops(self, x, (x[1],))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """As torchvision computes it: Transpose to channels-last, LayerNormalization over
        the last axis (opset 17), Transpose back."""
        if g.opset < 17:
            g.refuse(f"LayerNormalization needs opset 17 or later (--opset {g.opset} was asked)")
        if self.affine:
            inputs = [g.weight("weight"), g.weight("bias")]
        else:
            inputs = [g.const([1.0] * g.int(x[1]), "float")]
        last = g.node("Transpose", [g.inputs[0]], {"perm": [0, 2, 3, 1]})
        normed = g.node("LayerNormalization", [last, *inputs], {"axis": -1, "epsilon": self.eps})
        g.final("Transpose", [normed], {"perm": [0, 3, 1, 2]})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.norm import layer_norm2d_nchw

        return layer_norm2d_nchw(xs[0], weights.get("weight"), weights.get("bias"), self.eps, out)
