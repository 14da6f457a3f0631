"""``cnncalc report``: one self-contained HTML page for a reviewer, and the graph on its own."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..analysis.dtypes import DTYPES
from ..errors import UsageError
from ..lang.source import exists
from . import options

GRAPH_FORMATS = (".svg", ".dot", ".gv")


def add_arguments(sub) -> None:
    r = sub.add_parser(
        "report",
        help="an HTML page of a spec: graph, layers, kinds, memory, receptive field, symbols",
        description="Write one self-contained HTML file (it opens offline and loads nothing): the "
        "network's graph (a node per layer with its kind, output shape, params and MACs, "
        "coloured by cost, an edge per tensor; blocks folded level by level), the per-layer "
        "table (sortable), the breakdown by kind, activation memory over the layers, the "
        "receptive field and the symbols with their values. --graph writes the graph alone.",
        epilog="Examples: cnncalc report resnet50 -o audit.html | cnncalc report resnet50 --graph "
        "r50.svg --depth 2 | cnncalc report unet --graph unet.dot",
    )
    r.add_argument("spec", help=options.SPEC_HELP)
    options.add_set(r)
    options.add_strict(r)
    options.add_plugin(r)
    r.add_argument("-o", "--output", metavar="FILE", help="the HTML file to write (default: standard output)")
    r.add_argument(
        "--graph",
        metavar="FILE",
        help="write the graph alone: FILE.svg (laid out and drawn) or FILE.dot (Graphviz's DOT, "
        "blocks as clusters); - writes SVG to standard output",
    )
    r.add_argument(
        "--depth",
        type=options.depth,
        metavar="N",
        help="with --graph: fold the blocks below level N into one node each (default: every layer)",
    )
    r.add_argument(
        "--layout",
        choices=("auto", "dot", "grandalf"),
        default="auto",
        help="the layout library: Graphviz's dot (when installed; auto prefers it) or grandalf's "
        "layered layout, in pure Python (default: auto)",
    )
    r.add_argument(
        "--dtype",
        choices=tuple(DTYPES),
        default="float32",
        help="data type bytes are counted at (default: float32)",
    )


def run(args: argparse.Namespace) -> int:
    from ..core.engine import analyze

    if args.graph and args.output:
        raise UsageError("give -o FILE (the page) or --graph FILE (the graph alone), not both")
    if args.depth is not None and not args.graph:
        raise UsageError("--depth folds the graph written by --graph; the page has a view per depth")
    suffix = Path(args.graph).suffix.lower() if args.graph and args.graph != "-" else ".svg"
    if args.graph and suffix not in GRAPH_FORMATS:
        raise UsageError(f"--graph {args.graph}: write .svg or .dot (Graphviz's DOT; .gv too)")
    for target in (args.output, args.graph):
        if target and target != "-" and not exists(Path(target).parent, "dir"):
            raise UsageError(f"{target}: the folder {Path(target).parent} does not exist")
    spec = options.load(args.spec)
    analysis = analyze(spec, options.assignments(args.assignments))
    options.warn(analysis, args)
    if not analysis.concrete:
        names = ", ".join(analysis.open_symbols)
        raise UsageError(
            f"{spec.filename}: {names} {'has' if len(analysis.open_symbols) == 1 else 'have'} no value; "
            f"the report shows numbers: give {'it' if len(analysis.open_symbols) == 1 else 'them'} one "
            f"(--set {analysis.open_symbols[0]}=...)"
        )
    if args.graph:
        from ..report import graph

        if args.depth is not None and args.depth < 1:
            raise UsageError("--depth 0 leaves no graph: give 1 or more")
        view = graph.graph_view(analysis, args.depth)
        if suffix in (".dot", ".gv"):
            text = graph.to_dot(analysis, view)
        else:
            text = graph.to_svg(view, graph.layout(view, args.layout))
        _write(args.graph, text)
        return 0
    from ..report import html

    _write(args.output or "-", html.render(analysis, args.dtype, args.layout, spec))
    return 0


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
    sys.stderr.write(f"cnncalc: wrote {target} ({len(text.encode()):,} bytes)\n")
