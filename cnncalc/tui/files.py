"""Files in the terminal UI: save (atomic, with a backup), save as, open, the zoo, and quitting,
each asking first about unsaved edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import CnncalcError, escape_controls
from . import model
from .widgets import SpecEditor


class Files:
    """The app's files (a mixin of :class:`~cnncalc.tui.app.CnncalcApp`)."""

    path: Path | None
    doc_title: str
    initial_text: str
    saved_text: str | None
    values: dict[str, str]
    outcome: Any
    checks: dict

    def _update_title(self) -> None:
        self.title = "cnncalc"
        self.sub_title = escape_controls(self.doc_title) + (" ●" if self.modified else "")

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
        self.outcome = None
        self.checks = {}
        self.main.query_one("#editor", SpecEditor).load_text(text)
        self._update_title()
        self.recompute(now=True)

    def action_open_file(self) -> None:
        """Open a spec file (asks first about unsaved edits)."""
        from .screens import PathScreen

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            try:
                from ..lang.source import read_text

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
        from ..lang.zoo import bundled
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
