"""The ONNX operators ``cnncalc import`` reads, one function each, keyed by op type.

A function receives the import context and one node (with its attributes) and returns the spec
layers it stands for, through ``ctx.layer(kind, args, ...)``; it raises :class:`Unmappable`
with a reason when the node is outside what the layer kinds express (a 3-D convolution, a Pad
that reflects), so the import can list every such node. Attributes take ONNX's defaults, which
are not always PyTorch's (MaxPool's stride is 1, AveragePool excludes the padding): arguments
are written out whenever they differ from the layer kind's own defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core import dims
from .graph import Unmappable, label
from .reading import ModelError

__all__ = ["OPS", "Unmappable", "op"]

#: op type -> function(ctx, node, attrs) returning the layers written.
OPS: dict[str, Callable] = {}


def op(*types: str):
    def register(fn):
        for t in types:
            OPS[t] = fn
        return fn

    return register


def pair(values) -> Any:
    """``[3, 3]`` -> 3; ``[3, 1]`` -> [3, 1] (the spec's shorthand for square windows)."""
    a, b = (int(v) for v in values)
    return a if a == b else [a, b]


def _spatial(ctx, node, what: str, values, default) -> list[int]:
    values = list(values) if values is not None else list(default)
    if len(values) != 2:
        raise Unmappable(f"{what} has {len(values)} spatial axes (cnncalc's layers are 2-D)")
    return [int(v) for v in values]


def _pads(a: dict) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from ONNX's pads [x1_begin, x2_begin, x1_end, x2_end]."""
    pads = a.get("pads", [0, 0, 0, 0])
    if len(pads) != 4:
        raise Unmappable(f"pads {list(pads)} are not those of a 2-D window")
    return tuple(int(p) for p in pads)


# -- convolutions ----------------------------------------------------------------------------


@op("Conv")
def conv(ctx, node, a):
    w = ctx.initializer_shape(node, 1)
    if len(w) != 4:
        raise Unmappable(f"a {len(w) - 2}-D convolution (cnncalc's convolutions are 2-D)")
    kernel = _spatial(ctx, node, "kernel", a.get("kernel_shape"), w[2:])
    args: dict[str, Any] = {"out": w[0], "kernel": pair(kernel)}
    strides = _spatial(ctx, node, "strides", a.get("strides"), (1, 1))
    if strides != [1, 1]:
        args["stride"] = pair(strides)
    source = node.input[0]
    auto_pad = a.get("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        # Same output size and cost; SAME_LOWER puts the odd padded pixel first.
        args["padding"] = "same"
    elif auto_pad not in ("NOTSET", "VALID"):
        raise Unmappable(f"auto_pad {auto_pad!r}")
    elif auto_pad == "NOTSET":
        top, left, bottom, right = _pads(a)
        if (top, left) == (bottom, right):
            if top or left:
                args["padding"] = pair((top, left))
        else:
            # Asymmetric padding: a zero_pad2d layer, then the convolution without padding.
            source = ctx.layer(
                "zero_pad2d",
                {"top": top, "bottom": bottom, "left": left, "right": right},
                output=f"{node.output[0]}/pad",
                suffix="pad",
            )
    dilations = _spatial(ctx, node, "dilations", a.get("dilations"), (1, 1))
    if dilations != [1, 1]:
        args["dilation"] = pair(dilations)
    if a.get("group", 1) != 1:
        args["groups"] = int(a["group"])
    params = {"weight": ctx.param(node, 1)}
    if ctx.has_input(node, 2):
        params["bias"] = ctx.param(node, 2)
    else:
        args["bias"] = False
    ctx.layer("conv2d", args, inputs=[source], params=params)


@op("ConvTranspose")
def conv_transpose(ctx, node, a):
    w = ctx.initializer_shape(node, 1)
    if len(w) != 4:
        raise Unmappable(f"a {len(w) - 2}-D transposed convolution (cnncalc's are 2-D)")
    if a.get("output_shape"):
        raise Unmappable("output_shape given instead of pads")
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise Unmappable(f"auto_pad {a['auto_pad']!r}")
    group = int(a.get("group", 1))
    args: dict[str, Any] = {
        "out": w[1] * group,
        "kernel": pair(_spatial(ctx, node, "kernel", a.get("kernel_shape"), w[2:])),
    }
    strides = _spatial(ctx, node, "strides", a.get("strides"), (1, 1))
    if strides != [1, 1]:
        args["stride"] = pair(strides)
    top, left, bottom, right = _pads(a)
    if (top, left) != (bottom, right):
        raise Unmappable(f"asymmetric pads {[top, left, bottom, right]}")
    if top or left:
        args["padding"] = pair((top, left))
    output_padding = _spatial(ctx, node, "output_padding", a.get("output_padding"), (0, 0))
    if output_padding != [0, 0]:
        args["output_padding"] = pair(output_padding)
    dilations = _spatial(ctx, node, "dilations", a.get("dilations"), (1, 1))
    if dilations != [1, 1]:
        args["dilation"] = pair(dilations)
    if group != 1:
        args["groups"] = group
    params = {"weight": ctx.param(node, 1)}
    if ctx.has_input(node, 2):
        params["bias"] = ctx.param(node, 2)
    else:
        args["bias"] = False
    ctx.layer("conv_transpose2d", args, params=params)


# -- pooling ---------------------------------------------------------------------------------


def _window(ctx, node, a, kind: str) -> dict[str, Any]:
    if len(node.output) > 1 and node.output[1]:
        raise Unmappable("the indices output is used")
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise Unmappable(f"auto_pad {a['auto_pad']!r} (cnncalc's pools pad explicitly)")
    kernel = _spatial(ctx, node, "kernel_shape", a.get("kernel_shape"), ())
    strides = _spatial(ctx, node, "strides", a.get("strides"), (1, 1))
    args: dict[str, Any] = {"kernel": pair(kernel), "stride": pair(strides)}  # ONNX's stride is 1
    top, left, bottom, right = _pads(a)
    if (top, left) != (bottom, right):
        raise Unmappable(f"asymmetric pads {[top, left, bottom, right]}")
    if top or left:
        args["padding"] = pair((top, left))
    if a.get("ceil_mode", 0):
        args["ceil_mode"] = True
    dilations = _spatial(ctx, node, "dilations", a.get("dilations"), (1, 1))
    if dilations != [1, 1]:
        if kind != "max_pool2d":
            raise Unmappable(f"dilations {dilations} on an average pool")
        args["dilation"] = pair(dilations)
    return args


@op("MaxPool")
def max_pool(ctx, node, a):
    ctx.layer("max_pool2d", _window(ctx, node, a, "max_pool2d"))


@op("AveragePool")
def average_pool(ctx, node, a):
    if _adaptive(ctx, node, a):
        return
    args = _window(ctx, node, a, "avg_pool2d")
    if not a.get("count_include_pad", 0) and "padding" in args:
        args["count_include_pad"] = False  # ONNX's default; PyTorch's (and cnncalc's) is true
    ctx.layer("avg_pool2d", args)


def _adaptive(ctx, node, a) -> bool:
    """torch's ``AdaptiveAvgPool2d`` as the dynamo exporter writes it at a size the bins tile:
    an AveragePool whose kernel is the stride, valid at the traced size only. When the module's
    class says so (the node's metadata) and a flatten then a linear layer read it, the linear
    layer's input features fix the output: a square ``o x o`` with ``C*o*o`` features."""
    import math

    kernel, strides = list(a.get("kernel_shape", [])), list(a.get("strides", [1, 1]))
    if kernel != strides or any(a.get("pads", [])):
        return False
    cls = ctx.module_class(node)
    # Without the metadata (opset 17's downgrade drops it), a 1x1 average pool of stride 1 does
    # nothing: torch writes one only for an adaptive pool traced at its output size.
    if not (cls.endswith(".AdaptiveAvgPool2d") or (not cls and kernel == [1, 1])):
        return False
    x = ctx.shape(node.input[0])
    flat = ctx.sole_user(node.output[0], "Reshape") or ctx.sole_user(node.output[0], "Flatten")
    if x is None or len(x) != 4 or not dims.is_concrete(x[1]) or flat is None:
        return False
    dense = ctx.sole_user(flat.output[0], "Gemm") or ctx.sole_user(flat.output[0], "MatMul")
    if dense is None or dense.input[0] != flat.output[0] or not ctx.is_constant(dense.input[1]):
        return False
    w = ctx.initializer_shape(dense, 1)
    transposed = dense.op_type == "Gemm" and ctx.attrs(dense).get("transB", 0)
    features = w[1] if transposed else w[0]
    bins, rest = divmod(features, int(x[1]))
    side = math.isqrt(bins)
    if rest or side * side != bins or side == 0:
        return False
    ctx.layer(
        "adaptive_avg_pool2d",
        {"output": side},
        comment=(
            f"AdaptiveAvgPool2d written by the exporter as an average pool of kernel "
            f"{list(a.get('kernel_shape', []))}, right at the traced size only; the linear layer after "
            f"it reads {features} = {int(x[1])}*{side}*{side} features, so its output is {side}x{side}."
        ),
    )
    return True


@op("GlobalAveragePool")
def global_average_pool(ctx, node, a):
    if ctx.rank(node.input[0]) != 4:
        raise Unmappable(f"a rank-{ctx.rank(node.input[0])} input (global_avg_pool2d takes N, C, H, W)")
    ctx.layer("global_avg_pool2d", {})


@op("ReduceMean")
def reduce_mean(ctx, node, a):
    axes = a.get("axes")
    if axes is None and ctx.has_input(node, 1):
        axes = [int(v) for v in ctx.constant(node, 1).ravel()]
    rank = ctx.rank(node.input[0])
    keep = bool(a.get("keepdims", 1))
    if rank != 4 or axes is None or sorted(int(x) % 4 for x in axes) != [2, 3]:
        # any other mean: the layer kind of x.mean(axes, keepdim)
        if axes is None or len(axes) == 0:
            if a.get("noop_with_empty_axes", 0):
                ctx.layer("identity", {})
                return
            axes = list(range(rank))
        axes = sorted({int(x) % rank for x in axes})
        if not keep and len(axes) == rank:
            raise Unmappable(f"a mean over every axis of a rank-{rank} input, to a scalar")
        args: dict[str, Any] = {"axes": axes, **({"keepdim": True} if keep else {})}
        ctx.layer("mean", args, rank=rank if keep else rank - len(axes))
        return
    if keep:
        ctx.layer("global_avg_pool2d", {})
    else:
        mid = ctx.layer("global_avg_pool2d", {}, output=f"{node.output[0]}/pool", suffix="pool")
        ctx.layer("flatten", {}, inputs=[mid], rank=2)


# -- dense -----------------------------------------------------------------------------------


@op("Gemm")
def gemm(ctx, node, a):
    if a.get("transA", 0):
        raise Unmappable("transA = 1 (the input transposed)")
    if a.get("alpha", 1.0) != 1.0 or (ctx.has_input(node, 2) and a.get("beta", 1.0) != 1.0):
        raise Unmappable(f"alpha {a.get('alpha', 1.0)}, beta {a.get('beta', 1.0)} (a linear layer has 1, 1)")
    if ctx.rank(node.input[0]) != 2:
        raise Unmappable(f"a rank-{ctx.rank(node.input[0])} input")
    w = ctx.initializer_shape(node, 1)
    if len(w) != 2:
        raise Unmappable(f"a rank-{len(w)} weight")
    out = w[0] if a.get("transB", 0) else w[1]
    params = {"weight": ctx.param(node, 1, transpose=not a.get("transB", 0))}
    args: dict[str, Any] = {"out": out}
    if ctx.has_input(node, 2):
        params["bias"] = ctx.param(node, 2, squeeze=True)
    else:
        args["bias"] = False
    ctx.layer("linear", args, params=params)


@op("MatMul")
def matmul(ctx, node, a):
    if not ctx.is_constant(node.input[1]):
        raise Unmappable("both operands are computed (only a product by a constant weight is a layer)")
    w = ctx.initializer_shape(node, 1)
    if len(w) != 2:
        raise Unmappable(f"a rank-{len(w)} weight")
    params = {"weight": ctx.param(node, 1, transpose=True)}
    args: dict[str, Any] = {"out": w[1]}
    if ctx.rank(node.input[0]) > 2:
        args["axis"] = -1  # the last axis, said (tokens or channels-last positions apart)
    output, named_by = node.output[0], None
    bias = _bias_after(ctx, node, w[1])  # MatMul then Add of a vector: nn.Linear on many axes
    if bias is not None:
        add, index = bias
        params["bias"] = ctx.param(add, index, squeeze=True)
        output, named_by = add.output[0], add  # the Add computes the layer's output
    else:
        args["bias"] = False
    ctx.layer("linear", args, params=params, output=output, named_by=named_by)


def _bias_after(ctx, node, out: int):
    """(Add node, index of its constant operand) when the node's only consumer adds a
    constant vector of ``out`` values (nn.Linear on more than two axes); absorbs it."""
    add = ctx.sole_user(node.output[0], "Add")
    if add is None:
        return None
    for index, x in enumerate(add.input):
        if x != node.output[0] and ctx.is_constant(x):
            shape = ctx.initializer_shape(add, index)
            if tuple(d for d in shape if d != 1) == (out,):
                ctx.absorb(add)
                return add, index
    return None


def _axis(ctx, node, value: Any, rank: int) -> int:
    """``value`` as an axis of a rank-``rank`` tensor, refused outside ONNX's ``[-rank, rank)``
    (wrapping 100 around a rank of 4 would read another axis than the file says)."""
    axis = int(value)
    if not -rank <= axis < rank:
        raise ModelError(
            f"{ctx.source}: node {label(node)} ({node.op_type}): axis {axis} is outside its rank-{rank} "
            f"input (ONNX allows {-rank} to {rank - 1})"
        )
    return axis % rank


def _epsilon(ctx, node, a: dict) -> float:
    """A normalisation's epsilon: a finite number at least 0."""
    import math

    eps = float(a.get("epsilon", 1e-5))
    if not math.isfinite(eps) or eps < 0:
        raise ModelError(
            f"{ctx.source}: node {label(node)} ({node.op_type}): epsilon {eps!r} is not a finite number "
            "of 0 or more"
        )
    return eps


# -- normalisation ---------------------------------------------------------------------------


@op("BatchNormalization")
def batch_norm(ctx, node, a):
    if a.get("training_mode", 0) or any(o for o in node.output[1:]):
        raise Unmappable("training mode (running statistics as outputs)")
    args: dict[str, Any] = {}
    eps = _epsilon(ctx, node, a)
    if abs(eps - 1e-5) > 1e-12:
        args["eps"] = _round_float(eps)
    params = {
        "weight": ctx.param(node, 1),
        "bias": ctx.param(node, 2),
        "running_mean": ctx.param(node, 3),
        "running_var": ctx.param(node, 4),
    }
    ctx.layer("batch_norm2d", args, params=params)


@op("LRN")
def lrn(ctx, node, a):
    args = {
        "size": int(a["size"]),
        "alpha": _round_float(a.get("alpha", 1e-4)),
        "beta": _round_float(a.get("beta", 0.75)),
        "k": _round_float(a.get("bias", 1.0)),
    }
    ctx.layer("local_response_norm", args)


# -- activations -----------------------------------------------------------------------------


def _simple(kind: str):
    def handler(ctx, node, a):
        ctx.layer(kind, {})

    return handler


for _type, _kind in [
    ("Relu", "relu"),
    ("Sigmoid", "sigmoid"),
    ("Tanh", "tanh"),
    ("HardSwish", "hardswish"),
    ("Identity", "identity"),
    ("Gelu", "gelu"),
]:
    OPS[_type] = _simple(_kind)


@op("Div")
def div(ctx, node, a):
    """``x * 0.5 * (1 + erf(x / sqrt(2)))``, GELU as the legacy exporter and opsets before 20
    write it (Div, Erf, Add, Mul, Mul): one ``gelu``. Any other division of a tensor has no
    layer kind."""
    x = node.input[0]
    if len(node.input) != 2 or not ctx.is_constant(node.input[1]):
        raise Unmappable("a division of tensors computed by layers")
    if abs(float(ctx.constant(node, 1).ravel()[0]) - 2**0.5) > 1e-6 or ctx.constant(node, 1).size != 1:
        raise Unmappable(f"a division by {ctx.constant(node, 1).ravel()[:4].tolist()}")
    erf = ctx.sole_user(node.output[0], "Erf")
    add = erf is not None and ctx.sole_user(erf.output[0], "Add")
    if not add or not _other_is(ctx, add, erf.output[0], 1.0):
        raise Unmappable("a division by sqrt(2) that is not a GELU's")
    mul = ctx.sole_user(add.output[0], "Mul")
    other = [i for i in (mul.input if mul is not None else []) if i != add.output[0]]
    first = ctx.graph.producer.get(other[0]) if len(other) == 1 else None
    if first is not None and first.op_type == "Mul" and x in first.input and _other_is(ctx, first, x, 0.5):
        # (x * 0.5) * (1 + erf(x / sqrt(2))), as cnncalc's own export writes it
        for n in (erf, add, first, mul):
            ctx.absorb(n)
        ctx.layer("gelu", {}, inputs=[x], output=mul.output[0], named_by=mul)
        return
    if mul is None or sorted(mul.input) != sorted([x, add.output[0]]):
        raise Unmappable("a division by sqrt(2) that is not a GELU's")
    half = ctx.sole_user(mul.output[0], "Mul")
    if half is None or not _other_is(ctx, half, mul.output[0], 0.5):
        raise Unmappable("a division by sqrt(2) that is not a GELU's")
    for n in (erf, add, mul, half):
        ctx.absorb(n)
    ctx.layer("gelu", {}, inputs=[x], output=half.output[0], named_by=half)


def _other_is(ctx, node, operand: str, value: float) -> bool:
    """Whether ``node``'s other input (beside ``operand``) is the constant ``value``."""
    others = [x for x in node.input if x != operand]
    if len(node.input) != 2 or len(others) != 1 or not ctx.is_constant(others[0]):
        return False
    index = list(node.input).index(others[0])
    const = ctx.constant(node, index)
    return const.size == 1 and abs(float(const.ravel()[0]) - value) < 1e-6


@op("Clip")
def clip(ctx, node, a):
    lo = a.get("min")
    hi = a.get("max")
    if ctx.has_input(node, 1):
        lo = float(ctx.constant(node, 1))
    if ctx.has_input(node, 2):
        hi = float(ctx.constant(node, 2))
    if lo == 0 and hi == 6:
        ctx.layer("relu6", {})
    elif lo == 0 and hi is None:
        ctx.layer("relu", {})
    else:
        raise Unmappable(f"Clip to [{lo}, {hi}] (only [0, 6], ReLU6, and [0, inf), ReLU)")


@op("LeakyRelu")
def leaky_relu(ctx, node, a):
    slope = float(a.get("alpha", 0.01))
    ctx.layer("leaky_relu", {} if abs(slope - 0.01) < 1e-9 else {"negative_slope": _round_float(slope)})


@op("HardSigmoid")
def hard_sigmoid(ctx, node, a):
    alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
    if abs(alpha - 1 / 6) > 1e-6 or abs(beta - 0.5) > 1e-6:
        raise Unmappable(f"alpha {alpha:g}, beta {beta:g} (hardsigmoid is relu6(x + 3)/6: 1/6, 0.5)")
    ctx.layer("hardsigmoid", {})


@op("Softmax")
def softmax(ctx, node, a):
    rank = ctx.rank(node.input[0])
    if ctx.opset < 13:
        axis = _axis(ctx, node, a.get("axis", 1), rank)
        if axis != rank - 1:
            raise Unmappable(f"opset {ctx.opset} Softmax over axes {axis}.. of a rank-{rank} input")
    else:
        axis = _axis(ctx, node, a.get("axis", -1), rank)
    ctx.layer("softmax", {"dim": axis})


@op("Dropout")
def dropout(ctx, node, a):
    if len(node.output) > 1 and node.output[1]:
        raise Unmappable("the mask output is used")
    ratio = float(a.get("ratio", 0.5))
    if ctx.has_input(node, 1):
        ratio = float(ctx.constant(node, 1))
    ctx.layer("dropout", {} if ratio == 0.5 else {"p": _round_float(ratio)})


# -- merges ----------------------------------------------------------------------------------


def _merge(kind: str):
    def handler(ctx, node, a):
        if any(ctx.is_constant(x) for x in node.input):
            raise Unmappable("an operand is a constant (only tensors computed by layers are merged)")
        ctx.layer(kind, {}, inputs=list(node.input))

    return handler


OPS["Add"] = _merge("add")
OPS["Mul"] = _merge("multiply")


@op("Concat")
def concat(ctx, node, a):
    if any(ctx.is_constant(x) for x in node.input):
        raise Unmappable("an operand is a constant")
    rank = ctx.rank(node.input[0])
    axis = _axis(ctx, node, a["axis"], rank)
    inputs = list(node.input)
    if len(inputs) == 1:
        ctx.layer("identity", {})
    else:
        ctx.layer("concat", {} if axis == 1 else {"dim": axis}, inputs=inputs)


@op("Split")
def split(ctx, node, a):
    rank = ctx.rank(node.input[0])
    axis = _axis(ctx, node, a.get("axis", 0), rank)
    count = len(node.output)
    if "num_outputs" in a and int(a["num_outputs"]) != count:
        raise ModelError(
            f"{ctx.source}: node {label(node)} (Split): num_outputs is {int(a['num_outputs'])}, and it "
            f"has {count} output(s)"
        )
    sizes = a.get("split")
    if sizes is None and ctx.has_input(node, 1):
        sizes = [int(v) for v in ctx.constant(node, 1).ravel()]
    if sizes is not None and any(int(v) <= 0 for v in sizes):
        raise ModelError(
            f"{ctx.source}: node {label(node)} (Split): pieces of {list(sizes)} elements "
            "(each must be 1 or more)"
        )
    if sizes is not None and len(set(sizes)) != 1:
        raise Unmappable(f"unequal pieces {list(sizes)} (chunk takes equal ones)")
    used = [i for i, name in enumerate(node.output) if name and ctx.is_used(name)]
    for i in used:
        args: dict[str, Any] = {"chunks": count, "index": i}
        if axis != 1:
            args["dim"] = axis
        ctx.layer("chunk", args, output=node.output[i], suffix=str(i) if len(used) > 1 else None)


@op("Slice")
def slice_(ctx, node, a):
    """A slice of one axis into equal pieces (``x.chunk(k, dim)`` as the legacy exporter writes
    it, with the bounds computed from the shape): the ``chunk`` layer of that piece."""
    from .shuffle import same

    x = ctx.shape(node.input[0])
    if x is None:
        raise Unmappable("a slice of a tensor whose shape is not known")
    if "starts" in a:
        starts, ends, axes, steps = list(a["starts"]), list(a["ends"]), a.get("axes"), None
    else:
        starts, ends = ctx.sizes(node, 1), ctx.sizes(node, 2)
        axes = ctx.sizes(node, 3) if ctx.has_input(node, 3) else None
        steps = ctx.sizes(node, 4) if ctx.has_input(node, 4) else None
    if len(starts) != 1 or len(ends) != 1 or (steps and list(steps) != [1]):
        raise Unmappable(
            f"a slice of {len(starts)} axes or with steps (chunk takes one axis in equal pieces)"
        )
    axis = int(axes[0]) % len(x) if axes else 0
    size = x[axis]
    start, end = starts[0], ends[0]
    if dims.is_concrete(end) and end >= 2**31:
        end = size
    if dims.is_concrete(start) and start < 0:
        start = dims.add(size, start)
    piece = dims.add(end, dims.mul(-1, start))
    if not dims.is_concrete(piece) or not dims.is_concrete(size) or piece <= 0 or size % piece:
        raise Unmappable(
            f"a slice [{dims.fmt(start)}:{dims.fmt(end)}] of axis {axis} of size {dims.fmt(size)} (chunk "
            f"takes equal pieces)"
        )
    index = dims.div(start, piece)
    if not dims.is_concrete(index) or int(index) != index or not same(dims.mul(index, piece), start):
        raise Unmappable(f"a slice [{dims.fmt(start)}:{dims.fmt(end)}] that is not one of equal pieces")
    args: dict[str, Any] = {"chunks": int(size // piece), "index": int(index)}
    if axis != 1:
        args["dim"] = axis
    ctx.layer("chunk", args)


# -- shapes ----------------------------------------------------------------------------------


@op("Flatten")
def flatten(ctx, node, a):
    rank = ctx.rank(node.input[0])
    axis = int(a.get("axis", 1)) % max(rank, 1)
    if axis != 1:
        raise Unmappable(f"axis {axis} (flatten keeps the batch axis: axis 1)")
    ctx.layer("flatten", {}, rank=2)


@op("Reshape")
def reshape(ctx, node, a):
    from .shuffle import channel_shuffle, reshape_target, same, write_reshape
    from .strided import flat_gather

    if channel_shuffle(ctx, node) or flat_gather(ctx, node):
        return
    x = ctx.shape(node.input[0])
    target = reshape_target(ctx, node, a, x)
    if x is not None and target is not None and len(target) == 2 and len(x) >= 2:
        features = dims.prod(x[1:])
        if same(target[0], x[0]):
            # (N, ...) -> (N, features), however it is spelt: a reshape keeping the batch axis
            # to two axes can only be the flatten. A fixed feature count is checked.
            fixed = dims.is_concrete(target[1]) and not same(target[1], features)
            ctx.layer("flatten", {}, rank=2, expect={1: target[1]} if fixed else {})
            return
    if (
        x is not None
        and target is not None
        and len(x) == len(target)
        and all(same(p, q) for p, q in zip(x, target, strict=True))
    ):
        ctx.layer("identity", {})
        return
    write_reshape(ctx, node, x, target)  # any other reshape (attention's heads)


@op("Pad")
def pad(ctx, node, a):
    mode = a.get("mode", "constant")
    if mode != "constant":
        raise Unmappable(f"mode {mode!r} (zero_pad2d pads with zeros)")
    pads = a.get("pads")
    if pads is None:
        pads = [int(v) for v in ctx.constant(node, 1).ravel()]
    if ctx.has_input(node, 2) and float(ctx.constant(node, 2)) != 0:
        raise Unmappable("a constant value other than 0")
    if ctx.has_input(node, 3):
        raise Unmappable("explicit axes")
    if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
        raise Unmappable(f"pads {list(pads)} (zero_pad2d pads H and W of N, C, H, W)")
    if any(p < 0 for p in pads):
        raise Unmappable(f"negative pads {list(pads)} (a crop)")
    t, left, b, r = pads[2], pads[3], pads[6], pads[7]
    ctx.layer("zero_pad2d", {"top": t, "bottom": b, "left": left, "right": r})


@op("Resize", "Upsample")
def resize(ctx, node, a):
    from .shuffle import same

    mode = a.get("mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear"):
        raise Unmappable(f"mode {mode!r}")
    args: dict[str, Any] = {}
    if mode != "nearest":
        args["mode"] = "bilinear"
        if a.get("coordinate_transformation_mode") == "align_corners":
            args["align_corners"] = True
    scales = sizes = None
    if node.op_type == "Upsample":
        scales = a.get("scales") or (ctx.sizes(node, 1) if ctx.has_input(node, 1) else None)
    else:
        if ctx.has_input(node, 2):
            scales = ctx.sizes(node, 2) or None  # an empty scales input stands for none
        if ctx.has_input(node, 3):
            sizes = ctx.sizes(node, 3)
    axes = a.get("axes")
    x = ctx.shape(node.input[0])
    if sizes is not None:
        if axes is not None:
            if sorted(int(v) % 4 for v in axes) != [2, 3] or len(sizes) != 2:
                raise Unmappable(f"sizes over axes {list(axes)}")
        elif len(sizes) != 4 or (x is not None and not (same(sizes[0], x[0]) and same(sizes[1], x[1]))):
            raise Unmappable(f"sizes {[dims.fmt(v) for v in sizes]} (only H and W of N, C, H, W)")
        h, w = (ctx.arg(v) for v in sizes[-2:])
        args["size"] = h if isinstance(h, int) and h == w else [h, w]
    elif scales is not None:
        full = list(scales) if axes is None else [1, 1, *scales]
        if len(full) != 4 or full[0] != 1 or full[1] != 1:
            raise Unmappable(f"scales {[dims.fmt(v) for v in full]} (only H and W of N, C, H, W)")
        if any(not dims.is_concrete(v) or v != int(v) or v < 1 for v in full[2:]):
            raise Unmappable(f"scales {[dims.fmt(v) for v in full[2:]]} (upsample takes integer factors)")
        args["scale"] = pair([int(v) for v in full[2:]])
    else:
        raise Unmappable("neither scales nor sizes is given")
    ctx.layer("upsample", args)


def _round_float(value: float) -> float:
    """A float32 attribute as the shortest decimal that reads back to it (1e-05, not
    9.999999747378752e-06)."""
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
