"""``cnncalc sweep``: totals over a grid of symbol values."""

from __future__ import annotations

import argparse
import sys

from . import options


def add_arguments(sub) -> None:
    w = sub.add_parser(
        "sweep",
        help="totals over a grid of symbol values, exactly, from the formulas",
        description="Tabulate params, MACs, FLOPs and activations over a grid: the spec is "
        "analysed once with the swept symbols open and its formulas evaluated at every point.",
        epilog="Example: cnncalc sweep resnet50 --range H=32:1024:32 --set W=224 --format csv",
    )
    w.add_argument("spec", help="a spec file, or the name of a bundled spec")
    w.add_argument(
        "--range",
        dest="ranges",
        action="append",
        default=[],
        required=True,
        metavar="NAME=START:STOP:STEP",
        help="values of a symbol (stop included), or NAME=V1,V2,...; repeat for a grid",
    )
    options.add_set(w)
    options.add_plugin(w)
    w.add_argument("--format", "-f", choices=("table", "json", "csv"), default="table")
    options.add_view(w)
    options.add_plot(w, "the totals as curves over the first swept symbol")


def run(args: argparse.Namespace) -> int:
    from ..analysis.sweep import parse_range, sweep
    from ..report import domain

    if args.plot is not None:  # refused before any work when it cannot be written
        from ..report.chart import check_plot

        check_plot(args.plot)
    ranges = dict(parse_range(r) for r in args.ranges)
    result = sweep(options.load(args.spec), ranges, options.assignments(args.assignments))
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(domain.sweep_dict(result), indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(domain.sweep_csv(result))
    else:
        view = options.view(args)
        options.console(view.fit_width).print(domain.sweep_render(result, view.fit_width, view.fit_units))
    if args.plot is not None:
        from ..report.chart import plot_sweep

        plot_sweep(result, args.plot)
    return 0
