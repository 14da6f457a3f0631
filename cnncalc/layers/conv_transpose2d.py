"""2-D transposed convolution (the adjoint of conv2d, PyTorch's ConvTranspose2d)."""

from __future__ import annotations

from ..core import dims
from ._base import Check, Int, Layer, NonNegPair, Pair, Param, Shape, Window, at_least, rank_error
from ._registry import register
from .conv2d import group_checks


@register
class ConvTranspose2d(Layer):
    """Transposed convolution: every input element scatters a kernel-sized patch.

    Output: (N, out, H_out, W_out) with
    H_out = (H - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1.

    Params: weight C_in*(out/groups)*kh*kw, plus bias ``out`` when ``bias`` is true.

    MACs: N*C_in*H*W*(out/groups)*kh*kw, counted over the *input* as the adjoint of conv2d
    (several popular counters use the output size and report 4x too many at stride 2).
    FLOPs: 2*MACs, plus N*out*H_out*W_out bias additions when ``bias`` is true.
    """

    kind = "conv_transpose2d"
    prefix = "deconv"

    out: Int
    kernel: Pair
    stride: Pair = 1
    padding: NonNegPair = 0
    output_padding: NonNegPair = 0
    dilation: Pair = 1
    groups: Int = 1
    bias: bool = True

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
            op = draw(st.integers(0, max(s, d) - 1))
            h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
            # Padding crops the output; keep at least one row and column.
            full = min(h, w) - 1
            p = draw(st.integers(0, max(0, (full * s + d * (k - 1) + op) // 2)))
            groups = draw(st.integers(1, 2))
            args = {
                "out": groups * draw(st.integers(1, 3)),
                "kernel": k,
                "stride": s,
                "padding": p,
                "output_padding": op,
                "dilation": d,
                "groups": groups,
                "bias": draw(st.booleans()),
            }
            return Case({cls.kind: args}, (1, groups * draw(st.integers(1, 3)), h, w))

        return build()

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        out = group_checks(self.groups, x[1], self.out)
        for axis, op, s, d in zip(
            ("height", "width"), self.output_padding, self.stride, self.dilation, strict=True
        ):
            limit = dims.dmax(s, d)
            out.append(
                at_least(
                    dims.add(limit, -1),
                    op,
                    f"output_padding {dims.fmt(op)} ({axis}) must be smaller than "
                    f"the stride or the dilation ({dims.fmt(limit)})",
                )
            )
        for axis, size in zip(("height", "width"), self.output_shape(x)[2:], strict=True):
            out.append(at_least(size, 1, f"the output {axis} {dims.fmt(size)} must be at least 1"))
        return out

    def windows(self, x: Shape) -> tuple[Window, Window]:
        """Output ``o`` receives input ``i`` when ``o = i*stride - padding + t*dilation`` for a tap
        ``t``: the inputs from ``ceil((o + padding - D)/stride)`` to ``floor((o + padding)/stride)``
        with ``D = dilation*(kernel - 1)``, at most ``floor(D/stride) + 1`` of them, advancing by
        ``1/stride`` an output on average."""
        out = []
        for k, s, p, d in zip(self.kernel, self.stride, self.padding, self.dilation, strict=True):
            span = dims.mul(d, dims.add(k, -1))
            out.append(
                Window(
                    dims.add(dims.floordiv(span, s), 1),
                    dims.div(1, s),
                    dims.ceildiv(dims.add(p, dims.mul(-1, span)), s),
                )
            )
        return tuple(out)

    def output_shape(self, x: Shape) -> Shape:
        spatial = tuple(
            dims.add(dims.mul(dims.add(h, -1), s), dims.mul(-2, p), dims.mul(d, dims.add(k, -1)), op, 1)
            for h, k, s, p, op, d in zip(
                x[2:], self.kernel, self.stride, self.padding, self.output_padding, self.dilation, strict=True
            )
        )
        return (x[0], self.out, *spatial)

    def weights(self, x: Shape) -> dict[str, Param]:
        w = {"weight": Param((x[1], dims.floordiv(self.out, self.groups), *self.kernel), "weight")}
        if self.bias:
            w["bias"] = Param((self.out,), "bias")
        return w

    def macs(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(dims.prod(x), dims.floordiv(self.out, self.groups), *self.kernel)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        bias_adds = dims.prod(out) if self.bias else 0
        return dims.add(dims.mul(2, self.macs(x, out=out)), bias_adds)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        inputs = [g.inputs[0], g.weight("weight")] + ([g.weight("bias")] if self.bias else [])
        (ph, pw) = self.padding
        g.final(
            "ConvTranspose",
            inputs,
            {
                "kernel_shape": g.ints(self.kernel),
                "strides": g.ints(self.stride),
                "pads": g.ints((ph, pw, ph, pw)),
                "output_padding": g.ints(self.output_padding),
                "dilations": g.ints(self.dilation),
                "group": g.int(self.groups),
            },
        )

    def workspace(self, x: Shape, *, out: Shape) -> dims.Dim:
        full = dims.mul(
            out[1], *(dims.add(o, dims.mul(2, p)) for o, p in zip(out[2:], self.padding, strict=True))
        )
        columns = dims.mul(dims.floordiv(self.out, self.groups), self.groups, *self.kernel, *x[2:])
        return dims.add(full, columns)

    def forward(self, xs, weights, out) -> int:
        from ..kernels.conv import conv_transpose2d_nchw

        (x,) = xs
        return conv_transpose2d_nchw(
            x,
            weights["weight"],
            weights.get("bias"),
            out,
            stride=self.stride,
            padding=self.padding,
            output_padding=self.output_padding,
            dilation=self.dilation,
            groups=self.groups,
        )
