"""The product of two tensors the network computes: attention's scores and its weighted sum."""

from __future__ import annotations

from ..core import dims
from ..errors import ShapeError
from ._base import WHOLE, Check, Layer, Shape, Window, broadcast
from ._registry import register


@register
class MatMul(Layer):
    """The matrix product of two tensors the network computes, as ``torch.matmul(a, b)``:
    (..., M, K) times (..., K, P) gives (..., M, P), the leading axes broadcast by NumPy's rules
    (one of two sizes may be 1). Attention is two of them: the scores ``q @ k^T`` (k permuted
    first) and the weighted sum ``softmax(scores) @ v``.

    It reads exactly two tensors (``inputs: [a, b]``), each of rank 2 or more. A product by a
    learned matrix is a ``linear`` layer, which owns its weight.
    Params: none. MACs: batch*M*K*P, where batch is the product of the output's leading axes.
    FLOPs: 2*MACs (a multiplication and an addition per multiply-accumulate, as torch's flop
    counter counts ``bmm``).
    """

    kind = "matmul"
    arity = None

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            # x (B..., M, K) times (x permuted to (B..., K, M), then a linear to P): (B..., M, P)
            lead = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
            m, k, p = (draw(st.integers(1, 5)) for _ in range(3))
            x = (*lead, m, k)
            r = len(x)
            order = [*range(r - 2), r - 1, r - 2]
            other = [{"permute": {"dims": order}}, {"linear": {"out": p, "bias": False, "axis": -1}}]
            return Case({cls.kind: {"branches": [[], other]}}, x, (*lead, m, p))

        return build()

    def _operands(self, xs: tuple[Shape, ...]) -> tuple[Shape, Shape]:
        if len(xs) != 2:
            raise ShapeError(f"matmul multiplies two tensors, it was given {len(xs)}")
        a, b = xs
        for k, x in enumerate(xs, 1):
            if len(x) < 2:
                raise ShapeError(
                    f"input {k} {dims.fmt_shape(x)} has rank {len(x)}: each operand needs rank 2 or more "
                    f"(a matrix, or a stack of them)"
                )
        return a, b

    def checks(self, *xs: Shape) -> list[Check]:
        a, b = self._operands(xs)
        inner = Check(
            dims.add(a[-1], dims.mul(-1, b[-2])),
            "zero",
            lambda: (
                f"the last axis of input 1 {dims.fmt_shape(a)} must equal the second last of input 2 "
                f"{dims.fmt_shape(b)}: {dims.fmt(a[-1])} vs {dims.fmt(b[-2])}"
            ),
        )
        return [inner, *broadcast((a[:-2], b[:-2]), "batch axis")[1]]

    def output_shape(self, *xs: Shape) -> Shape:
        a, b = self._operands(xs)
        lead, _ = broadcast((a[:-2], b[:-2]))
        return (*lead, a[-2], b[-1])

    def macs(self, *xs: Shape, out: Shape) -> dims.Dim:
        a, _ = self._operands(xs)
        return dims.mul(dims.prod(out), a[-1])

    def flops(self, *xs: Shape, out: Shape) -> dims.Dim:
        return dims.mul(2, self.macs(*xs, out=out))

    def windows(self, *xs: Shape) -> tuple[Window, Window] | None:
        """Each output reads a whole row of one operand and a whole column of the other: on
        4-D tensors, the whole of both last axes."""
        return (WHOLE, WHOLE) if len(xs[0]) == 4 else None

    def to_onnx(self, g, *xs: Shape, out: Shape) -> None:
        g.final("MatMul", list(g.inputs), {})

    def forward(self, xs, weights, out) -> int:
        import numpy as np

        from ..kernels._blas import matmul_into
        from ..kernels._checks import OutShapeError

        a, b = xs
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        shape = (*lead, a.shape[-2], b.shape[-1])
        if out.shape != shape:
            raise OutShapeError("out", out.shape, shape)
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul operands do not chain: {a.shape} @ {b.shape}")
        stack_a = np.ascontiguousarray(np.broadcast_to(a, (*lead, *a.shape[-2:]))).reshape(-1, *a.shape[-2:])
        stack_b = np.ascontiguousarray(np.broadcast_to(b, (*lead, *b.shape[-2:]))).reshape(-1, *b.shape[-2:])
        result = np.empty((stack_a.shape[0], a.shape[-2], b.shape[-1]), out.dtype)
        macs = matmul_into(stack_a, stack_b, result)
        out[...] = result.reshape(shape)
        return macs
