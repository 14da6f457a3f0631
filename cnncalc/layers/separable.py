"""Depthwise and depthwise-separable convolutions, written as one layer each.

Both are shorthands for conv2d: ``depthwise_conv2d`` is a conv2d with groups = channels, and
``separable_conv2d`` is that followed directly by a 1x1 conv2d (Keras' SeparableConv2D). Their
rules are conv2d's, applied to the equivalent layers.
"""

from __future__ import annotations

from ..core import dims
from ._base import Check, Int, Layer, Padding, Pair, Param, Shape, rank_error
from ._registry import register
from .conv2d import Conv2d


class _Depthwise(Layer):
    kernel: Pair
    stride: Pair = 1
    padding: Padding = 0
    dilation: Pair = 1
    multiplier: Int = 1

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, windows

        @st.composite
        def build(draw):
            h, w = draw(windows()), draw(windows())
            c, m = draw(st.integers(1, 4)), draw(st.integers(1, 2))
            args = {
                "kernel": [h.kernel, w.kernel],
                "stride": [h.stride, w.stride],
                "padding": [h.pad, w.pad],
                "dilation": [h.dilation, w.dilation],
                "multiplier": m,
            }
            out = c * m
            if cls.kind == "separable_conv2d":
                out = args["out"] = draw(st.integers(1, 5))
            return Case({cls.kind: args}, (1, c, h.size, w.size), (1, out, h.out, w.out))

        return build()

    def depthwise(self, x: Shape, bias: bool) -> Conv2d:
        """The equivalent bound conv2d (groups = input channels)."""
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        return Conv2d.model_construct(
            out=dims.mul(x[1], self.multiplier),
            kernel=self.kernel,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=x[1],
            bias=bias,
        )

    def windows(self, x: Shape):
        return self.depthwise(x, False).windows(x)

    def category(self, x: Shape) -> str:
        kh, kw = (dims.fmt(k) for k in self.kernel)
        return f"{self.kind} {kh}x{kw}"


@register
class DepthwiseConv2d(_Depthwise):
    """Each input channel filtered on its own: conv2d with groups = C_in and out =
    C_in*multiplier (default 1).

    Params: C_in*multiplier*kh*kw, plus a bias per output channel when ``bias`` is true.
    MACs: N*C_in*multiplier*H_out*W_out*kh*kw. FLOPs: 2*MACs, plus bias additions.
    Output size as conv2d.
    """

    kind = "depthwise_conv2d"
    prefix = "dwconv"

    bias: bool = True

    def checks(self, x: Shape) -> list[Check]:
        return self.depthwise(x, self.bias).checks(x)

    def output_shape(self, x: Shape) -> Shape:
        return self.depthwise(x, self.bias).output_shape(x)

    def weights(self, x: Shape) -> dict[str, Param]:
        return self.depthwise(x, self.bias).weights(x)

    def macs(self, x: Shape, *, out: Shape) -> dims.Dim:
        return self.depthwise(x, self.bias).macs(x, out=out)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return self.depthwise(x, self.bias).flops(x, out=out)

    def workspace(self, x: Shape, *, out: Shape) -> dims.Dim:
        return self.depthwise(x, self.bias).workspace(x, out=out)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        self.depthwise(x, self.bias).to_onnx(g, x, out=out)

    def forward(self, xs, weights, out) -> int:
        return self.depthwise(xs[0].shape, self.bias).forward(xs, weights, out)


@register
class SeparableConv2d(_Depthwise):
    """A depthwise convolution (no bias) followed by a 1x1 convolution to ``out`` channels.

    Params: C_in*multiplier*kh*kw (depthwise) + out*C_in*multiplier (pointwise) + out (bias).
    MACs: N*C_in*multiplier*H_out*W_out*(kh*kw + out), the depthwise and pointwise MACs.
    FLOPs: 2*MACs, plus N*out*H_out*W_out bias additions when ``bias`` is true.
    """

    kind = "separable_conv2d"
    prefix = "sepconv"

    out: Int
    bias: bool = True

    def pointwise(self, x: Shape) -> tuple[Conv2d, Shape]:
        """The bound 1x1 conv2d and its input shape."""
        mid = self.depthwise(x, False).output_shape(x)
        conv = Conv2d.model_construct(
            out=self.out,
            kernel=(1, 1),
            stride=(1, 1),
            padding=(0, 0),
            dilation=(1, 1),
            groups=1,
            bias=self.bias,
        )
        return conv, mid

    def checks(self, x: Shape) -> list[Check]:
        return self.depthwise(x, False).checks(x)

    def output_shape(self, x: Shape) -> Shape:
        conv, mid = self.pointwise(x)
        return conv.output_shape(mid)

    def weights(self, x: Shape) -> dict[str, Param]:
        dw = self.depthwise(x, False).weights(x)["weight"]
        conv, mid = self.pointwise(x)
        pw = conv.weights(mid)
        return {"depthwise.weight": dw, **{f"pointwise.{k}": v for k, v in pw.items()}}

    def macs(self, x: Shape, *, out: Shape) -> dims.Dim:
        dw = self.depthwise(x, False)
        conv, mid = self.pointwise(x)
        return dims.add(dw.macs(x, out=mid), conv.macs(mid, out=out))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        dw = self.depthwise(x, False)
        conv, mid = self.pointwise(x)
        return dims.add(dw.flops(x, out=mid), conv.flops(mid, out=out))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Two Conv nodes: the depthwise one (groups = C_in), then the 1x1 pointwise one."""
        mid = g.node(*self.depthwise(x, False).onnx_conv(g, x, g.inputs[0], "depthwise.weight", None))
        conv, mid_shape = self.pointwise(x)
        bias = "pointwise.bias" if self.bias else None
        g.final(*conv.onnx_conv(g, mid_shape, mid, "pointwise.weight", bias))

    def workspace(self, x: Shape, *, out: Shape) -> dims.Dim:
        dw = self.depthwise(x, False)
        mid = dw.output_shape(x)
        return dims.add(dw.workspace(x, out=mid), dims.prod(mid))

    def forward(self, xs, weights, out) -> int:
        import numpy as np

        (x,) = xs
        dw = self.depthwise(x.shape, False)
        conv, mid_shape = self.pointwise(x.shape)
        mid = np.empty(mid_shape, dtype=x.dtype)
        macs = dw.forward(xs, {"weight": weights["depthwise.weight"]}, mid)
        pw = {k.removeprefix("pointwise."): v for k, v in weights.items() if k.startswith("pointwise.")}
        return macs + conv.forward([mid], pw, out)
