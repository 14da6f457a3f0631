"""What the operator functions of :mod:`cnncalc.onnx.ops` see while a graph is read: the layers
written so far, the shape of every tensor they compute (by the layer kinds' own rules, in the
input's symbols), the values of shape arithmetic, and the constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core import dims
from ..lang.model import INPUT
from . import naming
from .graph import Graph, Unmappable, label
from .reading import ModelError, safe_repr
from .values import EVALUATED, Value, evaluate, from_array
from .writing import Expression, comment_text


class Downstream(Exception):
    """The node reads what an unmappable node computes (not listed itself)."""


@dataclass
class Layer:
    kind: str
    args: dict[str, Any]
    inputs: list[str]  # tensor names read
    output: str  # tensor name written
    node: str  # the ONNX node's name, for messages
    op_type: str
    params: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    expect: dict[int, Any] = field(default_factory=dict)  # output axis -> size the model states
    name: str = ""
    comment: str = ""  # written above the layer as a YAML comment
    scope: tuple[str, ...] = ()  # the torch module path (dynamo's metadata), for folding
    classes: tuple[str, ...] = ()  # the torch classes along that path


class Context:
    def __init__(self, model, source: str, *, opaque: bool = False):
        self.model = model
        self.source = source
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
        if self.opset is None:
            raise ModelError(f"{source}: the model imports no ONNX opset")
        self.graph = Graph(model, source)
        self.nodes = self.graph.nodes
        self.consumers = self.graph.consumers
        self.opaque = opaque
        self.ranks: dict[str, int] = {}
        self.shapes: dict[str, tuple | None] = {}
        self.values: dict[str, Value] = {}
        self.fixed: dict[str, Any] = {}  # tensors computed from stored ones (fixed.Fixed)
        self.value_errors: dict[str, str] = {}
        self.layers: list[Layer] = []
        self.skipped: set[int] = set()
        self.unmapped_tensors: set[str] = set()
        self.symbols: dict[str, int | None] = {}
        self.symbol_docs: dict[str, str] = {}
        self.input_dims: list[str | int] = []
        self.input_name = ""
        self.dim_params: dict[str, str] = {}
        self.fixed_symbols: dict[int, str] = {}
        self.tensor_layer: dict[str, Any] = {}
        self.current = None
        self.inferred: tuple[dict, dict | None] | None = None
        self.notes: list[str] = []
        self.producer = ""

    def start(self, name: str, input_dims: list) -> None:
        """The graph input, its sizes (ints and symbol names) known."""
        self.input_name = name
        self.input_dims = input_dims
        self.scope = {s: dims.symbol(s) for s in self.symbols}
        self.shapes[name] = tuple(self.scope[d] if isinstance(d, str) else d for d in input_dims)
        self.ranks[name] = len(input_dims)
        self.tensor_layer = {name: INPUT}

    # -- shape arithmetic --------------------------------------------------------------------

    def arithmetic(self, node, op_type: str) -> bool:
        """Evaluate ``node`` when it is shape arithmetic (its result is a value, not a layer's
        tensor); False when it is to be read as a layer."""
        if op_type not in EVALUATED:
            return False
        if op_type in ("Shape", "Size"):
            source = node.input[0] if node.input else ""
            known = source in self.shapes or source in self.values or source in self.fixed
            if not known and not self._valued(source):
                if source in self.unmapped_tensors:
                    self.unmapped_tensors.update(node.output)
                    return True
                return False
        elif not node.input or not all(self._valued(x) for x in node.input if x):
            return False
        try:
            shaped = op_type in ("Shape", "Size")
            args = [None if shaped or not x else self.value(x) for x in node.input]
            result = evaluate(op_type, self.attrs(node), args, lambda i: self._shape_of(node.input[i]))
        except (
            Unmappable,
            Downstream,
            ValueError,
            TypeError,
            IndexError,
            KeyError,
            AttributeError,
            ZeroDivisionError,
            OverflowError,
        ) as exc:
            reason = str(exc) or type(exc).__name__
            for y in node.output:
                self.value_errors[y] = f"{reason} (node {label(node)}, {op_type})"
            return True
        self.values[node.output[0]] = result
        return True

    def _valued(self, name: str) -> bool:
        """Whether a tensor is a value (computed by shape arithmetic, or a small constant)."""
        if name in self.values or name in self.value_errors:
            return True
        if not self.graph.is_constant(name):
            return False
        shape = self.graph.constant_shape(name)
        n = 1
        for d in shape:
            n *= d
        return n <= 64

    def _shape_of(self, name: str) -> tuple:
        if name in self.values:
            return self.values[name].shape
        if name in self.fixed:
            return self.fixed[name].shape
        shape = self.shapes.get(name)
        if shape is None:
            if name in self.unmapped_tensors:
                raise Downstream
            raise Unmappable(f"the shape of {safe_repr(name)} is not known")
        return shape

    def value(self, name: str) -> Value:
        """The value of a tensor of shape arithmetic or a constant, or Unmappable saying why not."""
        if name in self.values:
            return self.values[name]
        if name in self.value_errors:
            raise Unmappable(f"it is computed from sizes in a way not followed: {self.value_errors[name]}")
        if name in self.unmapped_tensors:
            raise Downstream
        if self.graph.is_constant(name):
            v = from_array(self.graph.constant_array(name))
            self.values[name] = v
            return v
        raise Unmappable(f"{safe_repr(name)} is computed by layers, not from sizes")

    def sizes(self, node, index: int) -> list:
        """Input ``index`` of ``node`` as a list of sizes (ints or expressions of the symbols)."""
        return list(self.value(node.input[index]).items)

    def shape(self, name: str) -> tuple | None:
        return self.shapes.get(name)

    def arg(self, v: Any) -> Any:
        """A size as a spec argument: an int, or an expression of the input's symbols."""
        v = dims.canon(v)
        if dims.is_concrete(v):
            if int(v) != v:
                raise Unmappable(f"a size {v} that is not a whole number")
            return int(v)
        from ..errors import CnncalcError
        from ..lang.expr import evaluate as evaluate_expr
        from ..lang.expr import parse

        text = dims.fmt(v)
        try:
            back = evaluate_expr(parse(text), self.scope)
        except CnncalcError:
            back = None
        if back is None or dims.add(back, dims.mul(-1, v)) != 0:
            raise Unmappable(f"a size {text} that the spec's expressions cannot write")
        return Expression(text)

    # -- what ops.py calls -------------------------------------------------------------------

    def attrs(self, node) -> dict[str, Any]:
        from onnx import helper

        out = {}
        for a in node.attribute:
            if a.type in (a.GRAPH, a.GRAPHS):
                raise Unmappable("a subgraph (control flow)")
            v = helper.get_attribute_value(a)
            out[a.name] = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
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
        comment="",
    ) -> str:
        """Add a layer read from the current node; ``named_by`` is another node whose name names
        it (the last node of a pattern, which carries the layer's name)."""
        node = self.current
        inputs = list(inputs if inputs is not None else [node.input[0]])
        node = named_by or node
        output = output or node.output[0]
        for x in inputs:
            if x in self.unmapped_tensors:
                raise Downstream
            if x not in self.tensor_layer:
                if x in self.fixed:
                    raise Unmappable(
                        f"it computes on {safe_repr(x)}, a tensor built from stored ones alone (Swin "
                        f"v2's position bias is an MLP run on a table of coordinates at every call): "
                        f"no layer kind stands for a cost that does not read the input"
                    )
                if x in self.values or self._valued(x):
                    raise Unmappable(f"it reads {safe_repr(x)}, a size or a constant, as a tensor")
                raise Unmappable(f"it reads {safe_repr(x)}, which is not the output of a layer")
        weight = (params or {}).get("weight", ("", ()))[0]
        if weight and self._shared(weight):
            weight = ""
        entry = Layer(
            kind, args, inputs, output, node.name or output, node.op_type, params or {}, expect or {}
        )
        entry.name = naming.base_name(node, kind, weight, output, suffix)
        entry.comment = comment
        scopes, classes = naming.scopes(node)
        entry.scope, entry.classes = tuple(scopes), tuple(classes)
        shape = self._output_shape(kind, args, inputs)
        self.layers.append(entry)
        self.shapes[output] = shape
        if rank is None:
            rank = len(shape) if shape is not None else self.ranks.get(inputs[0], 4)
        self.ranks[output] = rank
        self.tensor_layer[output] = entry  # replaced by the name once names are final
        return output

    def _shared(self, initializer: str) -> bool:
        """Whether several nodes read the initializer (directly or through Identity nodes)."""
        if not hasattr(self, "_readers"):
            counts: dict[str, int] = {}
            for node in self.nodes:
                if node.op_type == "Identity" and node.output[0] in self.graph.alias:
                    continue
                for x in dict.fromkeys(node.input):
                    if self.graph.is_constant(x):
                        name = self.graph.resolve(x)
                        counts[name] = counts.get(name, 0) + 1
            self._readers = counts
        return self._readers.get(initializer, 0) > 1

    def _output_shape(self, kind: str, args: dict, inputs: list[str]) -> tuple | None:
        """The layer's output shape by its kind's own rule, or None when it cannot be told yet
        (the analysis of the whole spec then reports any mismatch)."""
        from .. import layers as registry
        from ..errors import CnncalcError

        xs = [self.shapes.get(x) for x in inputs]
        if any(x is None for x in xs):
            return None
        written = {k: _plain(v) for k, v in args.items()}
        try:
            cls = registry.REGISTRY[kind]
            layer = cls.read(written) if hasattr(cls, "read") else cls.validate(written)
            bound, _ = layer.bind(self.scope)
            return tuple(bound.output_shape(*xs))
        except (CnncalcError, ValueError, TypeError, KeyError, IndexError, ZeroDivisionError):
            return None

    def has_input(self, node, index: int) -> bool:
        return len(node.input) > index and node.input[index] != ""

    def is_constant(self, name: str) -> bool:
        return self.graph.is_constant(name)

    def constant(self, node, index: int):
        """Input ``index`` as a numpy array: a constant, or a value of shape arithmetic whose
        elements are all numbers."""
        import numpy as np

        name = node.input[index]
        if self.graph.is_constant(name):
            return self.graph.constant_array(name)
        v = self.value(name)
        if not all(dims.is_concrete(x) for x in v.items):
            raise Unmappable(f"input {index} depends on the input's size: {[dims.fmt(x) for x in v.items]}")
        items = [int(x) if v.integer else float(x) for x in v.items]
        return np.array(items, dtype=np.int64 if v.integer else np.float64).reshape(v.shape)

    def initializer_shape(self, node, index: int) -> tuple[int, ...]:
        if not self.has_input(node, index):
            raise Unmappable(f"input {index} is missing")
        return self.graph.constant_shape(node.input[index])

    def param(self, node, index: int, *, transpose: bool = False, squeeze: bool = False):
        """(initializer name, shape in the layer kind's layout)."""
        shape = self.initializer_shape(node, index)
        if transpose:
            shape = shape[::-1]
        if squeeze:
            while len(shape) > 1 and shape[0] == 1:
                shape = shape[1:]
        return self.graph.resolve(node.input[index]), shape

    def rank(self, name: str) -> int:
        if name in self.ranks:
            return self.ranks[name]
        if name in self.unmapped_tensors:
            raise Downstream
        raise Unmappable(f"the rank of {safe_repr(name)} is not known (it is not the output of a layer)")

    def is_used(self, name: str) -> bool:
        return self.graph.is_used(name)

    def batch_value(self, name: str) -> int | None:
        first = self.input_dims[0] if self.input_dims else None
        return first if isinstance(first, int) else None

    def module_class(self, node) -> str:
        return naming.module_class(node)

    def sole_user(self, name: str, op_type: str):
        return self.graph.sole_user(name, op_type)

    def absorb(self, node) -> None:
        """Mark a later node as part of the layer being read (it is not read on its own)."""
        self.skipped.add(self.graph.index[id(node)])

    # -- opaque layers (--opaque) ------------------------------------------------------------

    def forget(self, written: int, skipped: set[int]) -> None:
        """Undo what a handler wrote before it found the node unmappable."""
        for entry in self.layers[written:]:
            self.tensor_layer.pop(entry.output, None)
            self.ranks.pop(entry.output, None)
            self.shapes.pop(entry.output, None)
        del self.layers[written:]
        self.skipped = skipped

    def opaque_layer(self, node, op_type: str, reason: str) -> None:
        """One opaque layer per output of ``node`` that is used, reading the node's inputs that
        layers compute (constants and shape arithmetic are its attributes, not tensors)."""
        from .opaque import followed_shape, inferred_shape

        inputs = [x for x in dict.fromkeys(node.input) if x and x in self.tensor_layer]
        if not inputs:
            inputs = [self.input_name]  # computed from constants (and at most the input's shape)
        used = [o for o in node.output if o and self.is_used(o)] or [node.output[0]]
        for k, output in enumerate(used):
            followed = followed_shape(self, node, op_type, output)
            if followed is not None and all(self._writable(d) for d in followed):
                shape = [self.arg(d) for d in followed]
                note = " (the operator's rule, in the input's symbols)"
            else:
                shape, note = inferred_shape(self, node, op_type, output)
                note = f" from onnx's shape inference{note}"
            why = "" if reason == "no layer kind stands for it" else f" ({reason})"
            self.current = node
            self.layer(
                "opaque",
                {
                    "op": comment_text(op_type)[:200],
                    "shape": [Expression(s) if isinstance(s, str) else s for s in shape],
                },
                inputs=inputs,
                output=output,
                suffix=str(k) if len(used) > 1 else None,
                comment=(
                    f"Cost unknown: {op_type} (node {label(node)}) has no layer kind{why}; its "
                    f"params, MACs and FLOPs are not counted (?). Output shape{note}."
                ),
            )
            entry = self.layers[-1]
            if entry.name in ("opaque", "") or not entry.name:
                entry.name = naming.NAME_OK.sub("_", op_type.lower())[: naming.MAX_NAME] or "opaque"

    def _name_from_readers(self) -> None:
        """A layer the exporter left without a module path (a node its optimiser made, such as
        ``node_Split_860``) is named after the module of the layers that read it, and its kind
        (``stage2.1.chunk``), when they all belong to one."""
        readers: dict[str, list[Layer]] = {}
        for entry in self.layers:
            for x in entry.inputs:
                readers.setdefault(x, []).append(entry)
        for entry in self.layers:
            if entry.scope or not entry.name.startswith("node_"):
                continue
            modules = {r.name.rpartition(".")[0] for r in readers.get(entry.output, [])}
            if len(modules) == 1 and next(iter(modules)):
                entry.name = f"{next(iter(modules))}.{entry.kind}"

    def _writable(self, size) -> bool:
        try:
            self.arg(size)
        except Unmappable:
            return False
        return True

    # -- names -------------------------------------------------------------------------------

    def name_layers(self) -> None:
        self._name_from_readers()
        names = naming.unique([e.name for e in self.layers], {INPUT})
        for entry, name in zip(self.layers, names, strict=True):
            entry.name = name
            self.tensor_layer[entry.output] = name


def _plain(v: Any) -> Any:
    """An argument as the spec's loader would read it (expressions as their text)."""
    if isinstance(v, Expression):
        return v.text
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v
