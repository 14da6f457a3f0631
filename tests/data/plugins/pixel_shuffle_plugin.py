"""pixel_shuffle (PyTorch's ``pixel_shuffle``): channels become blocks of pixels."""

from __future__ import annotations

from typing import Any

from cnncalc import dims
from cnncalc.errors import ShapeError
from cnncalc.layers import Check, Int, Layer, OutShapeError, Shape, Window, divides, register


@register
class PixelShuffle(Layer):
    """Moves each group of ``upscale*upscale`` channels into an ``upscale`` x ``upscale`` patch.

    Output: (N, C/r^2, H*r, W*r) for r = ``upscale``; r*r must divide the channels C. Output
    pixel (c, h*r + i, w*r + j) is input channel ``c*r*r + i*r + j`` at (h, w), as
    ``torch.nn.functional.pixel_shuffle`` orders them.

    Params: none. MACs: 0 (a permutation). FLOPs: 0.
    """

    kind = "pixel_shuffle"
    prefix = "shuffle"

    upscale: Int

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise ShapeError(f"expects an input (N, C, H, W), got a rank-{len(x)} input {dims.fmt_shape(x)}")
        r = self.upscale
        return [
            divides(
                dims.mul(r, r),
                x[1],
                lambda: (
                    f"upscale*upscale = {dims.fmt(dims.mul(r, r))} must divide the channels {dims.fmt(x[1])}"
                ),
            )
        ]

    def output_shape(self, x: Shape) -> Shape:
        r = self.upscale
        return (x[0], dims.floordiv(x[1], dims.mul(r, r)), dims.mul(x[2], r), dims.mul(x[3], r))

    def windows(self, x: Shape) -> tuple[Window, Window]:
        # Output row o reads input row floor(o/r): one pixel, 1/r input rows per output row.
        step = dims.div(1, self.upscale)
        return (Window(1, step, 0), Window(1, step, 0))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any) -> int:
        (x,) = xs
        n, c, h, w = x.shape
        r = int(self.upscale)
        if c % (r * r):
            raise ValueError(f"upscale*upscale = {r * r} does not divide the channels {c}")
        implied = (n, c // (r * r), h * r, w * r)  # the kernel's own arithmetic, not the rule's
        if out.shape != implied:
            raise OutShapeError("out", out.shape, implied)
        blocks = x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
        out[...] = blocks.reshape(implied)
        return 0

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from cnncalc.testing import Case

        # Built from the output: C out channels from C*r*r in, H rows out from H/r rows in.
        @st.composite
        def build(draw):
            n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
            r = draw(st.integers(1, 3))
            h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            x = (n, c * r * r, h, w)
            return Case({cls.kind: {"upscale": r}}, x, (n, c, h * r, w * r))

        return build()
