"""Writing an imported model as spec text.

Everything copied from the file (the producer, the graph's and the outputs' names, an opaque
layer's operator) is written as a double-quoted YAML string or inside a comment with every
character that could end it escaped, so that no text in a model can become YAML structure
(a new key, a new layer) in the spec it is read into.
"""

from __future__ import annotations

import textwrap
import unicodedata
from typing import Any


def quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as exactly ``text``."""
    out = ['"']
    for ch in str(text):
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif _plain_char(ch):
            out.append(ch)
        else:
            out.append(_escape(ch))
    out.append('"')
    return "".join(out)


def _plain_char(ch: str) -> bool:
    if not ch.isprintable() or ch in "\u2028\u2029\ufeff":
        return False
    return unicodedata.category(ch) not in ("Cf", "Co", "Cs", "Cn")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def comment_text(text: str) -> str:
    """Text safe inside a ``#`` comment: one line, with no character a terminal or an editor
    would act on (line breaks, controls, bidirectional overrides are written as escapes)."""
    return "".join(ch if _plain_char(ch) else _escape(ch) for ch in str(text))


def scalar(text: str) -> str:
    """A name as a plain scalar when it reads back as itself, else quoted."""
    import yaml

    text = str(text)
    if text and all(c.isalnum() or c in "_.-" for c in text) and text.isascii():
        try:
            if yaml.safe_load(f"k: {text}") == {"k": text}:
                return text
        except yaml.YAMLError:
            pass
    return quoted(text)


def value(v: Any) -> str:
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
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, Expression):
        return scalar(v.text)
    return scalar(str(v))


class Expression:
    """An argument computed by shape arithmetic, written in the spec's expression syntax."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def comment_lines(text: str, indent: str = "", width: int = 94) -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(comment_text(text), width)]


def layer_line(kind: str, args: dict[str, Any], indent: str = "  ") -> str:
    if not args:
        return f"{indent}- {kind}"
    body = ", ".join(f"{k}: {value(v)}" for k, v in args.items())
    return f"{indent}- {kind}: {{{body}}}"


def spec_text(reader, body: list[str] | None = None) -> str:
    """The spec of what ``reader`` read: a header, the symbols, the input and the layers, one
    line each, or ``body`` (the ``blocks:`` and ``layers:`` sections folding writes)."""
    from pathlib import Path

    m = reader.model
    producer = " ".join(x for x in (m.producer_name, m.producer_version) if x)
    source = Path(reader.source).name
    if reader.producer == "from_torch":
        lines = comment_lines(
            f"Read by cnncalc from the PyTorch module {source.removesuffix('.onnx')} (torch.export, "
            f"then torch's ONNX exporter at opset {reader.opset})."
        )
    else:
        lines = comment_lines(
            f"Imported by cnncalc from {source}: ONNX opset {reader.opset}, IR version {m.ir_version}"
            + (f", produced by {producer[:200]}." if producer else ".")
        )
    for note in reader.notes:
        lines += comment_lines(note)
    lines.append("# Weights are not kept: the layers, their arguments and the graph are.")
    outputs = [o.name for o in reader.graph.graph.output]
    layers = reader.layers
    last = reader.tensor_layer.get(layers[-1].output) if layers else None
    if len(outputs) > 1 or (outputs and layers and outputs[0] != layers[-1].output):
        shown = ", ".join(outputs[:10]) + (", ..." if len(outputs) > 10 else "")
        lines += comment_lines(
            f"The model's outputs are {shown}; the spec's output is its last layer, {last}."
        )
    name = reader.graph.graph.name
    if name in ("", "main_graph", "torch_jit", "torch-jit-export"):  # the exporters' defaults
        name = Path(reader.source).stem
    lines.append(f"name: {scalar(comment_text(name)[:200])}")
    if reader.symbols:
        lines.append("symbols:")
        for name, default in reader.symbols.items():
            fields = []
            if default:
                fields.append(f"default: {default}")
            doc = reader.symbol_docs.get(name)
            if doc:
                fields.append(f"doc: {quoted(doc[:200])}")
            lines.append(f"  {name}: {{{', '.join(fields)}}}" if fields else f"  {name}: null")
    lines.append("input: [" + ", ".join(str(d) for d in reader.input_dims) + "]")
    if body is None:
        body = ["layers:", *flat_lines(reader, layers, reader.input_name)]
    return "\n".join(lines + body) + "\n"


def flat_lines(reader, layers, previous: str, indent: str = "  ") -> list[str]:
    lines = []
    for entry in layers:
        args = dict(entry.args)
        refs = [reader.tensor_layer[x] for x in entry.inputs]
        if len(entry.inputs) > 1:
            args["inputs"] = refs
        elif entry.inputs[0] != previous:
            args["from"] = refs[0]
        args["name"] = entry.name
        if entry.comment:
            lines += comment_lines(entry.comment, indent)
        lines.append(layer_line(entry.kind, args, indent))
        previous = entry.output
    return lines
