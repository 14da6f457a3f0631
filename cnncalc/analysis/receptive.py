"""Receptive fields: which input pixels each layer's output positions see, per spatial axis.

For every layer and each of the input's spatial axes (height, width) three numbers, as in
Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks" (Distill, 2019):

- ``size``: how many input pixels one output position sees, from first to last;
- ``jump`` (effective stride): input pixels between adjacent output positions;
- ``start``: the input coordinate of the first pixel output 0 sees (``-start`` is the
  effective padding).

A layer's :meth:`~cnncalc.layers.Layer.windows` says how its outputs read its input; the
composition, for a window ``(k, s, o)`` on a field ``(r, j, a)``, is::

    size  = r + (k - 1)*j        jump = j*s        start = a + o*j

Where paths merge (residual adds, concatenations) an output sees the union of what its inputs
see: the field spans from the smallest start to the largest end, and when the paths' own sizes
differ the record keeps their range and says so. Paths whose jumps differ are not aligned (an
output position does not sit at one place of the input); the field is then the union at output
0, flagged. After a global layer (global pooling, flatten) an output sees the whole input: the
size is that of the union over every position.

The image's axes are followed wherever a ``permute`` puts them (its ``axis_order``): in a
ConvNeXt block's channels-last stretch, (N, H, W, C), a linear layer over the last axis mixes
the channels and leaves the width's field alone. A layer's windows describe tensor axes 2 and 3;
an image axis moved to axis 0 or 1 keeps its field through the layers there (their windows say
nothing of those axes). When a layer other than a permutation changes the rank, the image axes
are no longer followed: the fields stay as they are.

With ``local=True`` (the field of a feature map's positions, as ``cnncalc bounds`` reports it),
a merge of paths some of which have been pooled globally (a squeeze-and-excitation scale, the
pooled branch of an ASPP module) keeps the field of the spatial paths and marks it ``context``:
each position also sees the whole input, through a vector that has no positions. Without it,
such a merge sees the whole input, and so does everything after it.

Values are ints, Fractions (upsampling makes jumps fractional) or formulas of open symbols.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..core import dims
from ..core.engine import Analysis, LayerResult
from ..errors import ShapeError
from ..layers import Window

AXES = ("height", "width")


@dataclass(frozen=True)
class AxisField:
    """The receptive field of a layer's outputs along one input axis."""

    size: Any  # input pixels one output position sees (padding included)
    jump: Any  # input pixels between adjacent output positions
    start: Any  # input coordinate of the first pixel output 0 sees
    whole: bool = False  # every output sees the whole input along this axis
    size_range: tuple[Any, Any] | None = None  # (smallest, largest) when merged paths disagree
    aligned: bool = True  # False when merged paths advance by different jumps
    context: bool = False  # (local fields) also sees the whole input through a global branch

    @property
    def padding(self) -> Any:
        """Effective padding: how far before the input the first field starts."""
        return dims.mul(-1, self.start)

    @property
    def disagree(self) -> bool:
        return self.size_range is not None or not self.aligned


@dataclass(frozen=True)
class LayerField:
    name: str
    axes: tuple[AxisField, AxisField]


INPUT_FIELD = AxisField(1, 1, 0)

#: Where a tensor holds the image's height and width: axes 2 and 3 of (N, C, H, W).
Layout = tuple[int, int]
NCHW: Layout = (2, 3)


def receptive_fields(a: Analysis, local: bool = False) -> tuple[LayerField, ...]:
    """The receptive field of every layer of ``a``, in order; with ``local``, merges keep the
    field of their spatial paths (see the module's docstring)."""
    fields: dict[str, tuple[AxisField, AxisField]] = {"input": (INPUT_FIELD, INPUT_FIELD)}
    layouts: dict[str, Layout | None] = {"input": NCHW if len(a.input_shape) == 4 else None}
    out = []
    for r in a.layers:
        layout = layouts[r.inputs[0]]
        try:
            axes = layer_field(r, [fields[i] for i in r.inputs], layout, local)
        except ShapeError as exc:  # a custom layer's windows() (cnncalc.layers._guard)
            raise located(a, r, exc) from None
        fields[r.name] = axes
        layouts[r.name] = output_layout(r, layout)
        out.append(LayerField(r.name, axes))
    return tuple(out)


def located(a: Analysis, r: LayerResult, exc: ShapeError) -> ShapeError:
    """``exc``, raised by a rule of ``r``'s layer after the analysis (a custom kind's
    ``windows()``), as the same kind of error located at ``r``'s entry in the spec."""
    mark = r.position
    d = exc.diagnostic.located(
        file=a.filename, line=mark.line if mark else None, column=mark.column if mark else None
    )
    return type(exc)(replace(d, where=f"layer {r.name!r} ({r.kind})"))


def layer_field(
    r: LayerResult,
    inputs: list[tuple[AxisField, AxisField]],
    layout: Layout | None = NCHW,
    local: bool = False,
) -> tuple[AxisField, AxisField]:
    """Compose the fields of ``r``'s inputs with ``r``'s windows on the axes ``layout`` says
    hold the image's height and width."""
    merged = inputs[0] if len(inputs) == 1 else tuple(merge([f[i] for f in inputs], local) for i in range(2))
    x = r.input_shapes[0]
    windows = r.layer.windows(*r.input_shapes) if len(x) == 4 and layout is not None else None
    if windows is None:
        return merged
    return tuple(
        apply(f, windows[at - 2], x[at]) if at in (2, 3) else f
        for f, at in zip(merged, layout, strict=True)  # type: ignore[arg-type]
    )


def output_layout(r: LayerResult, layout: Layout | None) -> Layout | None:
    """Where ``r``'s output holds the image axes its input held at ``layout``."""
    order = r.layer.axis_order(*r.input_shapes)
    if order is not None:
        return None if layout is None else (order.index(layout[0]), order.index(layout[1]))
    return layout if len(r.output_shape) == len(r.input_shapes[0]) else None


def apply(f: AxisField, w: Window, length: Any) -> AxisField:
    """The field after a window ``w`` reading an input of ``length`` positions."""
    if f.whole:
        return f
    if w.size is None:
        # Every output reads positions 0 .. length - 1: the union of their fields.
        size = dims.add(f.size, dims.mul(dims.add(length, -1), f.jump))
        return AxisField(size, dims.mul(f.jump, length), f.start, True, None, f.aligned, f.context)
    size = dims.add(f.size, dims.mul(dims.add(w.size, -1), f.jump))
    rng = None
    if f.size_range is not None:
        grow = dims.mul(dims.add(w.size, -1), f.jump)
        rng = (dims.add(f.size_range[0], grow), dims.add(f.size_range[1], grow))
    return AxisField(
        size,
        dims.mul(f.jump, w.stride),
        dims.add(f.start, dims.mul(w.offset, f.jump)),
        False,
        rng,
        f.aligned,
        f.context,
    )


def merge(fields: list[AxisField], local: bool = False) -> AxisField:
    """The field of an output that reads several paths at the same position; with ``local``,
    that of the paths not pooled globally when there are some, marked ``context``."""
    spatial = [f for f in fields if not f.whole]
    if local and spatial and len(spatial) < len(fields):
        merged = merge(spatial, local)
        return replace(merged, context=True)
    first = fields[0]
    if all(_same(f, first) for f in fields[1:]):
        return first
    starts = [f.start for f in fields]
    ends = [dims.add(f.start, f.size, -1) for f in fields]
    start = _extreme(starts, min)
    end = _extreme(ends, max)
    sizes = [f.size for f in fields]
    lows = [f.size_range[0] if f.size_range else f.size for f in fields]
    aligned = all(f.aligned for f in fields) and all(_equal(f.jump, first.jump) for f in fields)
    return AxisField(
        dims.add(end, dims.mul(-1, start), 1),
        first.jump if aligned else _extreme([f.jump for f in fields], max),
        start,
        any(f.whole for f in fields),
        (_extreme(lows, min), _extreme(sizes, max)),
        aligned,
        any(f.context for f in fields),
    )


def _same(a: AxisField, b: AxisField) -> bool:
    return (
        _equal(a.size, b.size)
        and _equal(a.jump, b.jump)
        and _equal(a.start, b.start)
        and a.whole == b.whole
        and a.size_range == b.size_range
        and a.aligned == b.aligned
        and a.context == b.context
    )


def _equal(x: Any, y: Any) -> bool:
    d = dims.add(x, dims.mul(-1, y))
    return dims.is_concrete(d) and d == 0


def _extreme(values: list, pick) -> Any:
    """min or max, exact: a number when the values are, else sympy's Min / Max."""
    if all(dims.is_concrete(v) for v in values):
        return pick(values)
    return (dims.dmin if pick is min else dims.dmax)(*values)


def last_feature_map(a: Analysis) -> int | None:
    """Index of the last layer with a 4-D output whose size depends on an open symbol: the last
    feature map before global or adaptive pooling (None when there is none)."""
    for i in range(len(a.layers) - 1, -1, -1):
        shape = a.layers[i].output_shape
        if len(shape) == 4 and any(dims.free_symbols(d) for d in shape[2:]):
            return i
    return None


def last_spatial_field(a: Analysis) -> tuple[str, tuple[AxisField, AxisField]] | None:
    """The field of the last layer whose outputs do not yet see the whole input: the most
    input any one position of the network's last feature map reads."""
    found = None
    for f in receptive_fields(a):
        if any(ax.whole for ax in f.axes):
            break
        found = (f.name, f.axes)
    return found
