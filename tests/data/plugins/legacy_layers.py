"""Custom layers written against docs/custom-layers.md as it stood before layer arguments became
pydantic models (commit e9e606b): the worked example as the page gave it, and a layer using the
argument markers of that page (``Range`` and ``Parse`` from ``cnncalc.fields``,
``annotated_types.Ge``), ``windows()``, a kernel of ``cnncalc.kernels`` and the ``Window`` that
``cnncalc.testing`` exported then.

Kept unchanged: the tests load, analyse, verify and contract-test it, so that a plugin written
then keeps working (with deprecation warnings naming the new spellings).
"""

from typing import Annotated

import annotated_types

from cnncalc import dims
from cnncalc.fields import Parse, Range
from cnncalc.layers import (
    Check,
    Int,
    Layer,
    OutShapeError,
    Pair,
    Param,
    Shape,
    Window,
    at_least,
    divides,
    register,
)


@register
class SpaceToDepth(Layer):
    """Moves each ``block`` x ``block`` patch of pixels into channels.

    Output: (N, C*block*block, H/block, W/block); ``block`` must divide H and W.

    Params: none. MACs: 0 (a permutation). FLOPs: 0.
    """

    kind = "legacy_space_to_depth"  # the tag spec files use
    prefix = "s2d"  # generated names: s2d1, s2d2, ...

    block: Int  # an argument: a number or an expression of symbols

    def checks(self, x: Shape) -> list[Check]:
        b = self.block
        return [
            divides(b, x[2], lambda: f"block = {dims.fmt(b)} must divide the height {dims.fmt(x[2])}"),
            divides(b, x[3], lambda: f"block = {dims.fmt(b)} must divide the width {dims.fmt(x[3])}"),
        ]

    def output_shape(self, x: Shape) -> Shape:
        b = self.block
        return (x[0], dims.mul(x[1], b, b), dims.floordiv(x[2], b), dims.floordiv(x[3], b))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def forward(self, xs, weights, out) -> int:
        (x,) = xs
        n, c, h, w = x.shape
        b = int(self.block)
        implied = (n, c * b * b, h // b, w // b)  # the kernel's own arithmetic
        if out.shape != implied:
            raise OutShapeError("out", out.shape, implied)
        patches = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 1, 3, 5, 2, 4)
        out[...] = patches.reshape(implied)
        return 0  # multiply-accumulates performed

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from cnncalc.testing import Case

        @st.composite
        def build(draw):
            # Built from the output: H/block rows out from an input of (H/block)*block rows.
            n, c, block = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
            h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            return Case(
                {cls.kind: {"block": block}}, (n, c, h * block, w * block), (n, c * block * block, h, w)
            )

        return build()


def read_mode(value):
    if value not in ("avg", "max"):
        raise ValueError(f"mode is avg or max, found {value!r}")
    return value


@register
class GainPool(Layer):
    """Scales the input by ``gain``, pools it (``mode`` avg or max, window ``kernel``, step
    ``stride``, no padding), then adds a learned bias per channel.

    Output: (N, C, H_out, W_out), H_out = floor((H - kh)/sh) + 1. Params: C (the bias).
    MACs: 0 (no products of two tensors; the gain is a scaling).
    FLOPs: N*C*H*W multiplications by the gain, plus (kh*kw + 1) per output: the window's
    kh*kw - 1 additions or comparisons, a division (avg) or nothing (max, counted as one anyway
    for one formula), and the bias.
    """

    kind = "legacy_gain_pool"
    prefix = "gainpool"

    kernel: Pair
    stride: Pair = 1
    gain: Annotated[float, Range(gt=0)] = 1.0
    floor: Annotated[float, annotated_types.Ge(0)] = 0.0  # unused by the rules: a plain number
    mode: Annotated[str, Parse(read_mode, {"enum": ["avg", "max"]})] = "avg"

    def checks(self, x: Shape) -> list[Check]:
        return [
            at_least(
                size,
                k,
                lambda k=k, size=size, axis=axis: (
                    f"the {axis} {dims.fmt(size)} must hold the window {dims.fmt(k)}"
                ),
            )
            for axis, size, k in zip(("height", "width"), x[2:], self.kernel, strict=True)
        ]

    def output_shape(self, x: Shape) -> Shape:
        spatial = (
            dims.window_out(size, k, s, 0, 0)
            for size, k, s in zip(x[2:], self.kernel, self.stride, strict=True)
        )
        return (x[0], x[1], *spatial)

    def windows(self, x: Shape) -> tuple[Window, Window]:
        return tuple(Window(k, s, 0) for k, s in zip(self.kernel, self.stride, strict=True))

    def weights(self, x: Shape) -> dict[str, Param]:
        return {"bias": Param((x[1],), "bias")}

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        kh, kw = self.kernel
        return dims.add(dims.prod(x), dims.mul(dims.prod(out), dims.add(dims.mul(kh, kw), 1)))

    def forward(self, xs, weights, out) -> int:
        from cnncalc.kernels.pool import avg_pool2d_nchw, max_pool2d_nchw

        (x,) = xs
        pool = avg_pool2d_nchw if self.mode == "avg" else max_pool2d_nchw
        kernel = tuple(int(k) for k in self.kernel)
        stride = tuple(int(s) for s in self.stride)
        counted = pool((x * x.dtype.type(self.gain)).astype(x.dtype), out, kernel, stride)
        out += weights["bias"][None, :, None, None]
        return counted

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from cnncalc.testing import Case, Window, windows  # Window, as the page listed it

        @st.composite
        def build(draw):
            axes: list[Window] = [draw(windows(max_dilation=1, pad_limit=lambda k: 0)) for _ in "hw"]
            n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
            args = {
                "kernel": [a.kernel for a in axes],
                "stride": [a.stride for a in axes],
                "gain": draw(st.sampled_from([0.5, 1.0, 2.0])),
                "mode": draw(st.sampled_from(["avg", "max"])),
            }
            return Case({cls.kind: args}, (n, c, *(a.size for a in axes)), (n, c, *(a.out for a in axes)))

        return build()
