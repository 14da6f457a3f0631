"""Layers that change spatial size without weights: upsampling and zero padding."""

from __future__ import annotations

from typing import Literal

from ..core import dims
from ..errors import ShapeError
from ._base import Check, Layer, NonNegInt, NonNegPair, Pair, Shape, Window, rank_error
from ._registry import register


@register
class Upsample(Layer):
    """Resize (N, C, H, W) by an integer ``scale`` or to a ``size`` (PyTorch's nn.Upsample).

    ``mode`` is ``nearest`` or ``bilinear`` (``align_corners`` as PyTorch, default false).
    Params: none. MACs: 0.
    FLOPs: 0 for nearest (a copy); 7 per output element for bilinear (four products of a value
    and a weight, three additions; the weights themselves are not counted).
    """

    kind = "upsample"
    prefix = "up"

    scale: Pair | None = None
    size: Pair | None = None
    mode: Literal["nearest", "bilinear"] = "nearest"
    align_corners: bool = False

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        @st.composite
        def build(draw):
            x = draw(shapes())
            mode = draw(st.sampled_from(["nearest", "bilinear"]))
            args = {"mode": mode}
            if mode == "bilinear":
                args["align_corners"] = draw(st.booleans())
            if draw(st.booleans()):
                sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
                args["scale"] = [sh, sw]
                return Case({cls.kind: args}, x, (x[0], x[1], x[2] * sh, x[3] * sw))
            size = [draw(st.integers(1, 9)), draw(st.integers(1, 9))]
            args["size"] = size
            return Case({cls.kind: args}, x, (x[0], x[1], *size))

        return build()

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        if (self.scale is None) == (self.size is None):
            raise ShapeError("give exactly one of scale (an integer factor) or size")
        if self.align_corners and self.mode == "nearest":
            raise ShapeError("align_corners applies to bilinear mode only")
        return []

    def windows(self, x: Shape) -> tuple[Window, Window]:
        """Nearest: output ``o`` reads input ``floor(o*in/out)``. Bilinear: the two inputs
        around ``(o + 1/2)*in/out - 1/2`` (``o*(in - 1)/(out - 1)`` with ``align_corners``),
        clamped at the border: a window of 2 from ``o*in/out + (in/out - 1)/2``."""
        out = []
        for size, new in zip(x[2:], self.output_shape(x)[2:], strict=True):
            if self.mode == "nearest":
                out.append(Window(1, dims.div(size, new), 0))
            elif self.align_corners:
                step = dims.div(dims.add(size, -1), dims.add(new, -1)) if new != 1 else 1
                out.append(Window(2, step, 0))
            else:
                # Output o samples (o + 1/2)*step - 1/2 and its next input: the window starts
                # (step - 1)/2 from o*step (a quarter of an input before it for a 2x upsample).
                step = dims.div(size, new)
                out.append(Window(2, step, dims.div(dims.add(step, -1), 2)))
        return tuple(out)

    def output_shape(self, x: Shape) -> Shape:
        if self.size is not None:
            return (x[0], x[1], *self.size)
        return (x[0], x[1], *(dims.mul(h, s) for h, s in zip(x[2:], self.scale, strict=True)))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0 if self.mode == "nearest" else dims.mul(7, dims.prod(out))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Resize: nearest as PyTorch (asymmetric, floor), bilinear as ``linear`` with
        PyTorch's half-pixel centres or ``align_corners``."""
        if self.mode == "nearest":
            attrs = {
                "mode": "nearest",
                "coordinate_transformation_mode": "asymmetric",
                "nearest_mode": "floor",
            }
        else:
            ctm = "align_corners" if self.align_corners else "pytorch_half_pixel"
            attrs = {"mode": "linear", "coordinate_transformation_mode": ctm}
        if self.size is None:
            scales = g.const([1.0, 1.0, *(float(s) for s in g.ints(self.scale))], "float")
            g.final("Resize", [g.inputs[0], "", scales], attrs)
        elif g.opset >= 18:
            g.final("Resize", [g.inputs[0], "", "", g.const(g.ints(self.size))], {**attrs, "axes": [2, 3]})
        else:
            g.final("Resize", [g.inputs[0], "", "", g.const(g.ints(out))], attrs)

    def forward(self, xs, weights, out) -> int:
        from ..kernels.shape_ops import upsample_bilinear2d, upsample_nearest2d

        if self.mode == "nearest":
            return upsample_nearest2d(xs[0], out)
        return upsample_bilinear2d(xs[0], out, self.align_corners)


@register
class ZeroPad2d(Layer):
    """Pad (N, C, H, W) with zeros: ``padding`` on every side (an int or [height, width]),
    or ``top``, ``bottom``, ``left``, ``right`` one by one (added to ``padding``).

    Params: none. MACs: 0. FLOPs: 0 (a copy).
    """

    kind = "zero_pad2d"
    prefix = "pad"

    padding: NonNegPair = 0
    top: NonNegInt = 0
    bottom: NonNegInt = 0
    left: NonNegInt = 0
    right: NonNegInt = 0

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        side = st.integers(0, 3)
        return st.builds(
            lambda x, p, top, bottom, left, right: Case(
                {cls.kind: {"padding": p, "top": top, "bottom": bottom, "left": left, "right": right}},
                x,
                (x[0], x[1], x[2] + 2 * p + top + bottom, x[3] + 2 * p + left + right),
            ),
            shapes(),
            side,
            side,
            side,
            side,
            side,
        )

    def pads(self) -> tuple[dims.Dim, dims.Dim, dims.Dim, dims.Dim]:
        """(top, bottom, left, right)."""
        ph, pw = self.padding
        return (
            dims.add(ph, self.top),
            dims.add(ph, self.bottom),
            dims.add(pw, self.left),
            dims.add(pw, self.right),
        )

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        return []

    def windows(self, x: Shape) -> tuple[Window, Window]:
        t, _, left, _ = self.pads()
        return (Window(1, 1, dims.mul(-1, t)), Window(1, 1, dims.mul(-1, left)))

    def output_shape(self, x: Shape) -> Shape:
        t, b, left, r = self.pads()
        return (x[0], x[1], dims.add(x[2], t, b), dims.add(x[3], left, r))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        t, b, left, r = g.ints(self.pads())
        g.final("Pad", [g.inputs[0], g.const([0, 0, t, left, 0, 0, b, r])], {"mode": "constant"})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.shape_ops import zero_pad2d

        return zero_pad2d(xs[0], out, *self.pads())
