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
    stored, a size, or such a tensor, and one is a tensor (not only sizes); False otherwise."""
    if op_type not in FOLDED or not node.input:
        return False
    inputs = [x for x in node.input if x]
    stored = [x for x in inputs if x in ctx.fixed or _tensor(ctx, x)]
    if not stored or not all(x in ctx.fixed or ctx.is_constant(x) or ctx._valued(x) for x in inputs):
        return False
    from .opaque import inference

    at_size, _ = inference(ctx)
    shapes = [at_size.get(y) for y in node.output]
    if any(s is None or not all(isinstance(d, int) for d in s) for s in shapes):
        return False
    learned = None
    if op_type in REARRANGE and node.input[0] in stored:
        source = node.input[0]
        learned = ctx.fixed[source].learned if source in ctx.fixed else _weight(ctx, source)
    for y, shape in zip(node.output, shapes, strict=True):
        ctx.fixed[y] = Fixed(tuple(shape), learned)
    return True


def _tensor(ctx, name: str) -> bool:
    """Whether ``name`` is a stored tensor rather than sizes: a constant too large to be a list
    of sizes, or a value of shape arithmetic of two axes or more (a mask being built)."""
    if ctx.is_constant(name) and not ctx._valued(name):
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
    if ctx.is_constant(name) and not ctx._valued(name):
        shape = ctx.graph.constant_shape(name)
        return Fixed(tuple(shape), _weight(ctx, name))
    return None
