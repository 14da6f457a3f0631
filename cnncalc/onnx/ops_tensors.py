"""The ONNX operators of attention and of tokens: products of two computed tensors, reshapes
of any shape, one index of an axis, a scale by a number, learned tokens and position
embeddings. Registered in :data:`cnncalc.onnx.ops.OPS`.

- MatMul of two computed tensors: ``matmul`` (attention's scores and weighted sum); a MatMul
  by a stored matrix stays a ``linear``.
- Reshape that is neither a flatten nor a channel shuffle, Squeeze and Unsqueeze of a computed
  tensor: ``reshape`` to the output's sizes, written as formulas of the input's symbols.
- Gather of one index of a computed tensor: ``select``.
- Mul or Div by one number: ``scale``.
- Expand of a stored (1, T, D) tensor to the batch, put first by a Concat over axis 1:
  ``class_token`` (ViT). Add of a stored tensor of the input's shape without its batch axis:
  ``position_embedding``.
"""

from __future__ import annotations

from typing import Any

from ..core import dims
from .ops import OPS, Unmappable, _axis, _round_float, op
from .shuffle import write_reshape as _write_reshape

_LINEAR = OPS["MatMul"]
_CONCAT = OPS["Concat"]
_ADD = OPS["Add"]
_DIV = OPS["Div"]


@op("MatMul")
def matmul(ctx, node, a):
    """A product by a stored matrix is a ``linear`` layer; a product of two computed tensors a
    ``matmul``."""
    if any(ctx.is_constant(x) for x in node.input):
        _LINEAR(ctx, node, a)
        return
    for x in node.input:
        if ctx.rank(x) < 2:
            raise Unmappable(f"a product with a rank-{ctx.rank(x)} operand (matmul takes matrices)")
    ctx.layer("matmul", {}, inputs=list(node.input))


def _axes(ctx, node, a: dict) -> list[int] | None:
    if "axes" in a:
        return [int(v) for v in a["axes"]]
    if ctx.has_input(node, 1):
        return [int(v) for v in ctx.constant(node, 1).ravel()]
    return None


@op("Squeeze")
def squeeze(ctx, node, a):
    x = ctx.shape(node.input[0])
    if x is None:
        raise Unmappable("a squeeze of a tensor whose shape is not known")
    axes = _axes(ctx, node, a)
    if axes is None:
        drop = {i for i, d in enumerate(x) if dims.is_concrete(d) and d == 1}
    else:
        drop = {_axis(ctx, node, v, len(x)) for v in axes}
    for i in drop:
        if not (dims.is_concrete(x[i]) and x[i] == 1):
            raise Unmappable(f"a squeeze of axis {i}, of size {dims.fmt(x[i])}, not 1")
    _write_reshape(ctx, node, x, [d for i, d in enumerate(x) if i not in drop])


@op("Unsqueeze")
def unsqueeze(ctx, node, a):
    x = ctx.shape(node.input[0])
    if x is None:
        raise Unmappable("an unsqueeze of a tensor whose shape is not known")
    axes = _axes(ctx, node, a)
    if not axes:
        raise Unmappable("an unsqueeze without axes")
    rank = len(x) + len(axes)
    out = list(x)
    for v in sorted(_axis(ctx, node, v, rank) for v in axes):
        out.insert(v, 1)
    _write_reshape(ctx, node, x, out)


@op("Gather")
def gather(ctx, node, a):
    """One index of an axis of a computed tensor (``x[:, 0]``, ``qkv[1]``): ``select``."""
    if ctx.is_constant(node.input[0]):
        raise Unmappable(
            "a gather from stored weights (a table of relative position biases, as Swin's and "
            "MaxViT's attention reads it): no layer kind stands for a tensor derived from weights"
        )
    x = ctx.shape(node.input[0])
    rank = ctx.rank(node.input[0])
    index = ctx.constant(node, 1)
    if index.ndim != 0:
        raise Unmappable(f"a gather at {index.size} indices (select takes one index, as x[:, i])")
    axis = _axis(ctx, node, a.get("axis", 0), rank)
    value = int(index)
    if x is not None and dims.is_concrete(x[axis]) and not -x[axis] <= value < x[axis]:
        raise Unmappable(f"index {value} of axis {axis}, of size {x[axis]}")
    ctx.layer("select", {"axis": axis, "index": value}, rank=rank - 1)


def _one_number(ctx, node, index: int) -> float | None:
    """The number a constant operand holds when it holds one (a scalar, or shape [1])."""
    name = node.input[index]
    if ctx.is_constant(name):
        value = ctx.constant(node, index)
        if value.size != 1 or value.ndim > ctx.rank(node.input[1 - index]):
            return None
        return float(value.ravel()[0])
    if not ctx._valued(name):
        return None
    try:
        v = ctx.value(name)  # computed from sizes: 1/sqrt(sqrt(d)), the legacy exporter's scale
    except Unmappable:
        return None
    if len(v.items) != 1 or len(v.shape) > ctx.rank(node.input[1 - index]):
        return None
    item = v.items[0]
    if dims.is_concrete(item):
        return float(item)
    if getattr(item, "free_symbols", None):
        return None  # it depends on the input's size
    return float(item)


def scale_or(fallback):
    """What ``fallback`` reads (a GELU's division by sqrt(2), a layer scale); otherwise a Mul (or
    Div) by one number is a ``scale``."""

    def handler(ctx, node, a):
        written, skipped = len(ctx.layers), set(ctx.skipped)
        try:
            fallback(ctx, node, a)
            return
        except Unmappable:
            ctx.forget(written, skipped)
            if len(node.input) != 2:
                raise
            for index in (1, 0) if node.op_type == "Mul" else (1,):
                number = _one_number(ctx, node, index)
                if number is None:
                    continue
                if node.op_type == "Div":
                    if number == 0:
                        raise Unmappable("a division by 0") from None
                    number = 1 / number
                ctx.layer("scale", {"factor": _round_float(number)}, inputs=[node.input[1 - index]])
                return
            raise

    return handler


OPS["Div"] = scale_or(_DIV)
OPS["Mul"] = scale_or(OPS["Mul"])


@op("Concat")
def concat(ctx, node, a):
    """Learned tokens put first (ViT's class token): ``class_token``; otherwise a ``concat``."""
    token = _token(ctx, node, a)
    if token is None:
        _CONCAT(ctx, node, a)
        return
    expand, param = token
    shape = ctx.initializer_shape(expand, 0)
    args: dict[str, Any] = {} if shape[1] == 1 else {"tokens": int(shape[1])}
    ctx.layer(
        "class_token",
        args,
        inputs=[node.input[1]],
        params={"token": (param, tuple(shape))},
    )


def _token(ctx, node, a):
    """(Expand node, parameter name) when ``node`` is Concat(Expand(P, [N, T, D]), x) over axis
    1, P a stored (1, T, D) tensor and x a computed (N, L, D) one."""
    if len(node.input) != 2 or int(a.get("axis", 0)) % 3 != 1:
        return None
    expand = ctx.graph.producer.get(node.input[0])
    if expand is None or expand.op_type != "Expand" or not ctx.is_constant(expand.input[0]):
        return None
    shape = ctx.initializer_shape(expand, 0)
    x = ctx.shape(node.input[1])
    if len(shape) != 3 or shape[0] != 1 or x is None or len(x) != 3:
        return None
    if not (dims.is_concrete(x[2]) and x[2] == shape[2]):
        return None
    return expand, ctx.graph.resolve(expand.input[0])


@op("Expand")
def expand(ctx, node, a):
    """An Expand of a stored tensor is read with the Concat that puts it first (a class token);
    alone, it has no layer kind."""
    users = ctx.consumers.get(node.output[0], [])
    if ctx.is_constant(node.input[0]) and users and all(u.op_type == "Concat" for u in users):
        return  # read by the Concat
    raise Unmappable("an expand of a tensor (only a class token's, before a Concat, is read)")


@op("Add")
def add(ctx, node, a):
    """A stored tensor of the input's shape without its batch axis added to it (ViT's position
    embedding): ``position_embedding``; a sum of computed tensors: ``add``."""
    constant = [i for i, x in enumerate(node.input) if ctx.is_constant(x)]
    if len(node.input) == 2 and len(constant) == 1:
        index = constant[0]
        x = ctx.shape(node.input[1 - index])
        shape = ctx.initializer_shape(node, index)
        if (
            x is not None
            and len(shape) == len(x) >= 2
            and shape[0] == 1
            and all(dims.is_concrete(d) and d == s for d, s in zip(x[1:], shape[1:], strict=True))
        ):
            ctx.layer(
                "position_embedding",
                {},
                inputs=[node.input[1 - index]],
                params={"embedding": ctx.param(node, index)},
            )
            return
    _ADD(ctx, node, a)
