"""coord_conv (Liu et al. 2018, "CoordConv"): a convolution that also sees where it is."""

from __future__ import annotations

from typing import Any

from cnncalc import dims
from cnncalc.errors import ShapeError
from cnncalc.layers import Check, Int, Layer, NonNegPair, Pair, Param, Shape, Window, at_least, register


@register
class CoordConv(Layer):
    """Concatenates two coordinate channels to the input, then convolves.

    The coordinate channels are the row and column positions scaled to [-1, 1] (``i*2/(H-1) - 1``,
    0 for a size of 1), appended after the C input channels; the convolution then has C + 2
    input channels, ``out`` filters of size ``kernel``, ``stride``, zero ``padding``, a bias
    when ``bias`` is true.

    Output: (N, out, H_out, W_out), H_out = floor((H + 2*pad - kh)/stride) + 1.
    Params: out*(C + 2)*kh*kw, plus ``out`` biases when ``bias`` is true.
    MACs: N*out*H_out*W_out*(C + 2)*kh*kw (every tap, padding included; bias excluded).
    FLOPs: 2*MACs, plus N*out*H_out*W_out bias additions when ``bias`` is true.
    """

    kind = "coord_conv"
    prefix = "coordconv"

    out: Int
    kernel: Pair
    stride: Pair = 1
    padding: NonNegPair = 0
    bias: bool = True

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise ShapeError(f"expects an input (N, C, H, W), got a rank-{len(x)} input {dims.fmt_shape(x)}")
        found = []
        for axis, size, k, p in zip(("height", "width"), x[2:], self.kernel, self.padding, strict=True):
            padded = dims.add(size, dims.mul(2, p))
            found.append(
                at_least(
                    padded,
                    k,
                    lambda axis=axis, k=k, padded=padded: (
                        f"the kernel {axis} {dims.fmt(k)} must fit in the padded input {axis} "
                        f"{dims.fmt(padded)}"
                    ),
                )
            )
        return found

    def output_shape(self, x: Shape) -> Shape:
        spatial = (
            dims.window_out(size, k, s, p, p, 1)
            for size, k, s, p in zip(x[2:], self.kernel, self.stride, self.padding, strict=True)
        )
        return (x[0], self.out, *spatial)

    def windows(self, x: Shape) -> tuple[Window, Window]:
        axes = zip(self.kernel, self.stride, self.padding, strict=True)
        return tuple(Window(k, s, dims.mul(-1, p)) for k, s, p in axes)

    def weights(self, x: Shape) -> dict[str, Param]:
        w = {"weight": Param((self.out, dims.add(x[1], 2), *self.kernel), "weight")}
        if self.bias:
            w["bias"] = Param((self.out,), "bias")
        return w

    def macs(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(dims.prod(out), dims.add(x[1], 2), *self.kernel)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        bias_adds = dims.prod(out) if self.bias else 0
        return dims.add(dims.mul(2, self.macs(x, out=out)), bias_adds)

    def workspace(self, x: Shape, *, out: Shape) -> dims.Dim:
        # The input with its two coordinate channels, then the convolution's own scratch:
        # the padded copy and the im2col columns.
        c2 = dims.add(x[1], 2)
        with_coords = dims.mul(x[0], c2, x[2], x[3])
        (ph, pw) = self.padding
        padded = dims.mul(x[0], c2, dims.add(x[2], ph, ph), dims.add(x[3], pw, pw))
        columns = dims.mul(c2, *self.kernel, *out[2:])
        return dims.add(with_coords, padded, columns)

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any) -> int:
        import numpy as np

        from cnncalc.kernels.conv import conv2d_nchw

        (x,) = xs
        n, c, h, w = x.shape
        rows = np.linspace(-1, 1, h, dtype=x.dtype) if h > 1 else np.zeros(1, x.dtype)
        cols = np.linspace(-1, 1, w, dtype=x.dtype) if w > 1 else np.zeros(1, x.dtype)
        coords = np.empty((n, c + 2, h, w), x.dtype)
        coords[:, :c] = x
        coords[:, c] = rows[:, None]
        coords[:, c + 1] = cols[None, :]
        (ph, pw) = (int(p) for p in self.padding)
        # conv2d_nchw checks out's shape against its own arithmetic (OutShapeError).
        return conv2d_nchw(
            coords,
            weights["weight"],
            weights.get("bias"),
            out,
            stride=tuple(int(s) for s in self.stride),
            padding=(ph, ph, pw, pw),
        )

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from cnncalc.testing import Case, windows

        # Built from the output: each axis's window geometry gives the input size.
        @st.composite
        def build(draw):
            axes = [draw(windows(max_dilation=1, pad_limit=lambda k: k - 1)) for _ in "hw"]
            n, c, out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
            args = {
                "out": out,
                "kernel": [a.kernel for a in axes],
                "stride": [a.stride for a in axes],
                "padding": [a.pad for a in axes],
                "bias": draw(st.booleans()),
            }
            return Case({cls.kind: args}, (n, c, *(a.size for a in axes)), (n, out, *(a.out for a in axes)))

        return build()
