"""Channel rearrangements: equal chunks and ShuffleNet's channel shuffle."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import Check, Int, Layer, Shape, Window, at_least, copy_checked, divides, rank_error
from ._registry import register


@register
class Chunk(Layer):
    """Piece ``index`` (from 0) of ``chunks`` equal pieces along ``dim`` (default 1).

    The size along ``dim`` must be a multiple of ``chunks`` (ShuffleNet v2 splits channels in
    halves with two chunk layers reading the same input). Params: none. MACs: 0. FLOPs: 0.
    """

    kind = "chunk"

    chunks: Int
    index: int = 0
    dim: int = 1

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = list(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
            dim = draw(st.integers(0, len(x) - 1))
            chunks = draw(st.integers(1, 3))
            piece = x[dim]
            x[dim] = piece * chunks
            expected = list(x)
            expected[dim] = piece
            args = {"chunks": chunks, "index": draw(st.integers(0, chunks - 1)), "dim": dim}
            return Case({cls.kind: args}, tuple(x), tuple(expected))

        return build()

    def _axis(self, x: Shape) -> int:
        if not -len(x) <= self.dim < len(x):
            raise ShapeError(f"dim {self.dim} is out of range for a rank-{len(x)} input")
        return self.dim % len(x)

    def checks(self, x: Shape) -> list[Check]:
        axis = self._axis(x)
        if self.index < 0:
            raise ShapeError(f"index {self.index} must be at least 0")
        return [
            at_least(
                self.chunks,
                self.index + 1,
                lambda: f"index {self.index} must be below chunks = {dims.fmt(self.chunks)}",
            ),
            divides(
                self.chunks,
                x[axis],
                f"chunks = {dims.fmt(self.chunks)} must divide the "
                f"size {dims.fmt(x[axis])} along dim {self.dim}",
            ),
        ]

    def output_shape(self, x: Shape) -> Shape:
        axis = self._axis(x)
        out = list(x)
        out[axis] = dims.floordiv(x[axis], self.chunks)
        return tuple(out)

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """A piece of a spatial axis starts ``index`` pieces into it."""
        axis = self._axis(x)
        if len(x) != 4 or axis < 2:
            return None
        start = dims.mul(self.index, dims.floordiv(x[axis], self.chunks))
        return tuple(Window(1, 1, start) if a == axis else Window(1) for a in (2, 3))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Split into ``chunks`` equal pieces; this layer is output ``index`` (the others unused)."""
        chunks, piece = g.int(self.chunks), g.int(out[self._axis(x)])
        sizes = g.const([piece] * chunks)
        g.final("Split", [g.inputs[0], sizes], {"axis": self.dim}, index=self.index, outputs=chunks)

    def forward(self, xs, weights, out) -> int:
        import numpy as np

        return copy_checked(np.split(xs[0], self.chunks, axis=self.dim)[self.index], out)


@register
class ChannelShuffle(Layer):
    """Interleave the channels of ``groups`` groups (ShuffleNet): (N, C, H, W) unchanged in
    shape; ``groups`` must divide C. Params: none. MACs: 0. FLOPs: 0 (a permutation).
    """

    kind = "channel_shuffle"
    prefix = "shuffle"

    groups: Int

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        return st.builds(
            lambda x, g: Case({cls.kind: {"groups": g}}, (x[0], x[1] * g, *x[2:]), (x[0], x[1] * g, *x[2:])),
            shapes(),
            st.integers(1, 4),
        )

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        return [
            divides(
                self.groups,
                x[1],
                f"groups = {dims.fmt(self.groups)} must divide the channels {dims.fmt(x[1])}",
            )
        ]

    def output_shape(self, x: Shape) -> Shape:
        return x

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """Reshape to (N, groups, C/groups, H*W), swap axes 1 and 2, reshape back."""
        groups, c = g.int(self.groups), g.int(x[1])
        (source,) = g.inputs
        split = g.node("Reshape", [source, g.const([0, groups, c // groups, -1])], {})
        swapped = g.node("Transpose", [split], {"perm": [0, 2, 1, 3]})
        g.final("Reshape", [swapped, g.node("Shape", [source], {})], {})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.shape_ops import channel_shuffle

        return channel_shuffle(xs[0], self.groups, out)
