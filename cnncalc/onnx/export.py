"""Writing an analysed spec as an ONNX model with seeded random weights.

Every layer writes its own nodes through :class:`Lowering` (``Layer.to_onnx``): a kind added in
one module lowers from that module, and a kind without a lowering is refused by name. Tensors
are named after the layers (a layer's output is the tensor of its name, its weights
``name.weight``, ``name.bias``, ...), so the model reads like the spec in Netron and
onnxruntime can return any layer's output by name.

Symbols written bare in the input shape (``[N, 3, H, W]``) and not given with ``--set`` stay
dynamic (``dim_param``) as long as nothing in the graph needs their value: a weight whose shape
depends on ``H`` (a linear layer after a flatten), an attribute computed from it (an adaptive
pool's window), fixes ``H`` at its value. Layer outputs carry their shapes (as formulas of the
dynamic symbols, in the spec's syntax) in the graph's ``value_info``.

An ``opaque`` layer (an operator cnncalc does not know) cannot be written: the export refuses
it by name. ``cnncalc verify --runtime onnxruntime`` exports with ``opaque_inputs``, which makes
each opaque layer's output an input of the graph, fed with a random tensor of its shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..core import dims
from ..core.engine import Analysis, LayerResult, analyze
from ..errors import CnncalcError, UsageError
from ..lang.model import INPUT, Spec
from . import require

#: The opset written unless ``--opset`` says otherwise (onnxruntime runs it since 1.14).
DEFAULT_OPSET = 18
#: The oldest opset the lowerings are written for (Softmax on one axis, Split's sizes input).
MIN_OPSET = 13


class ExportError(CnncalcError):
    """A spec cannot be written as ONNX (a kind without a lowering, a size ONNX cannot say)."""


class _NeedsValue(Exception):
    """A lowering needs the concrete value of symbols left dynamic (internal to export)."""

    def __init__(self, symbols: set[str]):
        super().__init__(", ".join(sorted(symbols)))
        self.symbols = symbols


@dataclass(frozen=True)
class Exported:
    """An exported model and how its symbols were treated."""

    model: Any  # onnx.ModelProto
    analysis: Analysis  # the analysis written (dynamic symbols open)
    dynamic: tuple[str, ...]  # symbols written as dim_param
    fixed: dict[str, Any]  # symbols written at a value
    initializers: int  # learnable tensors and buffers written
    opset: int


def export(
    spec: Spec,
    values: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    opset: int = DEFAULT_OPSET,
    weights: bool = True,
    opaque_inputs: bool = False,
) -> Exported:
    """The spec as an ONNX model.

    Args:
        spec: a loaded spec.
        values: symbol values (``--set``); they fix those symbols.
        seed: seed of the random weights (drawn as ``cnncalc verify`` draws them).
        opset: the ONNX opset to write.
        weights: False writes the initializers' shapes without their data: a graph to read
            back (``import``), not to run. For tests of large networks.
        opaque_inputs: write each opaque layer's output as an input of the graph (named after
            the layer) instead of refusing it.

    Raises:
        UsageError: for an unknown symbol or an opset out of range.
        ExportError: for a layer that cannot be written as ONNX (an opaque layer among them),
            naming it.
        ShapeError, SpecError: as ``analyze``.
    """
    onnx = require()
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise UsageError(f"--opset {opset}: cnncalc writes opsets {MIN_OPSET} to {newest}")
    given = {k: str(v) for k, v in (values or {}).items()}
    for name in given:
        if name not in spec.symbols:
            from ..errors import unknown_message

            known = unknown_message("symbol", name, spec.symbols)
            raise UsageError(f"{known} (declared in {spec.filename})")
    dynamic = list(
        dict.fromkeys(
            e.text
            for e in spec.input
            if e.names == {e.text} and spec.symbols[e.text].integer and e.text not in given
        )
    )
    while True:
        fixed: dict[str, str] = {}
        for name, sym in spec.symbols.items():
            if name in dynamic:
                continue
            if name in given:
                fixed[name] = given[name]
            elif sym.default is not None:
                fixed[name] = str(sym.default)
            elif sym.derived is not None:
                continue  # follows the symbols it is computed from
            else:
                raise UsageError(f"export needs a value for the symbol {name}: give it with --set {name}=...")
        analysis = analyze(spec, fixed, symbolic=bool(dynamic))
        try:
            # Shapes first, weights once the symbols that stay dynamic are known.
            writer = _Writer(analysis, opset, seed, draw=False, opaque_inputs=opaque_inputs)
            model, count = writer.model(onnx)
        except _NeedsValue as exc:
            stuck = [s for s in dynamic if s in exc.symbols]
            lacking = [s for s in stuck if spec.symbols[s].default is None]
            if lacking:
                raise UsageError(
                    f"the ONNX graph needs a value for {', '.join(lacking)} (a weight shape or an "
                    f"operator attribute depends on it): give it with --set"
                ) from None
            if not stuck:
                raise
            dynamic = [s for s in dynamic if s not in stuck]
            continue
        if weights:
            model, count = _Writer(analysis, opset, seed, draw=True, opaque_inputs=opaque_inputs).model(onnx)
        _record_symbols(model, spec, analysis)
        return Exported(
            model=model,
            analysis=analysis,
            dynamic=tuple(dynamic),
            fixed={k: analysis.symbols[k] for k in fixed},
            initializers=count,
            opset=opset,
        )


def _record_symbols(model, spec: Spec, analysis: Analysis) -> None:
    """The symbols' values, defaults and descriptions in the model's metadata
    (``cnncalc.symbols``), so that an import gives the dynamic ones their defaults back."""
    recorded = {}
    for name, value in analysis.symbols.items():
        sym = spec.symbols.get(name)
        entry: dict[str, Any] = {"value": None if value is None else str(value)}
        if sym is not None and sym.default is not None:
            entry["default"] = int(sym.default) if int(sym.default) == sym.default else str(sym.default)
        if sym is not None and sym.doc:
            entry["doc"] = sym.doc
        recorded[name] = entry
    for prop in model.metadata_props:
        if prop.key == "cnncalc.symbols":
            prop.value = json.dumps(recorded)


def save(exported: Exported, path: str) -> None:
    """Write the model to ``path``.

    Raises:
        UsageError: when the file cannot be written.
    """
    onnx = require()
    try:
        onnx.save(exported.model, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def summary(exported: Exported) -> str:
    """One line on what was written: layers, nodes, parameters, dynamic and fixed symbols."""
    a = exported.analysis
    nodes = len(exported.model.graph.node)
    params = a.totals.params
    shown = f"{params:,}" if dims.is_concrete(params) else dims.fmt(params)
    parts = [
        f"{len(a.layers)} layers as {nodes} nodes (opset {exported.opset})",
        f"{shown} parameters in {exported.initializers} initializers",
    ]
    if exported.dynamic:
        parts.append("dynamic: " + ", ".join(exported.dynamic))
    if exported.fixed:
        parts.append("fixed: " + ", ".join(f"{k}={v}" for k, v in exported.fixed.items()))
    return "; ".join(parts)


def onnx_dim(value: dims.Dim) -> int | str:
    """An ONNX dimension: an int, or the formula as a ``dim_param`` string."""
    return int(value) if dims.is_concrete(value) else dims.fmt(value)


class _Writer:
    def __init__(self, analysis: Analysis, opset: int, seed: int, draw: bool, opaque_inputs: bool = False):
        self.analysis = analysis
        self.opaque_inputs = opaque_inputs
        self.opset = opset
        self.seed = seed
        self.draw = draw
        self.nodes: list = []
        self.constants: list = []
        self.weights: dict[str, tuple] = {}  # initializer name -> (param, shape, transposed)

    def model(self, onnx):
        a = self.analysis
        names = {INPUT: INPUT}
        fed = [r for r in a.layers if r.kind == "opaque"]
        if fed and not self.opaque_inputs:
            listed = ", ".join(f"{r.name!r}{_op_text(r)}" for r in fed[:5])
            listed += ", ..." if len(fed) > 5 else ""
            raise ExportError(
                f"layer {listed}: an opaque layer cannot be written as ONNX: cnncalc knows its output "
                f"shape, not what it computes (the model it was imported from has the operator; "
                f"replace the layer with layer kinds to export the spec)"
                if len(fed) == 1
                else f"layers {listed}: {len(fed)} opaque layers cannot be written as ONNX: cnncalc "
                f"knows their output shapes, not what they compute (the model they were imported "
                f"from has the operators; replace them with layer kinds to export the spec)"
            )
        for r in a.layers:
            if r.kind == "opaque":
                names[r.name] = r.name  # a graph input (opaque_inputs)
                continue
            g = Lowering(self, r, tuple(names[i] for i in r.inputs))
            try:
                r.layer.to_onnx(g, *r.input_shapes, out=r.output_shape)
            except NotImplementedError:
                raise ExportError(
                    f"layer {r.name!r}: the layer kind {r.kind!r} has no ONNX lowering "
                    f"(a kind writes its nodes in its to_onnx method)"
                ) from None
            if not g.written:
                raise ExportError(f"layer {r.name!r} ({r.kind}): its lowering wrote no output")
            names[r.name] = r.name
        helper = onnx.helper
        f32 = onnx.TensorProto.FLOAT

        def info(name: str, shape) -> Any:
            return helper.make_tensor_value_info(name, f32, [onnx_dim(d) for d in shape])

        last = a.layers[-1]
        graph = helper.make_graph(
            self.nodes,
            a.name,
            [info(INPUT, a.input_shape), *(info(r.name, r.output_shape) for r in fed)],
            [info(last.name, last.output_shape)],
            initializer=self.constants,
            value_info=[info(r.name, r.output_shape) for r in a.layers[:-1] if r.kind != "opaque"],
        )
        self._initializers(graph, onnx)
        opsets = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(
            graph,
            opset_imports=opsets,
            producer_name="cnncalc",
            ir_version=helper.find_min_ir_version_for(opsets),
        )
        model.doc_string = f"{a.name}, written by cnncalc from {a.filename}"
        symbols = {k: (None if v is None else str(v)) for k, v in a.symbols.items()}
        helper.set_model_props(model, {"cnncalc.spec": a.filename, "cnncalc.symbols": json.dumps(symbols)})
        if self.draw and model.ByteSize() < 2**26:
            onnx.checker.check_model(model)  # a failure is a bug of a lowering
        return model, len(self.weights)

    def weight(self, r: LayerResult, key: str, transpose: bool) -> str:
        owner = r.shares or r.name
        name = f"{owner}.{key}"
        if name not in self.weights:
            param = dict(r.weights)[key]
            shape = tuple(_int(d) for d in param.shape)
            self.weights[name] = (param, shape, transpose)
        return name

    def _initializers(self, graph, onnx) -> None:
        """The weights, drawn in the order the layers use them (as ``verify`` draws them),
        written straight into the graph (a VGG's half gigabyte is copied once)."""
        np = _np()
        rng = np.random.default_rng(self.seed)
        for name, (param, shape, transpose) in self.weights.items():
            t = graph.initializer.add()
            t.name = name
            t.data_type = onnx.TensorProto.FLOAT
            t.dims.extend(shape[::-1] if transpose else shape)
            if self.draw:
                from ..analysis.verify import _draw

                array = _draw(rng, param._replace(shape=shape), np)
                t.raw_data = (array.T.copy() if transpose else array).tobytes()  # float32, little-endian

    def constant(self, name: str, values, dtype: str) -> str:
        from onnx import numpy_helper

        np = _np()
        if dtype not in ("int64", "float"):
            raise ValueError(f"a constant is int64 or float, not {dtype!r}")
        array = np.array(values, dtype=np.int64 if dtype == "int64" else np.float32)
        self.constants.append(numpy_helper.from_array(array, name))
        return name


def _op_text(r: LayerResult) -> str:
    op = getattr(r.layer, "op", None)
    return f" (opaque, operator {op})" if op else " (opaque)"


def _np():
    import numpy as np

    return np


def _int(value: dims.Dim) -> int:
    if dims.is_concrete(value):
        return int(value)
    raise _NeedsValue({str(s) for s in dims.free_symbols(value)})


class Lowering:
    """What a layer's ``to_onnx`` writes through: its input tensor names, its output name,
    its weights as initializers, nodes, and constants.

    ``g.node(op, inputs, attrs)`` adds an intermediate node and returns its output's name;
    ``g.final(op, inputs, attrs)`` adds the node whose output is the layer's. Attribute values
    are plain ints: ``g.int``/``g.ints`` turn bound values into them, and a value that depends
    on a dynamic symbol fixes that symbol (the export starts again without it dynamic).
    """

    def __init__(self, writer: _Writer, result: LayerResult, inputs: tuple[str, ...]):
        self._writer = writer
        self._result = result
        self.inputs = inputs
        self.output = result.name
        self.opset = writer.opset
        self.written = False
        self._count = 0

    def int(self, value: dims.Dim) -> int:
        return _int(value)

    def ints(self, values) -> list[int]:
        return [_int(v) for v in values]

    def weight(self, key: str, *, transpose: bool = False) -> str:
        """The initializer of the layer's tensor ``key`` (``weight``, ``bias``, ...), drawn at
        the first use; ``transpose`` stores a matrix transposed (MatMul's layout)."""
        return self._writer.weight(self._result, key, transpose)

    def const(self, values, dtype: str = "int64") -> str:
        """A constant 1-D tensor (shapes, sizes, pads) as an initializer."""
        return self._writer.constant(self._fresh("const"), values, dtype)

    def scalar(self, value: float) -> str:
        """A constant float scalar (Clip's bounds, Dropout's ratio)."""
        return self._writer.constant(self._fresh("const"), value, "float")

    def node(self, op: str, inputs, attrs: dict) -> str:
        """An intermediate node; returns the name of its output."""
        name = self._fresh(op)
        self._add(op, inputs, [name], name, attrs)
        return name

    def final(self, op: str, inputs, attrs: dict, *, index: int = 0, outputs: int = 1) -> None:
        """The node computing the layer's output (its output ``index`` of ``outputs``)."""
        names = [self.output if i == index else f"{self.output}/unused{i}" for i in range(outputs)]
        self._add(op, inputs, names, self.output, attrs)
        self.written = True

    def chain(self, op: str, inputs) -> None:
        """A binary operator folded over two or more inputs (Add, Mul)."""
        acc = inputs[0]
        for i, x in enumerate(inputs[1:], 2):
            if i == len(inputs):
                self.final(op, [acc, x], {})
            else:
                acc = self.node(op, [acc, x], {})

    def refuse(self, message: str):
        """Stop the export: this layer cannot be written as ONNX, for the reason given."""
        raise ExportError(f"layer {self._result.name!r} ({self._result.kind}): {message}")

    def _fresh(self, what: str) -> str:
        self._count += 1
        return f"{self.output}/{what}{self._count}"

    def _add(self, op: str, inputs, outputs, name: str, attrs: dict) -> None:
        from onnx import helper

        self._writer.nodes.append(helper.make_node(op, list(inputs), outputs, name=name, **attrs))
