"""Reports of ``cnncalc compare``: designs against a baseline, as a table, JSON, CSV, Markdown."""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Any

from ..analysis.compare import COSTS, METRICS, Comparison
from ..core import dims
from ..lang.zoo import spec_argument
from . import layout
from .layout import Column
from .structured import md
from .text import is_exact_number, json_value, number, partial, short, symbols_line

LABELS = {
    "params": "params",
    "trainable_params": "trainable params",
    "macs": "MACs",
    "flops": "FLOPs",
    "activations": "activations",
}


def ratio_text(v: Any) -> str:
    """``0.1133 (8.83x smaller)`` for numbers, the formula otherwise, ``n/a`` without one."""
    if v is None:
        return "n/a"
    if isinstance(v, (int, Fraction)):
        f = _as_float(v)
        if f is None:
            return f"about 10^{_log10(v)}"
        if f == 1:
            return "1 (same)"
        if f == 0:
            return "0"
        rel = f"{1 / f:.2f}x smaller" if f < 1 else f"{f:.2f}x larger"
        return f"{f:.4g} ({rel})"
    return dims.fmt(v)


def ratio_json(v: Any) -> Any:
    """A ratio for JSON: a number, a formula, or null."""
    if v is None:
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, Fraction):
        f = _as_float(v)
        return f if f is not None else dims.fmt(v)
    return dims.fmt(v)


def _as_float(v: int | Fraction) -> float | None:
    """``v`` as a float, or None when a float cannot hold it (beyond 1e308, or below 1e-308)."""
    try:
        f = float(v)
    except OverflowError:
        return None
    return None if (f == 0) != (v == 0) else f


def _log10(v: int | Fraction) -> int:
    import math

    v = Fraction(v)
    return round(math.log10(v.numerator) - math.log10(v.denominator))


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """JSON of ``cnncalc compare``: each design's totals and its ratios to the baseline."""
    designs = []
    for label, a, ratios in zip(c.labels, c.designs, c.ratios, strict=True):
        designs.append(
            {
                "label": label,
                "name": a.name,
                "spec": spec_argument(a.filename),
                "symbols": {k: (None if v is None else json_value(v)) for k, v in a.symbols.items()},
                "totals": {m: json_value(getattr(a.totals, m)) for m in METRICS},
                "ratio": {m: ratio_json(v) for m, v in ratios.items()},
                "constraints": [
                    {"condition": k.condition, "layer": k.layer, "reason": k.reason} for k in a.constraints
                ],
                **({"unknown_cost": list(a.totals.unknown_cost)} if a.totals.unknown_cost else {}),
            }
        )
    return {
        "baseline": c.labels[0],
        "designs": designs,
        "by_category": [
            {
                "category": row.category,
                "macs": [json_value(v) for v in row.macs],
                "params": [json_value(v) for v in row.params],
            }
            for row in c.categories
        ],
    }


def comparison_csv(c: Comparison) -> str:
    """One row per design: its totals and its ratios to the baseline (empty cells for the costs
    of a design with a layer of unknown cost)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["label", "spec", *METRICS, *(f"{m}_ratio" for m in METRICS)])
    for label, a, ratios in zip(c.labels, c.designs, c.ratios, strict=True):
        w.writerow(
            [
                label,
                spec_argument(a.filename),
                *(
                    "" if m in COSTS and not a.totals.complete else json_value(getattr(a.totals, m))
                    for m in METRICS
                ),
                *("" if ratios[m] is None else ratio_json(ratios[m]) for m in METRICS),
            ]
        )
    return buf.getvalue()


def _total(a, m: str) -> Any:
    """A design's total, marked as partial when it leaves out layers of unknown cost."""
    return partial(getattr(a.totals, m), m in COSTS and not a.totals.complete)


def _unknown_lines(c: Comparison) -> list[str]:
    return [
        f"{label}: cost unknown for {', '.join(a.totals.unknown_cost)} (opaque); its params, MACs and "
        f"FLOPs count the other layers (+ ?) and have no ratio"
        for label, a in zip(c.labels, c.designs, strict=True)
        if a.totals.unknown_cost
    ]


def condition_lines(c: Comparison) -> list[str]:
    """For each design with open symbols, the conditions its formulas hold under (its layers'
    outputs exist): ``lenet5: valid when H >= 16 (avgpool2); W >= 16 (avgpool2)``."""
    return [
        f"{label}: valid when " + "; ".join(f"{k.condition} ({k.layer})" for k in a.constraints)
        for label, a in zip(c.labels, c.designs, strict=True)
        if a.constraints
    ]


def comparison_markdown(c: Comparison) -> str:
    """Markdown of ``cnncalc compare``: totals and ratios, then the categories."""
    n = len(c.designs)
    lines = [f"## Compared with {c.labels[0]}", ""]
    lines += [f"- {label}: {symbols_line(a)}" for label, a in zip(c.labels, c.designs, strict=True)]
    lines += [f"- {line}" for line in condition_lines(c)]
    lines += ["", "| | " + " | ".join(c.labels) + " |", "|---|" + "---:|" * n]
    for m in METRICS:
        lines.append(f"| {LABELS[m]} | " + " | ".join(md(_total(a, m)) for a in c.designs) + " |")
    for m in METRICS:
        cells = []
        for ratios in c.ratios:
            r = ratios[m]
            cells.append(ratio_text(r) if r is None or isinstance(r, (int, Fraction)) else md(r))
        lines.append(f"| {LABELS[m]} / {c.labels[0]} | " + " | ".join(cells) + " |")
    unknown = _unknown_lines(c)
    if unknown:
        lines += ["", *(f"- {line}" for line in unknown)]
    lines += [
        "",
        "| category | "
        + " | ".join(f"MACs {x}" for x in c.labels)
        + " | "
        + " | ".join(f"params {x}" for x in c.labels)
        + " |",
        "|---|" + "---:|" * (2 * n),
    ]
    for row in c.categories:
        lines.append(
            f"| {row.category} | "
            + " | ".join(md(v) for v in row.macs)
            + " | "
            + " | ".join(md(v) for v in row.params)
            + " |"
        )
    return "\n".join(lines) + "\n"


def comparison_render(c: Comparison, width: int = 120, units: str = "auto"):
    """The comparison as rich tables fitted to ``width``: totals with ratios, then categories."""
    from rich.console import Group
    from rich.text import Text

    parts = []
    designs = list(zip(c.labels, c.designs, c.ratios, strict=True))

    def value_column(label, values, ratios, priority):
        concrete = all(is_exact_number(v) for v in values)
        cells = [number(v) for v in values]
        unit_cells = [short(v) for v in values]
        if ratios is not None:
            cells = [f"{x}\n{ratio_text(r)}" for x, r in zip(cells, ratios, strict=True)]
            unit_cells = [f"{x}\n{ratio_text(r)}" for x, r in zip(unit_cells, ratios, strict=True)]
        return Column(
            label, cells, units=unit_cells, priority=priority, kind="number" if concrete else "formula"
        )

    # the metrics' names whole, wrapped at their spaces when the room runs short
    columns = [
        Column("", [LABELS[m] for m in METRICS], kind="formula", justify="left", style="bold", wrap_above=10)
    ]
    for k, (label, a, ratios) in enumerate(designs):
        values = [_total(a, m) for m in METRICS]
        columns.append(
            value_column(label, values, None if k == 0 else [ratios[m] for m in METRICS], min(k, 9))
        )
    fitted = layout.fit(columns, width, units)
    title = f"compared with {c.labels[0]}" + (" (second line: ratio to it)" if len(designs) > 1 else "")
    table = layout.FittedTable(fitted, [None] * len(METRICS), title=title, title_justify="left")
    parts.append(table)
    if fitted.dropped:
        parts.append(
            Text(
                f"Not shown at {width} columns: {', '.join(fitted.dropped)} "
                "(see them with --wide or --format csv)",
                style="dim",
            )
        )
    parts.append(Text("\n".join(f"{label}: {symbols_line(a)}" for label, a, _ in designs), style="dim"))
    conditions = condition_lines(c)
    if conditions:
        parts.append(Text("\n".join(conditions), style="dim"))
    unknown = _unknown_lines(c)
    if unknown:
        parts.append(Text("\n".join(unknown), style="yellow"))
    cat_columns = [
        Column(
            "category",
            [r.category for r in c.categories],
            kind="formula",
            justify="left",
            style="cyan",
            wrap_above=16,
        )
    ]
    for k, label in enumerate(c.labels):
        cat_columns.append(value_column(f"MACs {label}", [r.macs[k] for r in c.categories], None, min(k, 9)))
    for k, label in enumerate(c.labels):
        cat_columns.append(value_column(f"params {label}", [r.params[k] for r in c.categories], None, 10 + k))
    fitted = layout.fit(cat_columns, width, units)
    table = layout.FittedTable(fitted, [None] * len(c.categories), title="by category", title_justify="left")
    parts += [Text(""), table]
    if fitted.dropped:
        parts.append(
            Text(
                f"Not shown at {width} columns: {', '.join(fitted.dropped)} "
                "(see them with --wide or --format csv)",
                style="dim",
            )
        )
    return Group(*parts)
