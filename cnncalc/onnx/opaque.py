"""Opaque layers (``--opaque``): a node without a layer kind kept with its output shape from
onnx's shape inference and its cost unknown."""

from __future__ import annotations

import re

from ..errors import CnncalcError
from .graph import label
from .reading import ModelError, safe_repr


def inferred_shape(reader, node, op_type: str, output: str) -> tuple[list, str]:
    """The output's shape, from onnx's shape inference: (sizes, a note for the comment).

    Sizes are ints, or expressions of the input's symbols where the inference gives them
    so; with --symbols, the inference runs again with those axes symbolic, and a size it
    cannot give in the symbols is kept at the model's value (the note names the axes)."""
    at_size, symbolic = inference(reader)
    found = symbolic.get(output) if symbolic else None
    concrete = at_size.get(output)
    where = f"{reader.source}: node {label(node)} ({safe_repr(op_type)[1:-1]})"
    if concrete is None:
        raise ModelError(
            f"{where}: onnx's shape inference gives no shape for its output {safe_repr(output)}, and "
            f"an opaque layer needs one (an operator onnx has no shape function for, such as a "
            f"custom domain's: give the output a shape in the model's value_info)"
        )
    out: list = []
    fixed: list[int] = []
    for axis, size in enumerate(concrete):
        sym = found[axis] if found is not None and axis < len(found) else None
        text = symbolic_size(reader, sym if sym is not None else size)
        if isinstance(sym, int):
            out.append(sym)
        elif text is not None:
            out.append(text)
        elif isinstance(size, int):
            out.append(size)
            if reader.fixed_symbols:
                fixed.append(axis)
        else:
            dynamic = ", ".join(n for n, v in reader.symbols.items() if v is None)
            why = (
                f"it depends on the dynamic input sizes ({dynamic}); export the model at a "
                f"fixed input size to import it with --opaque"
                if dynamic
                else "a size that depends on the data, not on the input's shape, has no "
                "single value for a spec to state"
            )
            raise ModelError(
                f"{where}: onnx's shape inference does not give axis {axis} of its output "
                f"{safe_repr(output)}: {why}"
            )
    if not reader.fixed_symbols:
        note = " at the model's input size" if not reader.symbols else ""
    elif fixed:
        values = ", ".join(f"{n}={v}" for n, v in reader.symbols.items() if v)
        axes = ", ".join(str(a) for a in fixed)
        note = (
            f"; axis {axes} is not given in the symbols by the inference and stays at the "
            f"model's size ({values}): another size needs another import"
            if len(fixed) == 1
            else f"; axes {axes} are not given in the symbols by the inference and stay at the "
            f"model's size ({values}): another size needs another import"
        )
    else:
        note = ", in the symbols"
    return out, note


def symbolic_size(reader, size) -> str | None:
    """A dim_param of the inference as an expression of the spec's symbols, or None."""
    if not isinstance(size, str) or not size or len(size) > 1000:
        return None
    from ..lang.expr import parse

    names = {**reader.dim_params, **{s: s for s in reader.fixed_symbols.values()}}
    text = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: names.get(m.group(0), "\0" + m.group(0)), size)
    if "\0" in text:
        return None  # a name that is not an input size (unk__0, a fresh inference symbol)
    try:
        e = parse(text)
    except CnncalcError:
        return None
    if not e.names <= set(reader.symbols):
        return None
    return text


def inference(reader) -> tuple[dict, dict | None]:
    """Shapes by tensor name from onnx's shape inference: at the model's sizes, and (with
    --symbols) with those input axes made symbolic. Each size is an int, a dim_param
    string, or None."""
    if reader.inferred is None:
        at_size = infer(reader.model, reader.source)
        symbolic = None
        if reader.fixed_symbols:
            copy = type(reader.model)()
            copy.CopyFrom(reader.model)
            x = next(i for i in copy.graph.input if i.name == reader.input_name)
            for axis, name in reader.fixed_symbols.items():
                d = x.type.tensor_type.shape.dim[axis]
                d.Clear()
                d.dim_param = name
            symbolic = infer(copy, reader.source)
        reader.inferred = (at_size, symbolic)
    return reader.inferred


def infer(model, source: str) -> dict[str, list]:
    """Tensor name -> shape (ints, dim_param strings, None for an unknown size) by onnx's
    shape inference, the shapes the model states included."""
    from onnx import shape_inference

    try:
        inferred = shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:  # onnx's InferenceError and checker errors
        first = next((s.strip() for s in str(exc).splitlines() if s.strip()), type(exc).__name__)
        raise ModelError(f"{source}: onnx's shape inference fails on the model: {first[:300]}") from None
    out: dict[str, list] = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]:
        t = info.type
        if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
            continue
        dims_ = []
        for d in t.tensor_type.shape.dim:
            if d.HasField("dim_value") and d.dim_value > 0:
                dims_.append(int(d.dim_value))
            elif d.HasField("dim_param"):
                dims_.append(d.dim_param)
            else:
                dims_.append(None)
        out.setdefault(info.name, dims_)
    return out


#: Operators whose output has their (first) input's shape.
SAME_SHAPE = frozenset(
    {"Erf", "Sqrt", "Exp", "Log", "Neg", "Abs", "Softmax", "LogSoftmax", "Cast", "Not", "Relu",
     "Sigmoid", "Tanh", "Gelu", "Dropout", "Identity", "Reciprocal", "Floor", "Ceil", "CastLike"}
)  # fmt: skip
BROADCAST = frozenset(
    {"Add", "Sub", "Mul", "Div", "Pow", "Where", "Equal", "Less", "Greater", "And", "Or", "Max", "Min"}
)  # fmt: skip


def followed_shape(reader, node, op_type: str, output: str) -> list | None:
    """The output's shape by the operator's own rule, from the shapes and values the import
    follows (in the input's symbols), for the common operators; None when not known."""
    from ..core import dims
    from .shuffle import reshape_target, same

    def shape(name):
        if name in reader.shapes and reader.shapes[name] is not None:
            return list(reader.shapes[name])
        if name in reader.values:
            return list(reader.values[name].shape)
        if reader.graph.is_constant(name):
            return list(reader.graph.constant_shape(name))
        return None

    try:
        ins = [shape(x) if x else None for x in node.input]
        if output != node.output[0] or not ins or ins[0] is None:
            return None
        x = ins[0]
        a = reader.attrs(node)
        if op_type in SAME_SHAPE:
            return x
        if op_type in BROADCAST:
            return None if any(s is None for s in ins) else _broadcast(ins)
        if op_type == "Reshape":
            return reshape_target(reader, node, a, tuple(x))
        if op_type == "Transpose":
            perm = list(a.get("perm", range(len(x) - 1, -1, -1)))
            return [x[p] for p in perm]
        if op_type == "MatMul" and ins[1] is not None and len(x) >= 2 and len(ins[1]) >= 2:
            y = ins[1]
            if not same(x[-1], y[-2]):
                return None
            batch = _broadcast([x[:-2], y[:-2]])
            return None if batch is None else [*batch, x[-2], y[-1]]
        if op_type == "Gather":
            axis = int(a.get("axis", 0)) % len(x)
            index = reader.value(node.input[1]).shape
            return [*x[:axis], *index, *x[axis + 1 :]]
        if op_type == "Concat":
            if any(s is None or len(s) != len(x) for s in ins):
                return None
            axis = int(a["axis"]) % len(x)
            return [*x[:axis], dims.add(*(s[axis] for s in ins)), *x[axis + 1 :]]
        if op_type == "Expand":
            target = reader.sizes(node, 1)
            rank = max(len(x), len(target))
            xs = [1] * (rank - len(x)) + x
            ts = [1] * (rank - len(target)) + target
            return [t if dims.is_concrete(d) and d == 1 else d for d, t in zip(xs, ts, strict=True)]
    except Exception:  # a rule that cannot be followed here: onnx's inference is asked instead
        return None
    return None


def _broadcast(shapes: list[list]) -> list | None:
    """numpy's broadcast of shapes of sizes, or None when two sizes differ and neither is 1."""
    from ..core import dims
    from .shuffle import same

    rank = max(len(s) for s in shapes)
    padded = [[1] * (rank - len(s)) + list(s) for s in shapes]
    out = []
    for sizes in zip(*padded, strict=True):
        big = [d for d in sizes if not (dims.is_concrete(d) and d == 1)]
        if any(not same(d, big[0]) for d in big[1:]):
            return None
        out.append(big[0] if big else 1)
    return out
