"""The main screen's widgets: the spec editor, and the texts of the detail and totals panes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import TextArea

from ..core import dims
from ..errors import escape_controls

if TYPE_CHECKING:
    from ..core.engine import Analysis, LayerResult

ERROR_GUTTER = Style(color="white", bgcolor="rgb(190,30,30)", bold=True)
ERROR_LINE = Style(bgcolor="rgb(90,20,20)")


class SpecEditor(TextArea):
    """A YAML editor whose ``error_line`` (0-based, or None) is marked: its number in red, and the
    line on a red background unless the cursor is on it (the cursor stays visible)."""

    error_line: reactive[int | None] = reactive(None)

    # Keystrokes redraw the lines they change, not the whole editor. textual's TextArea forgets
    # every rendered line after each edit (its cache is keyed by position, not by text) and
    # repaints the whole widget; here an edit that keeps the number of lines (and the scroll)
    # forgets and repaints only the lines it touched, those whose highlighting changed and the
    # cursor's: on a large spec, most of the cost of a keystroke.
    _edited_rows: tuple[int, int, int] | None = None  # (first, last, line count before)
    _changed_rows: set[int] | None = None  # what the edit changed, when only some lines
    _holding = False  # an edit is being made: a repaint of everything waits for its end
    _held = False  # one was asked for meanwhile

    def edit(self, edit):
        top, bottom = sorted((edit.from_location, edit.to_location))
        rows_before = {self.selection.start[0], self.selection.end[0]}
        scroll, gutter = self.scroll_offset, self.gutter_width
        self._edited_rows = (top[0], bottom[0], self.document.line_count)
        self._changed_rows = None
        self._holding, self._held = True, False
        try:
            return super().edit(edit)
        finally:
            self._holding = False
            self._edited_rows = None
            changed, self._changed_rows = self._changed_rows, None
            if self._held:
                if changed is None or self.scroll_offset != scroll or self.gutter_width != gutter:
                    super().refresh()
                else:
                    after = {self.selection.start[0], self.selection.end[0]}
                    for row in sorted(changed | rows_before | after):
                        self.refresh_lines(row)

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False):
        if self._holding and not regions and not layout and not recompose:
            self._held = True
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _build_highlight_map(self) -> None:
        edited, self._edited_rows = self._edited_rows, None
        if edited is None or self.soft_wrap:
            super()._build_highlight_map()
            return
        cache = self._line_cache
        kept = [(k, cache.get(k)) for k in list(cache.keys())]
        before = {row: list(h) for row, h in self._highlights.items() if h}
        super()._build_highlight_map()  # forgets every line
        first, last, count = edited
        if self.document.line_count != count:
            return  # lines moved: all drawn again
        after = {row: h for row, h in self._highlights.items() if h}

        def differ(row: int) -> bool:  # the same highlights, perhaps found in another order
            old, new = before.get(row), after.get(row)
            return old != new and (
                old is None or new is None or sorted(old, key=repr) != sorted(new, key=repr)
            )

        changed = {row for row in before.keys() | after.keys() if differ(row)}
        changed.update(range(first, last + 1))
        for key, line in kept:
            if line is not None and key[2] not in changed:
                cache.set(key, line)
        self._changed_rows = changed

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self.error_line is None or self.soft_wrap or y + self.scroll_offset.y != self.error_line:
            return strip
        gutter, text = strip.divide([self.gutter_width, strip.cell_length])[:2]
        marked = Strip(Segment.apply_style(gutter, post_style=ERROR_GUTTER), gutter.cell_length)
        if self.cursor_location[0] != self.error_line:
            text = Strip(Segment.apply_style(text, post_style=ERROR_LINE), text.cell_length)
        return Strip.join([marked, text])

    def watch_error_line(self) -> None:
        self.refresh()


class Status(Widget):
    """A one-line status that never cuts what it says.

    It is given several forms of one message, the fullest first (exact numbers, then units,
    then fewer items) and shows the first that fits its width, so a narrow terminal reads
    ``4.09 G MACs`` where a wide one reads ``4,089,184,256 MACs``. When even the last does not
    fit, its items go from the end, whole, and ``…`` says something is left out; a number is
    never cut. The fullest form is its tooltip.
    """

    DEFAULT_CSS = """
    Status {
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._forms: tuple[str, ...] = ("",)

    @property
    def forms(self) -> tuple[str, ...]:
        return self._forms

    def show(self, *forms: str) -> None:
        """Say ``forms[0]``, or the first of the shorter ``forms`` that fits."""
        forms = forms or ("",)
        if forms != self._forms:
            self._forms = forms
            self.tooltip = forms[0] if len(forms) > 1 else None
            self.refresh()

    @property
    def text(self) -> str:
        """What is shown at the current width."""
        return fitting(self._forms, self.content_size.width)

    def render(self) -> Content:
        return Content(self.text)  # plain text: a message's brackets are not markup


SEPARATOR = " · "


def fitting(forms: tuple[str, ...], width: int) -> str:
    """The first of ``forms`` at most ``width`` long; else the last with its ``·``-separated
    items dropped from the end until it fits, ``…`` marking the cut (never inside an item)."""
    if width <= 0:  # not laid out yet
        return forms[0]
    for form in forms:
        if len(form) <= width:
            return form
    items = forms[-1].split(SEPARATOR)
    while items:
        items.pop()
        text = SEPARATOR.join(items) + (" …" if items else "…")
        if len(text) <= width:
            return text
    return ""


def status_forms(a: Analysis) -> tuple[str, ...]:
    """The status line's forms for an analysis, fullest first: the layer count, params, MACs
    and how many warnings (shown whole under the editor and under Totals). As the room shrinks,
    the layer count goes, then the params; at each step exact numbers come before units. The
    MACs stay longest."""
    from ..report import human, number
    from ..report.text import partial

    n = len(a.warnings)
    warnings = f"{n} warning{'s' if n != 1 else ''}" if n else ""

    def join(*parts: str) -> str:
        return SEPARATOR.join(p for p in parts if p)

    layers = f"{len(a.layers)} layers"
    if not a.concrete:
        return join(layers, "formulas", warnings), join("formulas", warnings)
    some = not a.totals.complete
    params, macs = partial(a.totals.params, some), partial(a.totals.macs, some)
    n_unknown = len(a.totals.unknown_cost)
    unknown = f"{n_unknown} layer{'s' if n_unknown != 1 else ''} of unknown cost" if some else ""

    def in_units(v) -> str:
        return human(v) or number(v)

    exact = (f"{number(params)} params", f"{number(macs)} MACs")
    units = (f"{in_units(params)} params", f"{in_units(macs)} MACs")
    forms = (
        join(layers, *exact, unknown, warnings),
        join(layers, *units, unknown, warnings),
        join(*exact, warnings),
        join(*units, warnings),
        join(exact[1], warnings),
        join(units[1], warnings),
    )
    return tuple(dict.fromkeys(forms))  # in order, once each


def warnings_text(warnings, limit: int = 3) -> Text:
    """The spec's warnings, one a line with its line number (the first ``limit``, then how
    many more), for the area under the editor."""
    out = Text()
    for w in warnings[:limit]:
        if out:
            out.append("\n")
        out.append(f"line {w.line}: " if w.line else "", style="bold")
        out.append(escape_controls(w.message))
    if len(warnings) > limit:
        out.append(f"\n+{len(warnings) - limit} more (Totals lists them all)", style="italic")
    return out


def _value(label: str, v: Any, formula: Any = None) -> Text:
    """``label  value  (reading)``; ``?  unknown`` for an unknown cost (None), ``1,234 + ?`` for
    a sum leaving unknown costs out (a Partial)."""
    from ..report import human, number
    from ..report.text import Partial

    text = Text()
    text.append(f"{label:<8}", style="bold")
    text.append(number(v))
    if v is None:
        text.append("  unknown (opaque)", style="yellow")
        return text
    h = human(v.known if isinstance(v, Partial) else v)
    if h:
        text.append(f"  ({h})", style="dim")
    if formula is not None and not _same(formula, v):
        text.append("\n        = ", style="dim")
        text.append(dims.fmt(formula), style="green")
    return text


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, int) and isinstance(b, int) and a == b


def _shapes(label: str, shapes, formulas) -> Text:
    from ..report import shape_text

    text = Text()
    text.append(f"{label:<8}", style="bold")
    text.append(", ".join(shape_text(s) for s in shapes))
    if formulas is not None and [shape_text(s) for s in formulas] != [shape_text(s) for s in shapes]:
        text.append("\n        = ", style="dim")
        text.append(", ".join(shape_text(s) for s in formulas), style="green")
    return text


def layer_detail(r: LayerResult, formula: LayerResult | None, constraints, line: int | None) -> Text:
    """The selected layer: shapes, costs as numbers and as formulas, arguments, constraints."""
    out = Text()
    out.append(r.name, style="bold cyan")
    out.append(f"  {r.kind}", style="cyan")
    if line is not None:
        out.append(f"  line {line}", style="dim")
    if not r.trainable:
        out.append("  frozen", style="yellow")
    out.append("\n")
    out.append("args    ", style="bold")
    out.append(r.layer.describe() or "none")
    out.append("\n")
    f = formula
    out.append_text(_shapes("input", r.input_shapes, f.input_shapes if f else None))
    out.append("\n")
    out.append_text(_shapes("output", [r.output_shape], [f.output_shape] if f else None))
    out.append("\n")
    if r.shares:
        out.append(f"params  shared with {r.shares}\n", style="bold")
    else:
        out.append_text(_value("params", r.params, f.params if f else None))
        out.append("\n")
    out.append_text(_value("MACs", r.macs, f.macs if f else None))
    out.append("\n")
    out.append_text(_value("FLOPs", r.flops, f.flops if f else None))
    mine = [c for c in constraints if c.layer == r.name]
    if mine:
        out.append("\nvalid when ", style="bold")
        out.append("; ".join(f"{c.condition} ({c.reason})" for c in mine), style="yellow")
    return out


def group_detail(key: str, count: int, output_shape, params, macs, flops, unknown_cost=()) -> Text:
    """A collapsed block: its subtotal (leaving out the layers of unknown cost, named)."""
    from ..report import shape_text

    out = Text()
    out.append(key, style="bold cyan")
    out.append(f"  {count} layers\n", style="cyan")
    out.append("output  ", style="bold")
    out.append(shape_text(output_shape) + "\n")
    for label, v in (("params", params), ("MACs", macs), ("FLOPs", flops)):
        out.append_text(_value(label, v))
        out.append("\n")
    if unknown_cost:
        out.append(f"+ ?     cost unknown: {', '.join(unknown_cost)} (opaque)\n", style="yellow")
    return out


def totals_text(a: Analysis) -> Text:
    """Totals with readable units, then the conditions the symbols must meet."""
    from ..report import shape_text
    from ..report.text import partial

    t = a.totals
    out = Text()
    out.append("output  ", style="bold")
    out.append(shape_text(a.output_shape) + f"   {len(a.layers)} layers\n")
    some = not t.complete
    rows = [("params", t.params), ("MACs", t.macs), ("FLOPs", t.flops)]
    if t.frozen_params != 0:
        rows[1:1] = [("trainable", t.trainable_params), ("frozen", t.frozen_params)]
    if t.buffers != 0:
        rows.append(("buffers", t.buffers))
    for label, v in rows:
        out.append_text(_value(label, partial(v, some)))
        out.append("\n")
    if some:
        out.append(
            f"+ ?     cost unknown: {', '.join(t.unknown_cost)} (opaque): "
            "the totals count the other layers\n",
            style="yellow",
        )
    symbols = ", ".join(f"{k}={dims.fmt(v)}" if v is not None else f"{k} open" for k, v in a.symbols.items())
    out.append("symbols ", style="bold")
    out.append((symbols or "none") + "\n")
    if a.constraints:
        out.append("valid when\n", style="bold")
        for c in a.constraints:
            out.append(f"  {c.condition}", style="yellow")
            out.append(f"  ({c.layer}: {c.reason})\n", style="dim")
    if a.warnings:
        out.append("warnings\n", style="bold")
        for w in a.warnings:
            out.append(f"  line {w.line}: " if w.line else "  ", style="dim")
            out.append(f"{escape_controls(w.message)}\n", style="yellow")
    return out


class KeyBar(Widget):
    """The footer: the main keys, as many as fit whole, in order of use (``f1`` lists them all
    and ``ctrl+p`` finds every action by name). ``f1 Help`` and ``^q Quit`` always show;
    clicking a key runs its action."""

    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self, keys: tuple[tuple[str, str, str], ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys = keys  # (key as shown, label, action), the most used first
        self._spans: list[tuple[int, int, str]] = []  # (start, end, action) of each key drawn

    def shown(self, width: int) -> list[tuple[str, str, str]]:
        """The keys drawn at ``width``: the first ones that fit, then help and quit."""
        last = [k for k in self.keys if k[2] in ("help", "quit")]
        rest = [k for k in self.keys if k not in last]
        room = width - sum(len(k[0]) + len(k[1]) + 3 for k in last)
        out = []
        for k in rest:
            size = len(k[0]) + len(k[1]) + 3
            if size > room:
                break
            out.append(k)
            room -= size
        return out + last

    def render(self) -> Content:
        parts: list[tuple[str, str] | str] = []
        self._spans = []
        x = 0
        for key, label, action in self.shown(self.content_size.width):
            parts += [" ", (key, "bold $accent"), " ", label, " "]
            self._spans.append((x, x + len(key) + len(label) + 3, action))
            x += len(key) + len(label) + 3
        return Content.assemble(*parts)

    async def on_click(self, event) -> None:
        for start, end, action in self._spans:
            if start <= event.x < end:
                await self.app.run_action(action)
                return
