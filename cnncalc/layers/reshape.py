"""A reshape: the same values read in another shape."""

from __future__ import annotations

from typing import Annotated, Any

from ..core import dims
from ..errors import ExpressionError, ShapeError
from ..lang.expr import Expr, parse
from ._base import WHOLE, Arg, Check, Layer, Shape, Window, _bind_value, copy_checked
from ._fields import ArgumentError, Parse, describe
from ._registry import register


def _rest(e: Expr) -> bool:
    """Whether a size is written -1: the size the others leave."""
    return e.text.strip() == "-1"


def _sizes(value: Any) -> tuple[Expr, ...]:
    """A non-empty list of sizes, at most one of them -1 (the size the others leave)."""
    if not isinstance(value, (list, tuple)) or not value:
        raise ArgumentError(
            f"expected a non-empty list of sizes, such as [N, 768, -1], found {describe(value)}"
        )
    out: list[Expr] = []
    for v in value:
        try:
            out.append(parse(v))
        except ExpressionError as exc:
            raise ArgumentError(str(exc)) from None
    rest = sum(_rest(e) for e in out)
    if rest > 1:
        raise ArgumentError(f"at most one size may be -1 (the size the others leave), found {rest}")
    return tuple(out)


_SIZES_SCHEMA = {
    "type": "array",
    "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
    "minItems": 1,
}


@register
class Reshape(Layer):
    """The same values, in C order, read in the shape ``shape``, as ``x.reshape(shape)``.
    One size may be -1: the size the others leave. The sizes are expressions of the spec's
    symbols (``[N, 768, H/16*W/16]``), and the output must hold as many values as the input,
    for every value of the symbols.

    An ONNX import writes one for a Reshape, Squeeze or Unsqueeze that is not a flatten (the
    heads of attention split from and merged into the channels).
    Params: none. MACs: 0. FLOPs: 0 (a view).
    """

    kind = "reshape"

    shape: Annotated[tuple[Expr, ...], Parse(_sizes, _SIZES_SCHEMA), Arg(1, sequence=True)]

    @classmethod
    def examples(cls):
        import itertools
        import math

        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            # Factors grouped into axes two ways: the input and the output.
            factors = draw(st.lists(st.integers(1, 4), min_size=1, max_size=5))

            def grouping():
                cuts = sorted(draw(st.sets(st.integers(1, len(factors) - 1))) if len(factors) > 1 else [])
                bounds = [0, *cuts, len(factors)]
                return tuple(math.prod(factors[i:j]) for i, j in itertools.pairwise(bounds))

            x, out = grouping(), grouping()
            written: list[int] = list(out)
            if draw(st.booleans()):
                written[draw(st.integers(0, len(out) - 1))] = -1
            return Case({cls.kind: {"shape": written}}, x, out)

        return build()

    def bind(self, scope):
        """Each size bound as an expression of at least 1, except -1 (the size the others
        leave), which stays -1."""
        checks: list[Check] = []
        shape = tuple(
            -1 if _rest(e) else _bind_value(e, scope, f"shape[{i}]", 1, checks)
            for i, e in enumerate(self.shape)
        )
        return type(self).model_construct(shape=shape), checks

    def _resolved(self, x: Shape) -> Shape:
        known = [v for v in self.shape if not (dims.is_concrete(v) and v == -1)]
        if len(known) == len(self.shape):
            return tuple(self.shape)
        rest = dims.div(dims.prod(x), dims.prod(known))
        return tuple(rest if dims.is_concrete(v) and v == -1 else v for v in self.shape)

    def checks(self, x: Shape) -> list[Check]:
        total = dims.prod(x)
        known = [v for v in self.shape if not (dims.is_concrete(v) and v == -1)]
        written = "[" + ", ".join(dims.fmt(v) for v in self.shape) + "]"
        if len(known) < len(self.shape):
            return [
                Check(
                    dims.mod(total, dims.prod(known)),
                    "zero",
                    lambda: (
                        f"cannot reshape {dims.fmt_shape(x)} ({dims.fmt(total)} values) to {written}: "
                        f"{dims.fmt(dims.prod(known))} does not divide the number of values"
                    ),
                )
            ]
        return [
            Check(
                dims.add(dims.prod(known), dims.mul(-1, total)),
                "zero",
                lambda: (
                    f"cannot reshape {dims.fmt_shape(x)} ({dims.fmt(total)} values) to {written} "
                    f"({dims.fmt(dims.prod(known))} values): a reshape keeps every value"
                ),
            )
        ]

    def output_shape(self, x: Shape) -> Shape:
        out = self._resolved(x)
        for v in out:
            if dims.is_concrete(v) and int(v) != v:
                raise ShapeError(
                    f"cannot reshape {dims.fmt_shape(x)} to {list(self.shape)}: the size left for -1 is {v}"
                )
        return out

    def windows(self, x: Shape) -> tuple[Window, Window] | None:
        """A reshape moves values between axes: on a 4-D input, an output position may stand
        for any input position."""
        return (WHOLE, WHOLE) if len(x) == 4 else None

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Reshape", [g.inputs[0], g.const(g.ints(out))], {})

    def forward(self, xs, weights, out) -> int:
        return copy_checked(xs[0].reshape(out.shape), out)
