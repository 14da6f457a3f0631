"""The terminal UI at the sizes people use: 80x24, 120x40 and 200x50.

What is checked is what the screen shows, read from the widgets' drawn lines: the table keeps
the layer's name, output shape, params and MACs whole (published figures of ResNet-50 and
LeNet-5 as oracles); the footer's keys are whole; the message under the editor never hides the
line being typed; the template names the keys the app binds.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("textual")

from cnncalc.lang.zoo import find_spec
from cnncalc.tui import model
from cnncalc.tui.app import KEYS, CnncalcApp
from cnncalc.tui.table import LayerTable
from cnncalc.tui.widgets import KeyBar, SpecEditor

from .test_pilot import settle

SIZES = [(80, 24), (120, 40), (200, 50)]


def drawn(widget) -> list[str]:
    """The lines ``widget`` draws, as text."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def row_cells(table: LayerTable, index: int) -> list[str]:
    """The cells of data row ``index`` as drawn (split at runs of two spaces or more, or at
    single spaces between numbers when the gap narrows)."""
    table.move_cursor(index)
    line = table.render_line(index - table.scroll_offset.y + 1).text
    return [c for c in re.split(r"\s{2,}", line.strip()) if c]


@pytest.mark.parametrize("size", SIZES)
async def test_resnet50_rows_show_name_shape_params_and_macs_whole(size):
    app = CnncalcApp(text=find_spec("resnet50").read_text(), title="resnet50", other_delay=0)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        table = app.query_one("#layers", LayerTable)
        assert table.size.width <= size[0]
        header = drawn(table)[0]
        for column in ("layer", "output shape", "params", "MACs"):
            assert column in header, (size, header)
        # layer1.0.conv2: a 3x3 conv, 64 -> 64 channels at 56x56: 64*64*9 = 36,864 params,
        # 36,864 * 56*56 = 115,605,504 MACs
        index = next(i for i, r in enumerate(app.row_list) if r.key == "layer1.0.conv2")
        line = " ".join(row_cells(table, index))
        assert "layer1.0.conv2" in line and "[1, 64, 56, 56]" in line, (size, line)
        assert re.search(r"(^|\s)36,864\s+115,605,504(\s|$)", line), (size, line)
        # the longest name is whole too
        index = next(i for i, r in enumerate(app.row_list) if r.key == "layer1.0.downsample.0")
        line = " ".join(row_cells(table, index))
        assert "layer1.0.downsample.0" in line and "[1, 256, 56, 56]" in line, (size, line)
        assert re.search(r"(^|\s)16,384\s+51,380,224(\s|$)", line), (size, line)


@pytest.mark.parametrize("size", SIZES)
async def test_the_footer_keys_are_whole_and_help_and_quit_always_show(size):
    app = CnncalcApp(text=find_spec("lenet5").read_text(), other_delay=0)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        bar = app.query_one("#keys", KeyBar)
        text = drawn(bar)[0]
        assert len(text.rstrip()) <= size[0]
        shown = bar.shown(bar.content_size.width)
        for key, label, _ in shown:
            assert f"{key} {label}" in text
        labels = [label for _, label, _ in shown]
        assert labels[-2:] == ["Help", "Quit"]
        assert {"Save", "Verify", "Zoo", "Calc"} <= set(labels)
        if size[0] >= 200:
            assert len(shown) == len(KEYS)


@pytest.mark.parametrize("size", SIZES)
async def test_an_error_never_hides_the_line_being_typed(size):
    text = find_spec("lenet5").read_text()
    app = CnncalcApp(text=text, other_delay=0)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        editor = app.query_one("#editor", SpecEditor)
        editor.focus()
        last = len(text.splitlines())
        editor.move_cursor((last, 0))
        await pilot.press(*"  - max_pool2d: {kernel: 64}")
        await settle(app, pilot)
        error = app.query_one("#error")
        assert error.has_class("visible")
        row = editor.cursor_location[0]
        top = editor.scroll_offset.y
        assert top <= row < top + editor.scrollable_content_region.height, (size, top, row)
        # and the message is on the screen below the editor, not over it
        assert error.region.y >= editor.region.bottom


def test_the_templates_keys_are_the_apps():
    line = next(s for s in model.TEMPLATE.splitlines() if s.startswith("# Keys:"))
    said = dict(re.findall(r"(ctrl\+\w|f\d+) ([a-z ]+?)(?:,|\.|$)", line.removeprefix("# Keys: ")))
    bound = {b.key: b.action for b in CnncalcApp.BINDINGS}
    actions = {
        "save": "save",
        "open": "open_file",
        "the zoo": "zoo",
        "verify": "verify",
        "calculator": "calculator",
        "help": "help",
    }
    assert set(said.values()) == set(actions), said
    for key, what in said.items():
        assert bound.get(key) == actions[what], (key, what)
