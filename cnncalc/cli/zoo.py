"""``cnncalc zoo``: the bundled specs."""

from __future__ import annotations

import argparse
import sys

from ..errors import CnncalcError
from . import options


def add_arguments(sub) -> None:
    sub.add_parser("zoo", help="list the bundled specs", description="List the bundled specs.")


def run(args: argparse.Namespace) -> int:
    from ..lang.spec import load_spec
    from ..lang.zoo import bundled

    entries = []
    for name, path in bundled().items():
        try:
            description = load_spec(path).description
        except CnncalcError:
            description = "(invalid spec)"
        entries.append((name, description))
    if not sys.stdout.isatty():  # one line a spec, for grep and scripts
        for name, description in entries:
            print(f"{name:32} {description}")
        return 0
    # In a terminal, each description wraps under its column (at spaces: never inside a number).
    from ..report.layout import wrap

    width = options.width_of()
    name_width = max(len(name) for name, _ in entries)
    room = width - name_width - 2
    for name, description in entries:
        if room < 20:  # too narrow for two columns: each description under its name
            print(name)
            for line in wrap(description, max(width - 2, 10)):
                print("  " + line)
            continue
        lines = wrap(description, room)
        print(f"{name:{name_width}}  {lines[0]}")
        for line in lines[1:]:
            print(" " * (name_width + 2) + line)
    return 0
