"""The command palette's entries (ctrl+p): every action of the main screen by name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import SystemCommand


def system_commands(app: Any) -> Iterable[SystemCommand]:
    """The app's own commands, after textual's."""
    yield SystemCommand("Save", "Save the spec (atomic, with a backup)", app.action_save)
    yield SystemCommand("Save as", "Save the spec under another name", app.action_save_as)
    yield SystemCommand("Open file", "Open a spec file", app.action_open_file)
    yield SystemCommand("Open from the zoo", "Open a bundled spec", app.action_zoo)
    yield SystemCommand(
        "Numbers / formulas", "Formulas of the symbols, or numbers", app.action_toggle_formulas
    )
    yield SystemCommand("Collapse blocks", "Show one level less", lambda: app.action_depth(-1))
    yield SystemCommand("Expand blocks", "Show one level more", lambda: app.action_depth(1))
    yield SystemCommand("Verify", "Run the spec through the reference kernels", app.action_verify)
    yield SystemCommand("Cancel verification", "Stop a running verification", app.action_cancel_verify)
    yield SystemCommand("Calculator", "One convolution or pooling, worked out", app.action_calculator)
    yield SystemCommand("Hide / show the editor", "The table, full width", app.action_toggle_editor)
    yield SystemCommand("Layer pane", "The selected layer", lambda: app.action_next_pane("tab-layer"))
    yield SystemCommand(
        "Totals pane", "The whole network's totals", lambda: app.action_next_pane("tab-totals")
    )
    yield SystemCommand(
        "Breakdown pane",
        "MACs and params by layer category",
        lambda: app.action_next_pane("tab-breakdown"),
    )
    yield SystemCommand("Help", "Keys and panes", app.action_help)
