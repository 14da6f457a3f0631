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

#: op type -> function(ctx, node, attrs) returning the layers written.
OPS: dict[str, Callable] = {}


class Unmappable(Exception):
    """The node has no layer kind; the message says why."""


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
    args = _window(ctx, node, a, "avg_pool2d")
    if not a.get("count_include_pad", 0) and "padding" in args:
        args["count_include_pad"] = False  # ONNX's default; PyTorch's (and cnncalc's) is true
    ctx.layer("avg_pool2d", args)


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
    output, named_by = node.output[0], None
    bias = ctx.bias_after(node, w[1])  # MatMul then Add of a vector: nn.Linear on many axes
    if bias is not None:
        add, index = bias
        params["bias"] = ctx.param(add, index, squeeze=True)
        output, named_by = add.output[0], add  # the Add computes the layer's output
    else:
        args["bias"] = False
    ctx.layer("linear", args, params=params, output=output, named_by=named_by)


# -- normalisation ---------------------------------------------------------------------------


@op("BatchNormalization")
def batch_norm(ctx, node, a):
    if a.get("training_mode", 0) or any(o for o in node.output[1:]):
        raise Unmappable("training mode (running statistics as outputs)")
    args: dict[str, Any] = {}
    eps = float(a.get("epsilon", 1e-5))
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
        axis = int(a.get("axis", 1))
        if axis % rank != rank - 1:
            raise Unmappable(f"opset {ctx.opset} Softmax over axes {axis}.. of a rank-{rank} input")
    else:
        axis = int(a.get("axis", -1))
    ctx.layer("softmax", {"dim": axis % rank})


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
    axis = int(a["axis"]) % rank
    inputs = list(node.input)
    if len(inputs) == 1:
        ctx.layer("identity", {})
    else:
        ctx.layer("concat", {} if axis == 1 else {"dim": axis}, inputs=inputs)


@op("Split")
def split(ctx, node, a):
    rank = ctx.rank(node.input[0])
    axis = int(a.get("axis", 0)) % rank
    count = len(node.output)
    sizes = a.get("split")
    if sizes is None and ctx.has_input(node, 1):
        sizes = [int(v) for v in ctx.constant(node, 1).ravel()]
    if sizes is not None and len(set(sizes)) != 1:
        raise Unmappable(f"unequal pieces {list(sizes)} (chunk takes equal ones)")
    used = [i for i, name in enumerate(node.output) if name and ctx.is_used(name)]
    for i in used:
        args: dict[str, Any] = {"chunks": count, "index": i}
        if axis != 1:
            args["dim"] = axis
        ctx.layer("chunk", args, output=node.output[i], suffix=str(i) if len(used) > 1 else None)


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
    if ctx.channel_shuffle(node):
        return
    if not ctx.is_constant(node.input[1]):
        raise Unmappable("the target shape is computed (only a constant flatten or a channel shuffle maps)")
    target = [int(v) for v in ctx.constant(node, 1).ravel()]
    rank = ctx.rank(node.input[0])
    batch = (0, ctx.batch_value(node.input[0]))
    if len(target) == 2 and rank >= 2 and target[0] in batch and (target[1] == -1 or target[1] > 0):
        # (N, ...) -> (N, features): a flatten; an explicit feature count is checked once the
        # shapes are known.
        expect = {} if target[1] == -1 else {1: target[1]}
        ctx.layer("flatten", {}, rank=2, expect=expect)
        return
    raise Unmappable(f"a reshape to {target} that is neither a flatten nor a channel shuffle")


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
        scales = a.get("scales") or (list(ctx.constant(node, 1).ravel()) if ctx.has_input(node, 1) else None)
    else:
        if ctx.has_input(node, 2):
            scales = list(ctx.constant(node, 2).ravel())
        if ctx.has_input(node, 3):
            sizes = [int(v) for v in ctx.constant(node, 3).ravel()]
    axes = a.get("axes")
    if sizes is not None:
        spatial = sizes[-2:] if axes is None else sizes
        if axes is not None and sorted(int(x) % 4 for x in axes) != [2, 3]:
            raise Unmappable(f"sizes over axes {axes}")
        args["size"] = pair(spatial)
    elif scales is not None:
        full = scales if axes is None else [1.0, 1.0, *scales]
        if len(full) != 4 or full[0] != 1 or full[1] != 1:
            raise Unmappable(f"scales {[float(s) for s in full]} (only H and W of N, C, H, W)")
        if any(float(s) != int(s) or s < 1 for s in full[2:]):
            raise Unmappable(f"scales {[float(s) for s in full[2:]]} (upsample takes integer factors)")
        args["scale"] = pair([int(s) for s in full[2:]])
    else:
        raise Unmappable("neither scales nor sizes is a constant")
    ctx.layer("upsample", args)


def _round_float(value: float) -> float:
    """A float32 attribute as the shortest decimal that reads back to it (1e-05, not
    9.999999747378752e-06)."""
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
