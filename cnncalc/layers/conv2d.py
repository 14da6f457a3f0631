"""2-D convolution (cross-correlation, as PyTorch and every framework compute it)."""

from __future__ import annotations

from ..core import dims
from ._base import Check, Int, Layer, Padding, Pair, Param, Shape, Window, at_least, divides, rank_error
from ._registry import register


def same_padding(size: dims.Dim, kernel: dims.Dim, stride: dims.Dim, dilation: dims.Dim):
    """``(before, after)`` padding of ``padding: same`` along one axis, as TensorFlow pads.

    The total is ``max(0, (ceil(size/stride) - 1)*stride + dilation*(kernel - 1) + 1 - size)``,
    the odd pixel after. With stride 1 that is ``dilation*(kernel - 1)`` whatever the size.
    """
    out = dims.ceildiv(size, stride)
    total = dims.add(
        dims.mul(dims.add(out, -1), stride),
        dims.mul(dilation, dims.add(kernel, -1)),
        1,
        dims.mul(-1, size),
    )
    if stride != 1:
        total = dims.dmax(0, total)
    before = dims.floordiv(total, 2)
    return before, dims.add(total, dims.mul(-1, before))


def resolve_padding(padding, x: Shape, kernel, stride, dilation):
    """((top, bottom), (left, right)) for a ``Padding`` argument and input ``x``."""
    out = []
    for axis in range(2):
        if padding == "valid":
            out.append((0, 0))
        elif padding == "same":
            out.append(same_padding(x[2 + axis], kernel[axis], stride[axis], dilation[axis]))
        else:
            out.append((padding[axis], padding[axis]))
    return tuple(out)


def group_checks(groups: dims.Dim, c_in: dims.Dim, c_out: dims.Dim) -> list[Check]:
    """Groups must divide both the input and the output channels."""
    return [
        divides(
            groups,
            c_in,
            lambda: f"groups = {dims.fmt(groups)} must divide the input channels {dims.fmt(c_in)}",
        ),
        divides(groups, c_out, lambda: f"groups = {dims.fmt(groups)} must divide out = {dims.fmt(c_out)}"),
    ]


def conv_windows(x: Shape, kernel, stride, dilation, pads) -> tuple[Window, Window]:
    """The windows of a convolution or pooling: the dilated kernel, from ``-pad_before``."""
    return tuple(
        Window(dims.add(dims.mul(d, dims.add(k, -1)), 1), s, dims.mul(-1, before))
        for k, s, d, (before, _) in zip(kernel, stride, dilation, pads, strict=True)
    )


def padded_checks(kind: str, x: Shape, kernel, dilation, pads) -> list[Check]:
    """The dilated kernel must fit in the padded input, along both axes."""
    out = []
    for axis, size, k, d, (before, after) in zip(
        ("height", "width"), x[2:], kernel, dilation, pads, strict=True
    ):
        eff = dims.add(dims.mul(d, dims.add(k, -1)), 1)
        padded = dims.add(size, before, after)

        def describe(axis=axis, size=size, before=before, after=after, eff=eff, padded=padded, d=d) -> str:
            shown = dims.fmt(padded)
            if not (dims.is_concrete(before) and before == 0 and after == 0):
                shown = f"{dims.fmt(size)} + {dims.fmt(before)} + {dims.fmt(after)} = {shown}"
            eff_text = dims.fmt(eff) if d == 1 else f"{dims.fmt(eff)} (dilated)"
            return f"the {kind} {axis} {eff_text} must fit in the padded input {axis} {shown}"

        out.append(at_least(padded, eff, describe))
    return out


@register
class Conv2d(Layer):
    """Convolution over (N, C_in, H, W), ``out`` filters of size ``kernel``.

    Output: (N, out, H_out, W_out) with
    H_out = floor((H + pad_top + pad_bottom - dilation*(kernel - 1) - 1) / stride) + 1, and
    H_out = ceil(H / stride) for ``padding: same``.

    Params: weight out*(C_in/groups)*kh*kw, plus bias ``out`` when ``bias`` is true.

    MACs: N*out*H_out*W_out*(C_in/groups)*kh*kw (every tap, padding included; bias excluded).
    FLOPs: 2*MACs, plus N*out*H_out*W_out bias additions when ``bias`` is true.
    """

    kind = "conv2d"
    prefix = "conv"

    out: Int
    kernel: Pair
    stride: Pair = 1
    padding: Padding = 0
    dilation: Pair = 1
    groups: Int = 1
    bias: bool = True

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, windows

        @st.composite
        def explicit(draw):
            h, w = draw(windows()), draw(windows())
            groups = draw(st.integers(1, 3))
            c_in, out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
            n = draw(st.integers(1, 2))
            args = {
                "out": out,
                "kernel": [h.kernel, w.kernel],
                "stride": [h.stride, w.stride],
                "padding": [h.pad, w.pad],
                "dilation": [h.dilation, w.dilation],
                "groups": groups,
                "bias": draw(st.booleans()),
            }
            return Case({"conv2d": args}, (n, c_in, h.size, w.size), (n, out, h.out, w.out))

        @st.composite
        def same(draw):
            # padding: same gives ceil(size / stride): built as out*stride - rest.
            stride, kernel = draw(st.integers(1, 3)), draw(st.integers(1, 5))
            outs = [draw(st.integers(1, 6)) for _ in range(2)]
            sizes = [o * stride - draw(st.integers(0, stride - 1)) for o in outs]
            args = {"out": 2, "kernel": kernel, "stride": stride, "padding": "same"}
            return Case({"conv2d": args}, (1, 3, *sizes), (1, 2, *outs))

        return st.one_of(explicit(), same())

    def pads(self, x: Shape):
        """((top, bottom), (left, right)) padding for input ``x``."""
        return resolve_padding(self.padding, x, self.kernel, self.stride, self.dilation)

    def windows(self, x: Shape) -> tuple[Window, Window]:
        return conv_windows(x, self.kernel, self.stride, self.dilation, self.pads(x))

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        out = group_checks(self.groups, x[1], self.out)
        if self.padding != "same":
            out += padded_checks("kernel", x, self.kernel, self.dilation, self.pads(x))
        return out

    def output_shape(self, x: Shape) -> Shape:
        if self.padding == "same":
            spatial = tuple(dims.ceildiv(size, s) for size, s in zip(x[2:], self.stride, strict=True))
        else:
            spatial = tuple(
                dims.window_out(size, k, s, before, after, d)
                for size, k, s, d, (before, after) in zip(
                    x[2:], self.kernel, self.stride, self.dilation, self.pads(x), strict=True
                )
            )
        return (x[0], self.out, *spatial)

    def category(self, x: Shape) -> str:
        """``conv2d 3x3``, ``conv2d 3x3 depthwise`` or ``conv2d 3x3 grouped``: papers count
        by kernel size and kind (MobileNet's Table 2)."""
        kh, kw = (dims.fmt(k) for k in self.kernel)
        text = f"conv2d {kh}x{kw}"
        if self.groups != 1:
            text += " depthwise" if self.groups == x[1] else " grouped"
        return text

    def weights(self, x: Shape) -> dict[str, Param]:
        w = {"weight": Param((self.out, dims.floordiv(x[1], self.groups), *self.kernel), "weight")}
        if self.bias:
            w["bias"] = Param((self.out,), "bias")
        return w

    def macs(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(dims.prod(out), dims.floordiv(x[1], self.groups), *self.kernel)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        bias_adds = dims.prod(out) if self.bias else 0
        return dims.add(dims.mul(2, self.macs(x, out=out)), bias_adds)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final(*self.onnx_conv(g, x, g.inputs[0], "weight", "bias" if self.bias else None))

    def onnx_conv(self, g, x: Shape, source: str, weight: str, bias: str | None):
        """The arguments of ``g.node``/``g.final`` for an ONNX Conv reading ``source``."""
        attrs = {
            "kernel_shape": g.ints(self.kernel),
            "strides": g.ints(self.stride),
            "dilations": g.ints(self.dilation),
            "group": g.int(self.groups),
        }
        if self.padding == "same":
            attrs["auto_pad"] = "SAME_UPPER"  # the odd pixel after, as TensorFlow
        else:
            (top, bottom), (left, right) = self.pads(x)
            attrs["pads"] = g.ints((top, left, bottom, right))
        inputs = [source, g.weight(weight)] + ([g.weight(bias)] if bias else [])
        return "Conv", inputs, attrs

    def workspace(self, x: Shape, *, out: Shape) -> dims.Dim:
        (top, bottom), (left, right) = self.pads(x)
        padded = dims.mul(x[0], x[1], dims.add(x[2], top, bottom), dims.add(x[3], left, right))
        columns = dims.mul(x[1], *self.kernel, *out[2:])
        return dims.add(padded, columns)

    def forward(self, xs, weights, out) -> int:
        from ..kernels.conv import conv2d_nchw

        (x,) = xs
        (top, bottom), (left, right) = self.pads(x.shape)
        return conv2d_nchw(
            x,
            weights["weight"],
            weights.get("bias"),
            out,
            stride=self.stride,
            padding=(top, bottom, left, right),
            dilation=self.dilation,
            groups=self.groups,
        )
