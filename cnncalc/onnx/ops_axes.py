"""The ONNX operators of channels-last blocks (ConvNeXt): Transpose, LayerNormalization, and
Mul by a stored per-channel factor. Registered in :data:`cnncalc.onnx.ops.OPS`.

Three patterns of several nodes are read as one layer, as ``cnncalc export`` writes them:

- Transpose (0, 2, 3, 1), LayerNormalization over the last axis, Transpose (0, 3, 1, 2):
  ``layer_norm2d`` (torchvision's LayerNorm2d);
- Transpose moving one axis last, MatMul by a constant (and the Add of a bias), the inverse
  Transpose: ``linear`` over that axis;
- otherwise a Transpose is a ``permute``.
"""

from __future__ import annotations

from typing import Any

from .ops import Unmappable, _merge, _round_float, op

_MULTIPLY = _merge("multiply")


@op("Transpose")
def transpose(ctx, node, a):
    rank = ctx.rank(node.input[0])
    perm = [int(p) for p in a.get("perm", range(rank - 1, -1, -1))]
    if sorted(perm) != list(range(rank)):
        raise Unmappable(f"perm {perm} is not a permutation of the {rank} axes")
    if _layer_norm2d(ctx, node, perm) or _linear_over_axis(ctx, node, perm):
        return
    ctx.layer("permute", {"dims": perm})


def _inverse(perm: list[int]) -> list[int]:
    return [perm.index(d) for d in range(len(perm))]


def _layer_norm2d(ctx, node, perm) -> bool:
    if perm != [0, 2, 3, 1]:
        return False
    norm = ctx.sole_user(node.output[0], "LayerNormalization")
    if norm is None or int(ctx.attrs(norm).get("axis", -1)) % 4 != 3 or len(norm.input) < 3:
        return False
    back = ctx.sole_user(norm.output[0], "Transpose")
    if back is None or list(ctx.attrs(back).get("perm", [])) != [0, 3, 1, 2]:
        return False
    if any(o for o in norm.output[1:]) or not all(ctx.is_constant(x) for x in norm.input[1:3]):
        return False
    args: dict[str, Any] = {}
    eps = float(ctx.attrs(norm).get("epsilon", 1e-5))
    if abs(eps - 1e-6) > 1e-12:
        args["eps"] = _round_float(eps)
    params = {"weight": ctx.param(norm, 1, squeeze=True), "bias": ctx.param(norm, 2, squeeze=True)}
    ctx.absorb(norm)
    ctx.absorb(back)
    ctx.layer("layer_norm2d", args, params=params, output=back.output[0], named_by=back)
    return True


def _linear_over_axis(ctx, node, perm) -> bool:
    rank = len(perm)
    axis = perm[-1]
    if perm != [d for d in range(rank) if d != axis] + [axis] or axis == rank - 1:
        return False
    matmul = ctx.sole_user(node.output[0], "MatMul")
    if matmul is None or matmul.input[0] != node.output[0] or not ctx.is_constant(matmul.input[1]):
        return False
    w = ctx.initializer_shape(matmul, 1)
    if len(w) != 2:
        return False
    last, bias = matmul, None
    add = ctx.sole_user(matmul.output[0], "Add")
    if add is not None:
        index = next(
            (i for i, x in enumerate(add.input) if x != matmul.output[0] and ctx.is_constant(x)), None
        )
        if index is not None and tuple(d for d in ctx.initializer_shape(add, index) if d != 1) == (w[1],):
            last, bias = add, (add, index)
    back = ctx.sole_user(last.output[0], "Transpose")
    if back is None or [int(p) for p in ctx.attrs(back).get("perm", [])] != _inverse(perm):
        return False
    params = {"weight": ctx.param(matmul, 1, transpose=True)}
    args: dict[str, Any] = {"out": w[1], "axis": axis}
    if bias is not None:
        params["bias"] = ctx.param(bias[0], bias[1], squeeze=True)
        ctx.absorb(bias[0])
    else:
        args["bias"] = False
    ctx.absorb(matmul)
    ctx.absorb(back)
    ctx.layer("linear", args, params=params, output=back.output[0], named_by=back)
    return True


@op("LayerNormalization")
def layer_normalization(ctx, node, a):
    if any(o for o in node.output[1:]):
        raise Unmappable("the mean or inverse deviation outputs are used")
    rank = ctx.rank(node.input[0])
    axis = int(a.get("axis", -1)) % rank
    if axis == 0:
        raise Unmappable("a normalisation over every axis, the batch's too")
    if not ctx.has_input(node, 2):
        raise Unmappable("a scale without a bias (layer_norm has both or neither)")
    scale = ctx.initializer_shape(node, 1)
    normalized = scale[len(scale) - (rank - axis) :] if len(scale) >= rank - axis else None
    if normalized is None or len(scale) != rank - axis:
        raise Unmappable(f"a scale of shape {list(scale)} for the last {rank - axis} axes")
    args: dict[str, Any] = {} if rank - axis == 1 else {"shape": list(normalized)}
    eps = float(a.get("epsilon", 1e-5))
    if abs(eps - 1e-5) > 1e-12:
        args["eps"] = _round_float(eps)
    ctx.layer("layer_norm", args, params={"weight": ctx.param(node, 1), "bias": ctx.param(node, 2)})


@op("Mul")
def mul(ctx, node, a):
    """A product by a stored factor with one value per index of one axis (ConvNeXt's
    ``layer_scale``) is a ``layer_scale``; a product of computed tensors a ``multiply``."""
    constant = [i for i, x in enumerate(node.input) if ctx.is_constant(x)]
    if len(constant) != 1 or len(node.input) != 2:
        _MULTIPLY(ctx, node, a)
        return
    index = constant[0]
    source = node.input[1 - index]
    rank = ctx.rank(source)
    shape = ctx.initializer_shape(node, index)
    while shape and shape[0] == 1 and len(shape) > 1:
        shape = shape[1:]
    if (
        not shape
        or len(shape) > rank
        or any(d != 1 for d in shape[1:])
        or len(shape) == rank
        or shape == (1,)
    ):
        raise Unmappable(
            f"a product by a constant of shape {list(ctx.initializer_shape(node, index))} (a layer "
            f"scale has one factor per channel)"
        )
    axis = rank - len(shape)
    args = {} if axis == 1 else {"axis": axis}
    ctx.layer(
        "layer_scale", args, inputs=[source], params={"layer_scale": ctx.param(node, index, squeeze=True)}
    )
