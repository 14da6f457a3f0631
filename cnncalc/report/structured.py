"""Reports for scripts and documents: JSON (the documented contract), CSV and Markdown."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..analysis import breakdown as bd
from ..analysis import memory as mem
from ..analysis.groups import groups
from ..analysis.receptive import AXES, receptive_fields
from ..core.engine import Analysis, LayerResult
from .table import total_text, totals_items, unknown_note
from .text import (
    CONVENTION,
    UNKNOWN_TEXT,
    Partial,
    json_value,
    number,
    partial,
    percent,
    shape_text,
    share_json,
    symbols_line,
)


def training_json(a: Analysis, dtype: str, optimizer: str) -> dict[str, Any]:
    """One training step: memory by part and FLOPs (rules in cnncalc.analysis.training)."""
    from ..analysis.training import training

    t = training(a, dtype, optimizer)
    return {
        "optimizer": optimizer,
        "weights_bytes": json_value(t.weights_bytes),
        "gradient_bytes": json_value(t.gradient_bytes),
        "optimizer_bytes": json_value(t.optimizer_bytes),
        "saved_activation_bytes": json_value(t.saved_activation_bytes),
        "backward_workspace_bytes": json_value(t.backward_workspace_bytes),
        "total_bytes": json_value(t.total_bytes),
        "forward_flops": json_value(t.forward_flops),
        "backward_flops": json_value(t.backward_flops),
        "step_flops": json_value(t.step_flops),
    }


def to_dict(a: Analysis, dtype: str = "float32", optimizer: str = "adam") -> dict[str, Any]:
    """The documented JSON contract of ``cnncalc analyze --format json``."""
    from ..analysis.lifetimes import lifetimes

    m = mem.memory(a, dtype)
    life = lifetimes(a, dtype)
    return {
        "name": a.name,
        "spec": a.filename,
        "symbols": {k: (None if v is None else json_value(v)) for k, v in a.symbols.items()},
        "dtype": dtype,
        "input_shape": [json_value(d) for d in a.input_shape],
        "output_shape": [json_value(d) for d in a.output_shape],
        "layers": [
            {**_layer_dict(r, dtype, f.axes), "live_activation_bytes": json_value(live)}
            for r, f, live in zip(a.layers, receptive_fields(a), life.live_bytes, strict=True)
        ],
        "groups": [
            {
                "path": g.path,
                "depth": g.depth,
                "layers": g.layers,
                "first": a.layers[g.first].name,
                "last": a.layers[g.last].name,
                "output_shape": [json_value(d) for d in g.output_shape],
                "params": json_value(g.params),
                "trainable_params": json_value(g.trainable_params),
                "buffers": json_value(g.buffers),
                "macs": json_value(g.macs),
                "flops": json_value(g.flops),
                "activations": json_value(g.activations),
                **({"unknown_cost": list(g.unknown_cost)} if g.unknown_cost else {}),
            }
            for g in groups(a)
        ],
        "totals": {
            "params": json_value(a.totals.params),
            "trainable_params": json_value(a.totals.trainable_params),
            "frozen_params": json_value(a.totals.frozen_params),
            "buffers": json_value(a.totals.buffers),
            "macs": json_value(a.totals.macs),
            "flops": json_value(a.totals.flops),
            "activations": json_value(a.totals.activations),
            "memory": {
                "dtype": m.dtype,
                "bytes_per_element": m.bytes_per_element,
                "input_bytes": json_value(m.input_bytes),
                "params_bytes": json_value(m.params_bytes),
                "activation_bytes": json_value(m.activation_bytes),
                "total_bytes": json_value(m.total_bytes),
            },
            "peak_activation_bytes": json_value(life.peak_bytes),
            "peak_activation_layer": life.peak_layer,
            "training": training_json(a, dtype, optimizer),
            **({"unknown_cost": list(a.totals.unknown_cost)} if a.totals.unknown_cost else {}),
        },
        "constraints": [
            {"condition": c.condition, "layer": c.layer, "reason": c.reason} for c in a.constraints
        ],
        "breakdown": breakdown_json(a),
        "convention": CONVENTION,
        "warnings": [{"where": w.location, "message": w.message} for w in a.warnings],
    }


def _trainable(r: LayerResult) -> bool | None:
    """Whether the layer's parameters train; None for a layer without parameters or whose
    parameters are unknown."""
    if r.shares is None and (r.params is None or r.params == 0):
        return None
    return r.trainable


def field_json(axes) -> dict[str, Any]:
    """A receptive field per axis: size, jump (effective stride), padding (effective), and
    ``whole`` after a global layer; ``size_range`` and ``aligned`` when merged paths disagree."""
    out = {}
    for name, ax in zip(AXES, axes, strict=True):
        d = {
            "size": json_value(ax.size),
            "jump": json_value(ax.jump),
            "padding": json_value(ax.padding),
            "whole": ax.whole,
        }
        if ax.disagree:
            d["size_range"] = [json_value(v) for v in ax.size_range] if ax.size_range else None
            d["aligned"] = ax.aligned
        out[name] = d
    return out


def _layer_dict(r: LayerResult, dtype: str, field=None) -> dict[str, Any]:
    return {
        "name": r.name,
        "kind": r.kind,
        "inputs": list(r.inputs),
        "output_shape": [json_value(d) for d in r.output_shape],
        "params": json_value(r.params),
        "macs": json_value(r.macs),
        "flops": json_value(r.flops),
        "trainable": _trainable(r),
        "output_elements": json_value(mem.output_elements(r)),
        "activation_bytes": json_value(mem.output_bytes(r, dtype)),
        "params_bytes": json_value(mem.params_bytes(r, dtype)),
        **({"receptive_field": field_json(field)} if field is not None else {}),
        **({"shares": r.shares} if r.shares else {}),
    }


def breakdown_json(a: Analysis) -> list[dict[str, Any]]:
    """The breakdown for JSON: shares as fractions of 1, formulas when symbolic, null when the
    whole is 0."""
    rows = bd.breakdown(a)
    tw = bd.total_weights(rows)
    return [
        {
            "category": r.category,
            "layers": r.layers,
            "macs": json_value(r.macs),
            "macs_share": share_json(bd.share(r.macs, a.totals.macs)),
            "flops": json_value(r.flops),
            "params": json_value(r.params),
            "params_share": share_json(bd.share(r.params, a.totals.params)),
            "weights": json_value(r.weights),
            "weights_share": share_json(bd.share(r.weights, tw)),
            "biases": json_value(r.biases),
            "norm": json_value(r.norm),
        }
        for r in rows
    ]


# ---------------------------------------------------------------------------------------------
# CSV and Markdown

CSV_COLUMNS = (
    "name",
    "kind",
    "output_shape",
    "params",
    "macs",
    "flops",
    "trainable",
    "output_elements",
    "activation_bytes",
    "params_bytes",
)


def to_csv(a: Analysis, dtype: str = "float32") -> str:
    """One row per layer, execution order; values as in JSON (integers or expressions).

    ``trainable`` is empty for a layer without parameters; bytes are at ``dtype``.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in a.layers:
        t = _trainable(r)
        w.writerow(
            [
                r.name,
                r.kind,
                shape_text(r.output_shape),
                json_value(r.params),
                json_value(r.macs),
                json_value(r.flops),
                "" if t is None else str(t).lower(),
                json_value(mem.output_elements(r)),
                json_value(mem.output_bytes(r, dtype)),
                json_value(mem.params_bytes(r, dtype)),
            ]
        )
    return buf.getvalue()


def md(v: Any) -> str:
    """A number as is, an expression as code (pipes escaped for the table); ``?`` when unknown,
    ``1,234 + ?`` for a sum leaving unknown parts out."""
    if v is None:
        return UNKNOWN_TEXT
    if isinstance(v, Partial):
        return f"{md(v.known)} + {UNKNOWN_TEXT}"
    if isinstance(v, int):
        return number(v)
    from ..core import dims

    return "`" + dims.fmt(v).replace("|", "\\|") + "`"


def md_shape(shape) -> str:
    text = shape_text(shape)
    return text if all(isinstance(d, int) for d in shape) else f"`{text}`"


def _md_percent(f: Any) -> str:
    text = percent(f)
    return text if f is None or not hasattr(f, "free_symbols") else f"`{text}`"


def _md_share(part: Any, whole: Any) -> str:
    return UNKNOWN_TEXT if part is None else _md_percent(bd.share(part, whole))


def to_markdown(a: Analysis, depth: int | None = None, dtype: str = "float32") -> str:
    """A GitHub-flavoured Markdown table with totals, the breakdown and constraints."""
    from ..analysis.groups import rows_at_depth

    lines = [f"## {a.name}", "", symbols_line(a), ""]
    if depth != 0:
        lines.append("| # | layer | kind | output shape | params | MACs | FLOPs |")
        lines.append("|---:|---|---|---|---:|---:|---:|")
        for row in rows_at_depth(a, depth if depth is not None else 10**9):
            if row.layer is not None:
                r = row.layer
                name = r.name if r.trainable else f"{r.name} (frozen)"
                lines.append(
                    f"| {row.index + 1} | `{name}` | {r.kind} | {md_shape(r.output_shape)} | "
                    f"{md(r.params)} | {md(r.macs)} | {md(r.flops)} |"
                )
            else:
                g = row.group
                some = bool(g.unknown_cost)
                lines.append(
                    f"| {g.first + 1}-{g.last + 1} | `{g.path}` | {g.layers} layers | "
                    f"{md_shape(g.output_shape)} | {md(partial(g.params, some))} | "
                    f"{md(partial(g.macs, some))} | {md(partial(g.flops, some))} |"
                )
        t = a.totals
        some = not t.complete
        lines.append(
            f"| | **total** | | {md_shape(a.output_shape)} | **{md(partial(t.params, some))}** | "
            f"**{md(partial(t.macs, some))}** | **{md(partial(t.flops, some))}** |"
        )
        lines.append("")
    note = unknown_note(a)
    if note:
        lines += [note, ""]
    for label, value, what in totals_items(a, dtype):
        shown = total_text(value, what)
        plain = value.known if isinstance(value, Partial) else value
        lines.append(f"- {label}: " + (shown if isinstance(plain, int) else f"`{shown}`"))
    lines += [
        "",
        "By category:",
        "",
        "| category | layers | MACs | % MACs | params | % params | weights | % weights | biases | norm |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = bd.breakdown(a)
    tw = bd.total_weights(rows)
    for r in rows:
        lines.append(
            f"| {r.category} | {r.layers} | {md(r.macs)} | {_md_share(r.macs, a.totals.macs)} | "
            f"{md(r.params)} | {_md_share(r.params, a.totals.params)} | {md(r.weights)} | "
            f"{_md_share(r.weights, tw)} | {md(r.biases)} | {md(r.norm)} |"
        )
    if a.constraints:
        lines += ["", "Valid when:", ""]
        lines += [f"- `{c.condition}` ({c.layer}: {c.reason})" for c in a.constraints]
    lines += ["", f"_{CONVENTION}_", ""]
    return "\n".join(lines)
