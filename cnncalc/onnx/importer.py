"""Reading an ONNX model into a spec.

:func:`load` reads and checks the file (a protobuf that parses, one graph whose nodes are
acyclic and read only tensors something provides, dimensions within reason). :func:`import_model`
maps every node to layer kinds through :data:`cnncalc.onnx.ops.OPS`, lists the nodes it cannot
map, writes the spec (names from the nodes and initializers, the graph through ``from:`` and
``inputs:``), and analyses it: every initializer must have the shape the layer kind's
parameters have, or the import fails naming the node.

With ``opaque=True`` (``--opaque``) a node without a layer kind becomes an ``opaque`` layer
instead of failing the import: its output shape comes from onnx's shape inference on the model
at its sizes, and its cost is unknown (the spec says so in a comment above it).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import dims
from ..core.engine import Analysis, analyze
from ..errors import CnncalcError, UsageError
from ..lang.model import INPUT, Spec
from ..lang.spec import parse_spec
from . import (
    ops_axes,  # noqa: F401  (adds Transpose, LayerNormalization and Mul to OPS)
    require,
)
from .ops import OPS, Unmappable

#: Largest dimension accepted in a model (a larger one is a corrupt or hostile file).
MAX_DIM = 2**31
#: Largest ONNX file read: protobuf's limit for one message (2 GiB less a byte).
MAX_MODEL_BYTES = 2**31 - 1
#: Names the symbols ``--symbols`` may use for the axes of an (N, C, H, W) input.
AXES = {"N": 0, "C": 1, "H": 2, "W": 3}

_NAME_OK = re.compile(r"[^A-Za-z0-9_.\-]")
_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ModelError(CnncalcError):
    """An ONNX model cannot be read into a spec (the message names the file and the node)."""


class _Downstream(Exception):
    """The node reads what an unmappable node computes (not listed itself)."""


@dataclass
class _Layer:
    kind: str
    args: dict[str, Any]
    inputs: list[str]  # tensor names read
    output: str  # tensor name written
    node: str  # the ONNX node's name, for messages
    op_type: str
    params: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    expect: dict[int, int] = field(default_factory=dict)  # output axis -> size the model states
    name: str = ""
    comment: str = ""  # written above the layer as a YAML comment (an opaque layer's)


@dataclass(frozen=True)
class Unmapped:
    """Nodes of one op type that have no layer kind."""

    op_type: str
    nodes: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Imported:
    text: str  # the spec, as written
    spec: Spec
    analysis: Analysis
    nodes: int  # ONNX nodes read


def load(path: str):
    """Read an ONNX file (without external weight data: only shapes are needed).

    Raises:
        UsageError: when the file cannot be read.
        ModelError: when it is not an ONNX model, or a malformed one.
    """
    from ..lang.source import read_limited

    onnx = require()
    try:
        data = read_limited(path, MAX_MODEL_BYTES)
    except IsADirectoryError:
        raise UsageError(f"cannot read {path}: is a directory, expected an ONNX file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data is None:
        raise ModelError(
            f"{path}: larger than 2 GiB, the most one ONNX file can hold (a model that large keeps "
            f"its weights in external data files; only the .onnx file is read)"
        )
    if not data:
        raise ModelError(f"{path}: the file is empty, not an ONNX model")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError, or upb's errors on garbage
        raise ModelError(
            f"{path}: not an ONNX model (the file does not parse as one: {exc}; a truncated "
            f"download or another format?)"
        ) from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise ModelError(f"{path}: not an ONNX model (no IR version or no graph nodes)")
    return model


def import_model(
    model, *, source: str = "model.onnx", symbols: str | None = None, opaque: bool = False
) -> Imported:
    """The spec an ONNX model stands for.

    Args:
        model: an ``onnx.ModelProto`` (see :func:`load`).
        source: the file name, for messages and the spec's header.
        symbols: ``"N,H,W"``: these fixed input dimensions become symbols, their values the
            defaults (``N``, ``C``, ``H``, ``W`` name the axes of an (N, C, H, W) input;
            ``NAME:AXIS`` any axis).
        opaque: write a node without a layer kind as an ``opaque`` layer (output shape from
            onnx's shape inference, cost unknown) instead of failing.

    Raises:
        ModelError: for a malformed graph, operators without a layer kind (all listed; with
            ``opaque``, one whose output shape onnx cannot infer), or an initializer whose
            shape is not the layer kind's, naming the node.
    """
    reader = _Reader(model, source)
    reader.opaque = opaque
    reader.read(symbols)
    text = reader.text()
    try:
        spec = parse_spec(text, source.rsplit(".", 1)[0] + ".yaml")
        analysis = analyze(spec)
    except CnncalcError as exc:
        raise ModelError(f"{source}: the model's layers do not fit together: {exc}") from None
    reader.check_params(analysis)
    return Imported(text=text, spec=spec, analysis=analysis, nodes=len(model.graph.node))


class _Reader:
    def __init__(self, model, source: str):
        self.model = model
        self.source = source
        self.graph = model.graph
        self.opset = next(
            (o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
            None,
        )
        if self.opset is None:
            raise ModelError(f"{source}: the model imports no ONNX opset")
        self.initializers = {t.name: t for t in self.graph.initializer}
        self.constants: dict[str, Any] = {}
        self.alias: dict[str, str] = {}  # Identity of a constant -> the constant (PyTorch's shares)
        self.ranks: dict[str, int] = {}
        self.layers: list[_Layer] = []
        self.skipped: set[int] = set()  # nodes absorbed by a pattern (Transpose of a shuffle)
        self.auxiliary: list = []  # Shape nodes: fine when a pattern absorbs their consumers
        self.unmapped_tensors: set[str] = set()
        self.symbols: dict[str, int | None] = {}
        self.input_dims: list[str | int] = []
        self._current = None
        self.opaque = False
        self.dim_params: dict[str, str] = {}  # the input's dim_param -> its symbol
        self.fixed_symbols: dict[int, str] = {}  # --symbols: input axis -> symbol (fixed dims)
        self._inferred: tuple[dict, dict] | None = None

    # -- the graph ---------------------------------------------------------------------------

    def read(self, symbols: str | None) -> None:
        for t in self.graph.initializer:
            self._check_dims(t.dims, f"initializer {t.name!r}")
        self.nodes = self._sorted()
        self.consumers: dict[str, list] = {}
        for node in self.nodes:
            for x in node.input:
                self.consumers.setdefault(x, []).append(node)
        self._input(symbols)
        unmapped: dict[str, list[tuple[str, str]]] = {}
        for i, node in enumerate(self.nodes):
            if i in self.skipped or (node.op_type == "Constant" and node.domain in ("", "ai.onnx")):
                continue
            if node.op_type == "Identity" and node.output[0] in self.alias:
                continue
            op_type = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            written, skipped = len(self.layers), set(self.skipped)
            try:
                if op_type == "Shape":
                    self.auxiliary.append(node)
                    continue
                handler = OPS.get(op_type)
                if handler is None:
                    raise Unmappable("no layer kind stands for it")
                self._current = node
                handler(self, node, self._attrs(node))
            except (Unmappable, KeyError, IndexError, ValueError, TypeError) as exc:
                if not self.opaque:
                    self._unmapped(unmapped, node, op_type, exc)
                    continue
                self._forget(written, skipped)
                self._opaque(node, op_type, _reason(exc))
            except _Downstream:
                self.unmapped_tensors.update(node.output)
        absorbed = {id(n) for i, n in enumerate(self.nodes) if i in self.skipped}
        for node in self.auxiliary if not self.opaque else ():  # opaque layers ignore shape inputs
            if not all(id(c) in absorbed for c in self.consumers.get(node.output[0], [])):
                unmapped.setdefault("Shape", []).append((_label(node), "shape arithmetic"))
        if unmapped:
            lines = []
            for op_type, found in sorted(unmapped.items(), key=lambda kv: -len(kv[1])):
                names = ", ".join(n for n, _ in found[:5]) + (", ..." if len(found) > 5 else "")
                reasons = sorted({r for _, r in found})
                lines.append(f"{op_type} x{len(found)} ({names}): {', '.join(reasons)}")
            total = sum(len(v) for v in unmapped.values())
            raise ModelError(
                f"{self.source}: {total} node{'s' * (total > 1)} of {len(unmapped)} operator "
                f"type{'s' * (len(unmapped) > 1)} {'have' if total > 1 else 'has'} no layer kind: "
                + "; ".join(lines)
                + (
                    ". Import with --opaque to keep them as opaque layers (output shapes from onnx's "
                    "shape inference, cost unknown)."
                    if total > 1
                    else ". Import with --opaque to keep it as an opaque layer (output shape from "
                    "onnx's shape inference, cost unknown)."
                )
            )
        self._name_layers()

    def _unmapped(self, unmapped: dict, node, op_type: str, exc: Exception) -> None:
        unmapped.setdefault(op_type, []).append((_label(node), _reason(exc)))
        self.unmapped_tensors.update(node.output)

    # -- opaque layers (--opaque) ------------------------------------------------------------

    def _forget(self, written: int, skipped: set[int]) -> None:
        """Undo what a handler wrote before it found the node unmappable."""
        for entry in self.layers[written:]:
            self.tensor_layer.pop(entry.output, None)
            self.ranks.pop(entry.output, None)
        del self.layers[written:]
        self.skipped = skipped

    def _opaque(self, node, op_type: str, reason: str) -> None:
        """One opaque layer per output of ``node`` that is used, reading the node's inputs that
        layers compute (constants and shape arithmetic are its attributes, not tensors)."""
        inputs = [x for x in dict.fromkeys(node.input) if x and x in self.tensor_layer]
        if not inputs:
            inputs = [self.input_name]  # computed from constants (and at most the input's shape)
        used = [o for o in node.output if o and self.is_used(o)] or [node.output[0]]
        for k, output in enumerate(used):
            shape, note = self._inferred_shape(node, op_type, output)
            entry = _Layer(
                "opaque",
                {"op": op_type, "shape": shape},
                inputs,
                output,
                node.name or output,
                node.op_type,
            )
            why = "" if reason == "no layer kind stands for it" else f" ({reason})"
            entry.comment = (
                f"Cost unknown: {op_type} (node {_label(node)!r}) has no layer kind{why}; its "
                f"params, MACs and FLOPs are not counted (?). Output shape from onnx's shape "
                f"inference{note}."
            )
            self._current = node
            entry.name = self._base_name(node, entry, str(k) if len(used) > 1 else None)
            if entry.name == "opaque" or not entry.name:
                entry.name = _NAME_OK.sub("_", op_type.lower())
            self.layers.append(entry)
            self.ranks[output] = len(shape)
            self.tensor_layer[output] = entry

    def _inferred_shape(self, node, op_type: str, output: str) -> tuple[list, str]:
        """The output's shape, from onnx's shape inference: (sizes, a note for the comment).

        Sizes are ints, or expressions of the input's symbols where the inference gives them
        so; with --symbols, the inference runs again with those axes symbolic, and a size it
        cannot give in the symbols is kept at the model's value (the note names the axes)."""
        at_size, symbolic = self._inference()
        found = symbolic.get(output) if symbolic else None
        concrete = at_size.get(output)
        where = f"{self.source}: node {_label(node)!r} ({op_type})"
        if concrete is None:
            raise ModelError(
                f"{where}: onnx's shape inference gives no shape for its output {output!r}, and an "
                f"opaque layer needs one (an operator onnx has no shape function for, such as a "
                f"custom domain's: give the output a shape in the model's value_info)"
            )
        out: list = []
        fixed: list[int] = []
        for axis, size in enumerate(concrete):
            sym = found[axis] if found is not None and axis < len(found) else None
            text = self._symbolic_size(sym if sym is not None else size)
            if isinstance(sym, int):
                out.append(sym)
            elif text is not None:
                out.append(text)
            elif isinstance(size, int):
                out.append(size)
                if self.fixed_symbols:
                    fixed.append(axis)
            else:
                dynamic = ", ".join(n for n, v in self.symbols.items() if v is None)
                why = (
                    f"it depends on the dynamic input sizes ({dynamic}); export the model at a "
                    f"fixed input size to import it with --opaque"
                    if dynamic
                    else "a size that depends on the data, not on the input's shape, has no "
                    "single value for a spec to state"
                )
                raise ModelError(
                    f"{where}: onnx's shape inference does not give axis {axis} of its output "
                    f"{output!r}: {why}"
                )
        if not self.fixed_symbols:
            note = " at the model's input size" if not self.symbols else ""
        elif fixed:
            axes = ", ".join(str(a) for a in fixed)
            note = (
                f"; axis {axes} is not given in the symbols by the inference and stays at the "
                f"model's size ({', '.join(f'{n}={v}' for n, v in self.symbols.items() if v)}): "
                f"another size needs another import"
                if len(fixed) == 1
                else f"; axes {axes} are not given in the symbols by the inference and stay at the "
                f"model's size ({', '.join(f'{n}={v}' for n, v in self.symbols.items() if v)}): "
                f"another size needs another import"
            )
        else:
            note = ", in the symbols"
        return out, note

    def _symbolic_size(self, size) -> str | None:
        """A dim_param of the inference as an expression of the spec's symbols, or None."""
        if not isinstance(size, str) or not size:
            return None
        from ..errors import CnncalcError
        from ..lang.expr import parse

        names = {**self.dim_params, **{s: s for s in self.fixed_symbols.values()}}
        text = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: names.get(m.group(0), "\0" + m.group(0)), size)
        if "\0" in text:
            return None  # a name that is not an input size (unk__0, a fresh inference symbol)
        try:
            e = parse(text)
        except CnncalcError:
            return None
        if not e.names <= set(self.symbols):
            return None
        return text

    def _inference(self) -> tuple[dict, dict | None]:
        """Shapes by tensor name from onnx's shape inference: at the model's sizes, and (with
        --symbols) with those input axes made symbolic. Each size is an int, a dim_param
        string, or None."""
        if self._inferred is None:
            at_size = _infer(self.model, self.source)
            symbolic = None
            if self.fixed_symbols:
                copy = type(self.model)()
                copy.CopyFrom(self.model)
                x = next(i for i in copy.graph.input if i.name == self.input_name)
                for axis, name in self.fixed_symbols.items():
                    d = x.type.tensor_type.shape.dim[axis]
                    d.Clear()
                    d.dim_param = name
                symbolic = _infer(copy, self.source)
            self._inferred = (at_size, symbolic)
        return self._inferred

    def _sorted(self) -> list:
        """The nodes in an order where each comes after what it reads (Kahn), or an error
        naming the nodes of a cycle or the tensor nobody provides."""
        provided = {i.name for i in self.graph.input} | set(self.initializers) | {""}
        producer: dict[str, int] = {}
        nodes = list(self.graph.node)
        for i, node in enumerate(nodes):
            if not node.output:
                raise ModelError(f"{self.source}: node {_label(node)!r} ({node.op_type}) has no outputs")
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                try:
                    self.constants[node.output[0]] = self._constant_value(node)
                except (ValueError, TypeError) as exc:
                    raise ModelError(
                        f"{self.source}: Constant node {_label(node)!r} has a malformed value: {exc}"
                    ) from None
            for out in node.output:
                if out in producer or (out and out in provided):
                    raise ModelError(
                        f"{self.source}: tensor {out!r} is written twice (node {_label(node)!r})"
                    )
                if out:
                    producer[out] = i
        waiting = []
        for node in nodes:
            deps = set()
            for x in node.input:
                if x in provided:
                    continue
                if x not in producer:
                    raise ModelError(
                        f"{self.source}: node {_label(node)!r} ({node.op_type}) reads {x!r}, which no "
                        f"node, initializer or graph input provides (a missing initializer?)"
                    )
                deps.add(producer[x])
            waiting.append(deps)
        for node in nodes:
            if node.op_type == "Identity" and node.domain in ("", "ai.onnx") and node.input:
                source = self.alias.get(node.input[0], node.input[0])
                if source in self.initializers or source in self.constants:
                    self.alias[node.output[0]] = source
        order, ready = [], [i for i, d in enumerate(waiting) if not d]
        users: dict[int, list[int]] = {}
        for i, deps in enumerate(waiting):
            for d in deps:
                users.setdefault(d, []).append(i)
        while ready:
            i = ready.pop(0)
            order.append(i)
            for u in users.get(i, []):
                waiting[u].discard(i)
                if not waiting[u]:
                    ready.append(u)
        if len(order) != len(nodes):
            done = set(order)
            stuck = [_label(nodes[i]) for i in range(len(nodes)) if i not in done]
            raise ModelError(
                f"{self.source}: the graph has a cycle through {len(stuck)} nodes "
                f"({', '.join(stuck[:5])}{', ...' if len(stuck) > 5 else ''})"
            )
        return [nodes[i] for i in order]

    def _constant_value(self, node):
        from onnx import helper, numpy_helper

        for a in node.attribute:
            value = helper.get_attribute_value(a)
            if a.name == "value":
                self._check_dims(value.dims, f"constant {node.output[0]!r}")
                return numpy_helper.to_array(value)
            if a.name in ("value_float", "value_int", "value_floats", "value_ints"):
                import numpy as np

                return np.array(value)
        return None

    def _check_dims(self, values, what: str) -> None:
        for d in values:
            if d < 0 or d > MAX_DIM:
                raise ModelError(f"{self.source}: {what} has a dimension {d} (at most {MAX_DIM} is accepted)")

    def _input(self, symbols: str | None) -> None:
        inputs = [i for i in self.graph.input if i.name not in self.initializers]
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs) or "none"
            raise ModelError(f"{self.source}: a spec has one input; the model has {len(inputs)} ({names})")
        (x,) = inputs
        if not x.type.HasField("tensor_type") or not x.type.tensor_type.HasField("shape"):
            raise ModelError(f"{self.source}: the input {x.name!r} has no tensor shape")
        raw = list(x.type.tensor_type.shape.dim)
        if not raw:
            raise ModelError(f"{self.source}: the input {x.name!r} is a scalar; a spec's input is a tensor")
        wanted = _parse_symbols(symbols, len(raw))
        out: list[str | int] = []
        for axis, d in enumerate(raw):
            given = wanted.get(axis)
            if d.HasField("dim_value"):
                self._check_dims([d.dim_value], f"the input {x.name!r}")
                if d.dim_value == 0:
                    raise ModelError(f"{self.source}: the input {x.name!r} has a dimension 0")
                if given:
                    self._symbol(given, d.dim_value)
                    self.fixed_symbols[axis] = given
                    out.append(given)
                else:
                    out.append(int(d.dim_value))
            else:
                name = given or _symbol_name(d.dim_param, axis, rank=len(raw))
                if given or name not in self.symbols or self.symbols[name] is not None:
                    self._symbol(name, None)  # one dim_param on two axes: one symbol
                if d.dim_param:
                    self.dim_params.setdefault(d.dim_param, name)
                out.append(name)
        self.input_dims = out
        self.input_name = x.name
        self.ranks[x.name] = len(raw)
        self.tensor_layer = {x.name: INPUT}

    def _symbol(self, name: str, default: int | None) -> None:
        if name in self.symbols:
            raise UsageError(f"--symbols: {name} names two input dimensions")
        self.symbols[name] = default

    # -- what ops.py calls -------------------------------------------------------------------

    def _attrs(self, node) -> dict[str, Any]:
        from onnx import helper

        out = {}
        for a in node.attribute:
            if a.type in (a.GRAPH, a.GRAPHS):
                raise Unmappable("a subgraph (control flow)")
            value = helper.get_attribute_value(a)
            out[a.name] = value.decode() if isinstance(value, bytes) else value
        return out

    def layer(
        self,
        kind,
        args,
        *,
        inputs=None,
        output=None,
        params=None,
        rank=None,
        suffix=None,
        expect=None,
        named_by=None,
    ) -> str:
        """Add a layer read from the current node; ``named_by`` is another node whose name names
        it (the last node of a pattern, which carries the layer's name)."""
        node = self._current
        inputs = list(inputs if inputs is not None else [node.input[0]])
        node = named_by or node
        output = output or node.output[0]
        for x in inputs:
            if x in self.unmapped_tensors:
                raise _Downstream
            if x not in self.tensor_layer:
                raise Unmappable(f"it reads {x!r}, which is not the output of a layer")
        entry = _Layer(
            kind, args, inputs, output, node.name or output, node.op_type, params or {}, expect or {}
        )
        entry.name = self._base_name(node, entry, suffix)
        self.layers.append(entry)
        self.ranks[output] = rank if rank is not None else self.ranks.get(inputs[0], 4)
        self.tensor_layer[output] = entry  # replaced by the name once names are final
        return output

    def has_input(self, node, index: int) -> bool:
        return len(node.input) > index and node.input[index] != ""

    def is_constant(self, name: str) -> bool:
        name = self.alias.get(name, name)
        return name in self.initializers or name in self.constants

    def constant(self, node, index: int):
        from onnx import numpy_helper

        name = self.alias.get(node.input[index], node.input[index])
        if name in self.constants and self.constants[name] is not None:
            return self.constants[name]
        if name in self.initializers:
            t = self.initializers[name]
            if t.data_location == t.EXTERNAL or (not t.raw_data and _empty(t)):
                raise Unmappable(f"the constant {name!r} has no data in the file")
            return numpy_helper.to_array(t)
        raise Unmappable(f"input {index} ({name!r}) is computed, not a constant")

    def initializer_shape(self, node, index: int) -> tuple[int, ...]:
        if not self.has_input(node, index):
            raise Unmappable(f"input {index} is missing")
        name = self.alias.get(node.input[index], node.input[index])
        if name in self.initializers:
            return tuple(int(d) for d in self.initializers[name].dims)
        if name in self.constants and self.constants[name] is not None:
            return tuple(int(d) for d in self.constants[name].shape)
        raise Unmappable(f"the weight {name!r} is computed by other nodes, not stored")

    def param(self, node, index: int, *, transpose: bool = False, squeeze: bool = False):
        """(initializer name, shape in the layer kind's layout)."""
        shape = self.initializer_shape(node, index)
        if transpose:
            shape = shape[::-1]
        if squeeze:
            while len(shape) > 1 and shape[0] == 1:
                shape = shape[1:]
        return self.alias.get(node.input[index], node.input[index]), shape

    def rank(self, name: str) -> int:
        if name in self.ranks:
            return self.ranks[name]
        if name in self.unmapped_tensors:
            raise _Downstream
        raise Unmappable(f"the rank of {name!r} is not known (it is not the output of a layer)")

    def is_used(self, name: str) -> bool:
        outputs = {o.name for o in self.graph.output}
        return name in outputs or bool(self.consumers.get(name))

    def batch_value(self, name: str) -> int | None:
        first = self.input_dims[0] if self.input_dims else None
        return first if isinstance(first, int) else None

    def bias_after(self, node, out: int):
        """(Add node, index of its constant operand) when the node's only consumer adds a
        constant vector of ``out`` values (nn.Linear on more than two axes); absorbs it."""
        users = self.consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Add":
            return None
        add = users[0]
        for index, x in enumerate(add.input):
            if x != node.output[0] and self.is_constant(x):
                shape = self.initializer_shape(add, index)
                if tuple(d for d in shape if d != 1) == (out,):
                    self._skip(add)
                    return add, index
        return None

    def channel_shuffle(self, node) -> bool:
        """Reshape (N, g, C/g, ...) -> Transpose (swap 1, 2) -> Reshape back to rank 4: one
        channel_shuffle layer. Absorbs the Transpose and the second Reshape."""
        if self.rank(node.input[0]) != 4 or not self.is_constant(node.input[1]):
            return False
        target = [int(v) for v in self.constant(node, 1).ravel()]
        if len(target) not in (4, 5) or target[1] <= 0:
            return False
        users = self.consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Transpose":
            return False
        transpose = users[0]
        perm = list(self._attrs(transpose).get("perm", []))
        if perm != [0, 2, 1, *range(3, len(target))]:
            return False
        back = self.consumers.get(transpose.output[0], [])
        if len(back) != 1 or back[0].op_type != "Reshape":
            return False
        second = back[0]
        shape_in = second.input[1]
        if self.is_constant(shape_in):
            if len(self.constant(second, 1).ravel()) != 4:
                return False
        elif not any(n.op_type == "Shape" and n.output[0] == shape_in for n in self.nodes):
            return False
        self._skip(transpose)
        self._skip(second)
        self.layer("channel_shuffle", {"groups": target[1]}, output=second.output[0])
        return True

    def attrs(self, node) -> dict[str, Any]:
        """A node's attributes by name."""
        return self._attrs(node)

    def sole_user(self, name: str, op_type: str):
        """The one node reading tensor ``name``, when there is one and it is an ``op_type``."""
        users = self.consumers.get(name, [])
        outputs = {o.name for o in self.graph.output}
        if len(users) != 1 or users[0].op_type != op_type or name in outputs:
            return None
        return users[0]

    def absorb(self, node) -> None:
        """Mark a later node as part of the layer being read (it is not read on its own)."""
        self._skip(node)

    def _skip(self, node) -> None:
        self.skipped.add(next(i for i, n in enumerate(self.nodes) if n is node))

    # -- names and text ----------------------------------------------------------------------

    def _base_name(self, node, entry: _Layer, suffix: str | None) -> str:
        weight = entry.params.get("weight", ("", ()))[0]
        if "/" in node.name:  # PyTorch's module scopes (its initializers may be deduplicated)
            base = _node_name(node.name, node.op_type)
        elif weight.endswith(".weight") and suffix is None:
            base = weight[: -len(".weight")]
        elif _scope_name(node):
            base = _scope_name(node)
        elif node.name:
            base = _node_name(node.name, node.op_type)
        else:
            base = _NAME_OK.sub("_", entry.output)
        base = base.strip(".-") or entry.kind
        return f"{base}_{suffix}" if suffix else base

    def _name_layers(self) -> None:
        taken = {INPUT}
        for entry in self.layers:
            name, k = entry.name, 2
            while name in taken:
                name, k = f"{entry.name}_{k}", k + 1
            entry.name = name
            taken.add(name)
        for entry in self.layers:
            self.tensor_layer[entry.output] = entry.name

    def text(self) -> str:
        m = self.model
        producer = " ".join(x for x in (m.producer_name, m.producer_version) if x)
        lines = [
            f"# Imported by cnncalc from {Path(self.source).name}: ONNX opset {self.opset}, IR version "
            f"{m.ir_version}{f', produced by {producer}' if producer else ''}.",
            "# Weights are not kept: the layers, their arguments and the graph are.",
        ]
        outputs = [o.name for o in self.graph.output]
        last = self.tensor_layer.get(self.layers[-1].output) if self.layers else None
        if len(outputs) > 1 or (outputs and self.layers and outputs[0] != self.layers[-1].output):
            lines.append(
                f"# The model's outputs are {', '.join(outputs)}; "
                f"the spec's output is its last layer, {last}."
            )
        lines += [
            f"name: {_scalar(self.graph.name or Path(self.source).stem)}",
        ]
        if self.symbols:
            lines.append("symbols:")
            for name, default in self.symbols.items():
                lines.append(f"  {name}: {{default: {default}}}" if default else f"  {name}: null")
        lines.append("input: [" + ", ".join(str(d) for d in self.input_dims) + "]")
        lines.append("layers:")
        previous = self.input_name
        for entry in self.layers:
            args = dict(entry.args)
            refs = [self.tensor_layer[x] for x in entry.inputs]
            if len(entry.inputs) > 1:
                args["inputs"] = refs
            elif entry.inputs[0] != previous:
                args["from"] = refs[0]
            args["name"] = entry.name
            body = ", ".join(f"{k}: {_value(v)}" for k, v in args.items())
            if entry.comment:
                import textwrap

                lines += [f"  # {line}" for line in textwrap.wrap(entry.comment, 94)]
            lines.append(f"  - {entry.kind}: {{{body}}}")
            previous = entry.output
        return "\n".join(lines) + "\n"

    def check_params(self, analysis: Analysis) -> None:
        results = {r.name: r for r in analysis.layers}
        for entry in self.layers:
            r = results[entry.name]
            for axis, size in entry.expect.items():
                if dims.add(r.output_shape[axis], -size) != 0:
                    raise ModelError(
                        f"{self.source}: node {entry.node!r} ({entry.op_type}): the model makes axis "
                        f"{axis} {size}, but {entry.kind} gives {dims.fmt(r.output_shape[axis])}"
                    )
            theirs = dict(r.weights)
            for key, (init, shape) in entry.params.items():
                want = theirs.get(key)
                if want is None:
                    raise ModelError(
                        f"{self.source}: node {entry.node!r} ({entry.op_type}): {init!r} would be the "
                        f"{key} of a {entry.kind} layer, which has none here"
                    )
                same = len(want.shape) == len(shape) and all(
                    dims.add(a, -b) == 0 for a, b in zip(want.shape, shape, strict=True)
                )
                if not same:
                    shown = dims.fmt_shape(want.shape)
                    got = "[" + ", ".join(str(d) for d in shape) + "]"
                    note = ""
                    if any(not dims.is_concrete(d) for d in want.shape):
                        note = " (it depends on a dynamic input size: the weights fix it; use --symbols)"
                    raise ModelError(
                        f"{self.source}: node {entry.node!r} ({entry.op_type}): {init!r} has shape {got}, "
                        f"but {entry.kind} {key} on its input takes {shown}{note}"
                    )


def _reason(exc: Exception) -> str:
    """Why a node has no layer kind, from what its handler raised."""
    if isinstance(exc, Unmappable):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"malformed: no attribute {exc}"
    return f"malformed: {type(exc).__name__}: {exc}"


def _infer(model, source: str) -> dict[str, list]:
    """Tensor name -> shape (ints, dim_param strings, None for an unknown size) by onnx's
    shape inference, the shapes the model states included."""
    from onnx import shape_inference

    try:
        inferred = shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:  # onnx's InferenceError and checker errors
        raise ModelError(f"{source}: onnx's shape inference fails on the model: {exc}") from None
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


def _label(node) -> str:
    """A node's name for messages: its name, else its first output."""
    return node.name or (node.output[0] if node.output else f"<{node.op_type}>")


def _empty(t) -> bool:
    return not any(
        len(getattr(t, f)) for f in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data")
    )


def _parse_symbols(text: str | None, rank: int) -> dict[int, str]:
    """``"N,H,W"`` or ``"B:0,S:2"`` -> {axis: name}."""
    if not text:
        return {}
    out: dict[int, str] = {}
    for item in text.split(","):
        name, colon, axis = item.strip().partition(":")
        if not _SYMBOL.match(name) or name == INPUT:
            raise UsageError(f"--symbols: {item.strip()!r} is not a symbol name")
        if colon:
            if not axis.strip().isdigit():
                raise UsageError(f"--symbols: {item.strip()!r}: the axis after ':' is a number")
            index = int(axis)
        elif name in AXES and rank == 4:
            index = AXES[name]
        else:
            raise UsageError(
                f"--symbols: {name!r}: N, C, H and W name the axes of an (N, C, H, W) input; "
                f"write NAME:AXIS for others (the input has rank {rank})"
            )
        if not 0 <= index < rank:
            raise UsageError(f"--symbols: axis {index} of a rank-{rank} input")
        if index in out:
            raise UsageError(f"--symbols: two names for axis {index}")
        out[index] = name
    return out


def _symbol_name(dim_param: str, axis: int, rank: int) -> str:
    from ..lang.expr import FUNCTIONS

    name = re.sub(r"[^A-Za-z0-9_]", "_", dim_param or "")
    if not name or not _SYMBOL.match(name) or name in FUNCTIONS or name == INPUT:
        name = ("N", "C", "H", "W")[axis] if rank == 4 else f"D{axis}"
    import keyword

    return f"{name}_" if keyword.iskeyword(name) else name


def _node_name(name: str, op_type: str) -> str:
    """``/layer1/layer1.0/relu/Relu`` (PyTorch's scopes) -> ``layer1.0.relu``; an operator
    called in a module's forward, ``/layer1/layer1.0/Add``, -> ``layer1.0.add``."""
    parts = [p for p in name.split("/") if p]
    if parts and (parts[-1] == op_type or parts[-1].startswith(f"{op_type}_")):
        last = parts.pop()
        functional = not parts or (len(parts) > 1 and parts[-1].startswith(f"{parts[-2]}."))
        if functional:
            parts.append(last.lower())
    kept = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(f"{p}."))]
    return _NAME_OK.sub("_", ".".join(kept))


def _scope_name(node) -> str:
    """The module path torch's dynamo exporter records in a node's metadata
    (``pkg.torch.onnx.name_scopes``, ``['', 'layer1', 'layer1.0', 'add']``): the module's name
    when the node is a module's own operation (a torch.nn ReLU called as ``relu``), else the
    module's name and the operation's (``layer1.0.add``, in a block's forward)."""
    import ast

    props = {p.key: p.value for p in node.metadata_props}
    try:
        scopes = ast.literal_eval(props.get("pkg.torch.onnx.name_scopes", "[]"))
        classes = ast.literal_eval(props.get("pkg.torch.onnx.class_hierarchy", "[]"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return ""
    if not (isinstance(scopes, list) and len(scopes) >= 2 and all(isinstance(s, str) for s in scopes)):
        return ""
    module, op_name = scopes[-2], scopes[-1]
    leaf = len(classes) >= 2 and isinstance(classes[-2], str) and classes[-2].startswith("torch.nn.modules.")
    name = module if leaf and module else f"{module}.{op_name}" if module else op_name
    return _NAME_OK.sub("_", name)


def _scalar(text: str) -> str:
    import yaml

    try:
        plain = yaml.safe_load(f"{{k: {text}}}") == {"k": text}
    except yaml.YAMLError:
        plain = False
    if plain and text == text.strip():
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = repr(v)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp}"
        return text
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return _scalar(str(v))


def summary(imported: Imported) -> str:
    """One line: nodes read, layers written, and the totals."""
    a = imported.analysis
    counts = Counter(r.kind for r in a.layers)
    top = ", ".join(f"{n} {k}" for k, n in counts.most_common(4))

    unknown = a.totals.unknown_cost

    def show(v) -> str:
        text = f"{v:,}" if dims.is_concrete(v) else dims.fmt(v)
        return f"{text} + ?" if unknown else text

    line = (
        f"{imported.nodes} nodes read as {len(a.layers)} layers ({top}, ...); "
        f"params {show(a.totals.params)}, MACs {show(a.totals.macs)}"
    )
    if unknown:
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        line += f"; {len(unknown)} opaque layer{'s' * (len(unknown) > 1)} of unknown cost ({shown})"
    return line
