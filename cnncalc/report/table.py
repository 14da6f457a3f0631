"""The terminal report of an analysis: the layer table, the breakdown and the totals.

Every table is fitted to the width it is given (:mod:`.layout`): a number is shown whole or in
explicit units, never cut; columns that do not fit are dropped (lowest priority first) and a
line under the table names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import breakdown as bd
from ..analysis import memory as mem
from ..analysis.groups import Row, rows_at_depth
from ..analysis.receptive import receptive_fields
from ..core import dims
from ..core.engine import Analysis
from . import layout
from .layout import DEFAULT_WIDTH, Column
from .text import (
    CONVENTION,
    UNKNOWN,
    UNKNOWN_TEXT,
    Partial,
    exact_bytes,
    human,
    human_bytes,
    is_exact_number,
    number,
    partial,
    percent,
    shape_text,
    short,
    symbols_line,
)

#: Shares with open symbols longer than this are shown as "symbolic" in tables.
_SHARE_WIDTH = 24


#: The layer table's columns in the order they are dropped when the width runs out (first
#: dropped first). ``layer`` and ``output shape`` are always shown.
DROP_ORDER = ("RF", "out elements", "param bytes", "#", "out bytes", "kind", "FLOPs", "params", "MACs")


@dataclass(frozen=True)
class View:
    """How a report is laid out.

    Args:
        width: columns available.
        units: ``auto`` (exact numbers when the layer, shape, MACs and params columns fit
            exactly, else units), ``raw`` or ``human``.
        depth: ``None`` for every layer (indented under its blocks), 0 for totals only, ``d``
            to fold the blocks at level ``d`` into one row each.
        dtype: the data type bytes are counted at.
        wide: every column, exact, whatever the width.
    """

    width: int = DEFAULT_WIDTH
    units: str = "auto"
    depth: int | None = None
    dtype: str = "float32"
    wide: bool = False
    optimizer: str = "adam"

    @property
    def fit_width(self) -> int:
        return 10**6 if self.wide else self.width

    @property
    def fit_units(self) -> str:
        return "raw" if self.wide else self.units


def _priority(header: str) -> int:
    return 0 if header not in DROP_ORDER else len(DROP_ORDER) - DROP_ORDER.index(header)


def _unknown(v):
    """A layer's count for a cell: UNKNOWN for None (an unknown cost)."""
    return UNKNOWN if v is None else v


def _count_column(header: str, values: list, footer, view: View) -> Column:
    concrete = all(is_exact_number(v) for v in [*values, footer])
    return Column(
        header,
        cells=["" if v is None else number(v) for v in values],
        units=lambda: ["" if v is None else short(v) for v in values],
        footer="" if footer is None else number(footer),
        footer_units="" if footer is None else short(footer),
        priority=_priority(header),
        kind="number" if concrete else "formula",
    )


def _bytes_column(header: str, values: list, footer, view: View) -> Column:
    concrete = all(is_exact_number(v) for v in [*values, footer])
    fmt = exact_bytes if view.fit_units == "raw" else human_bytes
    return Column(
        header,
        cells=["" if v is None else fmt(v) for v in values],
        footer="" if footer is None else fmt(footer),
        priority=_priority(header),
        kind="number" if concrete else "formula",
    )


def _row_values(row: Row, dtype: str) -> dict:
    """The values a row shows: a layer's own, or a group's subtotals; None for a heading."""
    if row.header:
        return {}
    b = mem.element_size(dtype)
    if row.layer is not None:
        r = row.layer
        return {
            "#": str(row.index + 1),
            "kind": r.kind,
            "shape": shape_text(r.output_shape),
            "params": _unknown(r.params),
            "macs": _unknown(r.macs),
            "flops": _unknown(r.flops),
            "out_bytes": mem.output_bytes(r, dtype),
            "param_bytes": _unknown(mem.params_bytes(r, dtype)),
            "elements": mem.output_elements(r),
        }
    g = row.group
    some = bool(g.unknown_cost)  # the subtotals leave out layers of unknown cost: "+ ?"
    return {
        "#": f"{g.first + 1}-{g.last + 1}",
        "kind": f"{g.layers} layers",
        "shape": shape_text(g.output_shape),
        "params": partial(g.params, some),
        "macs": partial(g.macs, some),
        "flops": partial(g.flops, some),
        "out_bytes": dims.mul(dims.prod(g.output_shape), b),
        "param_bytes": partial(dims.mul(dims.add(g.params, g.buffers), b), some),
        "elements": dims.prod(g.output_shape),
    }


def _row_name(row: Row, full_depth: bool) -> str:
    if not full_depth:
        return row.name
    indent = "  " * (row.level - 1)
    if row.header:
        return indent + row.name
    local = row.name
    parent = row.name.rsplit(".", 1)[0] if "." in row.name else ""
    if parent:
        local = row.name[len(parent) + 1 :]
    name = indent + local
    if row.layer is not None and not row.layer.trainable:
        name += " (frozen)"
    if row.layer is not None and row.layer.shares:
        name += f" (shares {row.layer.shares})"
    return name


def field_text(axes) -> str:
    """A receptive field in a cell: ``212``, ``7x3`` (height x width), ``11-427`` when merged
    paths see different sizes, ``all`` after a global layer."""

    def one(ax) -> str:
        if ax.whole:
            return "all"
        if ax.size_range is not None:
            low, high = ax.size_range
            return f"{dims.fmt(low)}-{dims.fmt(high)}"
        return dims.fmt(ax.size)

    h, w = (one(ax) for ax in axes)
    return h if h == w else f"{h}x{w}"


def _field_column(a: Analysis, rows: list[Row]) -> Column:
    by_name = {f.name: f.axes for f in receptive_fields(a)}
    cells = []
    for r in rows:
        if r.header:
            cells.append("")
        elif r.layer is not None:
            cells.append(field_text(by_name[r.layer.name]))
        else:
            cells.append(field_text(by_name[a.layers[r.group.last].name]))
    return Column("RF", cells, priority=_priority("RF"), kind="number" if a.concrete else "formula")


def layer_columns(a: Analysis, view: View) -> tuple[list[Column], list[str | None]]:
    """Every column the layer table can show, and a style per row."""
    full_depth = view.depth is None
    rows = rows_at_depth(a, view.depth)
    values = [_row_values(r, view.dtype) for r in rows]
    mm = mem.memory(a, view.dtype)

    def col(key):
        return [v.get(key) for v in values]

    names = [_row_name(r, full_depth) for r in rows]
    if not full_depth:
        for i, r in enumerate(rows):
            if r.layer is not None and not r.layer.trainable:
                names[i] += " (frozen)"
            if r.layer is not None and r.layer.shares:
                names[i] += f" (shares {r.layer.shares})"
    t = a.totals
    some = not t.complete  # the totals leave out layers of unknown cost: "+ ?"
    shapes = [v.get("shape", "") for v in values]
    out_shape = shape_text(a.output_shape)
    shape_kind = "number" if a.concrete else "formula"
    columns = [
        Column("#", [v.get("#", "") for v in values], priority=_priority("#"), style="dim"),
        Column("layer", names, footer="total", kind="name", justify="left"),
        Column(
            "kind",
            [v.get("kind", "") for v in values],
            priority=_priority("kind"),
            justify="left",
            style="cyan",
        ),
        # a shape stays on one line: the formulas beside it wrap first
        Column("output shape", shapes, footer=out_shape, kind=shape_kind, justify="left", one_line=True),
        _count_column("params", col("params"), partial(t.params, some), view),
        _count_column("MACs", col("macs"), partial(t.macs, some), view),
        _count_column("FLOPs", col("flops"), partial(t.flops, some), view),
        _bytes_column("out bytes", col("out_bytes"), mm.activation_bytes, view),
        _bytes_column("param bytes", col("param_bytes"), partial(mm.params_bytes, some), view),
        _count_column("out elements", col("elements"), t.activations, view),
        _field_column(a, rows),
    ]
    styles = []
    for r in rows:
        if r.header:
            styles.append("bold")
        elif r.group is not None:
            styles.append("italic")
        elif r.layer is not None and not r.layer.trainable:
            styles.append("dim")
        else:
            styles.append(None)
    return columns, styles


def _dropped_note(dropped: list[str], view: View) -> str | None:
    if not dropped:
        return None
    return (
        f"Not shown at {view.width} columns: {', '.join(dropped)} "
        f"(see them with --wide, a wider terminal, or --format csv)"
    )


def unknown_note(a: Analysis) -> str | None:
    """The line saying which layers' cost is unknown and that the totals leave them out."""
    names = a.totals.unknown_cost
    if not names:
        return None
    by_name = {r.name: r for r in a.layers}

    def label(name: str) -> str:
        op = getattr(by_name[name].layer, "op", None)
        return f"{name} ({by_name[name].kind}{', ' + op if op else ''})"

    shown = ", ".join(label(n) for n in names[:8])
    if len(names) > 8:
        shown += f", ... ({len(names)} in all)"
    layers = "layer" if len(names) == 1 else "layers"
    return (
        f"Cost unknown ({UNKNOWN_TEXT}) for {len(names)} {layers}: {shown}. "
        f"{'Its' if len(names) == 1 else 'Their'} params, MACs and "
        f"FLOPs are not counted: totals and subtotals are those of the other layers "
        f"(marked + {UNKNOWN_TEXT})."
    )


def layer_table(a: Analysis, view: View):
    """The per-layer table with a totals row; returns (table, width, note about dropped columns
    and unknown costs)."""
    columns, styles = layer_columns(a, view)
    fitted = layout.fit(columns, view.fit_width, view.fit_units)
    table = layout.FittedTable(fitted, styles, title=a.name, caption=symbols_line(a), show_footer=True)
    notes = [n for n in (_dropped_note(fitted.dropped, view), unknown_note(a)) if n]
    return table, fitted.width, "\n".join(notes) or None


def breakdown_columns(a: Analysis, view: View) -> list[Column]:
    rows = bd.breakdown(a)
    tw = bd.total_weights(rows)
    t = a.totals

    def shares(values, whole):
        out = []
        for v in values:
            if v is None:
                out.append(UNKNOWN_TEXT)
                continue
            text = percent(bd.share(v, whole))
            # A share that depends on open symbols is written out when short ("1/N + 1/K**2");
            # longer ones are in the JSON (the note under the table says so).
            out.append(text if len(text) <= _SHARE_WIDTH else "symbolic")
        return out

    def share_col(header, texts, priority):
        return Column(header, texts, priority=priority, kind="formula")

    macs = [r.macs for r in rows]
    params = [r.params for r in rows]
    weights = [r.weights for r in rows]
    cols = [
        # category names are whole, wrapped at their spaces when the room runs short
        Column(
            "category",
            [r.category for r in rows],
            kind="formula",
            justify="left",
            style="cyan",
            wrap_above=16,
        ),
        Column("layers", [str(r.layers) for r in rows], priority=4),
        _count_column("MACs", [_unknown(v) for v in macs], None, view),
        share_col("% MACs", shares(macs, t.macs), 1),
        _count_column("params", [_unknown(v) for v in params], None, view),
        share_col("% params", shares(params, t.params), 2),
        _count_column("weights", [_unknown(v) for v in weights], None, view),
        share_col("% weights", shares(weights, tw), 5),
        _count_column("biases", [_unknown(r.biases) for r in rows], None, view),
        _count_column("norm", [_unknown(r.norm) for r in rows], None, view),
    ]
    priorities = {"MACs": 1, "params": 2, "weights": 5, "biases": 6, "norm": 7}
    for c in cols:
        if c.header in priorities:
            c.priority = priorities[c.header]
            c.footer = c.footer_units = ""
    return cols


def breakdown_table(a: Analysis, view: View):
    """MACs and parameters per category with their shares; returns (table, width, note)."""
    columns = breakdown_columns(a, view)
    fitted = layout.fit(columns, view.fit_width, view.fit_units)
    styles = [None] * len(columns[0].cells)
    table = layout.FittedTable(fitted, styles, title="by category", title_justify="left")
    notes = [_dropped_note(fitted.dropped, view)]
    if any(cell == "symbolic" for c in fitted.columns if c.header.startswith("%") for cell in c.cells):
        notes.append(
            f"Shares marked symbolic depend on {', '.join(a.open_symbols)}: give them values "
            f"with --set, or read the formulas in --format json."
        )
    if not a.totals.complete:
        notes.append(f"Shares are of the known totals: the {UNKNOWN_TEXT} rows' cost is unknown.")
    note = "\n".join(n for n in notes if n)
    return table, fitted.width, note or None


def training_items(a: Analysis, dtype: str, optimizer: str) -> list[tuple[str, object, str]]:
    """The inference peak and a training step's memory and FLOPs, for the totals panel."""
    from ..analysis.lifetimes import lifetimes
    from ..analysis.training import training

    t = training(a, dtype, optimizer)
    some = not a.totals.complete
    return [
        ("Peak activations (inference)", lifetimes(a, dtype).peak_bytes, "bytes"),
        (f"Training memory ({optimizer})", partial(t.total_bytes, some), "bytes"),
        ("Training FLOPs per step", partial(t.step_flops, some), "count"),
    ]


def totals_items(a: Analysis, dtype: str = "float32") -> list[tuple[str, object, str]]:
    """(label, value, what) for every total; ``what`` is ``count`` or ``bytes``. A total that
    leaves out layers of unknown cost is a :class:`~.text.Partial`."""
    t = a.totals
    m = mem.memory(a, dtype)
    some = not t.complete
    unknown = [r for r in a.layers if not r.cost_known]
    out = [
        ("Params", partial(t.params, some), "count"),
        ("Trainable params", partial(t.trainable_params, any(r.trainable for r in unknown)), "count"),
        ("Frozen params", partial(t.frozen_params, any(not r.trainable for r in unknown)), "count"),
    ]
    if t.buffers != 0:
        out.append(("Buffers (not params)", partial(t.buffers, some), "count"))
    out += [
        ("MACs", partial(t.macs, some), "count"),
        ("FLOPs", partial(t.flops, some), "count"),
        (f"Input size ({dtype})", m.input_bytes, "bytes"),
        ("Params size", partial(m.params_bytes, some), "bytes"),
        ("Activations size", m.activation_bytes, "bytes"),
        ("Estimated total", partial(m.total_bytes, some), "bytes"),
    ]
    return out


def total_text(value, what: str) -> str:
    """A total written exactly, with its reading in units alongside (``15,470,264,320 (15.47 G)``);
    a partial sum ends with ``+ ?``."""
    if isinstance(value, Partial):
        return f"{total_text(value.known, what)} + {UNKNOWN_TEXT}"
    if not isinstance(value, int):
        return dims.fmt(value) + (" bytes" if what == "bytes" else "")
    if what == "bytes":
        return f"{value:,} bytes ({human_bytes(value)})" if value >= 1024 else f"{value} bytes"
    h = human(value)
    return number(value) + (f" ({h})" if h else "")


def totals_panel(a: Analysis, view: View, width: int):
    """Totals, the conditions found, and the counting convention, at most ``width`` wide."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    inner = width - 4  # the panel's border and padding
    parts = [
        _items_grid(totals_items(a, view.dtype), inner),
        _items_grid(training_items(a, view.dtype, view.optimizer), inner),
    ]
    if not a.totals.complete:
        names = a.totals.unknown_cost
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        parts.append(Text(f"+ {UNKNOWN_TEXT}: not counted: the cost of {shown} is unknown.", style="yellow"))
    if a.constraints:
        text = Text("Valid when:\n", style="bold")
        for c in a.constraints:
            text.append(f"  {c.condition}", style="yellow")
            text.append(f"  ({c.layer}: {c.reason})\n", style="dim")
        parts.append(text)
    parts.append(Text(_memory_note(view.dtype) + " " + CONVENTION, style="dim italic"))
    return Panel(Group(*parts), title=Text("totals"), title_align="left", width=width)


def _items_grid(items: list[tuple[str, object, str]], inner: int):
    """Labels and values aligned among themselves, in ``inner`` columns, never cutting a
    number: side by side when every value fits beside the longest label, else each value under
    its label, with its reading in units on a line of its own when the line would cut it."""
    from rich.table import Table
    from rich.text import Text

    rows = [(label + ":", total_text(value, what)) for label, value, what in items]
    label_width = max(len(label) for label, _ in rows)
    if label_width + 1 + max(len(text) for _, text in rows) <= inner:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(no_wrap=True)
        for label, text in rows:
            grid.add_row(Text(label), Text(text))
        return grid
    from rich.console import Group
    from rich.padding import Padding

    # Each value under its label, indented; a formula wider than the panel wraps at its spaces
    # (rich folds only a piece longer than a whole line) and stays indented.
    lines = []
    for label, text in rows:
        exact, _, reading = text.partition(" (")
        values = [text] if len(text) + 2 <= inner else [exact, "(" + reading] if reading else [exact]
        lines.append(Text(label, style="bold"))
        lines += [Padding(Text(v, overflow="fold"), (0, 0, 0, 2)) for v in values]
    return Group(*lines)


def _memory_note(dtype: str) -> str:
    return (
        f"Sizes at {dtype}: params size includes buffers; activations count every layer output "
        f"once; the estimated total is input + params + activations. The peak frees each output "
        f"after its last use; training adds gradients, optimizer state and a backward pass "
        f"(rules in the documentation's conventions)."
    )


def render(a: Analysis, view: View | None = None):
    """The whole report as one renderable."""
    from rich.console import Group
    from rich.text import Text

    view = view or View()
    parts = []
    width = 0
    if view.depth != 0:  # --depth 0: the totals only
        table, w, note = layer_table(a, view)
        parts.append(table)
        if note:
            parts.append(Text(note, style="dim"))
        width = max(width, w)
        cats, w, note = breakdown_table(a, view)
        parts += [Text(""), cats]
        if note:
            parts.append(Text(note, style="dim"))
        width = max(width, w)
    # The panel is never wider than the tables above it (nor narrower than a readable 40).
    # With the totals alone (--depth 0), as wide as the output allows, up to 100.
    panel_width = min(max(width, 40) if width else 100, view.fit_width)
    parts.append(totals_panel(a, view, panel_width))
    return Group(*parts)
