"""Re-analysing as one types: the memo of layer results gives the same analysis as a fresh one,
an analysis of text typed over stops, and a spec made huge by an edit never holds the editor."""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.core.memo import Memo, Stopped, Watched
from cnncalc.lang.spec import parse_spec
from cnncalc.lang.zoo import find_spec


def _resnet(classes: int = 1000, stage3: int = 6) -> str:
    text = find_spec("resnet50").read_text()
    return text.replace("K: {default: 1000", f"K: {{default: {classes}").replace(
        "width: 256, repeat: 6", f"width: 256, repeat: {stage3}"
    )


@pytest.mark.parametrize("symbolic", [False, True])
def test_the_memo_gives_what_a_fresh_analysis_gives(symbolic):
    memo = Memo()
    for classes, stage3 in [(1000, 6), (10, 6), (10, 2), (1000, 6), (7, 9)]:
        spec = parse_spec(_resnet(classes, stage3), "r.yaml")
        fresh = analyze(spec, symbolic=symbolic)
        kept = analyze(spec, symbolic=symbolic, memo=memo)
        assert kept.layers == fresh.layers
        assert kept.totals == fresh.totals
        assert kept.constraints == fresh.constraints and kept.warnings == fresh.warnings
    # torchvision's ResNet-50: 25,557,032 params with 1,000 classes; the fc layer alone
    # changes with the classes: 2048*K + K
    assert analyze(parse_spec(_resnet(1000), "r.yaml"), memo=memo).totals.params == 25_557_032
    assert memo.hits > memo.misses  # an edit of one line recomputes few layers


def test_a_memo_keyed_by_the_symbols_bounds():
    # the same layer and input, but H's lower bound decides whether its check holds
    text = (
        "symbols:\n  H: {default: null, min: MIN}\ninput: [1, 3, H, H]\n"
        "layers:\n  - conv2d: {out: 4, kernel: 5}\n"
    )
    memo = Memo()
    ok = analyze(parse_spec(text.replace("MIN", "5"), "a.yaml"), memo=memo)
    assert ok.constraints == ()  # H >= 5: the window fits
    open_ = analyze(parse_spec(text.replace("MIN", "1"), "a.yaml"), memo=memo)
    fresh = analyze(parse_spec(text.replace("MIN", "1"), "a.yaml"))
    assert open_.constraints == fresh.constraints != ()  # H >= 5 is now a condition


def test_an_analysis_of_text_typed_over_stops():
    spec = parse_spec(_resnet(), "r.yaml")
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 10  # the user typed again after ten layers

    with pytest.raises(Stopped):
        analyze(spec, memo=Watched(Memo(), stop))
    assert len(calls) == 11


async def test_a_huge_edit_never_holds_the_editor():
    pytest.importorskip("textual")
    from cnncalc.tui.app import CnncalcApp
    from cnncalc.tui.table import LayerTable
    from cnncalc.tui.widgets import SpecEditor

    from .test_pilot import settle

    text = _resnet()
    app = CnncalcApp(text=text, other_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        editor = app.query_one("#editor", SpecEditor)
        editor.focus()
        line = next(i for i, s in enumerate(text.splitlines()) if "width: 256, repeat: 6" in s)
        column = text.splitlines()[line].index("repeat: 6") + len("repeat: 6")
        editor.move_cursor((line, column))
        # 6 -> 6000 blocks (60,000 layers, past the limit), then back, without waiting
        await pilot.press("0", "0", "0", "backspace", "backspace", "backspace")
        assert editor.text == text  # every key was taken at once
        editor.move_cursor((0, len(text.splitlines()[0])))  # the end of the first comment
        await pilot.press(*" edited")
        await settle(app, pilot)
        table = app.query_one("#layers", LayerTable)
        assert table.row_count == 175 and not table.has_class("stale")
        assert app.outcome.analysis.totals.params == 25_557_032


async def test_an_edit_redraws_only_its_lines_and_the_editor_shows_what_a_fresh_one_shows():
    pytest.importorskip("textual")
    from cnncalc.tui.app import CnncalcApp
    from cnncalc.tui.widgets import SpecEditor

    from .test_pilot import settle

    text = _resnet()
    line = next(i for i, s in enumerate(text.splitlines()) if "K: {default: 1000" in s)
    column = text.splitlines()[line].index("1000") + 4
    drawn = []
    app = CnncalcApp(text=text, other_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        editor = app.query_one("#editor", SpecEditor)
        editor.focus()
        editor.move_cursor((line, column))
        await settle(app, pilot)
        original = editor._render_line

        def counted(y):
            drawn.append(y + editor.scroll_offset.y)
            return original(y)

        editor._render_line = counted
        await pilot.press("0")  # 1000 classes -> 10000
        await settle(app, pilot)
        assert set(drawn) == {line}, drawn  # the line typed on, nothing else
        edited = [editor.render_line(y).text for y in range(editor.size.height)]
        assert app.outcome.analysis.layers[-1].params == 2048 * 10000 + 10000
    fresh = CnncalcApp(text=text.replace("K: {default: 1000", "K: {default: 10000"), other_delay=0)
    async with fresh.run_test(size=(120, 40)) as pilot:
        await settle(fresh, pilot)
        editor = fresh.query_one("#editor", SpecEditor)
        editor.focus()
        editor.move_cursor((line, column + 1))
        await settle(fresh, pilot)
        assert [editor.render_line(y).text for y in range(editor.size.height)] == edited


async def test_the_table_redraws_the_rows_an_edit_changed_even_scrolled():
    pytest.importorskip("textual")
    from cnncalc.tui.app import CnncalcApp
    from cnncalc.tui.table import LayerTable

    from .test_pilot import settle

    text = _resnet()
    app = CnncalcApp(text=text, other_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#layers", LayerTable)
        table.move_cursor(table.row_count - 1)  # scrolled to the end: fc is in view
        await settle(app, pilot)
        app.query_one("#editor").load_text(text.replace("K: {default: 1000", "K: {default: 10"))
        await settle(app, pilot)
        fc = next(
            table.render_line(y).text
            for y in range(1, table.size.height)
            if " fc " in table.render_line(y).text
        )
        assert "20,490" in fc  # 2048*10 + 10 params
        assert "layer" in table.render_line(0).text  # the header, drawn whatever the scroll
