"""Write again what the documentation generates: the command reference's tables (from the
parser) and the output under each command of the pages' console blocks.

    python tools/docs_update.py              # every page
    python tools/docs_update.py tutorial/lenet5.md reference/commands.md
    python tools/docs_update.py --check      # change nothing; list what is out of date

Run it after a deliberate change of what cnncalc prints, then read the diff: every change it
makes is one a reader will see. An example whose output is shown in part (a ``...`` line) is
never rewritten; it is listed when it no longer matches, to be edited by hand. The conventions
of the examples are in tests/docs_pages.py; tests/test_docs.py checks them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import docs_pages as dp  # noqa: E402


def update(page: Path, *, check: bool) -> list[str]:
    """Bring one page up to date (or, with ``check``, only say what is out of date)."""
    text = page.read_text(encoding="utf-8")
    notes = []
    if page == dp.DOCS / "reference" / "commands.md":
        new = dp.regenerate(text)
        if new != text:
            notes.append(f"{page.relative_to(ROOT)}: the option tables")
            text = new
    with tempfile.TemporaryDirectory() as folder:
        outcomes, _ = dp.run_page(page, Path(folder), doctests=False)
    lines = text.splitlines()
    # From the end, so that earlier line numbers stay valid as outputs change length.
    for o in sorted(outcomes, key=lambda o: o.example.line, reverse=True):
        if o.ok:
            continue
        if o.example.elided:
            notes.append(f"{o.where()}: shown in part (...), edit by hand: $ {o.example.command}")
            continue
        notes.append(f"{o.where()}: $ {o.example.command}")
        start = o.block.start + o.example.output_start
        end = o.block.start + o.example.output_end
        lines[start:end] = [(o.block.indent + line).rstrip() for line in o.actual]
    new_text = "\n".join(lines) + "\n"
    if not check and new_text != page.read_text(encoding="utf-8"):
        page.write_text(new_text, encoding="utf-8")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help="pages under docs/ (default: all)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    args = parser.parse_args(argv)
    pages = [dp.DOCS / p for p in args.pages] or dp.pages()
    notes = [note for page in pages for note in update(page, check=args.check)]
    for note in notes:
        print(("out of date: " if args.check else "updated: ") + note)
    return 1 if args.check and notes else 0


if __name__ == "__main__":
    sys.exit(main())
