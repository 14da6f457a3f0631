"""The terminal UI: a spec editor beside its live layer table.

Everything the UI shows comes from :mod:`cnncalc.tui.model` (which calls the engine) and from the
report's formatting helpers; this module only arranges it. Analyses and verification run in
thread workers, so the editor never waits for them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    Checkbox,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, get_current_worker

from ..errors import escape_controls
from . import model
from .commands import system_commands
from .files import Files
from .model import Outcome
from .table import LayerTable
from .verifying import Verifying
from .widgets import (
    KeyBar,
    SpecEditor,
    Status,
    group_detail,
    layer_detail,
    status_forms,
    totals_text,
    warnings_text,
)

COLUMNS = ("#", "layer", "kind", "output shape", "params", "MACs", "check")
#: The footer's keys, the most used first (as many as fit show; f1 lists them all).
KEYS = (
    ("^s", "Save", "save"),
    ("f5", "Verify", "verify"),
    ("f3", "Zoo", "zoo"),
    ("f8", "Calc", "calculator"),
    ("f4", "Formulas", "toggle_formulas"),
    ("^o", "Open", "open_file"),
    ("f6/f7", "Fold", "depth(-1)"),
    ("f9", "Editor", "toggle_editor"),
    ("^t", "Panes", "next_pane"),
    ("f2", "Save as", "save_as"),
    ("^p", "Palette", "command_palette"),
    ("f1", "Help", "help"),
    ("^q", "Quit", "quit"),
)
#: Seconds (of the interpreter's time) an analysis may take on the spot, with the keystroke,
#: before a thread goes on with it.
AT_ONCE = 0.03
#: Seconds of quiet after an update before the formulas (or numbers) of the detail pane are computed.
OTHER_DELAY = 0.4


class CnncalcApp(Files, Verifying, App):
    """Edit a spec and watch its shapes and costs.

    Args:
        path: the file that ``save`` writes (None: ask on the first save).
        text: the spec's text (None: the file's text, or the template).
        title: shown in the header.
        debounce: seconds of quiet typing before recomputing (0, the default: every keystroke
            is analysed at once, one analysis at a time, and what is typed meanwhile is
            analysed next, the latest text only; an edit re-analyses only what it changed).
        other_delay: seconds of quiet before the detail pane's second reading (formulas beside
            numbers) is computed.
    """

    CSS_PATH = Path(__file__).with_name("cnncalc.tcss")
    TITLE = "cnncalc"
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (120, "-wide")]
    BINDINGS: ClassVar = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("f2", "save_as", "Save as"),
        Binding("ctrl+o", "open_file", "Open", priority=True),
        Binding("f3", "zoo", "Zoo"),
        Binding("f4", "toggle_formulas", "Formulas"),
        Binding("f5", "verify", "Verify"),
        Binding("f6", "depth(-1)", "Collapse", priority=True),
        Binding("f7", "depth(1)", "Expand", priority=True),
        Binding("f8", "calculator", "Calculator"),
        Binding("f9", "toggle_editor", "Editor"),
        Binding("ctrl+t", "next_pane", "Panes", priority=True),
        Binding("f1", "help", "Help"),
        Binding("escape", "cancel_verify", "Cancel verify", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    formulas: reactive[bool] = reactive(False, init=False)
    depth: reactive[int] = reactive(0, init=False)  # 0: every layer

    def __init__(
        self,
        path: Path | str | None = None,
        text: str | None = None,
        title: str | None = None,
        debounce: float = 0.0,
        other_delay: float = OTHER_DELAY,
    ) -> None:
        super().__init__()
        self.path = Path(path) if path is not None else None
        if text is None:
            exists = self.path is not None and self.path.exists()
            text = self.path.read_text(encoding="utf-8") if exists else model.TEMPLATE
        self.initial_text = text
        self.saved_text = text if self.path is not None and self.path.exists() else None
        self.doc_title = title or (str(self.path) if self.path else "untitled")
        self.debounce = debounce
        self.other_delay = other_delay
        self.values: dict[str, str] = {}  # symbol inputs as typed
        self.outcome: Outcome | None = None  # the last good analysis shown
        self.other: Any = None  # the same spec analysed the other way (formulas / numbers)
        self.row_list: list[model.Row] = []
        self.checks: dict[str, bool | None] = {}  # layer -> verified ok (None: not verified, opaque)
        self.generation = 0
        self._timer: Timer | None = None
        self._last_start = 0.0  # time.monotonic() of the last analysis started
        self._analysing = False  # a worker is computing
        self._pending = False  # the text changed meanwhile: analyse again when it is done
        self._other_timer: Timer | None = None
        self._request: tuple | None = None  # what the table shows: (text, filename, values, formulas)
        self._symbols_key: tuple = ()
        self._verify_worker: Worker | None = None
        self._shown_panes: set[str] = set()
        self._last_cost: float | None = None  # seconds the last analysis took
        self._detail_shown: Text | None = None  # what the detail pane shows of a layer
        from ..core.memo import Memo

        self.memo = Memo()  # layer results kept from one keystroke to the next

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield SpecEditor.code_editor(self.initial_text, language="yaml", id="editor")
                yield Static("", id="error")
                yield Grid(id="symbols")
            with Vertical(id="right"):
                with Horizontal(id="controls"):
                    yield Checkbox("formulas", id="formulas", compact=True)
                    yield Label("depth", id="depth-label")
                    yield Select([("all", 0)], value=0, allow_blank=False, id="depth", compact=True)
                    yield Status(id="status")
                yield LayerTable(COLUMNS, right=("#", "params", "MACs"), id="layers")
                with Horizontal(id="verify-bar"):
                    yield Label("", id="verify-label")
                    yield ProgressBar(id="progress", show_eta=False)
                with TabbedContent(id="info"):
                    with TabPane("Layer", id="tab-layer"):
                        yield VerticalScroll(Static(id="detail"))
                    with TabPane("Totals", id="tab-totals"):
                        yield VerticalScroll(Static(id="totals"))
                    with TabPane("Breakdown", id="tab-breakdown"):
                        yield VerticalScroll(Static(id="breakdown"))
        yield KeyBar(KEYS, id="keys")

    def on_mount(self) -> None:
        self._update_title()
        self.main.query_one("#editor", SpecEditor).focus()
        # The first analysis loads the engine (a second of imports): after the first paint.
        self.call_after_refresh(self.recompute, True)

    # -- recomputing ---------------------------------------------------------------------------

    @property
    def main(self) -> Screen:
        """The editor's screen (dialogs and the calculator open above it)."""
        return self.screen_stack[0]

    @property
    def text(self) -> str:
        return self.main.query_one("#editor", SpecEditor).text

    @property
    def modified(self) -> bool:
        return self.text != (self.saved_text if self.saved_text is not None else self.initial_text)

    @on(SpecEditor.Changed, "#editor")
    def _edited(self) -> None:
        """Mark the title modified, and recompute."""
        self._update_title()
        self.recompute()

    def recompute(self, now: bool = False) -> None:
        """Analyse the editor's text again: at once (after ``debounce`` seconds of quiet when one
        is set, unless ``now``); the detail pane's formulas wait for the next pause."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._other_timer is not None:  # the formulas of the detail pane wait for a pause
            self._other_timer.stop()
            self._other_timer = None
        self.workers.cancel_group(self, "other")  # and one being computed stops
        self.generation += 1
        # A keystroke after a pause starts at once; keystrokes in quick succession wait until
        # typing pauses for ``debounce`` seconds, and only the last one is analysed.
        quiet = time.monotonic() - self._last_start >= self.debounce
        if now or self.debounce <= 0 or quiet:
            self._start_analysis()
        else:
            self._timer = self.set_timer(self.debounce, self._start_analysis)

    def _start_analysis(self) -> None:
        self._timer = None
        if not self.screen_stack:  # shutting down
            return
        if self._analysing:  # one analysis at a time: the latest text goes next
            self._pending = True
            return
        self._last_start = time.monotonic()
        request = (self.generation, self.text, self._filename(), dict(self.values), self.formulas)
        if self._at_once(*request):
            return
        self._analysing = True
        self._analyse(*request)

    def _at_once(self, generation: int, text: str, filename: str, values: dict, formulas: bool) -> bool:
        """Analyse on the spot when the last analysis took little (an edit re-analyses only what
        it changed): the table is updated with the keystroke, without waiting for a thread. The
        attempt stops after :data:`AT_ONCE` seconds, its results so far kept by the memo for the
        thread that goes on with it: a spec made huge by an edit never holds the editor."""
        if self._last_cost is None or self._last_cost > AT_ONCE / 2:
            return False
        from ..core.memo import Stopped, Watched

        # the budget is of the interpreter's own time: a busy machine slows it, not its work
        cpu = time.thread_time()
        memo = Watched(self.memo, lambda: time.thread_time() - cpu > AT_ONCE)
        try:
            outcome = model.compute(text, filename, values, symbolic=formulas, memo=memo)
        except Stopped:
            self._last_cost = None  # the thread's turn, until an analysis is quick again
            return False
        except Exception:  # a bug: the thread says it
            return False
        self._last_cost = time.thread_time() - cpu
        self._show(generation, outcome, (text, filename, values, formulas))
        return True

    def _filename(self) -> str:
        return str(self.path) if self.path else self.doc_title.removesuffix(" (bundled)")

    @work(thread=True, exclusive=True, group="analysis")
    def _analyse(self, generation: int, text: str, filename: str, values: dict, formulas: bool) -> None:
        """Compute in a thread; only the latest request's result is shown, and an analysis of
        text typed over already stops at its next layer (a huge spec never holds the editor)."""
        from ..core.memo import Stopped, Watched

        memo = Watched(self.memo, lambda: generation != self.generation)
        try:
            try:
                cpu = time.thread_time()  # its own time, not the time waiting for the interpreter
                outcome = model.compute(text, filename, values, symbolic=formulas, memo=memo)
                self._last_cost = time.thread_time() - cpu
            except Stopped:
                return
            except Exception as exc:  # a bug in the engine: shown, the editor keeps working
                outcome = Outcome(error=f"internal error while analysing: {type(exc).__name__}: {exc}")
            try:
                if not get_current_worker().is_cancelled:
                    request = (text, filename, values, formulas)
                    self.call_from_thread(self._show, generation, outcome, request)
            except Exception as exc:  # a bug in showing it: said, and the app goes on
                message = f"internal error while showing the analysis: {type(exc).__name__}: {exc}"
                self.call_from_thread(self._show, generation, Outcome(error=message))
        finally:
            with contextlib.suppress(RuntimeError):  # RuntimeError: the app has closed
                self.call_from_thread(self._analysis_done)

    def _analysis_done(self) -> None:
        self._analysing = False
        if self._pending:
            self._pending = False
            self._start_analysis()

    def _start_other(self) -> None:
        self._other_timer = None
        if self.screen_stack and self.outcome is not None and self.other is None and self._request:
            self._analyse_other(self.outcome, *self._request)

    @work(thread=True, exclusive=True, group="other")
    def _analyse_other(self, shown: Outcome, text: str, filename: str, values: dict, formulas: bool) -> None:
        """The other reading of the text shown, for the detail pane: formulas beside numbers
        (once typing pauses, since symbolic analysis of a large network takes a while; the next
        keystroke stops it)."""
        from ..core.memo import Watched

        worker = get_current_worker()
        memo = Watched(self.memo, lambda: worker.is_cancelled or shown is not self.outcome)
        try:
            other = model.compute(text, filename, values, symbolic=not formulas, memo=memo)
        except Exception:  # stopped, or a bug: the pane keeps its numbers
            return
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show_other, shown, other)

    def _show(self, generation: int, outcome: Outcome, request: tuple | None = None) -> None:
        if generation != self.generation:
            return  # a newer edit is being analysed
        editor = self.main.query_one("#editor", SpecEditor)
        error = self.main.query_one("#error", Static)
        table = self.main.query_one("#layers", LayerTable)
        self._show_symbols(outcome)
        if outcome.error is not None:
            where = f"line {outcome.line}, column {outcome.column}: " if outcome.line else ""
            error.update(Text(where + outcome.error, style="bold"))
            error.add_class("visible")
            error.remove_class("warning")
            editor.error_line = outcome.line - 1 if outcome.line else None
            self._keep_cursor_in_view(editor)
            table.add_class("stale")
            self._set_status("invalid: last good table", "invalid")
            if self.other is None and self.outcome is not None and self._other_timer is None:
                # the formulas of the last good table, stopped by this edit, are computed again
                self._other_timer = self.set_timer(max(self.other_delay, 0.01), self._start_other)
            return
        # The spec's warnings, whole, where its errors go (on a milder background).
        warnings = outcome.analysis.warnings
        if warnings:
            error.update(warnings_text(warnings))
            error.add_class("visible")
            error.add_class("warning")
            self._keep_cursor_in_view(editor)
        elif error.has_class("visible"):
            error.update("")
            error.remove_class("visible")
            error.remove_class("warning")
        editor.error_line = None
        table.remove_class("stale")
        if self.checks and (self.outcome is None or self.outcome.analysis.layers != outcome.analysis.layers):
            self.checks = {}  # verified rows stay marked only while the layers are the same
        self.outcome = outcome
        self._request = request
        self.other = None
        if self._other_timer is not None:
            self._other_timer.stop()
            self._other_timer = None
        if self.other_delay > 0:
            self._other_timer = self.set_timer(self.other_delay, self._start_other)
        else:
            self.call_later(self._start_other)
        self._set_status(*status_forms(outcome.analysis))
        self._fill_table()
        self._shown_panes = set()
        self._show_pane()

    def _keep_cursor_in_view(self, editor: SpecEditor) -> None:
        """The message under the editor takes lines from it: the line being typed stays in view."""
        self.call_after_refresh(editor.scroll_cursor_visible)

    def _set_status(self, *forms: str) -> None:
        self.main.query_one("#status", Status).show(*forms)

    @on(TabbedContent.TabActivated, "#info")
    def _show_pane(self) -> None:
        """Fill the totals or breakdown pane when it is shown (not on every keystroke)."""
        if self.outcome is None:
            return
        active = self.main.query_one("#info", TabbedContent).active
        if active in self._shown_panes:
            return
        self._shown_panes.add(active)
        a = self.outcome.analysis
        if active == "tab-totals":
            self.main.query_one("#totals", Static).update(totals_text(a))
        elif active == "tab-breakdown":
            from ..report.table import View, breakdown_table

            table, _, note = breakdown_table(
                a, View(width=max(60, self.main.query_one("#info").size.width - 4))
            )
            self.main.query_one("#breakdown", Static).update(Group(table, note) if note else table)

    def _show_other(self, shown: Outcome, other: Outcome) -> None:
        if shown is self.outcome and other.analysis is not None:
            self.other = other.analysis
            self._show_detail()

    def _show_symbols(self, outcome: Outcome) -> None:
        """One input per declared symbol: updated in place, rebuilt when the names change."""
        grid = self.main.query_one("#symbols", Grid)
        if outcome.symbols:
            names = tuple(s.name for s in outcome.symbols)
            if names != self._symbols_key:
                self._symbols_key = names
                self.call_later(self._rebuild_symbols, outcome.symbols)
            else:
                for s in outcome.symbols:
                    for field in grid.query(f"#symbol-{s.name}").results(Input):
                        if field.placeholder != self._default_text(s):
                            field.placeholder = self._default_text(s)
                            field.tooltip = self._symbol_tooltip(s)
        for field in grid.query(".symbol").results(Input):
            field.set_class(outcome.symbol is not None and field.id == f"symbol-{outcome.symbol}", "invalid")

    async def _rebuild_symbols(self, symbols: tuple[model.SymbolInfo, ...]) -> None:
        grid = self.main.query_one("#symbols", Grid)
        await grid.remove_children()
        widgets = []
        for s in symbols:
            widgets.append(Label(s.name, classes="symbol-name"))
            widgets.append(
                Input(
                    value=self.values.get(s.name, ""),
                    placeholder=self._default_text(s),
                    id=f"symbol-{s.name}",
                    compact=True,
                    classes="symbol",
                    tooltip=self._symbol_tooltip(s),
                )
            )
        await grid.mount_all(widgets)

    @staticmethod
    def _default_text(s: model.SymbolInfo) -> str:
        if s.derived and s.default is None:
            return f"= {s.derived}"
        return "open" if s.default is None else model.dims.fmt(s.default)

    def _symbol_tooltip(self, s: model.SymbolInfo) -> str:
        default = self._default_text(s) + (f" = {s.derived}" if s.derived and s.default is not None else "")
        return f"{s.name}: {s.doc or 'symbol'}; default {default}; in {s.bounds}"

    @on(Input.Changed, ".symbol")
    def _symbol_changed(self, event: Input.Changed) -> None:
        """A symbol's value: empty means its default."""
        name = (event.input.id or "").removeprefix("symbol-")
        if event.value.strip():
            self.values[name] = event.value.strip()
        else:
            self.values.pop(name, None)
        self.recompute()

    # -- the table -----------------------------------------------------------------------------

    def _fill_table(self) -> None:
        if self.outcome is None:
            return
        from ..report import number, shape_text

        a = self.outcome.analysis
        table = self.main.query_one("#layers", LayerTable)
        selected = self._selected_key()
        self.row_list = model.rows(a, self.depth)
        marks = {}
        unverified = set()
        for index, r in enumerate(self.row_list):
            ok = self._check(r)
            if ok == "opaque":
                unverified.add(index)
            elif ok is not None:
                marks[index] = ok
        table.set_rows(
            [
                (
                    str(r.first + 1) if not r.group else f"{r.first + 1}-{r.last + 1}",
                    r.key,
                    r.kind,
                    shape_text(r.output_shape),
                    number(r.params),
                    number(r.macs),
                    "not verified (opaque)"
                    if index in unverified
                    else ""
                    if index not in marks
                    else "ok"
                    if marks[index]
                    else "MISMATCH",
                )
                for index, r in enumerate(self.row_list)
            ],
            ["group" if r.group else "" for r in self.row_list],
            marks,
        )
        self._depth_options(model.max_depth(a))
        keys = [r.key for r in self.row_list]
        if selected in keys and keys.index(selected) != table.cursor_row:
            table.move_cursor(keys.index(selected))
        self._show_detail()

    def _check(self, r: model.Row) -> bool | str | None:
        """Verified ok (every layer of the row run), mismatched, ``"opaque"`` when the row's
        layers were not run (their computation is unknown), or None before a verification."""
        if not self.checks:
            return None
        names = [layer.name for layer in self.outcome.analysis.layers[r.first : r.last + 1]]
        if any(n not in self.checks for n in names):
            return None
        run = [self.checks[n] for n in names if self.checks[n] is not None]
        if not run:
            return "opaque"
        return all(run)

    def _depth_options(self, deepest: int) -> None:
        select = self.main.query_one("#depth", Select)
        options = [("all", 0)] + [(str(d), d) for d in range(1, deepest)]
        if len(options) != getattr(self, "_depth_count", None):
            self._depth_count = len(options)
            with select.prevent(Select.Changed):
                select.set_options(options)
                select.value = self.depth if self.depth < deepest else 0

    def _selected_key(self) -> str | None:
        table = self.main.query_one("#layers", LayerTable)
        if 0 <= table.cursor_row < len(self.row_list):
            return self.row_list[table.cursor_row].key
        return None

    def _selected_row(self) -> model.Row | None:
        table = self.main.query_one("#layers", LayerTable)
        if self.row_list and 0 <= table.cursor_row < len(self.row_list):
            return self.row_list[table.cursor_row]
        return None

    @on(LayerTable.RowHighlighted, "#layers")
    def _row_highlighted(self) -> None:
        """Show the layer, and put the editor's cursor on its line."""
        self._show_detail()
        row = self._selected_row()
        if row is None or not self.main.query_one("#layers", LayerTable).has_focus:
            return
        line = self._line_of(row)
        editor = self.main.query_one("#editor", SpecEditor)
        if line is not None and editor.cursor_location[0] != line - 1:
            editor.move_cursor((line - 1, 0), center=True)

    def _line_of(self, row: model.Row) -> int | None:
        layers = self.outcome.analysis.layers
        for r in layers[row.first : row.last + 1]:
            line = self.outcome.lines.get(r.name)
            if line is not None:
                return line
        return None

    @on(SpecEditor.SelectionChanged, "#editor")
    def _cursor_moved(self, event: SpecEditor.SelectionChanged) -> None:
        """Select the layer written on the cursor's line (the current one if it is there)."""
        editor = self.main.query_one("#editor", SpecEditor)
        if self.outcome is None or not editor.has_focus:
            return
        line = event.selection.end[0] + 1
        current = self._selected_row()
        if current is not None and self._line_of(current) == line:
            return
        for index, row in enumerate(self.row_list):
            if self._line_of(row) == line:
                self.main.query_one("#layers", LayerTable).move_cursor(index)
                return

    def _show_detail(self) -> None:
        detail = self.main.query_one("#detail", Static)
        row = self._selected_row()
        if row is None or self.outcome is None or row.group:
            self._detail_shown = None
        if row is None or self.outcome is None:
            detail.update("")
            return
        a = self.outcome.analysis
        if row.group:
            detail.update(
                group_detail(
                    row.key, row.count, row.output_shape, row.params, row.macs, row.flops, row.unknown_cost
                )
            )
            return
        r = a.layers[row.first]
        other = self._other_layer(r.name)
        numbers, formulas = (other, r) if self.formulas else (r, other)
        symbolic = a if self.formulas else self.other
        shown = numbers or r
        text = layer_detail(
            shown,
            formulas if formulas is not shown else None,
            symbolic.constraints if symbolic is not None else a.constraints,
            self.outcome.lines.get(r.name),
        )
        if text != self._detail_shown:  # not drawn again for the same text (an edit elsewhere)
            self._detail_shown = text
            detail.update(text)

    def _other_layer(self, name: str):
        if self.other is None:
            return None
        return next((r for r in self.other.layers if r.name == name), None)

    # -- controls ------------------------------------------------------------------------------

    PANES = ("tab-layer", "tab-totals", "tab-breakdown")

    def action_next_pane(self, pane: str | None = None) -> None:
        """Show ``pane``, or the pane after the one shown (Layer, Totals, Breakdown, ...)."""
        tabs = self.main.query_one("#info", TabbedContent)
        tabs.active = pane or self.PANES[(self.PANES.index(tabs.active) + 1) % len(self.PANES)]

    @on(Checkbox.Changed, "#formulas")
    def _formulas_box(self, event: Checkbox.Changed) -> None:
        """Numbers or formulas."""
        self.formulas = event.value

    def watch_formulas(self, value: bool) -> None:
        box = self.main.query_one("#formulas", Checkbox)
        if box.value != value:
            box.value = value
        self.recompute(now=True)

    @on(Select.Changed, "#depth")
    def _depth_select(self, event: Select.Changed) -> None:
        """Collapse blocks deeper than the depth chosen."""
        if isinstance(event.value, int):
            self.depth = event.value

    def watch_depth(self, value: int) -> None:
        select = self.main.query_one("#depth", Select)
        if select.value != value:
            with select.prevent(Select.Changed):
                select.value = value
        self._fill_table()

    def action_toggle_formulas(self) -> None:
        """Switch between numbers and formulas."""
        self.formulas = not self.formulas

    def action_toggle_editor(self) -> None:
        """Hide the editor to give the table the whole width, or show it again."""
        left = self.main.query_one("#left")
        left.display = not left.display
        if not left.display:
            self.main.query_one("#layers", LayerTable).focus()
        else:
            self.main.query_one("#editor", SpecEditor).focus()

    def action_depth(self, step: int) -> None:
        """Collapse (-1) or expand (+1) one level of blocks."""
        if self.outcome is None:
            return
        deepest = model.max_depth(self.outcome.analysis)
        levels = [*range(1, deepest), 0]  # from most collapsed to every layer
        current = levels.index(self.depth) if self.depth in levels else len(levels) - 1
        self.depth = levels[max(0, min(len(levels) - 1, current + step))]

    def action_help(self) -> None:
        """Keys and panes."""
        from .screens import HelpScreen

        self.push_screen(HelpScreen())

    def action_calculator(self) -> None:
        """The one-layer calculator."""
        from .calculator import CalculatorScreen

        self.push_screen(CalculatorScreen())

    def notify(self, message: str, *args, **kwargs) -> None:
        """A notification, its control characters escaped (file names, messages)."""
        super().notify(escape_controls(message), *args, **kwargs)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from system_commands(self)
