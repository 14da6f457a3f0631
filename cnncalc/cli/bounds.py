"""``cnncalc bounds``: the valid range of each symbol."""

from __future__ import annotations

import argparse
import sys

from . import options


def add_arguments(sub) -> None:
    b = sub.add_parser(
        "bounds",
        help="the smallest and largest valid value of each symbol, and exact downsampling",
        description="For each symbol (the others at their values): the smallest value for which "
        "every layer has an output, the largest where a bound applies, the divisibility under "
        "which no downsampling layer drops a pixel, and how much input the last feature map sees.",
    )
    b.add_argument("spec", help="a spec file, or the name of a bundled spec")
    options.add_set(b)
    options.add_plugin(b)
    b.add_argument("--format", "-f", choices=("table", "json"), default="table")
    options.add_view(b)


def run(args: argparse.Namespace) -> int:
    from ..analysis.bounds import bounds
    from ..report import domain

    result = bounds(options.load(args.spec), options.assignments(args.assignments))
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(domain.bounds_dict(result), indent=2) + "\n")
    else:
        view = options.view(args)
        options.console(view.fit_width).print(domain.bounds_render(result, view.fit_width, view.fit_units))
    return 0
