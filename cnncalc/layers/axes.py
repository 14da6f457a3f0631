"""Operations named by axes: a mean over some of them, and a permutation of all of them."""

from __future__ import annotations

from typing import Annotated, Any

from ..core import dims
from ..errors import ShapeError
from ._base import WHOLE, Check, Layer, Shape, Window
from ._fields import ArgumentError, Parse, describe
from ._registry import register


def _ints(value: Any) -> tuple[int, ...]:
    """A non-empty list of integers (axes)."""
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"expected a list of axes, found {describe(value)}")
    if not value:
        raise ArgumentError("expected at least one axis, found none")
    for v in value:
        if not isinstance(v, int) or isinstance(v, bool):
            raise ArgumentError(f"expected a list of axes (integers), found {describe(v)} in it")
    return tuple(value)


def _read_axes(value: Any) -> tuple[int, ...]:
    """Distinct axes; one may be written alone (``axes: 1`` is ``axes: [1]``)."""
    axes = _ints([value] if isinstance(value, int) and not isinstance(value, bool) else value)
    repeated = sorted({a for a in axes if axes.count(a) > 1})
    if repeated:
        raise ArgumentError(f"axes {list(axes)} name axis {repeated[0]} more than once")
    return axes


def _permutation(value: Any) -> tuple[int, ...]:
    """Every axis once, negative ones counting from the end."""
    dims_ = _ints(value)
    rank = len(dims_)
    out_of_range = [d for d in dims_ if not -rank <= d < rank]
    if out_of_range:
        raise ArgumentError(
            f"dims {list(dims_)} is not a permutation: its {rank} entries must be the axes 0 to "
            f"{rank - 1} (or {-rank} to -1) each once, and {out_of_range[0]} is out of that range"
        )
    seen: dict[int, int] = {}
    for d in dims_:
        if d % rank in seen:
            raise ArgumentError(
                f"dims {list(dims_)} is not a permutation: {seen[d % rank]} and {d} are the same axis"
            )
        seen[d % rank] = d
    return dims_


_AXES_SCHEMA = {"type": "array", "items": {"type": "integer"}, "minItems": 1}


_show = dims.fmt_shape


def _normalise(axes: tuple[int, ...], rank: int, what: str, x: Shape) -> list[int]:
    """``axes`` counted from 0, each checked against the rank of ``x``."""
    for a in axes:
        if not -rank <= a < rank:
            raise ShapeError(
                f"{what} {list(axes)}: axis {a} is out of range for the rank-{rank} input {_show(x)} "
                f"(axes {-rank} to {rank - 1})"
            )
    return [a % rank for a in axes]


@register
class Mean(Layer):
    """The mean over ``axes`` (negative ones count from the end), as ``x.mean(axes, keepdim)``:
    the axes averaged are removed, or kept with size 1 when ``keepdim`` is true.

    ``mean: {axes: [2, 3]}`` is EfficientNet's and MnasNet's pooling: (N, C, H, W) to (N, C).
    Params: none. MACs: 0 (averaging has no products, as pooling).
    FLOPs: numel(x) + numel(out): one addition per input element and one division per output,
    as global_avg_pool2d counts.
    """

    kind = "mean"

    axes: Annotated[tuple[int, ...], Parse(_read_axes, {"anyOf": [{"type": "integer"}, _AXES_SCHEMA]})]
    keepdim: bool = False

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)))
            keepdim = draw(st.booleans())
            most = len(x) if keepdim else len(x) - 1  # without keepdim, one axis stays
            if most == 0:
                keepdim, most = True, len(x)
            axes = draw(st.lists(st.integers(0, len(x) - 1), min_size=1, max_size=most, unique=True))
            expected = tuple(1 if d in axes else size for d, size in enumerate(x) if keepdim or d not in axes)
            written = [a - len(x) if draw(st.booleans()) else a for a in axes]  # negative too
            return Case({cls.kind: {"axes": written, "keepdim": keepdim}}, x, expected)

        return build()

    def _axes(self, x: Shape) -> list[int]:
        axes = _normalise(self.axes, len(x), "axes", x)
        for i, a in enumerate(axes):
            if a in axes[:i]:
                raise ShapeError(
                    f"axes {list(self.axes)}: {self.axes[axes.index(a)]} and {self.axes[i]} are the "
                    f"same axis of the rank-{len(x)} input {_show(x)}"
                )
        if not self.keepdim and len(axes) == len(x):
            raise ShapeError(
                f"axes {list(self.axes)} average every axis of {_show(x)}, which would leave a "
                f"rank-0 tensor; keep an axis out, or write keepdim: true"
            )
        return axes

    def checks(self, x: Shape) -> list[Check]:
        self._axes(x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        axes = self._axes(x)
        return tuple(1 if d in axes else size for d, size in enumerate(x) if self.keepdim or d not in axes)

    def windows(self, x: Shape) -> tuple[Window, Window]:
        """An axis averaged is read whole; the others position by position."""
        axes = self._axes(x)
        return tuple(WHOLE if a in axes else Window(1) for a in (2, 3))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.add(dims.prod(x), dims.prod(out))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """ReduceMean: the axes as an input from opset 18, an attribute before."""
        axes = self._axes(x)
        keep = int(self.keepdim)
        if g.opset >= 18:
            g.final("ReduceMean", [g.inputs[0], g.const(axes)], {"keepdims": keep})
        else:
            g.final("ReduceMean", [g.inputs[0]], {"axes": axes, "keepdims": keep})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.axes import mean_axes

        return mean_axes(xs[0], list(self.axes), self.keepdim, out)


@register
class Permute(Layer):
    """Reorder the axes: output axis i is input axis ``dims[i]``, as ``x.permute(dims)``
    (``[0, 2, 3, 1]`` turns (N, C, H, W) into (N, H, W, C), ConvNeXt's channels-last blocks).

    ``dims`` lists every axis once (negative ones count from the end).
    Params: none. MACs: 0. FLOPs: 0 (a copy).
    """

    kind = "permute"

    dims: Annotated[tuple[int, ...], Parse(_permutation, _AXES_SCHEMA)]

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case

        @st.composite
        def build(draw):
            x = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)))
            order = draw(st.permutations(range(len(x))))
            written = [d - len(x) if draw(st.booleans()) else d for d in order]
            return Case({cls.kind: {"dims": written}}, x, tuple(x[d] for d in order))

        return build()

    def axis_order(self, x: Shape) -> tuple[int, ...]:
        if len(self.dims) != len(x):
            raise ShapeError(
                f"dims {list(self.dims)} permutes {len(self.dims)} axes, but the input {_show(x)} "
                f"has {len(x)}: list each of its axes once"
            )
        return tuple(d % len(x) for d in self.dims)

    def checks(self, x: Shape) -> list[Check]:
        self.axis_order(x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        return tuple(x[d] for d in self.axis_order(x))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return 0

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("Transpose", [g.inputs[0]], {"perm": list(self.axis_order(x))})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.axes import permute

        return permute(xs[0], list(self.dims), out)
