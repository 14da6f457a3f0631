"""Results as HTML tables, for notebooks (``_repr_html_`` of the Python API's results).

Exact numbers with thousands separators, formulas in the spec's expression syntax, and every
text from the spec escaped. The tables carry no style of their own beyond alignment: the
notebook's theme draws them.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..core import dims
from .text import json_value


def _cell(v: Any) -> str:
    """A count as a cell: ``1,234``, a formula, or ``?`` for an unknown cost."""
    if v is None:
        return "?"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return escape(str(json_value(v)) if dims.is_concrete(v) else dims.fmt(v))


def _shape(shape) -> str:
    return escape("[" + ", ".join(dims.fmt(d) for d in shape) + "]")


def _table(
    headers: list[str], rows: list[list[str]], numeric: set[int], foot: list[str] | None = None
) -> str:
    def row(cells: list[str], tag: str) -> str:
        return (
            "<tr>"
            + "".join(
                f'<{tag} style="text-align: {"right" if i in numeric else "left"}">{c}</{tag}>'
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )

    parts = ["<table>", "<thead>", row([escape(h) for h in headers], "th"), "</thead>", "<tbody>"]
    parts += [row(r, "td") for r in rows]
    parts.append("</tbody>")
    if foot:
        parts += ["<tfoot>", row(foot, "th"), "</tfoot>"]
    parts.append("</table>")
    return "".join(parts)


def analysis_html(a, convention: str | None = None) -> str:
    """The layers of an analysis, their totals, the symbols in force and the warnings."""
    symbols = ", ".join(f"{escape(k)} = {'open' if v is None else _cell(v)}" for k, v in a.symbols.items())
    head = f"<p><b>{escape(a.name)}</b>" + (f" ({symbols})" if symbols else "") + "</p>"
    rows = [
        [
            escape(r.name),
            escape(r.kind),
            _shape(r.output_shape),
            _cell(r.params),
            _cell(r.macs),
            _cell(r.flops),
        ]
        for r in a.layers
    ]
    t = a.totals
    foot = [f"{len(a.layers)} layers", "", "", _cell(t.params), _cell(t.macs), _cell(t.flops)]
    macs = "MACs" if convention in (None, "cnncalc") else f"MACs ({escape(convention)})"
    table = _table(["layer", "kind", "output shape", "params", macs, "FLOPs"], rows, {3, 4, 5}, foot)
    notes = _conditions(a.constraints)
    if t.unknown_cost:
        notes += f"<p>Unknown cost, left out of the totals: {escape(', '.join(t.unknown_cost))}</p>"
    if a.warnings:
        notes += "<ul>" + "".join(f"<li>warning: {escape(str(w))}</li>" for w in a.warnings) + "</ul>"
    return head + table + notes


def comparison_html(c) -> str:
    """The designs' totals side by side, with each ratio to the baseline."""
    metrics = ("params", "macs", "flops", "activations")
    rows = []
    for label, d, ratios in zip(c.labels, c.designs, c.ratios, strict=True):
        cells = [escape(label)]
        for m in metrics:
            cells.append(_cell(getattr(d.totals, m)))
            cells.append(_cell(ratios.get(m)))
        rows.append(cells)
    headers = ["design"]
    for m in ("params", "MACs", "FLOPs", "activations"):
        headers += [m, f"{m} ratio"]
    notes = "".join(
        f"<p>{escape(label)}:</p>{_conditions(d.constraints)}"
        for label, d in zip(c.labels, c.designs, strict=True)
        if d.constraints
    )
    return _table(headers, rows, set(range(1, len(headers)))) + notes


def _conditions(constraints) -> str:
    """Where the formulas hold (the sizes at which every layer has an output), or nothing."""
    if not constraints:
        return ""
    items = "".join(
        f"<li>{escape(k.condition)} ({escape(k.layer)}: {escape(k.reason)})</li>" for k in constraints
    )
    return f"<p>Valid when:</p><ul>{items}</ul>"


def verification_html(v) -> str:
    """Each layer's prediction against what its kernel did."""
    rows = []
    for c in v.layers:
        status = "not verified" if c.not_verified else ("ok" if c.ok else "MISMATCH")
        observed = "" if c.observed_shape is None else _shape(c.observed_shape)
        rows.append(
            [
                escape(c.name),
                escape(c.kind),
                status,
                _shape(c.predicted_shape),
                observed,
                _cell(c.predicted_macs),
                _cell(c.counted_macs),
                escape(c.error or c.not_verified or ""),
            ]
        )
    verdict = "every prediction held" if v.ok else "predictions and execution disagree"
    headers = ["layer", "kind", "status", "predicted shape", "observed shape", "MACs", "counted", "note"]
    return f"<p><b>{escape(v.name)}</b>: {verdict}</p>" + _table(headers, rows, {5, 6})
