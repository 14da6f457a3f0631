"""Reading an ONNX model into a spec.

:func:`load` (:mod:`.reading`) reads and checks the file. :func:`import_model` orders the graph
(:mod:`.graph`), evaluates its shape arithmetic (:mod:`.values`), maps every other node to layer
kinds through :data:`cnncalc.onnx.ops.OPS`, lists the nodes it cannot map, names the layers
(:mod:`.naming`), writes the spec (:mod:`.writing`) and analyses it: every initializer must have
the shape the layer kind's parameters have, or the import fails naming the node.

With ``opaque=True`` (``--opaque``) a node without a layer kind becomes an ``opaque`` layer
instead of failing the import: its output shape comes from onnx's shape inference on the model
at its sizes, and its cost is unknown (the spec says so in a comment above it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..core import dims
from ..core.engine import Analysis, analyze
from ..errors import CnncalcError
from ..lang.model import INPUT, Spec
from ..lang.spec import parse_spec
from . import (
    ops_axes,  # noqa: F401  (adds Transpose, LayerNormalization and Mul to OPS)
    ops_tensors,  # noqa: F401  (after ops_axes: attention's and tokens' operators)
)
from .context import Context, Downstream, Layer
from .fixed import fold
from .folding import folded_lines
from .graph import ONNX_DOMAINS, Unmappable, label
from .ops import OPS
from .reading import MAX_MODEL_BYTES, ModelError, load, safe_repr
from .symbols import read_input
from .writing import spec_text

__all__ = ["MAX_MODEL_BYTES", "Imported", "ModelError", "import_model", "load", "summary"]


@dataclass(frozen=True)
class Imported:
    text: str  # the spec, as written
    spec: Spec
    analysis: Analysis
    nodes: int  # ONNX nodes read


def import_model(
    model,
    *,
    source: str = "model.onnx",
    symbols: str | None = None,
    opaque: bool = False,
    fold: bool = True,
    notes: list[str] | None = None,
    producer: str = "",
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
        fold: write repeated runs of layers as blocks with ``repeat`` (the totals are the same).
        notes: lines for the spec's header (what the caller knows about the model).
        producer: how the model was read, for the header (default: from an ONNX file).

    Raises:
        ModelError: for a malformed graph, operators without a layer kind (all listed; with
            ``opaque``, one whose output shape onnx cannot infer), or an initializer whose
            shape is not the layer kind's, naming the node.
    """
    from .reading import check_model

    check_model(model, source)
    reader = Reader(model, source, opaque=opaque)
    reader.notes = list(notes or [])
    reader.producer = producer
    read_input(reader, symbols)
    reader.read()
    if not reader.layers:
        raise ModelError(
            f"{source}: no layer reads the model's input: its output is computed from stored "
            f"tensors alone, which no spec stands for"
        )
    flat = spec_text(reader)
    body = folded_lines(reader) if fold else None
    text = spec_text(reader, body) if body is not None else flat
    filename = source.rsplit(".", 1)[0] + ".yaml"
    try:
        spec = parse_spec(flat, filename)
        analysis = analyze(spec)
    except CnncalcError as exc:
        raise ModelError(f"{source}: the model's layers do not fit together: {exc}") from None
    # Every weight is checked with the symbols open: a size the weights fix (a flatten into
    # a linear layer) is refused, not just checked at the defaults.
    reader.check_params(analyze(spec, symbolic=True) if spec.symbols else analysis)
    if text is not flat:
        try:
            folded = parse_spec(text, filename)
            same = _same_totals(analyze(folded), analysis)
        except CnncalcError:
            same = False
        if same:
            spec, analysis = folded, analyze(folded)
        else:
            text = flat
    return Imported(text=text, spec=spec, analysis=analysis, nodes=len(model.graph.node))


def _same_totals(a: Analysis, b: Analysis) -> bool:
    return (
        sorted(r.name for r in a.layers) == sorted(r.name for r in b.layers)
        and all(
            dims.add(x, dims.mul(-1, y)) == 0
            for x, y in [(a.totals.flops, b.totals.flops), (a.totals.buffers, b.totals.buffers)]
            if x is not None and y is not None
        )
        and dims.add(a.totals.params, dims.mul(-1, b.totals.params)) == 0
        and dims.add(a.totals.macs, dims.mul(-1, b.totals.macs)) == 0
        and a.output_shape == b.output_shape
    )


class Reader(Context):
    """Reads the graph's nodes, in order, into layers."""

    def read(self) -> None:
        unmapped: dict[str, list[tuple[int, str, str]]] = {}
        for i, node in enumerate(self.nodes):
            if i in self.skipped or (node.op_type == "Constant" and node.domain in ONNX_DOMAINS):
                continue
            if node.op_type == "Identity" and node.output[0] in self.graph.alias:
                continue
            op_type = node.op_type if node.domain in ONNX_DOMAINS else f"{node.domain}.{node.op_type}"
            if self.arithmetic(node, op_type):
                failed = [y for y in node.output if y in self.value_errors]
                if failed and fold(self, node, op_type):
                    for y in failed:  # a tensor built from stored ones (a mask), not sizes
                        del self.value_errors[y]
                continue
            if fold(self, node, op_type):
                continue
            written, skipped = len(self.layers), set(self.skipped)
            try:
                handler = OPS.get(op_type)
                if handler is None:
                    raise Unmappable("no layer kind stands for it")
                self.current = node
                handler(self, node, self.attrs(node))
            except (
                Unmappable,
                KeyError,
                IndexError,
                ValueError,
                TypeError,
                ZeroDivisionError,
                OverflowError,
            ) as exc:
                if not self.opaque:
                    unmapped.setdefault(op_type, []).append((i, label(node)[1:-1], _reason(exc)))
                    self.unmapped_tensors.update(node.output)
                    continue
                self.forget(written, skipped)
                self.opaque_layer(node, op_type, _reason(exc))
            except Downstream:
                self.unmapped_tensors.update(node.output)
        # A node a later pattern took in (the index arithmetic of an as_strided, sorted before
        # the tensor it indexes) is part of that layer.
        earliest = min(
            ((i, op, n, r) for op, found in unmapped.items() for i, n, r in found if i not in self.skipped),
            default=None,
        )
        unmapped = {
            op: kept
            for op, found in unmapped.items()
            if (kept := [(n, r) for i, n, r in found if i not in self.skipped])
        }
        if unmapped:
            raise ModelError(self._unmapped_message(unmapped, earliest))
        self.name_layers()

    def _unmapped_message(self, unmapped: dict, earliest=None) -> str:
        lines = []
        for op_type, found in sorted(unmapped.items(), key=lambda kv: -len(kv[1])):
            names = ", ".join(n for n, _ in found[:5]) + (", ..." if len(found) > 5 else "")
            reasons = sorted({r for _, r in found})
            shown = ", ".join(reasons[:3]) + (", ..." if len(reasons) > 3 else "")
            lines.append(f"{safe_repr(op_type)[1:-1]} x{len(found)} ({names}): {shown}")
        total = sum(len(v) for v in unmapped.values())
        return (
            f"{self.source}: " + f"{total} node{'s' * (total > 1)} of {len(unmapped)} operator "
            f"type{'s' * (len(unmapped) > 1)} {'have' if total > 1 else 'has'} no layer kind: "
            + "; ".join(lines)
            + (
                f". The first in the graph's order: {earliest[2]} ({safe_repr(earliest[1])[1:-1]}): "
                f"{earliest[3]}"
                if earliest is not None and total > 1
                else ""
            )
            + (
                ". Import with --opaque to keep them as opaque layers (output shapes from onnx's "
                "shape inference, cost unknown)."
                if total > 1
                else ". Import with --opaque to keep it as an opaque layer (output shape from "
                "onnx's shape inference, cost unknown)."
            )
        )

    def check_params(self, analysis: Analysis) -> None:
        results = {r.name: r for r in analysis.layers}
        for entry in self.layers:
            r = results[entry.name]
            where = f"{self.source}: node {safe_repr(entry.node)} ({entry.op_type})"
            for axis, size in entry.expect.items():
                if dims.add(r.output_shape[axis], dims.mul(-1, size)) != 0:
                    raise ModelError(
                        f"{where}: the model makes axis {axis} {dims.fmt(size)}, but {entry.kind} gives "
                        f"{dims.fmt(r.output_shape[axis])}"
                    )
            theirs = dict(r.weights)
            for key, (init, shape) in entry.params.items():
                want = theirs.get(key)
                if want is None:
                    raise ModelError(
                        f"{where}: {safe_repr(init)} would be the {key} of a {entry.kind} layer, which "
                        f"has none here"
                    )
                same = len(want.shape) == len(shape) and all(
                    dims.add(a, -b) == 0 for a, b in zip(want.shape, shape, strict=True)
                )
                if not same:
                    shown = dims.fmt_shape(want.shape)
                    got = "[" + ", ".join(str(d) for d in shape) + "]"
                    note = ""
                    fixed = set()
                    if any(not dims.is_concrete(d) for d in want.shape):
                        fixed = {str(x) for d in want.shape for x in dims.free_symbols(d)}
                        note = (
                            f" (it depends on {', '.join(sorted(fixed))}: the weights fix "
                            f"{'it' if len(fixed) == 1 else 'them'}; export the model at fixed sizes)"
                        )
                    raise FixedByWeights(
                        f"{where}: {safe_repr(init)} has shape {got}, but {entry.kind} {key} on its "
                        f"input takes {shown}{note}",
                        fixed,
                        entry.name,
                    )


class FixedByWeights(ModelError):
    """A weight's shape disagrees with its layer's: ``symbols`` are the sizes that would have to
    take one value for it to fit (empty when none could)."""

    def __init__(self, message: str, symbols: set[str], layer: str):
        super().__init__(message)
        self.symbols = symbols
        self.layer = layer


def _reason(exc: Exception) -> str:
    """Why a node has no layer kind, from what its handler raised."""
    if isinstance(exc, Unmappable):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"malformed: no attribute {exc}"
    return f"malformed: {type(exc).__name__}: {str(exc)[:200]}"


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


__all__ += ["INPUT", "Layer"]
