"""The audit page: one self-contained HTML file a reviewer opens offline.

It holds the network's graph (a view per depth: blocks folded, then every layer; a block node
opens the deeper view), the per-layer table (sortable), the breakdown by kind, activation memory
over the layers, the receptive field, the symbols with their values, and the totals. Styles,
scripts and pictures are inline: the page loads nothing, from the network or from disk.
"""

from __future__ import annotations

from fractions import Fraction
from html import escape
from typing import Any

from ..analysis.breakdown import breakdown
from ..analysis.lifetimes import lifetimes
from ..analysis.memory import element_size, memory
from ..analysis.receptive import receptive_fields
from ..analysis.training import training
from ..core import dims
from ..core.engine import Analysis
from ..errors import UsageError
from . import graph as g


def _n(v: Any) -> str:
    """An exact number with separators; ``?`` when unknown."""
    if v is None:
        return "?"
    if isinstance(v, Fraction):
        return f"{v.numerator}/{v.denominator}" if v.denominator != 1 else f"{v.numerator:,}"
    return f"{v:,}" if isinstance(v, int) else dims.fmt(v)


def _bytes(v: Any) -> str:
    if not isinstance(v, int):
        return _n(v)
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if v >= scale:
            return f"{v:,} B ({v / scale:.2f} {unit})"
    return f"{v:,} B"


def _sort(v: Any) -> str:
    """The value a column sorts by (numbers numerically; unknown last)."""
    if isinstance(v, (int, Fraction)):
        return str(float(v))
    return ""


def _field_text(ax) -> str:
    if ax.whole:
        return "all"
    if ax.size_range is not None:
        return f"{_n(ax.size_range[0])}-{_n(ax.size_range[1])}"
    return _n(ax.size)


def render(a: Analysis, dtype: str = "float32", engine: str = "auto", spec=None) -> str:
    """The whole page for ``a`` (every symbol bound), at ``dtype``, the graph laid out by
    ``engine``; ``spec`` (the loaded spec) adds the symbols' declarations.

    Raises:
        UsageError: when a symbol is open (a page shows numbers), or no layout is installed.
    """
    if not a.concrete:
        names = ", ".join(a.open_symbols)
        raise UsageError(f"the report shows numbers: give {names} a value (--set {a.open_symbols[0]}=...)")
    views = []
    for depth in g.depths(a):
        view = g.graph_view(a, depth)
        views.append((depth, view, g.layout(view, engine)))
    parts = [
        _head(a),
        _summary(a, dtype),
        _graphs(views),
        _layers(a, dtype),
        _breakdown(a),
        _memory_chart(a, dtype),
        _fields(a),
        _symbols(a, spec),
        f"<footer>cnncalc · MACs: multiply-accumulates of conv, linear and matmul layers, bias excluded; "
        f"FLOPs: 2 per MAC plus bias additions, normalisation, activations, pooling and merges; "
        f"bytes at {escape(dtype)} · graph laid out by {escape(views[0][2].engine)}</footer>",
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


_SECTIONS = {
    "graph": "graph",
    "layers": "layers",
    "kinds": "by kind",
    "memory": "memory",
    "rf": "receptive field",
    "symbols": "symbols",
}


def _table(head: str, rows: list[str], cls: str = "sortable") -> str:
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _head(a: Analysis) -> str:
    title = escape(f"{a.name}: cnncalc audit")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(a.name)}</h1><p class=file>{escape(a.filename)}</p>"
        + "<nav>"
        + " · ".join(f'<a href="#{k}">{v}</a>' for k, v in _SECTIONS.items())
        + "</nav>"
    )


def _summary(a: Analysis, dtype: str) -> str:
    t = a.totals
    m = memory(a, dtype)
    life = lifetimes(a, dtype)
    step = training(a, dtype)
    rows = [
        ("Input", dims.fmt_shape(a.input_shape)),
        ("Output", dims.fmt_shape(a.output_shape)),
        ("Layers", _n(len(a.layers))),
        ("Params", _n(t.params)),
        ("Trainable params", _n(t.trainable_params)),
        ("Frozen params", _n(t.frozen_params)),
        ("Buffers (not params)", _n(t.buffers)),
        ("MACs", _n(t.macs)),
        ("FLOPs", _n(t.flops)),
        ("Activations (elements)", _n(t.activations)),
        (f"Params size ({dtype})", _bytes(m.params_bytes)),
        ("Activations size", _bytes(m.activation_bytes)),
        ("Peak activations (inference)", _bytes(life.peak_bytes) + f" at {life.peak_layer or '?'}"),
        ("Training step (adam)", f"{_n(step.step_flops)} FLOPs, {_bytes(step.total_bytes)}"),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    notes = ""
    if not t.complete:
        notes += (
            f"<p class=warn>Cost unknown for {escape(', '.join(t.unknown_cost))}: totals leave them out.</p>"
        )
    if a.constraints:
        items = "".join(
            f"<li><code>{escape(c.condition)}</code> ({escape(c.layer)}: {escape(c.reason)})</li>"
            for c in a.constraints
        )
        notes += f"<p>Valid when:</p><ul>{items}</ul>"
    return f'<section id="totals"><h2>Totals</h2><table class="totals">{body}</table>{notes}</section>'


def _graphs(views) -> str:
    buttons = []
    panes = []
    for k, (depth, view, lay) in enumerate(views):
        label = "every layer" if depth is None else f"blocks at level {depth}"
        ident = f"v{k}"
        active = " active" if k == 0 else ""
        buttons.append(f'<button class="depth{active}" data-view="{ident}">{escape(label)}</button>')
        svg = g.to_svg(view, lay, ident)
        panes.append(f'<div class="view{active}" id="{ident}" data-depth="{depth or ""}">{svg}</div>')
    legend = "".join(
        f'<span class=key><span class=swatch style="background:{g.fill(share, 100)}"></span>{label}</span> '
        for share, label in ((0, "no MACs"), (4, "few"), (30, "some"), (100, "the most"))
    )
    return (
        '<section id="graph"><h2>Graph</h2>'
        f"<p>A node per layer, an edge per tensor (hover for its shape); colour: the node's MACs "
        f"against the costliest node's. {legend}· A dashed node is a block folded into one: "
        f"click it to open it.</p>"
        f'<div class="controls">{"".join(buttons)} <label>zoom <input type="range" id="zoom" '
        f'min="20" max="150" value="100"></label></div>'
        f'<div class="graph">{"".join(panes)}</div></section>'
    )


def _layers(a: Analysis, dtype: str) -> str:
    b = element_size(dtype)
    life = lifetimes(a, dtype)
    fields = {f.name: f for f in receptive_fields(a)}
    total = a.totals.macs if isinstance(a.totals.macs, int) and a.totals.macs else None
    heads = [
        ("#", "n"),
        ("name", "s"),
        ("kind", "s"),
        ("output shape", "s"),
        ("params", "n"),
        ("MACs", "n"),
        ("MACs %", "n"),
        ("FLOPs", "n"),
        (f"output bytes ({dtype})", "n"),
        ("live bytes", "n"),
        ("RF (h x w)", "n"),
        ("trainable", "s"),
    ]
    head = "".join(f'<th data-type="{t}">{escape(h)}</th>' for h, t in heads)
    rows = []
    for i, r in enumerate(a.layers):
        share = Fraction(r.macs, total) * 100 if total and isinstance(r.macs, int) else None
        out_bytes = dims.mul(dims.prod(r.output_shape), b)
        f = fields.get(r.name)
        rf = f"{_field_text(f.axes[0])} x {_field_text(f.axes[1])}" if f else ""
        rf_sort = f.axes[0].size if f and not f.axes[0].whole else (10**18 if f else None)
        cells = [
            (i + 1, str(i + 1)),
            (None, r.name),
            (None, r.kind),
            (None, dims.fmt_shape(r.output_shape)),
            (r.params, _n(r.params)),
            (r.macs, _n(r.macs)),
            (share, f"{float(share):.2f}" if share is not None else ""),
            (r.flops, _n(r.flops)),
            (out_bytes, _n(out_bytes)),
            (life.live_bytes[i], _n(life.live_bytes[i])),
            (rf_sort, rf),
            (None, "frozen" if not r.trainable else ""),
        ]
        tds = "".join(f'<td data-v="{_sort(v)}">{escape(text)}</td>' for v, text in cells)
        rows.append(f'<tr data-name="{escape(r.name)}">{tds}</tr>')
    return (
        '<section id="layers"><h2>Layers</h2><p>Click a column to sort by it; again to reverse. '
        "Live bytes: the activations alive while the layer runs (inference, each tensor freed "
        "after its last use).</p>"
        f"{_table(head, rows, 'sortable layers')}</section>"
    )


def _breakdown(a: Analysis) -> str:
    t = a.totals
    rows = []
    for s in breakdown(a):
        macs_share = f"{s.macs * 100 / t.macs:.2f}" if isinstance(s.macs, int) and t.macs else ""
        params_share = f"{s.params * 100 / t.params:.2f}" if isinstance(s.params, int) and t.params else ""
        cells = [
            (None, s.category),
            (s.layers, str(s.layers)),
            (s.params, _n(s.params)),
            (Fraction(params_share) if params_share else None, params_share),
            (s.macs, _n(s.macs)),
            (Fraction(macs_share) if macs_share else None, macs_share),
            (s.flops, _n(s.flops)),
        ]
        rows.append("<tr>" + "".join(f'<td data-v="{_sort(v)}">{escape(x)}</td>' for v, x in cells) + "</tr>")
    heads = [("kind", "s"), ("layers", "n"), ("params", "n"), ("params %", "n"), ("MACs", "n")]
    heads += [("MACs %", "n"), ("FLOPs", "n")]
    head = "".join(f'<th data-type="{ty}">{h}</th>' for h, ty in heads)
    return (
        '<section id="kinds"><h2>By kind</h2><p>Convolutions by kernel size and grouping.</p>'
        f"{_table(head, rows)}</section>"
    )


def _chart(values: list, labels: list[str], title: str, unit: str, marks: dict[int, str]) -> str:
    """A line over the layers (an inline SVG), each point with its layer in a tooltip."""
    nums = [float(v) if isinstance(v, (int, Fraction)) else None for v in values]
    top = max((v for v in nums if v is not None), default=0) or 1
    w, h, left, bottom = 900, 220, 70, 24
    step = (w - left - 10) / max(len(nums) - 1, 1)
    pts = [(left + k * step, 10 + (h - bottom - 10) * (1 - (v or 0) / top)) for k, v in enumerate(nums)]
    # A value that is not a number (a field that is the whole input) breaks the line.
    path = " ".join(
        f"{'M' if k == 0 or nums[k - 1] is None else 'L'}{x:.1f},{y:.1f}"
        for k, (x, y) in enumerate(pts)
        if nums[k] is not None
    )
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5">'
        f"<title>{escape(labels[k])}: {_n(values[k])} {unit}</title></circle>"
        for k, (x, y) in enumerate(pts)
        if nums[k] is not None
    )
    notes = "".join(
        f'<text x="{min(pts[k][0] + 6, w - 10):.1f}" y="{max(pts[k][1] + 4, 22):.1f}" '
        f'text-anchor="{"start" if pts[k][0] < w / 2 else "end"}" class="mark">{escape(text)}</text>'
        for k, text in marks.items()
    )
    axis = (
        f'<text x="{left - 6}" y="14" text-anchor="end">{escape(_short(top))}</text>'
        f'<text x="{left - 6}" y="{h - bottom}" text-anchor="end">0</text>'
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - 10}" y2="{h - bottom}" stroke="#999"/>'
        f'<line x1="{left}" y1="10" x2="{left}" y2="{h - bottom}" stroke="#999"/>'
        f'<text x="{(w + left) / 2}" y="{h - 6}" text-anchor="middle">layers, in order</text>'
    )
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}" font-size="11" font-family="sans-serif"><title>{escape(title)}</title>{axis}'
        f'<path d="{path}" fill="none" stroke="#c0392b" stroke-width="1.5"/>'
        f'<g fill="#c0392b">{dots}</g>{notes}</svg>'
    )


def _short(v: float) -> str:
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if v >= scale:
            return f"{v / scale:.1f} {unit}"
    return f"{v:,.0f}"


def _memory_chart(a: Analysis, dtype: str) -> str:
    life = lifetimes(a, dtype)
    names = [r.name for r in a.layers]
    marks = {}
    if life.peak_layer in names:
        marks[names.index(life.peak_layer)] = f"peak {_short(float(life.peak_bytes))} at {life.peak_layer}"
    chart = _chart(list(life.live_bytes), names, "activation memory over the layers", "bytes", marks)
    return (
        f'<section id="memory"><h2>Activation memory</h2><p>Bytes alive while each layer runs, at '
        f"{escape(dtype)}, in an inference pass (each tensor freed after its last use; parameters "
        f"not counted). Peak: {escape(_bytes(life.peak_bytes))} at {escape(str(life.peak_layer))}.</p>"
        f"{chart}</section>"
    )


def _fields(a: Analysis) -> str:
    fields = receptive_fields(a)
    sizes = []
    last = None
    for f in fields:
        ax = f.axes[0]
        sizes.append(None if ax.whole else ax.size if ax.size_range is None else ax.size_range[1])
        if not any(x.whole for x in f.axes):
            last = f
    names = [f.name for f in fields]
    text = ""
    if last is not None:
        h, w = last.axes
        text = (
            f"The last feature map ({escape(last.name)}) sees {_field_text(h)} x {_field_text(w)} input "
            f"pixels, {_n(h.jump)} x {_n(w.jump)} apart (effective stride), from "
            f"{_n(h.padding)} x {_n(w.padding)} before the input (effective padding)."
        )
    chart = _chart(sizes, names, "receptive field height over the layers", "pixels", {})
    return (
        '<section id="rf"><h2>Receptive field</h2><p>Input pixels one output position sees along '
        f"the height, layer by layer (after global pooling: the whole input). {text}</p>{chart}</section>"
    )


def _symbols(a: Analysis, spec) -> str:
    rows = []
    for name, value in a.symbols.items():
        decl = spec.symbols.get(name) if spec is not None else None
        default = _n(decl.default) if decl and decl.default is not None else ""
        span = f"[{_n(decl.lower)}, {_n(decl.max) if decl and decl.max is not None else '∞'}]" if decl else ""
        doc = decl.doc if decl else ""
        rows.append(
            f"<tr><td><code>{escape(name)}</code></td><td>{escape(_n(value))}</td><td>{escape(default)}</td>"
            f"<td>{escape(span)}</td><td>{escape(doc)}</td></tr>"
        )
    return (
        '<section id="symbols"><h2>Symbols</h2>'
        + _table("<th>symbol</th><th>value</th><th>default</th><th>range</th><th>about</th>", rows, "symbols")
        + "</section>"
    )


_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1400px;
padding:0 16px 40px;color:#222}
h1{margin:18px 0 0}h2{border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:28px}
.file{color:#777;margin:0}nav{margin:8px 0}a{color:#2257a6}code{font-size:13px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}
td:nth-child(-n+4),th{text-align:left}.totals th{background:#f6f6f6}
table.sortable th{cursor:pointer;background:#f6f6f6;position:sticky;top:0}
table.sortable th.asc::after{content:" \\25B2"}table.sortable th.desc::after{content:" \\25BC"}
tr.hit td{background:#fff3c4}.symbols td{text-align:left}.warn{color:#a35200}
.graph{border:1px solid #ddd;overflow:auto;max-height:80vh;background:#fcfcfc}
.view{display:none}.view.active{display:block}
.controls{margin:6px 0}button.depth{margin-right:4px;padding:3px 9px;border:1px solid #aaa;
background:#fff;border-radius:4px;cursor:pointer}button.depth.active{background:#2257a6;color:#fff}
.node.block{cursor:pointer}.node.hit rect{stroke:#2257a6;stroke-width:3}
.key{white-space:nowrap}
.swatch{display:inline-block;width:14px;height:10px;border:1px solid #999;margin:0 3px 0 6px}
.chart .mark{font-weight:bold;fill:#333}footer{margin-top:30px;color:#777;font-size:12px}
"""

_SCRIPT = """
(function () {
  function zoom() {
    var z = document.getElementById("zoom").value / 100;
    document.querySelectorAll(".view svg").forEach(function (s) {
      if (!s.dataset.w) { s.dataset.w = s.getAttribute("width"); s.dataset.h = s.getAttribute("height"); }
      s.setAttribute("width", s.dataset.w * z);
      s.setAttribute("height", s.dataset.h * z);
    });
  }
  function show(id) {
    document.querySelectorAll(".view").forEach(function (v) { v.classList.toggle("active", v.id === id); });
    document.querySelectorAll("button.depth").forEach(function (b) {
      b.classList.toggle("active", b.dataset.view === id);
    });
    zoom();
  }
  document.getElementById("zoom").addEventListener("input", zoom);
  document.querySelectorAll("button.depth").forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.view); });
  });
  // A folded block opens the next level, its layers highlighted.
  document.querySelectorAll(".node.block").forEach(function (n) {
    n.addEventListener("click", function () {
      var views = [].slice.call(document.querySelectorAll(".view"));
      var next = views[views.indexOf(n.closest(".view")) + 1];
      if (!next) return;
      show(next.id);
      var path = n.dataset.id, first = null;
      next.querySelectorAll(".node").forEach(function (m) {
        var inside = m.dataset.id === path || m.dataset.id.indexOf(path + ".") === 0;
        m.classList.toggle("hit", inside);
        if (inside && !first) first = m;
      });
      if (first) first.scrollIntoView({block: "center", inline: "center"});
    });
  });
  // A layer's row in the table.
  document.querySelectorAll(".view .node").forEach(function (n) {
    n.addEventListener("dblclick", function () {
      var row = document.querySelector('tr[data-name="' + CSS.escape(n.dataset.id) + '"]');
      if (!row) return;
      row.classList.add("hit");
      row.scrollIntoView({block: "center"});
      setTimeout(function () { row.classList.remove("hit"); }, 2500);
    });
  });
  // Sortable tables: numbers by data-v (unknown first), text by its content.
  document.querySelectorAll("table.sortable").forEach(function (t) {
    t.querySelectorAll("th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("asc");
        t.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var numeric = th.dataset.type === "n", body = t.tBodies[0];
        var rows = [].slice.call(body.rows);
        function key(cell) { return cell.dataset.v === "" ? -Infinity : +cell.dataset.v; }
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          var d = numeric ? key(x) - key(y) : x.textContent.localeCompare(y.textContent);
          return asc ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""
