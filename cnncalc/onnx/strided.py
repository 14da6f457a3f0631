"""``as_strided`` as the dynamo exporter writes it: the tensor flattened to one axis (a Reshape to
``[-1]``), then a Gather at indices computed from the sizes (``Range`` over each output axis,
times the axis's stride, unsqueezed and added up, plus constants). ConvNeXt's classifier head
reads its pooled ``[N, C, 1, 1]`` map that way.

The indices are followed as a :class:`Lattice`, ``offset + sum(stride[k] * i[k])`` over the
output's axes (whose sizes may be symbols, the batch's among them). When that is exactly the
row-major layout of the output's shape and the output holds every element of the input, the
gather only reshapes: an ``identity`` when the shapes are the same, a ``flatten`` when it keeps
the batch and makes two axes. Any other lattice (a window, a step, an overlap) is refused with
the lattice it found; nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core import dims
from .graph import Unmappable
from .shuffle import reshape_target, same
from .values import EVALUATED

#: Nodes followed back from a gather's indices before giving up.
MAX_NODES = 64


@dataclass(frozen=True)
class Lattice:
    """The indices ``offset + sum(strides[k] * i[k])`` for ``i`` over ``shape`` (row-major)."""

    shape: tuple[Any, ...]  # sizes: ints or expressions of the symbols
    strides: tuple[int, ...]
    offset: int = 0

    def show(self) -> str:
        terms = [f"{s}*i{k}" for k, s in enumerate(self.strides) if not _one(self.shape[k])]
        return (
            f"{self.offset} + " * bool(self.offset)
            + (" + ".join(terms) or "0")
            + (f" over {dims.fmt_shape(self.shape)}")
        )


def _one(size) -> bool:
    return dims.is_concrete(size) and size == 1


def flat_gather(ctx, node) -> bool:
    """A Reshape to ``[-1]`` read by a Gather at a lattice of indices: one ``identity`` or
    ``flatten`` layer from the reshape's input to the gather's output (the gather and the
    nodes computing its indices are absorbed). False when ``node`` is no such reshape; a
    lattice that is not a reshape raises :class:`Unmappable` saying what it is."""
    x = ctx.shape(node.input[0])
    gather = ctx.sole_user(node.output[0], "Gather")
    if x is None or gather is None or gather.input[0] != node.output[0] or len(gather.input) < 2:
        return False
    if int(ctx.attrs(gather).get("axis", 0)) != 0:
        return False
    try:
        target = reshape_target(ctx, node, ctx.attrs(node), x)
    except Unmappable:
        return False
    if target is None or len(target) != 1:
        return False
    seen: list = []
    try:
        lattice = _lattice(ctx, gather.input[1], seen)
    except Unmappable as exc:
        raise Unmappable(
            f"a gather of the flattened {dims.fmt_shape(x)} (an as_strided) at indices that are not "
            f"followed: {exc}"
        ) from None
    out = lattice.shape
    row_major = lattice.offset == 0 and all(
        _one(size) or same(stride, dims.prod(out[k + 1 :]))
        for k, (size, stride) in enumerate(zip(out, lattice.strides, strict=True))
    )
    if not row_major or not same(dims.prod(out), dims.prod(x)):
        raise Unmappable(
            f"a gather of the flattened {dims.fmt_shape(x)} at {lattice.show()} (an as_strided "
            f"that is not a reshape of the whole tensor)"
        )
    if len(out) == len(x) and all(same(p, q) for p, q in zip(out, x, strict=True)):
        kind, rank = "identity", None
    elif len(out) == 2 and len(x) >= 2 and same(out[0], x[0]):
        kind, rank = "flatten", 2
    else:
        raise Unmappable(
            f"an as_strided reshape of {dims.fmt_shape(x)} to {dims.fmt_shape(out)} "
            f"(neither the same shape nor a flatten)"
        )
    inside = {id(n) for n in seen} | {id(gather)}
    for n in seen:  # the index arithmetic nobody else reads
        if all(id(user) in inside for y in n.output for user in ctx.graph.consumers.get(y, [])) and not any(
            y in ctx.graph.outputs for y in n.output
        ):
            ctx.absorb(n)
    ctx.absorb(gather)
    ctx.layer(kind, {}, output=gather.output[0], named_by=gather, rank=rank)
    return True


def _lattice(ctx, name: str, seen: list) -> Lattice:
    """The indices tensor ``name`` as a lattice, or Unmappable."""
    if ctx.graph.is_constant(name):
        return _from_array(ctx.graph.constant_array(name))
    node = ctx.graph.producer.get(name)
    if node is None:
        raise Unmappable(f"the gather's indices {name!r} are neither computed nor constant")
    seen.append(node)
    if len(seen) > MAX_NODES:
        raise Unmappable(f"the gather's indices take more than {MAX_NODES} nodes to compute")
    op = node.op_type
    if op in ("Identity", "Cast"):
        return _lattice(ctx, node.input[0], seen)
    if op == "Range":
        start, delta = (_int(ctx, node.input[i]) for i in (0, 2))
        if delta != 1:
            raise Unmappable(f"a range of step {delta} as the gather's indices")
        limit = _size(ctx, node.input[1], seen).scalar()
        return Lattice((dims.canon(dims.add(limit, -start)),), (1,), start)
    if op == "Unsqueeze":
        axes = ctx.attrs(node).get("axes")
        if axes is None:
            axes = [int(v) for v in ctx.constant(node, 1).ravel()]
        inner = _lattice(ctx, node.input[0], seen)
        shape, strides = list(inner.shape), list(inner.strides)
        rank = len(shape) + len(axes)
        for axis in sorted(int(a) % rank for a in axes):
            shape.insert(axis, 1)
            strides.insert(axis, 0)
        return Lattice(tuple(shape), tuple(strides), inner.offset)
    if op == "Mul":
        p, q = node.input[0], node.input[1]
        if ctx.graph.is_constant(p) or p in ctx.values:
            p, q = q, p
        factor = _int(ctx, q)
        inner = _lattice(ctx, p, seen)
        return Lattice(inner.shape, tuple(s * factor for s in inner.strides), inner.offset * factor)
    if op == "Add":
        return _add(_lattice(ctx, node.input[0], seen), _lattice(ctx, node.input[1], seen))
    raise Unmappable(f"the gather's indices are computed by {op}, which is not followed")


def _size(ctx, name: str, seen: list):
    """The value of shape arithmetic ``name``, evaluated now if the graph's order puts it after
    the reshape being read (its producers are shape arithmetic of the input's shape)."""
    _evaluate(ctx, name, seen)
    return ctx.value(name)


def _evaluate(ctx, name: str, seen: list) -> None:
    if name in ctx.values or name in ctx.value_errors or ctx.graph.is_constant(name):
        return
    node = ctx.graph.producer.get(name)
    if node is None or node.op_type not in EVALUATED or len(seen) >= MAX_NODES:
        return
    seen.append(node)
    if node.op_type not in ("Shape", "Size"):
        for x in node.input:
            if x:
                _evaluate(ctx, x, seen)
    ctx.arithmetic(node, node.op_type)


def _int(ctx, name: str) -> int:
    v = ctx.value(name).scalar()
    if not dims.is_concrete(v) or int(v) != v:
        raise Unmappable(f"{dims.fmt(v)} where a fixed integer is expected in the gather's indices")
    return int(v)


def _from_array(array) -> Lattice:
    """A constant index tensor as a lattice, when it is one (checked element by element)."""
    import numpy as np

    a = np.asarray(array)
    if a.dtype.kind not in "iu" or a.size == 0:
        raise Unmappable("the gather's indices are a constant that is not integers")
    a = a.astype(np.int64)
    origin = (0,) * a.ndim
    offset = int(a[origin])
    strides = []
    for k, n in enumerate(a.shape):
        step = (0,) * k + (1,) + (0,) * (a.ndim - k - 1)
        strides.append(int(a[step]) - offset if n > 1 else 0)
    built = np.full(a.shape, offset, dtype=np.int64)
    for k, s in enumerate(strides):
        built = built + s * np.arange(a.shape[k], dtype=np.int64).reshape(
            (1,) * k + (-1,) + (1,) * (a.ndim - k - 1)
        )
    if not np.array_equal(built, a):
        raise Unmappable("the gather's indices are a constant that is not a regular lattice")
    return Lattice(tuple(int(n) for n in a.shape), tuple(strides), offset)


def _add(p: Lattice, q: Lattice) -> Lattice:
    """The sum of two lattices, broadcast as numpy does."""
    rank = max(len(p.shape), len(q.shape))
    ps = (1,) * (rank - len(p.shape)) + p.shape
    pt = (0,) * (rank - len(p.strides)) + p.strides
    qs = (1,) * (rank - len(q.shape)) + q.shape
    qt = (0,) * (rank - len(q.strides)) + q.strides
    shape, strides = [], []
    for a, sa, b, sb in zip(ps, pt, qs, qt, strict=True):
        if _one(a):
            shape.append(b)
            strides.append(sb)
        elif _one(b):
            shape.append(a)
            strides.append(sa)
        elif same(a, b):
            shape.append(a)
            strides.append(sa + sb)
        else:
            raise Unmappable(f"indices of sizes {dims.fmt(a)} and {dims.fmt(b)} added on one axis")
    return Lattice(tuple(shape), tuple(strides), p.offset + q.offset)
