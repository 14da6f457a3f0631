"""Dialogs: unsaved changes, a file path, the zoo, and the help."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, OptionList
from textual.widgets.option_list import Option


class ConfirmScreen(ModalScreen[str]):
    """Unsaved edits: returns ``save``, ``discard`` or ``cancel``."""

    BINDINGS: ClassVar = [Binding("escape", "choose('cancel')", "Cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Discard", id="discard", variant="error")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        """Answer with the button's id."""
        self.dismiss(event.button.id)

    def action_choose(self, answer: str) -> None:
        self.dismiss(answer)


class PathScreen(ModalScreen[Path | None]):
    """Asks for a file path (open, save as); returns it, or None when cancelled."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", must_exist: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.must_exist = must_exist

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="question")
            yield Input(value=self.value, placeholder="path/to/spec.yaml", id="path")
            yield Label("", id="path-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        """Accept the path if it is usable."""
        text = self.query_one("#path", Input).value.strip()
        p = Path(text).expanduser()
        problem = None
        if not text:
            problem = "type a path"
        elif p.is_dir():
            problem = f"{p} is a directory"
        elif self.must_exist and not p.is_file():
            problem = f"{p}: no such file"
        elif not self.must_exist and not p.parent.is_dir():
            problem = f"{p.parent}: no such directory"
        if problem:
            from rich.text import Text

            from ..errors import escape_controls

            self.query_one("#path-error", Label).update(Text(escape_controls(problem)))
            return
        self.dismiss(p)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ZooScreen(ModalScreen[str | None]):
    """The bundled specs, filtered as you type; returns the chosen name."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel"), Binding("down", "focus_list", show=False)]

    def __init__(self, specs: dict[str, Path]) -> None:
        super().__init__()
        self.specs = specs
        self.descriptions = {name: _description(path) for name, path in specs.items()}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog zoo"):
            yield Label("Open a bundled spec", classes="question")
            yield Input(placeholder="filter: resnet, mobile, examples/...", id="zoo-filter")
            yield OptionList(*self._options(""), id="zoo-list")

    def _options(self, query: str) -> list[Option]:
        words = query.lower().split()
        chosen = []
        for name, description in self.descriptions.items():
            haystack = f"{name} {description}".lower()
            if all(w in haystack for w in words):
                chosen.append(Option(f"{name:28} {description}", id=name))
        return chosen

    @on(Input.Changed, "#zoo-filter")
    def _filter(self, event: Input.Changed) -> None:
        """Show the specs matching every word typed."""
        options = self.query_one("#zoo-list", OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#zoo-filter")
    def _first(self) -> None:
        """Enter in the filter opens the highlighted match."""
        options = self.query_one("#zoo-list", OptionList)
        if options.option_count:
            index = options.highlighted or 0
            self.dismiss(options.get_option_at_index(index).id)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        """Open the spec chosen."""
        self.dismiss(event.option.id)

    def action_focus_list(self) -> None:
        self.query_one("#zoo-list", OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


def _description(path: Path) -> str:
    """The spec's ``description:`` line, read without loading the spec."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    m = re.search(r"^description:\s*(.+)$", text, re.MULTILINE)
    return m.group(1).strip() if m else ""


HELP = """\
# cnncalc

Edit the spec in the editor: the table of layers beside it (under it below 120 columns) is
recomputed as you type.
While the spec is invalid the error shows under the editor, its line is marked, and the
last good table stays, dimmed.

| key | action |
|---|---|
| ctrl+s | save (atomic; the previous version is kept as `name.yaml~`) |
| f2 | save as |
| ctrl+o | open a spec file |
| f3 | open a bundled spec (the zoo) |
| f4 | numbers / formulas (formulas leave the symbols open) |
| f6 / f7 | collapse blocks into subtotals / expand them |
| f5 | verify: run the spec through the reference kernels |
| escape | cancel a running verification |
| f8 | the one-layer calculator (f9 there fills in the course's edge-detection example) |
| f9 | hide / show the editor (the table alone, full width) |
| ctrl+t | the next pane under the table: layer, totals, breakdown |
| shift+tab, tab | move between the editor, the table, the panes, the symbols (tab indents in the editor) |
| ctrl+p | every action by name |
| ctrl+q | quit (asks when there are unsaved edits) |

**Symbols**: type a value (`224`, `3/4`) in a symbol's input; empty means its default.
**Table**: selecting a row moves the editor's cursor to the layer's line, and moving the
cursor selects the layer written there. The pane below shows the selected layer's shapes
and costs, as numbers and as formulas of the open symbols.

MACs are multiply-accumulates of conv, linear and matmul layers, bias excluded; FLOPs are
2 per MAC plus the other operations, by each layer's stated formula.
"""


class HelpScreen(ModalScreen[None]):
    """The keys and what the panes show."""

    BINDINGS: ClassVar = [Binding("escape,f1,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Markdown(HELP)
            yield Button("Close", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
