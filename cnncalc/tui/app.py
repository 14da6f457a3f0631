"""The terminal UI: a spec editor beside its live layer table.

Everything the UI shows comes from :mod:`cnncalc.tui.model` (which calls the engine) and from the
report's formatting helpers; this module only arranges it. Analyses and verification run in
thread workers, so the editor never waits for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

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
    DataTable,
    Footer,
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

from ..errors import CnncalcError
from . import model
from .model import Outcome
from .widgets import SpecEditor, group_detail, layer_detail, totals_text

COLUMNS = ("#", "layer", "kind", "output shape", "params", "MACs", "check")


class _Cancelled(Exception):
    """Raised from verification's progress callback to stop it."""


class CnncalcApp(App):
    """Edit a spec and watch its shapes and costs.

    Args:
        path: the file that ``save`` writes (None: ask on the first save).
        text: the spec's text (None: the file's text, or the template).
        title: shown in the header.
        debounce: seconds of quiet typing before recomputing.
    """

    CSS_PATH = "cnncalc.tcss"
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
        debounce: float = 0.05,
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
        self.values: dict[str, str] = {}  # symbol inputs as typed
        self.outcome: Outcome | None = None  # the last good analysis shown
        self.other: Any = None  # the same spec analysed the other way (formulas / numbers)
        self.row_list: list[model.Row] = []
        self.checks: dict[str, bool] = {}  # layer -> verified ok
        self.generation = 0
        self._timer: Timer | None = None
        self._symbols_key: tuple = ()
        self._verify_worker: Worker | None = None

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
                    yield Select([("all layers", 0)], value=0, allow_blank=False, id="depth", compact=True)
                    yield Static("", id="status")
                yield DataTable(id="layers", cursor_type="row", zebra_stripes=True)
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
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#layers", DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        self._update_title()
        self.query_one("#editor", SpecEditor).focus()
        self.recompute(now=True)

    # -- recomputing ---------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.query_one("#editor", SpecEditor).text

    @property
    def modified(self) -> bool:
        return self.text != (self.saved_text if self.saved_text is not None else self.initial_text)

    @on(SpecEditor.Changed, "#editor")
    def _edited(self) -> None:
        """Recompute once typing pauses."""
        self._update_title()
        self.recompute()

    def recompute(self, now: bool = False) -> None:
        """Analyse the editor's text again after the debounce delay (at once with ``now``)."""
        if self._timer is not None:
            self._timer.stop()
        self.generation += 1
        if now or self.debounce <= 0:
            self._start_analysis()
        else:
            self._timer = self.set_timer(self.debounce, self._start_analysis)

    def _start_analysis(self) -> None:
        self._timer = None
        self.query_one("#status", Static).update("computing…")
        self._analyse(self.generation, self.text, self._filename(), dict(self.values), self.formulas)

    def _filename(self) -> str:
        return str(self.path) if self.path else self.doc_title.removesuffix(" (bundled)")

    @work(thread=True, exclusive=True, group="analysis")
    def _analyse(self, generation: int, text: str, filename: str, values: dict, formulas: bool) -> None:
        """Compute in a thread; only the latest request's result is shown."""
        try:
            outcome = model.compute(text, filename, values, symbolic=formulas)
        except Exception as exc:  # a bug in the engine: shown, the editor keeps working
            outcome = Outcome(error=f"internal error while analysing: {type(exc).__name__}: {exc}")
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show, generation, outcome)
        if outcome.analysis is not None and not get_current_worker().is_cancelled:
            try:  # the other reading, for the detail pane: formulas beside numbers
                other = model.compute(text, filename, values, symbolic=not formulas)
            except Exception:
                other = Outcome()
            if not get_current_worker().is_cancelled:
                self.call_from_thread(self._show_other, generation, other)

    def _show(self, generation: int, outcome: Outcome) -> None:
        if generation != self.generation:
            return  # a newer edit is being analysed
        editor = self.query_one("#editor", SpecEditor)
        error = self.query_one("#error", Static)
        table = self.query_one("#layers", DataTable)
        self._show_symbols(outcome)
        if outcome.error is not None:
            where = f"line {outcome.line}, column {outcome.column}: " if outcome.line else ""
            error.update(Text(where + outcome.error, style="bold"))
            error.add_class("visible")
            editor.error_line = outcome.line - 1 if outcome.line else None
            table.add_class("stale")
            self.query_one("#status", Static).update("invalid: last good table")
            return
        error.update("")
        error.remove_class("visible")
        editor.error_line = None
        table.remove_class("stale")
        if self.outcome is None or self.outcome.analysis.layers != outcome.analysis.layers:
            self.checks = {}
        self.outcome = outcome
        self.other = None
        a = outcome.analysis
        from ..report import breakdown_table, number

        self.query_one("#status", Static).update(
            f"{len(a.layers)} layers · {number(a.totals.params)} params · {number(a.totals.macs)} MACs"
            if a.concrete
            else f"{len(a.layers)} layers · formulas"
        )
        self._fill_table()
        self.query_one("#totals", Static).update(totals_text(a))
        self.query_one("#breakdown", Static).update(breakdown_table(a))

    def _show_other(self, generation: int, other: Outcome) -> None:
        if generation == self.generation and other.analysis is not None:
            self.other = other.analysis
            self._show_detail()

    def _show_symbols(self, outcome: Outcome) -> None:
        """One input per declared symbol, rebuilt only when the declarations change."""
        grid = self.query_one("#symbols", Grid)
        key = tuple((s.name, s.default, s.lower, s.upper) for s in outcome.symbols)
        if outcome.symbols and key != self._symbols_key:
            self._symbols_key = key
            grid.remove_children()
            widgets = []
            for s in outcome.symbols:
                default = "open" if s.default is None else model.dims.fmt(s.default)
                widgets.append(Label(s.name, classes="symbol-name"))
                field = Input(
                    value=self.values.get(s.name, ""),
                    placeholder=default,
                    id=f"symbol-{s.name}",
                    compact=True,
                    classes="symbol",
                    tooltip=f"{s.name}: {s.doc or 'symbol'}; default {default}; in {s.bounds}",
                )
                widgets.append(field)
            grid.mount_all(widgets)
        for field in grid.query(".symbol").results(Input):
            field.set_class(outcome.symbol is not None and field.id == f"symbol-{outcome.symbol}", "invalid")

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
        table = self.query_one("#layers", DataTable)
        selected = self._selected_key()
        self.row_list = model.rows(a, self.depth)
        table.clear()
        table.add_rows(
            [
                (
                    str(r.first + 1) if not r.group else f"{r.first + 1}-{r.last + 1}",
                    Text(r.key, style="bold") if r.group else r.key,
                    r.kind,
                    shape_text(r.output_shape),
                    Text(number(r.params), justify="right"),
                    Text(number(r.macs), justify="right"),
                    self._check_cell(r),
                )
                for r in self.row_list
            ]
        )
        self._depth_options(model.max_depth(a))
        keys = [r.key for r in self.row_list]
        if selected in keys:
            table.move_cursor(row=keys.index(selected), scroll=False)
        self._show_detail()

    def _check_cell(self, r: model.Row) -> Text:
        if not self.checks:
            return Text("")
        names = [layer.name for layer in self.outcome.analysis.layers[r.first : r.last + 1]]
        if any(n not in self.checks for n in names):
            return Text("")
        if all(self.checks[n] for n in names):
            return Text("ok", style="green")
        return Text("MISMATCH", style="bold red")

    def _depth_options(self, deepest: int) -> None:
        select = self.query_one("#depth", Select)
        options = [("all layers", 0)] + [(f"depth {d}", d) for d in range(1, deepest)]
        if len(options) != getattr(self, "_depth_count", None):
            self._depth_count = len(options)
            with select.prevent(Select.Changed):
                select.set_options(options)
                select.value = self.depth if self.depth < deepest else 0

    def _selected_key(self) -> str | None:
        table = self.query_one("#layers", DataTable)
        if 0 <= table.cursor_row < len(self.row_list):
            return self.row_list[table.cursor_row].key
        return None

    def _selected_row(self) -> model.Row | None:
        table = self.query_one("#layers", DataTable)
        if self.row_list and 0 <= table.cursor_row < len(self.row_list):
            return self.row_list[table.cursor_row]
        return None

    @on(DataTable.RowHighlighted, "#layers")
    def _row_highlighted(self) -> None:
        """Show the layer, and put the editor's cursor on its line."""
        self._show_detail()
        row = self._selected_row()
        if row is None or not self.query_one("#layers", DataTable).has_focus:
            return
        line = self._line_of(row)
        editor = self.query_one("#editor", SpecEditor)
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
        editor = self.query_one("#editor", SpecEditor)
        if self.outcome is None or not editor.has_focus:
            return
        line = event.selection.end[0] + 1
        current = self._selected_row()
        if current is not None and self._line_of(current) == line:
            return
        for index, row in enumerate(self.row_list):
            if self._line_of(row) == line:
                self.query_one("#layers", DataTable).move_cursor(row=index)
                return

    def _show_detail(self) -> None:
        detail = self.query_one("#detail", Static)
        row = self._selected_row()
        if row is None or self.outcome is None:
            detail.update("")
            return
        a = self.outcome.analysis
        if row.group:
            detail.update(group_detail(row.key, row.count, row.output_shape, row.params, row.macs, row.flops))
            return
        r = a.layers[row.first]
        other = self._other_layer(r.name)
        numbers, formulas = (other, r) if self.formulas else (r, other)
        symbolic = a if self.formulas else self.other
        shown = numbers or r
        detail.update(
            layer_detail(
                shown,
                formulas if formulas is not shown else None,
                symbolic.constraints if symbolic is not None else a.constraints,
                self.outcome.lines.get(r.name),
            )
        )

    def _other_layer(self, name: str):
        if self.other is None:
            return None
        return next((r for r in self.other.layers if r.name == name), None)

    # -- controls ------------------------------------------------------------------------------

    @on(Checkbox.Changed, "#formulas")
    def _formulas_box(self, event: Checkbox.Changed) -> None:
        """Numbers or formulas."""
        self.formulas = event.value

    def watch_formulas(self, value: bool) -> None:
        box = self.query_one("#formulas", Checkbox)
        if box.value != value:
            box.value = value
        self.recompute(now=True)

    @on(Select.Changed, "#depth")
    def _depth_select(self, event: Select.Changed) -> None:
        """Collapse blocks deeper than the depth chosen."""
        if isinstance(event.value, int):
            self.depth = event.value

    def watch_depth(self, value: int) -> None:
        select = self.query_one("#depth", Select)
        if select.value != value:
            with select.prevent(Select.Changed):
                select.value = value
        self._fill_table()

    def action_toggle_formulas(self) -> None:
        """Switch between numbers and formulas."""
        self.formulas = not self.formulas

    def action_depth(self, step: int) -> None:
        """Collapse (-1) or expand (+1) one level of blocks."""
        if self.outcome is None:
            return
        deepest = model.max_depth(self.outcome.analysis)
        levels = [*range(1, deepest), 0]  # from most collapsed to every layer
        current = levels.index(self.depth) if self.depth in levels else len(levels) - 1
        self.depth = levels[max(0, min(len(levels) - 1, current + step))]

    # -- verification --------------------------------------------------------------------------

    def action_verify(self) -> None:
        """Run the spec through the reference kernels, in the background."""
        if self.outcome is None or self.query_one("#error").has_class("visible"):
            self.notify("fix the spec first: verification runs the last valid analysis", severity="warning")
            return
        outcome = self.outcome
        if self.formulas or not outcome.analysis.concrete:
            numbers = self.other if self.formulas else None
            if numbers is None or not numbers.concrete:
                self.notify(
                    "verification runs at concrete sizes: give every symbol a value", severity="warning"
                )
                return
            analysis = numbers
        else:
            analysis = outcome.analysis
        self.checks = {}
        self.query_one("#verify-bar").add_class("running")
        self.query_one("#verify-label", Label).update("compiling kernels")
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self._verify_worker = self._verify(analysis, outcome.spec, dict(self.values))

    @work(thread=True, exclusive=True, group="verify")
    def _verify(self, analysis, spec, values: dict) -> None:
        from ..verify import check_budget, default_budget, verify

        worker = get_current_worker()

        def progress(phase: str, done: int, total: int, layer: str) -> None:
            if worker.is_cancelled:
                raise _Cancelled
            self.call_from_thread(self._verify_progress, phase, done, total, layer)

        try:
            known = {k: v for k, v in values.items() if k in spec.symbols}
            check_budget(spec, analysis, known, default_budget())
            result = verify(analysis, seed=0, progress=progress)
        except _Cancelled:
            self.call_from_thread(self._verify_done, None, "verification cancelled")
        except CnncalcError as exc:
            self.call_from_thread(self._verify_done, None, str(exc))
        except Exception as exc:
            message = f"verification failed: {type(exc).__name__}: {exc}"
            self.call_from_thread(self._verify_done, None, message)
        else:
            self.call_from_thread(self._verify_done, result, None)

    def _verify_progress(self, phase: str, done: int, total: int, layer: str) -> None:
        label = "compiling kernels" if phase == "compile" else f"running {layer}" if layer else "running"
        self.query_one("#verify-label", Label).update(f"{label} {done}/{total}")
        self.query_one("#progress", ProgressBar).update(total=total, progress=done)

    def _verify_done(self, result, message: str | None) -> None:
        self.query_one("#verify-bar").remove_class("running")
        self._verify_worker = None
        if result is None:
            cancelled = message is not None and "cancelled" in message
            self.notify(message or "verification stopped", severity="warning" if cancelled else "error")
            return
        self.checks = {c.name: c.ok for c in result.layers}
        self._fill_table()
        if result.ok:
            self.notify(f"verified: {len(result.layers)} layers match their predictions")
        else:
            names = ", ".join(c.name for c in result.failures[:3])
            self.notify(f"{len(result.failures)} layer(s) disagree: {names}", severity="error")

    def action_cancel_verify(self) -> None:
        """Stop a running verification."""
        if self._verify_worker is not None:
            self._verify_worker.cancel()
            self.query_one("#verify-label", Label).update("cancelling…")

    # -- files ---------------------------------------------------------------------------------

    def _update_title(self) -> None:
        self.title = "cnncalc"
        self.sub_title = self.doc_title + (" ●" if self.modified else "")

    def _unsaved_then(self, then, question: str) -> None:
        """Run ``then`` now, or after saving or discarding the unsaved edits, as the user says."""
        if not self.modified:
            then()
            return

        def answered(answer: str | None) -> None:
            if answer == "discard":
                then()
            elif answer == "save":
                self._save_then(then)

        from .screens import ConfirmScreen

        self.push_screen(ConfirmScreen(question), answered)

    def _save_then(self, then=None) -> None:
        if self.path is None:
            self._ask_path(then)
            return
        try:
            backup = model.save_atomic(self.path, self.text)
        except CnncalcError as exc:
            self.notify(str(exc), severity="error")
            return
        self.saved_text = self.text
        self._update_title()
        self.notify(f"saved {self.path}" + (f" (previous version in {backup.name})" if backup else ""))
        if then is not None:
            then()

    def _ask_path(self, then=None) -> None:
        from .screens import PathScreen

        suggestion = str(self.path) if self.path else f"{self._filename().split('/')[-1]}.yaml"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.path = path
                self.doc_title = str(path)
                self._save_then(then)

        self.push_screen(PathScreen("Save as", suggestion), chosen)

    def action_save(self) -> None:
        """Save to the file (asks for a name the first time)."""
        self._save_then()

    def action_save_as(self) -> None:
        """Save under another name."""
        self._ask_path()

    def load(self, path: Path | None, text: str, title: str) -> None:
        """Edit another spec."""
        self.path = path
        self.doc_title = title
        self.initial_text = text
        self.saved_text = text if path is not None else None
        self.values = {}
        self._symbols_key = ()
        self.query_one("#symbols", Grid).remove_children()
        self.outcome = None
        self.checks = {}
        self.query_one("#editor", SpecEditor).load_text(text)
        self._update_title()
        self.recompute(now=True)

    def action_open_file(self) -> None:
        """Open a spec file (asks first about unsaved edits)."""
        from .screens import PathScreen

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            try:
                from ..source import read_text

                text = read_text(path)
            except CnncalcError as exc:
                self.notify(str(exc), severity="error")
                return
            self.load(path, text, str(path))

        self._unsaved_then(
            lambda: self.push_screen(PathScreen("Open a spec file", "", must_exist=True), chosen),
            "Save your edits before opening another file?",
        )

    def action_zoo(self) -> None:
        """Open a bundled spec (asks first about unsaved edits)."""
        from ..zoo import bundled
        from .screens import ZooScreen

        specs = bundled()

        def chosen(name: str | None) -> None:
            if name is not None:
                self.load(None, specs[name].read_text(encoding="utf-8"), f"{name} (bundled)")

        self._unsaved_then(
            lambda: self.push_screen(ZooScreen(specs), chosen), "Save your edits before opening another spec?"
        )

    def action_quit(self) -> None:
        """Quit (asks first about unsaved edits)."""
        self._unsaved_then(self.exit, "Save your edits before quitting?")

    def action_help(self) -> None:
        """Keys and panes."""
        from .screens import HelpScreen

        self.push_screen(HelpScreen())

    def action_calculator(self) -> None:
        """The one-layer calculator."""
        from .calculator import CalculatorScreen

        self.push_screen(CalculatorScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Save", "Save the spec (atomic, with a backup)", self.action_save)
        yield SystemCommand("Save as", "Save the spec under another name", self.action_save_as)
        yield SystemCommand("Open file", "Open a spec file", self.action_open_file)
        yield SystemCommand("Open from the zoo", "Open a bundled spec", self.action_zoo)
        yield SystemCommand(
            "Numbers / formulas", "Formulas of the symbols, or numbers", self.action_toggle_formulas
        )
        yield SystemCommand("Collapse blocks", "Show one level less", lambda: self.action_depth(-1))
        yield SystemCommand("Expand blocks", "Show one level more", lambda: self.action_depth(1))
        yield SystemCommand("Verify", "Run the spec through the reference kernels", self.action_verify)
        yield SystemCommand("Cancel verification", "Stop a running verification", self.action_cancel_verify)
        yield SystemCommand("Calculator", "One convolution or pooling, worked out", self.action_calculator)
        yield SystemCommand("Help", "Keys and panes", self.action_help)
