"""``cnncalc tui``: the terminal UI. This module stays light: textual loads in :func:`run`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(sub) -> None:
    """Register ``tui`` on the command line's subparsers."""
    t = sub.add_parser(
        "tui",
        help="edit a spec with its layer table updating as you type",
        description="A terminal UI: the spec in an editor beside its layer table (shapes, params, "
        "MACs), recomputed as you type; symbol inputs, formulas, a detail pane, verification, a "
        "one-layer calculator and the zoo. Without SPEC it starts from a small template; a SPEC "
        "that does not exist yet (ending in .yaml) is created when saved.",
    )
    t.add_argument("spec", nargs="?", help="a spec file, or the name of a bundled spec")


def resolve(spec: str | None) -> tuple[Path | None, str | None, str]:
    """(path to save to, text to edit, title) for the command line's SPEC argument.

    A file opens as itself; a bundled name opens a copy that is saved elsewhere (the zoo stays
    as shipped); a new ``.yaml`` name starts from the template and is saved there.

    Raises:
        CnncalcError: when SPEC is none of these, or cannot be read.
    """
    from ..lang.source import exists, read_text
    from ..lang.zoo import find_spec

    if spec is None:
        return None, None, "untitled"
    p = Path(spec)
    if exists(p):
        return p, read_text(p), str(p)
    if p.suffix in (".yaml", ".yml") and (exists(p.parent, "dir") or str(p.parent) == ""):
        return p, None, str(p)
    found = find_spec(spec)
    return None, read_text(found), f"{spec} (bundled)"


def _terminal() -> str | None:
    """What is not a terminal of standard input and output (None: both are)."""
    import sys

    def tty(stream) -> bool:
        try:
            return stream is not None and stream.isatty()
        except (AttributeError, ValueError, OSError):  # closed, or no file behind it
            return False

    missing = [name for name, s in (("input", sys.stdin), ("output", sys.stdout)) if not tty(s)]
    if not missing:
        return None
    return " and ".join(f"standard {m}" for m in missing)


def run(args: argparse.Namespace) -> int:
    """Run the app; returns the exit status.

    Raises:
        UsageError: when standard input or output is not a terminal (a pipe, a file, a script
            with no terminal): the app would wait for keys that never come.
    """
    path, text, title = resolve(args.spec)
    missing = _terminal()
    if missing:
        from ..errors import UsageError

        raise UsageError(
            f"tui needs a terminal, and {missing} {'is' if ' and ' not in missing else 'are'} not "
            "one (a pipe or a file); run it in a terminal, or use analyze for a table on "
            "standard output"
        )
    from ..tui.app import CnncalcApp

    CnncalcApp(path=path, text=text, title=title).run()
    return 0
