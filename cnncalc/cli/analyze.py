"""``cnncalc analyze``: per-layer shapes, params, MACs and FLOPs of a spec."""

from __future__ import annotations

import argparse
import sys

from ..analysis.dtypes import DTYPES
from ..errors import UsageError
from . import options


def add_arguments(sub) -> None:
    a = sub.add_parser(
        "analyze",
        help="per-layer shapes, params, MACs and FLOPs of a spec",
        description="Analyse a spec: every layer's output shape, parameters, "
        "MACs and FLOPs, and the totals. Symbols take their declared defaults "
        "unless --set or --symbolic says otherwise.",
    )
    a.add_argument("spec", help=options.SPEC_HELP)
    options.add_set(a)
    options.add_strict(a)
    options.add_plugin(a)
    a.add_argument(
        "--symbolic",
        action="store_true",
        help="leave every symbol not given by --set open: results are formulas",
    )
    a.add_argument(
        "--format", "-f", choices=options.FORMATS, default="table", help="output format (default: table)"
    )
    a.add_argument(
        "--depth",
        type=options.depth,
        metavar="N",
        help="0: totals only; 1: top-level entries, each block one row with its subtotals; "
        "2: one level deeper; ... (default: every layer, indented under its blocks)",
    )
    options.add_view(a)
    a.add_argument(
        "--dtype",
        choices=tuple(DTYPES),
        default="float32",
        help="data type bytes are counted at (default: float32)",
    )
    a.add_argument(
        "--optimizer",
        choices=("sgd", "momentum", "adam"),
        default="adam",
        help="optimizer of the training estimate: its state per parameter (default: adam)",
    )
    a.add_argument(
        "--convention",
        default="cnncalc",
        metavar="NAME",
        help="count MACs as another tool does: cnncalc (default), torchvision, torchinfo, "
        "ptflops, ptflops-aten, fvcore (a model in eval mode), fvcore-train (in training mode); "
        "params, FLOPs and the training estimate stay cnncalc's",
    )
    a.add_argument(
        "--chart",
        nargs="?",
        const="macs",
        choices=("macs", "params", "memory"),
        help="per-layer bars of MACs (the default), params or activation memory, after the table",
    )
    options.add_plot(a, "per-layer bars of MACs, params and activation bytes")


def run(args: argparse.Namespace) -> int:
    from .. import report
    from ..core.engine import analyze

    if args.chart and args.format != "table":
        raise UsageError(
            f"--chart draws bars after the table; --format {args.format} has no table (--plot FILE "
            "draws them to an image)"
        )
    if args.plot is not None:  # refused before any work when it cannot be written
        from ..report.chart import check_plot

        check_plot(args.plot)
    values = options.assignments(args.assignments)
    spec = options.load(args.spec)
    analysis = _with_convention(analyze(spec, values, symbolic=args.symbolic), args.convention)
    options.warn(analysis, args)
    if args.format == "json":
        import json

        data = report.to_dict(analysis, args.dtype, args.optimizer)
        if args.convention != "cnncalc":
            data["macs_convention"] = args.convention
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(report.to_csv(analysis, args.dtype))
        if analysis.constraints:  # a CSV has no place for them; the other formats show them
            held = "; ".join(f"{c.condition} ({c.layer})" for c in analysis.constraints)
            sys.stderr.write(
                f"cnncalc: note: the formulas hold where {held}; --format json lists these "
                "conditions as constraints\n"
            )
    elif args.format == "markdown":
        sys.stdout.write(report.to_markdown(analysis, args.depth, args.dtype))
    else:
        view = options.view(args)
        console = options.console(10**5 if view.wide else view.width)
        console.print(report.render(analysis, view))
        if args.convention != "cnncalc":
            from ..analysis.conventions import DESCRIPTIONS

            console.print(f"MACs counted as {DESCRIPTIONS[args.convention]}.", style="dim")
        if args.chart:
            from ..report.chart import chart

            console.print(chart(analysis, args.chart, view.width, args.dtype))
    if args.plot is not None:
        from ..report.chart import plot_layers

        plot_layers(analysis, args.plot, args.dtype)
    return 0


def _with_convention(analysis, name: str):
    """The analysis with MACs counted as the tool ``name`` counts them."""
    from ..analysis.conventions import CONVENTIONS, apply

    if name not in CONVENTIONS:
        raise UsageError(f"--convention {name}: unknown; known: {', '.join(CONVENTIONS)}")
    return apply(analysis, name)
