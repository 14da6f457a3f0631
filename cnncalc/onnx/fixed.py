"""Tensors computed from stored ones alone, before any layer reads them: a relative position
bias the exporter gathered from its table and rearranged, or Swin's attention mask built from
the image's size. They are followed by their shapes, from onnx's shape inference (a tensor
that reads no input has one shape at every input size), never by their values.

A tensor is *learned* when it is a stored weight rearranged (Reshape, Transpose, Unsqueeze,
Squeeze, Flatten, Identity of one float initializer): added to a layer's output, it is a
``position_embedding`` whose parameters are that weight's. Any other such tensor is *fixed*
(a mask of zeros and large negatives): added, it is an ``add_constant`` that learns nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Operators followed on stored tensors (their output's shape from onnx's inference).
FOLDED = frozenset(
    {
        "Reshape", "Transpose", "Unsqueeze", "Squeeze", "Identity", "Flatten", "ConstantOfShape",
        "Slice", "ScatterND", "ScatterElements", "Sub", "Add", "Mul", "Div", "Equal", "Not",
        "Where", "Concat", "Expand", "Cast", "Gather", "Tile", "Neg", "Less", "Greater", "And",
        "Or", "Range",
    }
)  # fmt: skip
REARRANGE = frozenset({"Reshape", "Transpose", "Unsqueeze", "Squeeze", "Identity", "Flatten"})


@dataclass(frozen=True)
class Fixed:
    shape: tuple[int, ...]
    learned: str | None  # the stored weight it rearranges, when it is one


def fold(ctx, node, op_type: str) -> bool:
    """Record ``node``'s outputs as tensors computed from stored ones, when every input is
    stored, a size, or such a tensor, and one is a tensor (not only sizes); False otherwise (the
    node is then read by its operator's function, which says what is wrong with it)."""
    if op_type not in FOLDED or not node.input:
        return False
    from .context import Downstream
    from .graph import Unmappable

    try:
        return _fold(ctx, node, op_type)
    except (Unmappable, Downstream):  # a constant that cannot be read (external data, ...)
        return False


def _fold(ctx, node, op_type: str) -> bool:
    inputs = [x for x in node.input if x]
    stored = [x for x in inputs if x in ctx.fixed or _tensor(ctx, x)]
    if not stored or not all(x in ctx.fixed or ctx.is_constant(x) or ctx._valued(x) for x in inputs):
        return False
    shapes = _shapes(ctx, node, op_type)
    if any(s is None or not all(isinstance(d, int) and d >= 0 for d in s) for s in shapes):
        return False
    learned = None
    if op_type in REARRANGE and node.input[0] in stored:
        source = node.input[0]
        learned = ctx.fixed[source].learned if source in ctx.fixed else _weight(ctx, source)
    for y, shape in zip(node.output, shapes, strict=True):
        ctx.fixed[y] = Fixed(tuple(shape), learned)
    return True


def _shapes(ctx, node, op_type: str) -> list:
    """The outputs' shapes: by the operator's rule on its inputs' shapes where it is simple,
    else from onnx's shape inference (exact here: these tensors read no input)."""
    try:
        shape = _rule(ctx, node, op_type, node.attribute)
    except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError):
        shape = None
    if shape is not None and len(node.output) == 1:
        return [tuple(int(d) for d in shape)]
    from .opaque import inference

    at_size, _ = inference(ctx)
    return [at_size.get(y) for y in node.output]


def _shape_of(ctx, name: str) -> tuple[int, ...] | None:
    if name in ctx.fixed:
        return ctx.fixed[name].shape
    if name in ctx.values:
        return tuple(ctx.values[name].shape)
    if ctx.is_constant(name):
        return tuple(ctx.graph.constant_shape(name))
    return None


def _ints(ctx, name: str) -> list[int] | None:
    """A list of whole numbers the graph states (a shape, axes), or None."""
    from ..core import dims

    try:
        value = ctx.value(name)
    except Exception:  # an Unmappable or Downstream: not a list of numbers here
        return None
    items = list(value.items)
    if not all(dims.is_concrete(v) and int(v) == v for v in items):
        return None
    return [int(v) for v in items]


def _rule(ctx, node, op_type: str, attributes):
    import numpy as np
    from onnx import helper

    a = {x.name: helper.get_attribute_value(x) for x in attributes if x.name != "value"}
    shapes = [_shape_of(ctx, x) if x else None for x in node.input]
    x = shapes[0]
    if op_type in ("ScatterND", "ScatterElements", "Not", "Cast", "Neg", "Identity"):
        return x
    if op_type in ("Sub", "Add", "Mul", "Div", "Equal", "Less", "Greater", "And", "Or", "Where"):
        if any(s is None for s in shapes):
            return None
        return np.broadcast_shapes(*shapes)
    if op_type == "ConstantOfShape":
        return _ints(ctx, node.input[0])
    if op_type == "Expand":
        target = _ints(ctx, node.input[1])
        return None if x is None or target is None else np.broadcast_shapes(x, tuple(target))
    if x is None:
        return None
    if op_type == "Transpose":
        perm = a.get("perm") or list(range(len(x)))[::-1]
        return [x[int(p)] for p in perm]
    if op_type == "Concat":
        if any(s is None or len(s) != len(x) for s in shapes):
            return None
        axis = int(a["axis"]) % len(x)
        return [sum(s[axis] for s in shapes) if i == axis else d for i, d in enumerate(x)]
    if op_type in ("Unsqueeze", "Squeeze"):
        axes = a.get("axes") or (_ints(ctx, node.input[1]) if len(node.input) > 1 and node.input[1] else None)
        if op_type == "Squeeze":
            drop = {i for i, d in enumerate(x) if d == 1} if axes is None else {int(v) % len(x) for v in axes}
            return [d for i, d in enumerate(x) if i not in drop]
        if axes is None:
            return None
        out = list(x)
        for v in sorted(int(v) % (len(x) + len(axes)) for v in axes):
            out.insert(v, 1)
        return out
    if op_type == "Reshape":
        target = _ints(ctx, node.input[1])
        if target is None:
            return None
        out = [x[i] if t == 0 and not a.get("allowzero") else t for i, t in enumerate(target)]
        if out.count(-1) == 1:
            known = math.prod(t for t in out if t != -1)
            out[out.index(-1)] = math.prod(x) // known if known else -1
        return out if math.prod(out) == math.prod(x) and min(out, default=0) >= 0 else None
    if op_type == "Slice":
        starts, ends = _ints(ctx, node.input[1]), _ints(ctx, node.input[2])
        axes = _ints(ctx, node.input[3]) if len(node.input) > 3 and node.input[3] else None
        steps = _ints(ctx, node.input[4]) if len(node.input) > 4 and node.input[4] else None
        if starts is None or ends is None:
            return None
        axes = axes if axes is not None else list(range(len(starts)))
        steps = steps if steps is not None else [1] * len(starts)
        out = list(x)
        for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
            out[int(axis) % len(x)] = len(range(*slice(start, end, step).indices(x[int(axis) % len(x)])))
        return out
    if op_type == "Gather":
        index = shapes[1]
        if index is None:
            return None
        axis = int(a.get("axis", 0)) % len(x)
        return [*x[:axis], *index, *x[axis + 1 :]]
    return None


def _tensor(ctx, name: str) -> bool:
    """Whether ``name`` is a stored tensor rather than sizes: a constant too large to be a list
    of sizes, or a value of shape arithmetic of two axes or more (a mask being built)."""
    if ctx.is_constant(name) and (not ctx._valued(name) or len(ctx.graph.constant_shape(name)) >= 2):
        return True
    value = ctx.values.get(name)
    return value is not None and len(value.shape) >= 2


def _weight(ctx, name: str) -> str | None:
    """The stored float tensor ``name`` resolves to, when it holds more than one value."""
    from onnx import TensorProto

    resolved = ctx.graph.resolve(name)
    t = ctx.graph.initializers.get(resolved)
    if t is None or t.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE):
        return None
    n = 1
    for d in t.dims:
        n *= int(d)
    return resolved if n > 1 else None


def stored(ctx, name: str) -> Fixed | None:
    """A tensor that reads no input: a stored float weight, or one followed by :func:`fold`."""
    if name in ctx.fixed:
        return ctx.fixed[name]
    if _tensor(ctx, name) and ctx.is_constant(name):
        shape = ctx.graph.constant_shape(name)
        return Fixed(tuple(shape), _weight(ctx, name))
    return None
