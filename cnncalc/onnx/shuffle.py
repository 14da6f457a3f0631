"""Reshapes: the target a Reshape node computes, resolved against the input's shape, and the
channel shuffle (Reshape, Transpose, Reshape) read as one layer."""

from __future__ import annotations

from ..core import dims
from .graph import Unmappable


def reshape_target(ctx, node, a, x) -> list | None:
    """The Reshape's output shape (its ``0`` and ``-1`` resolved), as sizes; None when a ``-1``
    needs the input's shape and it is not known."""
    target = ctx.sizes(node, 1)
    allowzero = int(a.get("allowzero", 0))
    out = []
    for i, t in enumerate(target):
        if dims.is_concrete(t) and t == 0 and not allowzero:
            if x is None or i >= len(x):
                return None
            out.append(x[i])
        else:
            out.append(t)
    free = [i for i, t in enumerate(out) if dims.is_concrete(t) and t == -1]
    if len(free) > 1:
        raise Unmappable(f"a reshape to {[dims.fmt(t) for t in target]} with two free axes")
    if free:
        if x is None:
            return None
        known = dims.prod([t for i, t in enumerate(out) if i != free[0]])
        if known == 0:
            raise Unmappable(f"a reshape to {[dims.fmt(t) for t in target]}")
        out[free[0]] = dims.canon(dims.div(dims.prod(x), known))
    return out


def write_reshape(ctx, node, x, target) -> None:
    """A ``reshape`` of ``x`` to ``target`` (sizes), each size written as the spec's formula of
    the input's symbols; refused when the two do not hold as many values for every size."""
    if x is None or target is None:
        raise Unmappable("a reshape of a tensor whose shape is not known")
    if all(dims.is_concrete(v) for v in (*x, *target)) and dims.prod(x) != dims.prod(target):
        raise Unmappable(
            f"a reshape of {dims.fmt_shape(tuple(x))} to [{', '.join(dims.fmt(t) for t in target)}], "
            f"which do not hold as many values"
        )
    # Sizes that hold as many values only at some sizes of the input (MaxViT's windows of 7 on
    # a feature map of ceiling(H/4)) are the reshape's own check: the spec is valid where the
    # model runs, and refuses the other sizes saying why, as torch's assert does.
    sizes = [_size(ctx, t) for t in target]
    if None in sizes:
        # A size that is a whole number only at some input sizes (MaxViT's grid of 8x8
        # windows, traced at 224x224, reshapes to N*G/64 images): the graph holds at the size
        # it was traced at, which the export left dynamic.
        t = target[sizes.index(None)]
        raise Unmappable(
            f"a reshape to a size {dims.fmt(t)} that is a whole number only at some input sizes: the "
            f"graph holds at the size it was traced at; export it with H and W fixed"
        )
    ctx.layer("reshape", {"shape": sizes}, rank=len(target))


def _size(ctx, t):
    """A size as the spec writes it, or None when it is not always a whole number."""
    if dims.is_integer_valued(dims.canon(t)) is not True:
        return None
    try:
        return ctx.arg(t)
    except Unmappable:
        return None


def same(p, q) -> bool:
    """Whether two sizes are equal for every integer value of the symbols: their difference
    is 0 once each integer added to a floor is moved inside it (``floor((H - 1)/8) + 1`` is
    ``ceiling(H/8)``)."""
    d = dims.add(p, dims.mul(-1, q))
    if d == 0:
        return True
    return _normal(p) - _normal(q) == 0


def _normal(v):
    s = dims.sp()
    e = dims.to_sympy(dims.canon(v))

    def fold(x):
        if isinstance(x, s.Add):
            const, rest = x.as_coeff_Add()
            floors = [t for t in s.Add.make_args(rest) if isinstance(t, s.floor)]
            if const.is_integer and const != 0 and len(floors) == 1:
                f = floors[0]
                return s.floor(s.expand(f.args[0] + const)) + (rest - f)
        return x

    return s.expand(e.replace(lambda x: isinstance(x, s.Add), fold))


def channel_shuffle(ctx, node) -> bool:
    """Reshape (N, C, H, W) -> (N, g, C/g, H, W), Transpose (swap 1, 2), Reshape back to
    (N, C, H, W): one channel_shuffle layer. Absorbs the Transpose and the second Reshape."""
    x = ctx.shape(node.input[0])
    if x is None or len(x) != 4:
        return False
    try:
        target = reshape_target(ctx, node, ctx.attrs(node), x)
    except Unmappable:
        return False
    if target is None or len(target) != 5 or not dims.is_concrete(target[1]) or target[1] <= 0:
        return False
    groups = int(target[1])
    if not (
        same(target[0], x[0])
        and same(dims.mul(groups, target[2]), x[1])
        and same(target[3], x[2])
        and same(target[4], x[3])
    ):
        return False
    transpose = ctx.sole_user(node.output[0], "Transpose")
    if transpose is None or list(ctx.attrs(transpose).get("perm", [])) != [0, 2, 1, 3, 4]:
        return False
    second = ctx.sole_user(transpose.output[0], "Reshape")
    if second is None or second.input[0] != transpose.output[0]:
        return False
    swapped = (target[0], target[2], target[1], target[3], target[4])
    try:
        back = reshape_target(ctx, second, ctx.attrs(second), swapped)
    except Unmappable:
        return False
    if back is None or len(back) != 4 or not all(same(p, q) for p, q in zip(back, x, strict=True)):
        return False
    ctx.absorb(transpose)
    ctx.absorb(second)
    ctx.layer("channel_shuffle", {"groups": groups}, output=second.output[0], named_by=second)
    return True
