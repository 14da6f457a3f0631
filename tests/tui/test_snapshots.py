"""Screenshots of the main screens at a fixed size (pytest-textual-snapshot; SVGs in __snapshots__).

Update them after a deliberate change of the layout with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_textual_snapshot")

from textual.widgets import TextArea

from cnncalc.tui.app import CnncalcApp

from ..helpers import screenshots_tool
from .test_pilot import SMALL

SIZE = (120, 36)

#: The wait before each screenshot: the documentation's screenshots wait the same way.
_steady = screenshots_tool().steady


def _app(text: str = SMALL, title: str = "small.yaml") -> CnncalcApp:
    return CnncalcApp(text=text, title=title, debounce=0, other_delay=0)


def test_main_screen(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_steady)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)])
def test_resnet50_at_the_common_sizes(snap_compare, size):
    """80x24: the editor above the table, whose name, shape, params and MACs are whole; wider:
    side by side, the kind and the row number back."""
    from cnncalc.lang.zoo import find_spec

    app = _app(find_spec("resnet50").read_text(), "resnet50")
    assert snap_compare(app, terminal_size=size, run_before=_steady)


def test_an_error_at_80x24_keeps_the_line_typed_in_view(snap_compare):
    from cnncalc.lang.zoo import find_spec

    text = find_spec("lenet5").read_text()

    async def break_it(pilot):
        await _steady(pilot)
        editor = pilot.app.query_one("#editor", TextArea)
        editor.focus()
        editor.move_cursor((len(text.splitlines()), 0))
        await pilot.press(*"  - max_pool2d: {kernel: 64}")
        await _steady(pilot)

    assert snap_compare(_app(text, "lenet5"), terminal_size=(80, 24), run_before=break_it)


def test_invalid_spec_keeps_the_table_dimmed(snap_compare):
    async def break_it(pilot):
        await _steady(pilot)
        editor = pilot.app.query_one("#editor", TextArea)
        editor.move_cursor((len(SMALL.splitlines()), 0))
        editor.insert("  - max_pool2d: {kernel: 64}\n")
        await _steady(pilot)

    app = _app()
    assert snap_compare(app, terminal_size=SIZE, run_before=break_it)


def test_formulas_collapsed_resnet(snap_compare):
    from cnncalc.lang.zoo import find_spec

    async def collapse(pilot):
        await _steady(pilot)
        pilot.app.depth = 1
        pilot.app.formulas = True
        await _steady(pilot)

    app = _app(find_spec("resnet18").read_text(), "resnet18")
    assert snap_compare(app, terminal_size=SIZE, run_before=collapse)


def test_calculator_screen(snap_compare):
    async def example(pilot):
        await _steady(pilot)
        await pilot.press("f8")
        await _steady(pilot)
        await pilot.press("f9")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=example)


def test_help_screen(snap_compare):
    async def open_help(pilot):
        await _steady(pilot)
        await pilot.press("f1")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=open_help)


def test_zoo_screen(snap_compare):
    async def open_zoo(pilot):
        await _steady(pilot)
        await pilot.press("f3")
        await pilot.press(*"resnet")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=open_zoo)
