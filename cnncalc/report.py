"""Reports of an :class:`~cnncalc.engine.Analysis`: rich renderables, JSON, CSV and Markdown.

Nothing here prints: functions return renderables or text, and the command line writes them.
Numbers are exact integers; symbolic values are expressions in the spec's own syntax (so they
can be pasted back into a spec, and sympy can read them).
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Any

from . import breakdown, dims
from .engine import Analysis, LayerResult

CONVENTION = (
    "MACs: multiply-accumulates of conv and linear layers, bias excluded. "
    "FLOPs: 2 per MAC plus bias additions, normalisation, activations, pooling and merges, "
    "by each layer's stated formula. Params: learnable parameters; running statistics are "
    "buffers. Totals are for the whole input, batch axis included."
)

_UNITS = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


def number(v: Any) -> str:
    """An exact integer with thousands separators, or an expression."""
    if isinstance(v, int):
        return f"{v:,}"
    return dims.fmt(v)


def human(v: Any) -> str:
    """A short reading of a large integer (``15.47 G``); empty for expressions and small ones."""
    if not isinstance(v, int):
        return ""
    if abs(v) >= 10**15:
        digits = str(abs(v))
        sign = "-" if v < 0 else ""
        return f"{sign}{digits[0]}.{digits[1:3]}e{len(digits) - 1}"
    for scale, unit in _UNITS:
        if abs(v) >= scale:
            return f"{v / scale:.2f} {unit}"
    return ""


def _plain(text: str) -> str:
    """A spec's own text (its name) for a rich title: markup such as ``[bold]`` shown as written."""
    from rich.markup import escape

    return escape(text)


def shape_text(shape) -> str:
    return "[" + ", ".join(dims.fmt(d) for d in shape) + "]"


def json_value(v: Any) -> Any:
    """A JSON integer when concrete, else the expression as a string."""
    if isinstance(v, int):
        return v
    if isinstance(v, Fraction):
        return float(v) if Fraction(float(v)) == v else dims.fmt(v)
    return dims.fmt(v)


# ---------------------------------------------------------------------------------------------
# JSON


def to_dict(a: Analysis) -> dict[str, Any]:
    """The documented JSON contract of ``cnncalc analyze --format json``."""
    return {
        "name": a.name,
        "spec": a.filename,
        "symbols": {k: (None if v is None else json_value(v)) for k, v in a.symbols.items()},
        "input_shape": [json_value(d) for d in a.input_shape],
        "output_shape": [json_value(d) for d in a.output_shape],
        "layers": [_layer_dict(r) for r in a.layers],
        "totals": {
            "params": json_value(a.totals.params),
            "trainable_params": json_value(a.totals.trainable_params),
            "frozen_params": json_value(a.totals.frozen_params),
            "buffers": json_value(a.totals.buffers),
            "macs": json_value(a.totals.macs),
            "flops": json_value(a.totals.flops),
            "activations": json_value(a.totals.activations),
        },
        "constraints": [
            {"condition": c.condition, "layer": c.layer, "reason": c.reason} for c in a.constraints
        ],
        "breakdown": breakdown.as_json(a),
        "convention": CONVENTION,
    }


def _layer_dict(r: LayerResult) -> dict[str, Any]:
    return {
        "name": r.name,
        "kind": r.kind,
        "inputs": list(r.inputs),
        "output_shape": [json_value(d) for d in r.output_shape],
        "params": json_value(r.params),
        "macs": json_value(r.macs),
        "flops": json_value(r.flops),
        "trainable": r.trainable,
        **({"shares": r.shares} if r.shares else {}),
    }


# ---------------------------------------------------------------------------------------------
# CSV and Markdown

CSV_COLUMNS = ("name", "kind", "output_shape", "params", "macs", "flops", "trainable")


def to_csv(a: Analysis) -> str:
    """One row per layer, execution order; values as in JSON (integers or expressions)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in a.layers:
        w.writerow(
            [
                r.name,
                r.kind,
                shape_text(r.output_shape),
                json_value(r.params),
                json_value(r.macs),
                json_value(r.flops),
                str(r.trainable).lower(),
            ]
        )
    return buf.getvalue()


def to_markdown(a: Analysis) -> str:
    """A GitHub-flavoured Markdown table with totals and constraints."""
    lines = [f"## {a.name}", "", _symbols_line(a), ""]
    lines.append("| # | layer | kind | output shape | params | MACs | FLOPs |")
    lines.append("|---:|---|---|---|---:|---:|---:|")
    for i, r in enumerate(a.layers, 1):
        name = r.name if r.trainable else f"{r.name} (frozen)"
        lines.append(
            f"| {i} | `{name}` | {r.kind} | {_md_shape(r.output_shape)} | "
            f"{_md(r.params)} | {_md(r.macs)} | {_md(r.flops)} |"
        )
    t = a.totals
    lines.append(
        f"| | **total** | | {_md_shape(a.output_shape)} | **{_md(t.params)}** | "
        f"**{_md(t.macs)}** | **{_md(t.flops)}** |"
    )
    lines += ["", *_totals_lines(a, markdown=True)]
    lines += [
        "",
        "By category:",
        "",
        "| category | layers | MACs | % MACs | params | % params | weights | % weights | biases | norm |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = breakdown.breakdown(a)
    total_weights = dims.add(*(r.weights for r in rows))
    for r in rows:
        lines.append(
            f"| {r.category} | {r.layers} | {_md(r.macs)} | {breakdown.percent(r.macs, a.totals.macs)} | "
            f"{_md(r.params)} | {breakdown.percent(r.params, a.totals.params)} | {_md(r.weights)} | "
            f"{breakdown.percent(r.weights, total_weights)} | {_md(r.biases)} | {_md(r.norm)} |"
        )
    if a.constraints:
        lines += ["", "Valid when:", ""]
        lines += [f"- `{c.condition}` ({c.layer}: {c.reason})" for c in a.constraints]
    lines += ["", f"_{CONVENTION}_", ""]
    return "\n".join(lines)


def _md(v: Any) -> str:
    """A number as is, an expression as code (pipes escaped for the table)."""
    if isinstance(v, int):
        return number(v)
    return "`" + dims.fmt(v).replace("|", "\\|") + "`"


def _md_shape(shape) -> str:
    text = shape_text(shape)
    return text if all(isinstance(d, int) for d in shape) else f"`{text}`"


def _symbols_line(a: Analysis) -> str:
    parts = [f"{k} = {dims.fmt(v)}" if v is not None else f"{k} open" for k, v in a.symbols.items()]
    return "Symbols: " + (", ".join(parts) if parts else "none") + f"; input {shape_text(a.input_shape)}"


def _totals_lines(a: Analysis, markdown: bool = False) -> list[str]:
    t = a.totals

    def item(label: str, v: Any) -> str:
        h = human(v)
        text = number(v)
        if markdown:
            text = f"`{text}`" if not isinstance(v, int) else text
        return f"{label}: {text}" + (f" ({h})" if h else "")

    out = [
        item("Params", t.params),
        item("Trainable params", t.trainable_params),
        item("Frozen params", t.frozen_params),
        item("MACs", t.macs),
        item("FLOPs", t.flops),
    ]
    if t.buffers != 0:
        out.insert(3, item("Buffers (not params)", t.buffers))
    if markdown:
        out = [f"- {line}" for line in out]
    return out


# ---------------------------------------------------------------------------------------------
# rich


def layer_table(a: Analysis):
    """The per-layer table: name, kind, output shape, params, MACs, FLOPs, with a totals row."""
    from rich.table import Table

    table = Table(
        title=_plain(a.name),
        caption=_symbols_line(a),
        show_footer=True,
        header_style="bold",
        footer_style="bold",
    )
    t = a.totals
    # Exact integers never wrap; formulas may.
    wrap = {"no_wrap": a.concrete, "overflow": "fold"}
    table.add_column("#", justify="right", style="dim", footer="")
    table.add_column("layer", footer="total", overflow="fold")
    table.add_column("kind", style="cyan", no_wrap=True)
    table.add_column("output shape", footer=shape_text(a.output_shape), **wrap)
    table.add_column("params", justify="right", footer=number(t.params), **wrap)
    table.add_column("MACs", justify="right", footer=number(t.macs), **wrap)
    table.add_column("FLOPs", justify="right", footer=number(t.flops), **wrap)
    for i, r in enumerate(a.layers, 1):
        name = r.name
        style = None
        if not r.trainable:
            name += " (frozen)"
            style = "dim"
        params = number(r.params) if not r.shares else f"shared: {r.shares}"
        table.add_row(
            str(i),
            name,
            r.kind,
            shape_text(r.output_shape),
            params,
            number(r.macs),
            number(r.flops),
            style=style,
        )
    return table


def totals_panel(a: Analysis):
    """Totals with readable units, the constraints found, and the counting convention."""
    from rich.panel import Panel
    from rich.text import Text

    text = Text()
    for line in _totals_lines(a):
        label, _, value = line.partition(": ")
        text.append(f"{label}: ", style="bold")
        text.append(value + "\n")
    if a.constraints:
        text.append("Valid when:\n", style="bold")
        for c in a.constraints:
            text.append(f"  {c.condition}", style="yellow")
            text.append(f"  ({c.layer}: {c.reason})\n", style="dim")
    text.append(CONVENTION, style="dim italic")
    return Panel(text, title="totals", title_align="left", expand=False)


def breakdown_table(a: Analysis):
    """MACs and parameters per category, with shares (weights, biases, norm apart)."""
    from rich.table import Table

    rows = breakdown.breakdown(a)
    total_weights = dims.add(*(r.weights for r in rows))
    table = Table(title="by category", header_style="bold", title_justify="left")
    table.add_column("category", style="cyan")
    table.add_column("layers", justify="right")
    for name in ("MACs", "% MACs", "params", "% params", "weights", "% weights", "biases", "norm"):
        table.add_column(name, justify="right", overflow="fold", no_wrap=a.concrete)
    for r in rows:
        table.add_row(
            r.category,
            str(r.layers),
            number(r.macs),
            breakdown.percent(r.macs, a.totals.macs),
            number(r.params),
            breakdown.percent(r.params, a.totals.params),
            number(r.weights),
            breakdown.percent(r.weights, total_weights),
            number(r.biases),
            number(r.norm),
        )
    return table


def render(a: Analysis):
    """The whole report as one renderable."""
    from rich.console import Group

    return Group(layer_table(a), breakdown_table(a), totals_panel(a))


# ---------------------------------------------------------------------------------------------
# Comparisons

_METRIC_LABELS = {
    "params": "params",
    "trainable_params": "trainable params",
    "macs": "MACs",
    "flops": "FLOPs",
    "activations": "activations",
}


def comparison_dict(c) -> dict[str, Any]:
    """JSON of ``cnncalc compare``: each design's totals, the ratios b/a, the categories."""
    from .compare import ratio_json

    def side(a: Analysis) -> dict[str, Any]:
        d = to_dict(a)
        return {"name": d["name"], "spec": d["spec"], "symbols": d["symbols"], "totals": d["totals"]}

    return {
        "a": side(c.a),
        "b": side(c.b),
        "ratio": {m: ratio_json(v) for m, v in c.ratios.items()},
        "by_category": [
            {
                "category": cat,
                "macs_a": json_value(ma),
                "macs_b": json_value(mb),
                "params_a": json_value(pa),
                "params_b": json_value(pb),
            }
            for cat, ma, mb, pa, pb in c.categories
        ],
    }


def comparison_render(c):
    """Rich renderables for ``cnncalc compare``."""
    from rich.console import Group
    from rich.table import Table

    from .compare import ratio_text

    concrete = c.a.concrete and c.b.concrete
    totals = Table(
        title=_plain(f"{c.b.name} (B) relative to {c.a.name} (A)"),
        header_style="bold",
        caption=f"A: {_symbols_line(c.a)}\nB: {_symbols_line(c.b)}",
    )
    totals.add_column("")
    totals.add_column(_plain(f"A: {c.a.name}"), justify="right", overflow="fold", no_wrap=concrete)
    totals.add_column(_plain(f"B: {c.b.name}"), justify="right", overflow="fold", no_wrap=concrete)
    totals.add_column("B / A", justify="right", overflow="fold")
    for m, label in _METRIC_LABELS.items():
        totals.add_row(
            label, number(getattr(c.a.totals, m)), number(getattr(c.b.totals, m)), ratio_text(c.ratios[m])
        )
    cats = Table(title="by category", header_style="bold", title_justify="left")
    cats.add_column("category", style="cyan")
    for name in ("MACs A", "MACs B", "params A", "params B"):
        cats.add_column(name, justify="right", overflow="fold", no_wrap=concrete)
    for cat, ma, mb, pa, pb in c.categories:
        cats.add_row(cat, number(ma), number(mb), number(pa), number(pb))
    return Group(totals, cats)


def comparison_markdown(c) -> str:
    """Markdown of ``cnncalc compare``."""
    from .compare import ratio_text

    lines = [
        f"## {c.b.name} (B) relative to {c.a.name} (A)",
        "",
        f"A: {_symbols_line(c.a)}  ",
        f"B: {_symbols_line(c.b)}",
        "",
        f"| | A: {c.a.name} | B: {c.b.name} | B / A |",
        "|---|---:|---:|---:|",
    ]
    for m, label in _METRIC_LABELS.items():
        r = c.ratios[m]
        rt = ratio_text(r) if r is None or isinstance(r, (int, Fraction)) else _md(r)
        lines.append(f"| {label} | {_md(getattr(c.a.totals, m))} | {_md(getattr(c.b.totals, m))} | {rt} |")
    lines += ["", "| category | MACs A | MACs B | params A | params B |", "|---|---:|---:|---:|---:|"]
    for cat, ma, mb, pa, pb in c.categories:
        lines.append(f"| {cat} | {_md(ma)} | {_md(mb)} | {_md(pa)} | {_md(pb)} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Verification


def verification_dict(v) -> dict[str, Any]:
    """JSON of ``cnncalc verify``."""
    return {
        "name": v.name,
        "ok": v.ok,
        "symbols": {k: json_value(x) for k, x in v.symbols.items()},
        "seed": v.seed,
        "compile_seconds": round(v.compile_seconds, 4),
        "run_seconds": round(v.run_seconds, 4),
        "kernel_seconds": round(v.kernel_seconds, 4),
        "memory_bytes": v.memory_bytes,
        "layers": [
            {
                "name": c.name,
                "kind": c.kind,
                "ok": c.ok,
                "predicted_shape": list(c.predicted_shape),
                "observed_shape": None if c.observed_shape is None else list(c.observed_shape),
                "predicted_macs": c.predicted_macs,
                "counted_macs": c.counted_macs,
                "predicted_params": c.predicted_params,
                "allocated_params": c.allocated_params,
                "seconds": round(c.seconds, 6),
                **({"error": c.error} if c.error else {}),
            }
            for c in v.layers
        ],
    }


def verification_render(v):
    """Rich renderables for ``cnncalc verify``: one row per layer and a verdict."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=_plain(f"{v.name}: predicted vs executed"),
        header_style="bold",
        caption="Symbols: "
        + (", ".join(f"{k} = {dims.fmt(x)}" for k, x in v.symbols.items()) or "none")
        + f"; seed {v.seed}",
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column("layer")
    table.add_column("kind", style="cyan", no_wrap=True)
    table.add_column("output shape", no_wrap=True)
    table.add_column("MACs predicted / counted", justify="right", no_wrap=True)
    table.add_column("params predicted / allocated", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for i, c in enumerate(v.layers, 1):
        shape = shape_text(c.predicted_shape)
        if c.observed_shape != c.predicted_shape:
            shape += " vs " + ("-" if c.observed_shape is None else shape_text(c.observed_shape))
        macs = f"{c.predicted_macs:,}" + (
            ""
            if c.counted_macs == c.predicted_macs
            else f" / {'-' if c.counted_macs is None else f'{c.counted_macs:,}'}"
        )
        params = f"{c.predicted_params:,}" + (
            ""
            if c.allocated_params == c.predicted_params
            else f" / {'-' if c.allocated_params is None else f'{c.allocated_params:,}'}"
        )
        table.add_row(
            str(i),
            c.name,
            c.kind,
            shape,
            macs,
            params,
            Text("ok", style="green") if c.ok else Text("MISMATCH", style="bold red"),
        )
    if v.ok:
        verdict = Text(
            f"All {len(v.layers)} layers agree: every output shape, MAC count and "
            f"parameter count predicted is what the kernels computed, counted and "
            f"accepted.",
            style="green",
        )
    else:
        lines = [f"{len(v.failures)} of {len(v.layers)} layers disagree:"]
        for c in v.failures:
            lines.append(f"  {c.name} ({c.kind}): " + (c.error or _mismatch(c)))
        verdict = Text("\n".join(lines), style="bold red")
    timing = Text(
        f"compile {v.compile_seconds:.2f} s, run {v.run_seconds:.2f} s "
        f"({v.kernel_seconds:.2f} s in kernels), "
        f"memory about {v.memory_bytes / 2**20:,.1f} MiB",
        style="dim",
    )
    return Group(table, verdict, timing)


def _mismatch(c) -> str:
    parts = []
    if c.observed_shape != c.predicted_shape:
        parts.append(
            f"shape predicted {shape_text(c.predicted_shape)}, kernel gives "
            f"{'-' if c.observed_shape is None else shape_text(c.observed_shape)}"
        )
    if c.counted_macs != c.predicted_macs:
        parts.append(f"MACs predicted {c.predicted_macs:,}, kernel counted {c.counted_macs}")
    if c.allocated_params != c.predicted_params:
        parts.append(f"params predicted {c.predicted_params:,}, allocated {c.allocated_params}")
    return "; ".join(parts)
