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

import math
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
                if not math.isfinite(number):
                    raise Unmappable(f"a product by {number}, not a finite number") from None
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
    shape = ctx.initializer_shape(expand, 0) if expand is not node else ctx.initializer_shape(node, 0)
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
    first, x = node.input[0], ctx.shape(node.input[1])
    if ctx.is_constant(first) and x is not None and len(x) == 3:
        # The class token the exporter expanded to a batch of one (the batch fixed at 1)
        shape = ctx.graph.constant_shape(first)
        if len(shape) == 3 and shape[0] == 1 and dims.is_concrete(x[0]) and x[0] == 1 and x[2] == shape[2]:
            return node, ctx.graph.resolve(first)
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
    """A stored tensor (or one rearranged from a stored weight) of the input's shape without
    its batch axis, added: ``position_embedding`` (ViT's, or a relative position bias the
    exporter gathered from its table); a tensor of fixed values (Swin's mask) that broadcasts
    to the input: ``add_constant``; a sum of computed tensors: ``add``."""
    from .fixed import stored

    if len(node.input) == 2:
        found = [(i, stored(ctx, x)) for i, x in enumerate(node.input)]
        found = [(i, f) for i, f in found if f is not None]
        if len(found) == 1:
            index, tensor = found[0]
            source = node.input[1 - index]
            x = ctx.shape(source)
            if x is not None:
                _add_stored(ctx, node, source, x, node.input[index], tensor)
                return
    _ADD(ctx, node, a)


def _add_stored(ctx, node, source: str, x, name: str, tensor) -> None:
    shape = tensor.shape
    if len(shape) > len(x) or any(
        s != 1 and not (dims.is_concrete(d) and d == s)
        for s, d in zip(reversed(shape), reversed(x), strict=False)
    ):
        what = "stored" if tensor.learned is not None else "fixed"
        raise Unmappable(
            f"an addition of a {what} {list(shape)} that does not broadcast to {dims.fmt_shape(tuple(x))}"
        )
    if tensor.learned is None:
        ctx.layer("add_constant", {"shape": list(shape)}, inputs=[source])
        return
    default = (
        len(shape) == len(x)
        and shape[0] == 1
        and all(dims.is_concrete(d) and d == s for d, s in zip(x[1:], shape[1:], strict=True))
    )
    ctx.layer(
        "position_embedding",
        {} if default else {"shape": list(shape)},
        inputs=[source],
        params={"embedding": (tensor.learned, tuple(shape))},
    )


_SLICE = OPS["Slice"]
_PAD = OPS["Pad"]


@op("Slice")
def slice_(ctx, node, a):
    """A slice into equal pieces is a ``chunk``; any other of known bounds one ``slice`` a
    sliced axis (Swin's roll and patch merging)."""
    try:
        _SLICE(ctx, node, a)
        return
    except Unmappable as exc:
        reason = exc
    x = ctx.shape(node.input[0])
    if x is None or "starts" in a:
        raise reason
    starts, ends = ctx.sizes(node, 1), ctx.sizes(node, 2)
    axes = ctx.sizes(node, 3) if ctx.has_input(node, 3) else list(range(len(starts)))
    steps = ctx.sizes(node, 4) if ctx.has_input(node, 4) else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise Unmappable("a slice whose starts, ends, axes and steps differ in length")
    cuts = []
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        axis = _axis(ctx, node, axis, len(x))
        size = x[axis]
        if not all(dims.is_concrete(v) for v in (start, end, step, size)):
            raise Unmappable(f"a slice of axis {axis} whose bounds or size depend on the input's size")
        start, end, step, size = int(start), int(end), int(step), int(size)
        if step < 1:
            raise Unmappable(f"a slice with step {step} (slice takes steps of 1 or more)")
        start = max(0, min(size, start + size if start < 0 else start))
        end = max(0, min(size, end + size if end < 0 else end))
        if end <= start:
            raise Unmappable(f"an empty slice [{start}:{end}] of axis {axis}")
        if (start, end, step) != (0, size, 1):
            cuts.append({"axis": axis, "start": start, "end": end, "step": step})
    if not cuts:
        ctx.layer("identity", {})
        return
    name = node.input[0]
    for k, args in enumerate(cuts):
        if args["start"] == 0:
            del args["start"]
        if args["step"] == 1:
            del args["step"]
        last = k == len(cuts) - 1
        name = ctx.layer("slice", args, inputs=[name], output=None if last else f"{node.output[0]}/{k}")


@op("Pad")
def pad(ctx, node, a):
    """A pad of nothing (Swin pads its windows to a multiple of their size, which 224x224
    already is) is an ``identity``; any other pad as ``zero_pad2d`` reads it."""
    if a.get("mode", "constant") == "constant" and a.get("pads") is None and ctx.has_input(node, 1):
        try:
            pads = [int(v) for v in ctx.constant(node, 1).ravel()]
        except Unmappable:
            pads = None
        if pads is not None and not any(pads) and not ctx.has_input(node, 3):
            ctx.layer("identity", {})
            return
    _PAD(ctx, node, a)


def _einsum_terms(equation: str) -> tuple[list[list[str]], list[str]] | None:
    """The subscripts of an Einsum's operands and output, one letter an axis (spaces ignored);
    None for an ellipsis or an implicit output."""
    text = equation.replace(" ", "")
    if "->" not in text or "." in text:
        return None
    left, out = text.split("->")
    operands = left.split(",")
    if not all(t.isalpha() for t in [*operands, out] if t) or any(
        len(set(t)) != len(t) for t in [*operands, out]
    ):
        return None
    return [list(t) for t in operands], list(out)


@op("Einsum")
def einsum(ctx, node, a):
    """A batched matrix product written as an Einsum (MaxViT's attention:
    ``B G H I D, B G H J D -> B G H I J``): the operands' axes put in ``matmul``'s order by
    ``permute`` layers, then one ``matmul``, then the output's order. Any other Einsum (a sum
    over several axes, a diagonal, three operands) has no layer kind."""
    equation = a.get("equation", "")
    terms = _einsum_terms(equation)
    if terms is None or len(terms[0]) != 2:
        raise Unmappable(f"an Einsum {equation!r} that is not a product of two tensors")
    (p, q), out = terms
    summed = [c for c in p if c in q and c not in out]
    batch = [c for c in out if c in p and c in q]
    rows = [c for c in p if c not in q]
    cols = [c for c in q if c not in p]
    if (
        len(summed) != 1
        or len(rows) > 1
        or len(cols) > 1
        or sorted(out) != sorted(batch + rows + cols)
        or len(p) != len(batch) + len(rows) + 1
        or len(q) != len(batch) + len(cols) + 1
    ):
        raise Unmappable(f"an Einsum {equation!r} that is not a batched matrix product")
    k = summed[0]
    if not rows or not cols:
        raise Unmappable(f"an Einsum {equation!r} with a vector operand (matmul takes matrices)")
    a_order = [p.index(c) for c in [*batch, rows[0], k]]
    b_order = [q.index(c) for c in [*batch, k, cols[0]]]
    inputs = []
    for name, order in ((node.input[0], a_order), (node.input[1], b_order)):
        if order != list(range(len(order))):
            name = ctx.layer(
                "permute", {"dims": order}, inputs=[name], output=f"{node.output[0]}/{name}", suffix=None
            )
        inputs.append(name)
    result = [*batch, rows[0], cols[0]]
    back = [result.index(c) for c in out]
    if back == list(range(len(back))):
        ctx.layer("matmul", {}, inputs=inputs)
    else:
        mid = ctx.layer("matmul", {}, inputs=inputs, output=f"{node.output[0]}/product")
        ctx.layer("permute", {"dims": back}, inputs=[mid])
