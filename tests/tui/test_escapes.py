"""No control character from a spec or a file name reaches the terminal through the UI."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

ESCAPES = "\x1b[31m\u202e"  # a colour escape and a right-to-left override


async def test_the_tui_shows_escapes_escaped():
    """A key path the spec was refused for, and the title from a file name: no control character
    reaches the screen."""
    pytest.importorskip("textual")
    from cnncalc.tui.app import CnncalcApp

    text = 'input: [1, 3, 8, 8]\n"k\\e[2J\\u202e": 1\nlayers: [relu]\n'
    app = CnncalcApp(text=text, title=f"net{ESCAPES}.yaml", other_delay=0)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(3):
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
        error = str(app.query_one("#error").render())
        assert "unknown top-level key" in error
        assert "\x1b" not in error and "\u202e" not in error and "\\x1b[2J" in error
        assert "\x1b" not in app.sub_title and "\\x1b[31m" in app.sub_title
        app.notify(f"saved {ESCAPES}")
        await pilot.pause()
        assert all("\x1b" not in n.message for n in app._notifications)
