"""Space-to-depth (PyTorch's ``pixel_unshuffle``): blocks of pixels become channels."""

from __future__ import annotations

from typing import Any

from cnncalc import dims
from cnncalc.layers import Check, Int, Layer, OutShapeError, Shape, Window, divides, register


@register
class SpaceToDepth(Layer):
    """Moves each ``block`` x ``block`` patch of pixels into channels.

    Output: (N, C*block*block, H/block, W/block); ``block`` must divide H and W. Channel
    ``c*block*block + i*block + j`` of the output holds pixel (i, j) of each patch of channel c,
    as ``torch.nn.functional.pixel_unshuffle`` orders them.

    Params: none. MACs: 0 (a permutation). FLOPs: 0.
    """

    kind = "space_to_depth"
    prefix = "s2d"

    block: Int

    def checks(self, x: Shape) -> list[Check]:
        b = self.block
        return [
            divides(b, x[2], lambda: f"block = {dims.fmt(b)} must divide the height {dims.fmt(x[2])}"),
            divides(b, x[3], lambda: f"block = {dims.fmt(b)} must divide the width {dims.fmt(x[3])}"),
        ]

    def output_shape(self, x: Shape) -> Shape:
        b = self.block
        return (x[0], dims.mul(x[1], b, b), dims.floordiv(x[2], b), dims.floordiv(x[3], b))

    def windows(self, x: Shape) -> tuple[Window, Window]:
        # Output row o holds input rows o*block to o*block + block - 1 (and so for columns).
        b = self.block
        return (Window(b, b, 0), Window(b, b, 0))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any) -> int:
        (x,) = xs
        n, c, h, w = x.shape
        b = int(self.block)
        implied = (n, c * b * b, h // b, w // b)  # the kernel's own arithmetic, not the rule's
        if out.shape != implied:
            raise OutShapeError("out", out.shape, implied)
        patches = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 1, 3, 5, 2, 4)
        out[...] = patches.reshape(implied)
        return 0

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from cnncalc.testing import Case

        # Built from the output: an input of (H/block)*block rows has H/block rows out.
        @st.composite
        def build(draw):
            n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
            block = draw(st.integers(1, 3))
            h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            x = (n, c, h * block, w * block)
            return Case({cls.kind: {"block": block}}, x, (n, c * block * block, h, w))

        return build()
