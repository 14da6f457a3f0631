"""Screenshots of the terminal UI for the documentation, as SVG, from textual itself.

    python tools/docs_screenshots.py            # writes docs/assets/tui/*.svg
    python tools/docs_screenshots.py --out DIR  # somewhere else

Each screenshot is the app run headless by textual's pilot (``App.run_test``) at a fixed
terminal size, driven by the keys a user would press, and exported with textual's own
``export_screenshot``: what a terminal of that size shows, not a drawing of it. The how-to guide
on the terminal UI (docs/how-to/tui.md) shows them; tests/test_docs.py checks that their text is
what the app shows now. Run this after a change of the app's layout, then look at the pictures.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "assets" / "tui"
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Shot:
    """One screenshot: the spec opened, the terminal's size, and what is done before it."""

    spec: str  # a bundled spec's name
    size: tuple[int, int]
    steps: Callable[[object], Awaitable[None]] | None = None


async def steady(pilot) -> None:
    """Every worker done, no cursor (a blinking cursor is drawn or not by the clock), and the
    screen the same twice in a row: on a busy machine a worker's result (the calculator's
    values) can reach the screen a few refreshes after the worker ends. The snapshot tests
    (tests/tui/test_snapshots.py) wait with this too."""
    from textual.widgets import Input, TextArea

    app = pilot.app
    for _ in range(3):
        await pilot.pause(0.05)
        await app.workers.wait_for_complete()
    for widget in app.screen.query("TextArea, Input"):
        if isinstance(widget, (TextArea, Input)):
            widget.cursor_blink = False
    app.screen.set_focus(None)
    await pilot.pause()
    previous = None
    for _ in range(40):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        shot = app.export_screenshot()
        if shot == previous:
            break
        previous = shot


async def _press(pilot, *keys: str) -> None:
    await steady(pilot)
    for key in keys:
        await pilot.press(key)
        await steady(pilot)


async def _select_layer(pilot, row: int) -> None:
    """The table's cursor on ``row``: the detail pane shows that layer."""
    from cnncalc.tui.table import LayerTable

    await steady(pilot)
    table = pilot.app.query_one("#layers", LayerTable)
    table.focus()
    table.move_cursor(row)
    await steady(pilot)


async def _main_screen(pilot) -> None:
    await _select_layer(pilot, 3)  # conv2: 16 filters of 5x5x6


async def _typing_error(pilot) -> None:
    """The second convolution's kernel typed as 15, larger than the 14x14 maps it reads."""
    from textual.widgets import TextArea

    await steady(pilot)
    editor = pilot.app.query_one("#editor", TextArea)
    row = next(i for i, line in enumerate(editor.text.splitlines()) if "out: 16, kernel: 5" in line)
    editor.focus()
    editor.move_cursor((row, editor.text.splitlines()[row].index("5}")))
    await pilot.press("1")
    await steady(pilot)


async def _formulas(pilot) -> None:
    await _press(pilot, "f4", "f6", "f6", "f6")  # formulas; blocks folded to the top level


async def _calculator(pilot) -> None:
    await _press(pilot, "f8", "f9")  # the calculator, filled with the course's edge detector


async def _verified(pilot) -> None:
    await _press(pilot, "f5")
    await pilot.app.workers.wait_for_complete()
    await steady(pilot)


#: The screenshots, by file name (without .svg).
SHOTS: dict[str, Shot] = {
    "tui-lenet5": Shot("lenet5", (120, 36), _main_screen),
    "tui-resnet50-80x24": Shot("resnet50", (80, 24)),
    "tui-error": Shot("lenet5", (120, 36), _typing_error),
    "tui-formulas": Shot("resnet18", (120, 36), _formulas),
    "tui-calculator": Shot("lenet5", (120, 36), _calculator),
    "tui-verified": Shot("lenet5", (120, 36), _verified),
}


async def _take(shot: Shot) -> str:
    from cnncalc.lang.zoo import find_spec
    from cnncalc.tui.app import CnncalcApp

    text = find_spec(shot.spec).read_text(encoding="utf-8")
    app = CnncalcApp(text=text, title=f"{shot.spec} (bundled)", debounce=0, other_delay=0)
    async with app.run_test(size=shot.size) as pilot:
        await steady(pilot)
        if shot.steps is not None:
            await shot.steps(pilot)
        await steady(pilot)
        return app.export_screenshot()


def write(name: str, out: Path = OUT) -> Path:
    """Take one screenshot and write it as ``out/NAME.svg``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.svg"
    path.write_text(asyncio.run(_take(SHOTS[name])), encoding="utf-8")
    return path


def write_all(out: Path = OUT) -> list[Path]:
    return [write(name, out) for name in SHOTS]


_TEXT = re.compile(
    r'<text class="terminal-[\w-]*?r\d+" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)" '
    r'clip-path="url\(#terminal-[\w-]*?line-(\d+)\)">([^<]*)</text>'
)


def svg_text(path: Path) -> list[str]:
    """The characters of a screenshot, row by row: what a reader reads in it."""
    pieces = [
        (float(x), float(length), int(line), html.unescape(text).replace("\xa0", " "))
        for x, length, line, text in _TEXT.findall(path.read_text(encoding="utf-8"))
    ]
    cell = min((length / len(text) for _, length, _, text in pieces if text), default=1.0)
    rows: dict[int, dict[int, str]] = {}
    for x, _, line, text in pieces:
        col = round(x / cell) - 1  # the first column is one cell in from the edge
        for i, ch in enumerate(text):
            rows.setdefault(line, {})[col + i] = ch
    out = []
    for n in range(max(rows, default=-1) + 1):
        cells = rows.get(n, {})
        out.append("".join(cells.get(i, " ") for i in range(max(cells, default=-1) + 1)).rstrip())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"screenshots to take: {', '.join(SHOTS)} (default: all)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write to (default: {OUT})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in SHOTS]
    if unknown:
        parser.error(f"no screenshot {', '.join(unknown)}; known: {', '.join(SHOTS)}")
    for name in args.names or SHOTS:
        print(write(name, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
