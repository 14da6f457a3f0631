"""The terminal UI driven through textual's pilot: state, not pixels."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from textual.widgets import Input

from cnncalc.tui.app import CnncalcApp
from cnncalc.tui.table import LayerTable
from cnncalc.tui.widgets import SpecEditor

SIZE = (120, 36)

# A 1x3x8x8 input; the conv keeps 8x8 (padding 1): 8*8*16 outputs x 3*3*3 taps = 27,648 MACs.
SMALL = """\
name: small
symbols:
  H: {default: 8, min: 4}
input: [1, 3, H, H]
layers:
  - conv2d: {out: 16, kernel: 3, padding: 1, name: conv}
  - relu: {name: act}
  - max_pool2d: {kernel: 2, name: pool}
"""


async def settle(app, pilot) -> None:
    """Let pending timers fire and the workers finish."""
    for _ in range(3):
        await pilot.pause(0.02)
        await app.workers.wait_for_complete()
    await pilot.pause()


def cell(app, row: int, column: str) -> str:
    return app.query_one("#layers", LayerTable).cell(row, column)


async def test_typing_updates_the_table():
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.query_one("#layers", LayerTable).row_count == 3
        assert cell(app, 0, "MACs") == "27,648"
        editor = app.query_one("#editor", SpecEditor)
        editor.focus()
        # out: 16 -> 8 by typing over the "16": half the MACs, 8*8*8*27 = 13,824
        text = "  - conv2d: {out: 16, kernel: 3, padding: 1, name: conv}"
        line, column = SMALL.splitlines().index(text), text.index("16")
        editor.selection = ((line, column), (line, column + 2))
        await pilot.press("8")
        await settle(app, pilot)
        assert cell(app, 0, "MACs") == "13,824"
        assert cell(app, 0, "output shape") == "[1, 8, 8, 8]"
        # a new line adds a layer
        editor.move_cursor((len(SMALL.splitlines()), 0))
        await pilot.press(*"  - flatten")
        await settle(app, pilot)
        assert app.query_one("#layers", LayerTable).row_count == 4
        assert cell(app, 3, "output shape") == "[1, 128]"  # 8 channels x 4 x 4


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        ("  - conv2d: {out: [\n", 10, "invalid YAML: did not find expected node content"),  # found at the end
        ("  - linear: {out: 10**10**10}\n", 9, "exponent 10000000000 is too large"),
        ("  - relu: {repeat: 100000}\n", 9, "repeat = 100000 is too large"),
        ("  - max_pool2d: {kernel: 64}\n", 9, "the window height 64 must fit in the padded input height 4"),
    ],
)
async def test_invalid_edit_shows_the_error_and_keeps_the_table(edit, line, message):
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        editor = app.query_one("#editor", SpecEditor)
        editor.focus()
        editor.move_cursor((len(SMALL.splitlines()), 0))
        editor.insert(edit)
        await settle(app, pilot)
        error = app.query_one("#error")
        assert error.has_class("visible")
        assert str(error.render()).startswith(f"line {line}, column ")
        assert message in str(error.render())
        assert editor.error_line == line - 1
        table = app.query_one("#layers", LayerTable)
        assert table.has_class("stale")
        assert table.row_count == 3 and cell(app, 0, "MACs") == "27,648"
        # undoing the edit brings the table back
        editor.undo()
        await settle(app, pilot)
        assert not error.has_class("visible") and editor.error_line is None
        assert not table.has_class("stale")


async def test_a_warning_is_shown_whole_under_the_editor_and_counted_in_the_status():
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        status, area = app.query_one("#status"), app.query_one("#error")
        assert "warning" not in str(status.render())
        assert not area.has_class("visible")
        editor = app.query_one("#editor", SpecEditor)
        editor.focus()
        editor.move_cursor((len(SMALL.splitlines()), 0))
        editor.insert("  - max_pool2d: {kernel: 1}\n")
        await settle(app, pilot)
        line = len(SMALL.splitlines()) + 1
        assert str(status.render()).endswith(" · 1 warning")
        message = (
            f"line {line}: layer 'maxpool2' (max_pool2d) has no effect: its output is its input "
            "[1, 16, 4, 4] (kernel 1, stride 1)"
        )
        assert str(area.render()) == message  # brackets and all: not read as markup
        assert area.has_class("visible") and area.has_class("warning")
        assert not app.query_one("#layers", LayerTable).has_class("stale")  # the table is current
        await pilot.click("#info Tab#--content-tab-tab-totals")
        await settle(app, pilot)
        assert message in str(app.query_one("#totals").render())
        # Undone, the warning goes.
        editor.undo()
        await settle(app, pilot)
        assert "warning" not in str(status.render())
        assert not area.has_class("visible") and not area.has_class("warning")


async def test_the_status_line_never_cuts_a_number():
    """At every terminal width each number the status shows is whole: exact, or in units that
    read back to it (4,089,184,256 = 4.09 G to the rounding shown); from 80 columns up the
    MACs are always there. Below, what does not fit is left out whole, marked by "…"."""
    from cnncalc.lang.zoo import find_spec

    text = find_spec("resnet50").read_text()
    shown = {}
    for width in (60, 80, 100, 120, 160, 200):
        app = CnncalcApp(text=text, debounce=0, other_delay=0)
        async with app.run_test(size=(width, 30)) as pilot:
            await settle(app, pilot)
            await settle(app, pilot)  # the layout of the width's breakpoint done
            status = app.query_one("#status")
            out = str(status.render())
            assert len(out) <= status.content_size.width
            shown[width] = out
    for width, out in shown.items():
        items = [i for i in out.removesuffix("…").strip().split(" · ") if i]
        assert width < 80 or any(i.endswith(" MACs") for i in items), (width, out)
        for item in items:
            value, _, what = item.rpartition(" ")
            assert what in ("layers", "params", "MACs"), (width, out)
            expected = {"layers": 175, "params": 25_557_032, "MACs": 4_089_184_256}[what]
            if "," in value or value.isdigit():
                assert int(value.replace(",", "")) == expected, (width, out)
            else:
                number, unit = value.split(" ")
                scale = {"k": 10**3, "M": 10**6, "G": 10**9}[unit]
                assert abs(float(number) * scale - expected) <= 0.005 * scale, (width, out)
    assert shown[200] == "175 layers · 25,557,032 params · 4,089,184,256 MACs"
    # below 120 columns the table (and its status line) takes the whole width
    assert shown[80] == "175 layers · 25,557,032 params · 4,089,184,256 MACs"
    assert shown[60] == "25.56 M params · 4.09 G MACs"


async def test_a_bug_in_the_engine_is_shown_not_fatal(monkeypatch):
    from cnncalc.tui import model

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        monkeypatch.setattr(model, "compute", broken)
        app.query_one("#editor", SpecEditor).insert("# a comment\n")
        await settle(app, pilot)
        error = str(app.query_one("#error").render())
        assert "internal error while analysing: ZeroDivisionError: boom" in error
        assert app.query_one("#layers", LayerTable).row_count == 3


async def test_symbol_inputs_change_the_numbers():
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        field = app.query_one("#symbol-H", Input)
        assert field.placeholder == "8"
        field.value = "16"
        await settle(app, pilot)
        assert cell(app, 0, "MACs") == f"{16 * 16 * 16 * 27:,}"
        assert cell(app, 2, "output shape") == "[1, 16, 8, 8]"
        field.value = "2"  # below the declared minimum 4
        await settle(app, pilot)
        assert field.has_class("invalid")
        assert "H must be in [4, inf]" in str(app.query_one("#error").render())
        assert cell(app, 0, "MACs") == f"{16 * 16 * 16 * 27:,}"  # the last good table stays


async def test_formulas_toggle():
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        assert cell(app, 0, "MACs") == "432*H**2"  # 16 filters x 27 taps per position, H*H positions
        assert cell(app, 2, "output shape") == "[1, 16, floor(H/2), floor(H/2)]"


async def test_row_and_cursor_follow_each_other():
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one("#layers", LayerTable)
        editor = app.query_one("#editor", SpecEditor)
        table.focus()
        await pilot.press("down", "down")
        await settle(app, pilot)
        assert table.cursor_row == 2
        pool_line = SMALL.splitlines().index("  - max_pool2d: {kernel: 2, name: pool}")
        assert editor.cursor_location[0] == pool_line
        assert "pool" in str(app.query_one("#detail").render())
        editor.focus()
        editor.move_cursor((SMALL.splitlines().index("  - relu: {name: act}"), 4))
        await settle(app, pilot)
        assert table.cursor_row == 1


async def test_depth_collapses_blocks():
    from cnncalc.lang.zoo import find_spec

    app = CnncalcApp(text=find_spec("resnet18").read_text(), debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one("#layers", LayerTable)
        every = table.row_count
        for _ in range(5):  # collapse level after level, down to one row per stage
            await pilot.press("f6")
            await settle(app, pilot)
        assert app.depth == 1
        keys = [row.key for row in app.row_list]
        assert "layer1" in keys and "layer4" in keys and table.row_count < every
        layer1 = next(row for row in app.row_list if row.key == "layer1")
        expected = sum(r.macs for r in app.outcome.analysis.layers if r.name.startswith("layer1."))
        assert layer1.macs == expected


async def test_quit_with_unsaved_edits_asks(tmp_path):
    from cnncalc.tui.screens import ConfirmScreen

    path = tmp_path / "net.yaml"
    path.write_text(SMALL)
    app = CnncalcApp(path=path, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.query_one("#editor", SpecEditor).insert("# changed\n")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # cancel: still editing
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#discard")
        await pilot.pause()
    assert path.read_text() == SMALL  # discarded, never written


async def test_save_is_atomic_and_keeps_a_backup(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(SMALL)
    app = CnncalcApp(path=path, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.query_one("#editor", SpecEditor).insert("# changed\n")
        assert app.modified
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not app.modified
    assert path.read_text() == "# changed\n" + SMALL
    assert (tmp_path / "net.yaml~").read_text() == SMALL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "net.yaml~"]  # no temporary left


def test_save_atomic_keeps_the_mode_and_gives_new_files_the_default(tmp_path):
    import os
    import stat

    from cnncalc.tui.model import save_atomic

    old = tmp_path / "old.yaml"
    old.write_text("a")
    old.chmod(0o640)
    assert save_atomic(old, "b") == tmp_path / "old.yaml~"
    assert stat.S_IMODE(old.stat().st_mode) == 0o640 and old.read_text() == "b"
    new = tmp_path / "new.yaml"
    assert save_atomic(new, "c") is None
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~mask


def test_save_atomic_never_leaves_a_half_file(tmp_path, monkeypatch):
    import os

    from cnncalc.tui.model import save_atomic

    path = tmp_path / "net.yaml"
    path.write_text("old")

    def failing_replace(src, dst):
        if str(dst) == str(path):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    real_replace = os.replace
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(Exception, match="cannot be saved"):
        save_atomic(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "net.yaml~"]


async def test_verify_marks_rows():
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f5")
        await settle(app, pilot)
        assert [cell(app, i, "check") for i in range(3)] == ["ok", "ok", "ok"]
        assert app.checks == {"conv": True, "act": True, "pool": True}


async def test_calculator_edge_detection():
    import numpy as np

    from cnncalc.tui.calculator import EXAMPLE_FILTER, EXAMPLE_IMAGE, CalculatorScreen

    image = np.array([[float(v) for v in line.split()] for line in EXAMPLE_IMAGE.splitlines()])
    filt = np.array([[float(v) for v in line.split()] for line in EXAMPLE_FILTER.splitlines()])
    windows = np.lib.stride_tricks.sliding_window_view(image, (3, 3))
    first_row = np.einsum("ijkl,kl->ij", windows, filt)[0].astype(int).tolist()
    assert first_row == [-5, -4, 0, 8]

    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, CalculatorScreen)
        await settle(app, pilot)
        assert str(app.screen.query_one("#calc-result").render()).startswith("10x11")
        await pilot.press("f9")
        await settle(app, pilot)
        values = str(app.screen.query_one("#calc-values").render()).splitlines()
        assert values[0] == "output values, 4x4"
        assert [int(v) for v in values[1].split()] == first_row


def test_verify_reports_each_kernel_compiled_and_stops_when_asked():
    from cnncalc.analysis.verify import verify
    from cnncalc.core.engine import analyze
    from cnncalc.lang.spec import parse_spec

    class Stop(Exception):
        pass

    seen = []

    def progress(phase, done, total, layer):
        seen.append((phase, done, total))
        if phase == "compile" and done == 2:
            raise Stop("stopped at the second kernel")

    with pytest.raises(Stop, match="stopped at the second kernel"):
        verify(analyze(parse_spec(SMALL, "small.yaml")), progress=progress)
    assert [(phase, done) for phase, done, _ in seen] == [("compile", 0), ("compile", 1), ("compile", 2)]
    assert seen[0][2] > 2  # one step per kernel, and no layer run


async def test_verify_can_be_cancelled():
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f5")
        await pilot.press("escape")
        await settle(app, pilot)
        assert not app.query_one("#verify-bar").has_class("running")
        # cancelled before the end (no marks), or finished first on a warm cache (all marked)
        assert app.checks in ({}, {"conv": True, "act": True, "pool": True})


async def test_detail_formulas_stay_those_of_the_table_shown():
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "= [1, 16, H, H]" in str(app.query_one("#detail").render())
        editor = app.query_one("#editor", SpecEditor)
        text = "  - conv2d: {out: 16, kernel: 3, padding: 1, name: conv}"
        line, column = SMALL.splitlines().index(text), text.index("3,")
        editor.selection = ((line, column), (line, column + 1))
        editor.insert("30")  # too large for H = 8 (an error), valid for H >= 28 (a formula)
        await settle(app, pilot)
        assert app.query_one("#error").has_class("visible")
        detail = str(app.query_one("#detail").render())
        assert "= [1, 16, H, H]" in detail and "H - 27" not in detail


def test_command_line_spec_argument(tmp_path, run_cli):
    from cnncalc.cli.tui import resolve

    mine = tmp_path / "mine.yaml"
    mine.write_text(SMALL)
    assert resolve(str(mine)) == (mine, SMALL, str(mine))
    assert resolve(str(tmp_path / "new.yaml")) == (tmp_path / "new.yaml", None, str(tmp_path / "new.yaml"))
    path, text, title = resolve("lenet5")
    assert path is None and title == "lenet5 (bundled)" and "conv2d" in text  # saved elsewhere
    assert resolve(None) == (None, None, "untitled")
    code, _, err = run_cli("tui", "nosuchnet")
    assert code == 2 and "nosuchnet: no such file, and no bundled spec of that name" in err


async def test_a_narrow_table_never_shows_part_of_a_number():
    # At 80 columns the table has the whole width: LeNet-5's columns all fit. At 60, ResNet-50's
    # do not: the kind and # columns go first, the gap narrows, and a column the view would
    # still cut (MACs here) is left blank rather than shown in part.
    from cnncalc.lang.zoo import find_spec

    app = CnncalcApp(text=find_spec("lenet5").read_text(), debounce=0, other_delay=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#layers", LayerTable)
        conv1 = table.render_line(1).text  # conv1: 156 params, 6*28*28 outputs x 25 taps MACs
        assert "conv2d" in conv1 and "156" in conv1 and f"{6 * 28 * 28 * 25:,}" in conv1, conv1
    app = CnncalcApp(text=find_spec("resnet50").read_text(), debounce=0, other_delay=0)
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#layers", LayerTable)
        header = table.render_line(0).text
        assert "kind" not in header and "layer" in header and "params" in header
        conv1 = table.render_line(1).text  # 64*3*7*7 = 9,408 params; 9,408 * 112*112 MACs
        assert "9,408" in conv1
        macs = f"{9408 * 112 * 112:,}"
        assert macs in conv1 or macs[:3] not in conv1, conv1


# A convolution (1x3x8x8 -> 1x4x8x8: 8*8*4 outputs x 3*3*3 taps = 6,912 MACs, 4*27 + 4 = 112
# params), an operator of unknown cost, a ReLU.
OPAQUE = """\
name: withopaque
input: [1, 3, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, name: blk.conv}
  - opaque: {op: Einsum, shape: [1, 4, 8, 8], name: blk.mix}
  - relu: {name: act}
"""


async def test_an_opaque_layer_shows_its_unknown_cost_and_is_not_verified():
    app = CnncalcApp(text=OPAQUE, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert [cell(app, i, "MACs") for i in range(3)] == ["6,912", "?", "0"]
        assert cell(app, 1, "params") == "?"
        app.depth = 1
        app._fill_table()
        assert cell(app, 0, "MACs") == "6,912 + ?"  # the block's subtotal leaves blk.mix out
        assert cell(app, 0, "params") == "112 + ?"
        app.depth = 0
        app._fill_table()
        await pilot.press("f5")
        await settle(app, pilot)
        assert [cell(app, i, "check") for i in range(3)] == ["ok", "not verified (opaque)", "ok"]
        assert app.checks == {"blk.conv": True, "blk.mix": None, "act": True}


@pytest.mark.parametrize(
    ("width", "shown"),
    [
        (0, "175 layers · 4,089,184,256 MACs · 2 warnings"),  # not laid out yet: the fullest
        (60, "175 layers · 4,089,184,256 MACs · 2 warnings"),
        (44, "175 layers · 4,089,184,256 MACs · 2 warnings"),
        (43, "4.09 G MACs · 2 warnings"),
        (24, "4.09 G MACs · 2 warnings"),
        (23, "4.09 G MACs …"),
        (13, "4.09 G MACs …"),
        (12, "…"),
        (1, "…"),
    ],
)
def test_a_status_shows_the_fullest_form_that_fits_and_cuts_only_between_items(width, shown):
    from cnncalc.tui.widgets import fitting

    forms = ("175 layers · 4,089,184,256 MACs · 2 warnings", "4.09 G MACs · 2 warnings")
    assert fitting(forms, width) == shown


def test_the_status_says_when_totals_leave_out_a_layer_of_unknown_cost():
    """One opaque layer (tests/test_unknown_cost.py's spec): every count is marked ``+ ?`` in
    every form, and the fullest says which layers are left out."""
    from cnncalc.core.engine import analyze
    from cnncalc.lang.spec import parse_spec
    from cnncalc.tui.widgets import status_forms

    from ..test_unknown_cost import SPEC

    forms = status_forms(analyze(parse_spec(SPEC, "withopaque.yaml")))
    params, macs = 112 + 10, 6_912 + 512  # the two convolutions, counted by hand there
    assert forms[0] == f"4 layers · {params} + ? params · {macs:,} + ? MACs · 1 layer of unknown cost"
    for form in forms:
        assert all(" + ? " in item for item in form.split(" · ") if item.endswith(("params", "MACs")))
    assert forms[-1] == f"{macs:,} + ? MACs"


async def test_the_panes_are_reached_from_the_keyboard():
    """ctrl+t goes Layer -> Totals -> Breakdown -> Layer, from the editor too (tab indents there)."""
    app = CnncalcApp(text=SMALL, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.focused is app.query_one("#editor")
        tabs = app.query_one("#info")
        assert tabs.active == "tab-layer"
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert tabs.active == "tab-totals"
        assert "27,648" in str(app.query_one("#totals").render())  # SMALL's MACs, filled on showing
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert tabs.active == "tab-breakdown"
        import io

        from rich.console import Console

        console = Console(file=io.StringIO(), width=100)
        console.print(app.query_one("#breakdown").content)
        assert "conv2d 3x3" in console.file.getvalue()  # the breakdown, filled on showing
        await pilot.press("ctrl+t")
        assert tabs.active == "tab-layer"
        assert app.query_one("#editor").text == SMALL  # nothing typed into the spec


DERIVED = """\
name: derived
symbols:
  alpha: {default: 1, type: rational}
  C0: {default: "make_divisible(32*alpha, 8)", doc: the stem's width}
input: [1, 3, 8, 8]
layers:
  - conv2d: {out: C0, kernel: 1, name: stem}
"""


async def test_a_derived_symbol_shows_the_value_it_takes_and_its_expression():
    app = CnncalcApp(text=DERIVED, debounce=0, other_delay=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        c0 = app.query_one("#symbol-C0", Input)
        assert c0.placeholder == "32"
        assert "make_divisible(32*alpha, 8)" in str(c0.tooltip)
        # alpha = 3/4: 32*3/4 = 24, already a multiple of 8
        app.query_one("#symbol-alpha", Input).value = "0.75"
        await settle(app, pilot)
        assert c0.placeholder == "24"
        assert cell(app, 0, "output shape") == "[1, 24, 8, 8]"
        assert cell(app, 0, "params") == f"{24 * 3 + 24}"
        c0.value = "40"  # a value typed in overrides the derived one
        await settle(app, pilot)
        assert cell(app, 0, "output shape") == "[1, 40, 8, 8]"
