"""``cnncalc sweep``: totals over a grid of symbol values."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from . import options

#: Most ``--range`` options (one a symbol; argparse slows down with each option given).
MAX_RANGES = 64
#: Most rows a table shows (CSV and JSON take any number).
TABLE_ROWS = 100_000


class _Ranges(argparse.Action):
    """``--range`` repeated, each symbol once; refused early when given too often (argparse's
    time grows with the square of the options given)."""

    def __call__(self, parser, namespace, value, option_string=None):
        items = list(getattr(namespace, self.dest) or [])
        if len(items) >= MAX_RANGES:
            raise argparse.ArgumentError(
                self, f"given more than {MAX_RANGES} times (one for each symbol swept)"
            )
        name = value.partition("=")[0].strip()
        if name and any(item.partition("=")[0].strip() == name for item in items):
            raise argparse.ArgumentError(self, f"gives {name} twice: give each symbol's values once")
        setattr(namespace, self.dest, [*items, value])


def _max_points(text: str) -> int:
    return options.bounded_int(text, "the number of points", 10**15)


def add_arguments(sub) -> None:
    w = sub.add_parser(
        "sweep",
        help="totals over a grid of symbol values, exactly, from the formulas",
        description="Tabulate params, MACs, FLOPs and activations over a grid: the spec is "
        "analysed once with the swept symbols open and its formulas evaluated at every point, "
        "exactly, a chunk of points at a time.",
        epilog="Examples: cnncalc sweep resnet50 --range H=32:1024:32 --set W=224 --format csv | "
        "cnncalc sweep mobilenet_v1 --range alpha=1/4:1:1/4 --range H=128:224:32 "
        "--pareto max:params,macs",
    )
    w.add_argument("spec", help="a spec file, or the name of a bundled spec")
    w.add_argument(
        "--range",
        dest="ranges",
        action=_Ranges,
        default=[],
        required=True,
        metavar="NAME=START:STOP:STEP",
        help="values of a symbol (stop included), or NAME=V1,V2,...; repeat for a grid",
    )
    options.add_set(w)
    options.add_plugin(w)
    w.add_argument("--format", "-f", choices=("table", "json", "csv"), default="table")
    w.add_argument(
        "--pareto",
        metavar="OBJECTIVES",
        help="only the non-dominated designs: totals to minimise and swept symbols to maximise, "
        "comma separated, each may be prefixed min: or max: (e.g. params,macs or max:params,macs)",
    )
    w.add_argument(
        "--max-points",
        type=_max_points,
        default=None,
        metavar="N",
        help="take grids of up to N points (default 10,000,000; a sweep streams in chunks)",
    )
    options.add_view(w)
    options.add_plot(w, "the totals as curves over the first swept symbol")


def run(args: argparse.Namespace) -> int:
    from ..analysis import sweep as engine
    from ..report import domain

    if args.plot is not None:  # refused before any work when it cannot be written
        from ..report.chart import check_plot

        check_plot(args.plot)
    ranges = dict(engine.parse_range(r) for r in args.ranges)
    p = engine.plan(options.load(args.spec), ranges, options.assignments(args.assignments))
    engine.check_size(p, args.max_points or engine.MAX_POINTS)
    # every analysis (one for each value of a symbol deciding the layers) before any output:
    # a mistake that shows at one value is refused with nothing written
    p.analyse_all()
    front = None
    if args.pareto:
        from ..analysis.pareto import Front, parse_objectives

        front = Front(parse_objectives(args.pareto, p.symbols), p.symbols, p.scales)
    chunks = _progress(p.chunks(), p.size)
    if front is not None:
        for c in chunks:
            front.add(c)
        best = front.chunk()
        chunks = [best] if best is not None else []
    if args.plot is not None:  # the chunks are read twice: held
        chunks = list(chunks)
    if args.format == "csv":
        sys.stdout.write(domain.sweep_csv_header(p.symbols))
        for c in chunks:
            _write(domain.sweep_csv_bytes(c, borrowed=True))
    elif args.format == "json":
        for part in domain.sweep_json_parts(p, chunks, front.objectives if front else None):
            sys.stdout.write(part)
    if args.format != "table" and args.plot is None:
        return 0
    result = engine.collect(p, chunks)
    if args.format == "table":
        if len(result) > TABLE_ROWS:
            raise UsageError(
                f"a table of {len(result):,} rows is more than the {TABLE_ROWS:,} a table shows; "
                f"write them with --format csv (or json)"
            )
        view = options.view(args)
        title = None
        if front is not None:
            from ..analysis.pareto import describe

            title = (
                f"{p.name}: {len(result):,} non-dominated of {p.size:,} points ({describe(front.objectives)})"
            )
        options.console(view.fit_width).print(
            domain.sweep_render(result, view.fit_width, view.fit_units, title=title)
        )
    if args.plot is not None:
        from ..report.chart import plot_sweep

        plot_sweep(result, args.plot)
    return 0


def _write(data: bytes | memoryview) -> None:
    """ASCII lines to standard output, through its binary buffer when it has one, as they are
    (hundreds of megabytes a second: no copy, no text layer encoding them again). A failure to
    write is retried through the text layer, which reports it as the command line reports every
    such failure."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(bytes(data).decode("ascii"))
        return
    sys.stdout.flush()
    try:
        buffer.write(data)
    except BrokenPipeError:
        raise
    except OSError:
        sys.stdout.write(bytes(data).decode("ascii"))
        sys.stdout.flush()


def _progress(chunks, total: int):
    """The chunks, with a progress line on standard error when it is a terminal and the sweep
    takes more than a second."""
    import time

    stream = sys.stderr
    shown = False
    start = time.monotonic()
    done = 0
    try:
        tty = stream is not None and stream.isatty()
    except (OSError, ValueError):
        tty = False
    for c in chunks:
        yield c
        done += len(c)
        elapsed = time.monotonic() - start
        if tty and elapsed > 1 and done < total:
            rate = done / elapsed
            stream.write(
                f"\rsweep: {done:,} of {total:,} points ({100 * done // total}%), "
                f"{(total - done) / rate:.0f} s to go   "
            )
            stream.flush()
            shown = True
    if shown:
        stream.write("\r" + " " * 72 + "\r")
        stream.flush()
