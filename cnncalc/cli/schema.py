"""``cnncalc schema``: the JSON Schema of spec files."""

from __future__ import annotations

import argparse
import sys

from . import options


def add_arguments(sub) -> None:
    s = sub.add_parser(
        "schema",
        help="print the JSON Schema of spec files",
        description="Print the JSON Schema of spec files, for editors.",
    )
    s.add_argument(
        "--indent", type=options.indent, default=2, help=f"0 to {options.MAX_INDENT} spaces (default 2)"
    )


def run(args: argparse.Namespace) -> int:
    import json

    from ..lang.schema import spec_schema

    sys.stdout.write(json.dumps(spec_schema(), indent=args.indent) + "\n")
    return 0
