"""Layers that merge several tensors: residual add, channel concat, broadcast multiply."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import Check, Layer, Shape, broadcast, copy_checked
from ._registry import register


def _same_rank(kind: str, xs: tuple[Shape, ...]) -> None:
    ranks = {len(x) for x in xs}
    if len(ranks) > 1:
        raise ShapeError(f"{kind} needs inputs of one rank, got ranks {', '.join(str(len(x)) for x in xs)}")


def _mismatch(axis: int, first: dims.Dim, other: dims.Dim, k: int):
    return lambda: f"axis {axis} must match: {dims.fmt(first)} (input 1) vs {dims.fmt(other)} (input {k})"


def _equal(a: dims.Dim, b: dims.Dim, message) -> Check:
    return Check(dims.add(a, dims.mul(-1, b)), "zero", message)


@register
class Add(Layer):
    """Elementwise sum of two or more tensors of one shape (a residual connection).

    Params: none. MACs: 0. FLOPs: (inputs - 1) additions per output element.
    """

    kind = "add"
    arity = None

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        return st.builds(
            lambda x, k: Case({cls.kind: {"branches": [[]] + [[{"relu": None}]] * k}}, x, x),
            shapes(),
            st.integers(1, 3),
        )

    def checks(self, *xs: Shape) -> list[Check]:
        _same_rank(self.kind, xs)
        return [
            _equal(x[axis], xs[0][axis], _mismatch(axis, xs[0][axis], x[axis], k))
            for k, x in enumerate(xs[1:], 2)
            for axis in range(len(x))
        ]

    def output_shape(self, *xs: Shape) -> Shape:
        return xs[0]

    def flops(self, *xs: Shape, out: Shape) -> dims.Dim:
        return dims.mul(len(xs) - 1, dims.prod(out))

    def to_onnx(self, g, *xs: Shape, out: Shape) -> None:
        g.chain("Add", g.inputs)

    def forward(self, xs, weights, out) -> int:
        from ..kernels.shape_ops import add

        return add(list(xs), out)


@register
class Concat(Layer):
    """Concatenation along axis ``dim`` (default 1, the channels); other axes must match.

    Params: none. MACs: 0. FLOPs: 0 (a copy).
    """

    kind = "concat"
    arity = None

    dim: int = 1

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        def case(x, widths):
            branches = [[]] + [[{"conv2d": {"out": c, "kernel": 1}}] for c in widths]
            return Case({cls.kind: {"branches": branches}}, x, (x[0], x[1] + sum(widths), *x[2:]))

        return st.builds(case, shapes(), st.lists(st.integers(1, 4), min_size=1, max_size=3))

    def _axis(self, xs: tuple[Shape, ...]) -> int:
        rank = len(xs[0])
        if not -rank <= self.dim < rank:
            raise ShapeError(f"dim {self.dim} is out of range for rank-{rank} inputs")
        return self.dim % rank

    def checks(self, *xs: Shape) -> list[Check]:
        _same_rank(self.kind, xs)
        axis = self._axis(xs)
        return [
            _equal(x[a], xs[0][a], _mismatch(a, xs[0][a], x[a], k))
            for k, x in enumerate(xs[1:], 2)
            for a in range(len(x))
            if a != axis
        ]

    def output_shape(self, *xs: Shape) -> Shape:
        axis = self._axis(xs)
        out = list(xs[0])
        out[axis] = dims.add(*(x[axis] for x in xs))
        return tuple(out)

    def flops(self, *xs: Shape, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, *xs: Shape, out: Shape) -> None:
        g.final("Concat", list(g.inputs), {"axis": self.dim})

    def forward(self, xs, weights, out) -> int:
        import numpy as np

        if self.dim % xs[0].ndim == 1 and xs[0].ndim == 4:
            from ..kernels.shape_ops import concat_channels

            return concat_channels(list(xs), out)
        return copy_checked(np.concatenate(xs, axis=self.dim), out)


@register
class Multiply(Layer):
    """Elementwise product with broadcasting (NumPy rules), e.g. squeeze-and-excitation gating
    of (N, C, H, W) by (N, C, 1, 1).

    Params: none. MACs: 0. FLOPs: (inputs - 1) multiplications per output element.
    """

    kind = "multiply"
    prefix = "mul"
    arity = None

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        gate = [{"global_avg_pool2d": None}, {"sigmoid": None}]  # squeeze-and-excitation
        return st.builds(
            lambda x, branches: Case({cls.kind: {"branches": branches}}, x, x),
            shapes(),
            st.sampled_from([[[], gate], [[], []], [[], gate, [{"tanh": None}]]]),
        )

    def checks(self, *xs: Shape) -> list[Check]:
        _same_rank(self.kind, xs)
        return broadcast(xs)[1]

    def output_shape(self, *xs: Shape) -> Shape:
        return broadcast(xs)[0]

    def flops(self, *xs: Shape, out: Shape) -> dims.Dim:
        return dims.mul(len(xs) - 1, dims.prod(out))

    def to_onnx(self, g, *xs: Shape, out: Shape) -> None:
        g.chain("Mul", g.inputs)

    def forward(self, xs, weights, out) -> int:
        import numpy as np

        from ..kernels.shape_ops import mul_broadcast

        acc = xs[0]
        for i, x in enumerate(xs[1:], 1):
            target = out if i == len(xs) - 1 else np.empty(np.broadcast_shapes(acc.shape, x.shape), acc.dtype)
            mul_broadcast(acc, x, target)
            acc = target
        return 0
