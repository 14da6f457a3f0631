"""``cnncalc check``: specs against budgets (params, MACs, FLOPs, activations), as a gate.

Exit status 0 when every limit holds, 1 when one is over (with what is over and by how much),
2 for a mistake in the input or a limit that cannot be decided, as every command.
"""

from __future__ import annotations

import argparse
import sys

from ..analysis.dtypes import DTYPES
from ..errors import CnncalcError, UsageError
from . import options

#: The --max-* options: (option, metric, what it limits).
LIMITS = (
    ("--max-params", "params", "learnable parameters"),
    ("--max-macs", "macs", "multiply-accumulates"),
    ("--max-flops", "flops", "floating-point operations"),
    ("--max-activations", "activations", "elements of every layer output, summed"),
    ("--max-peak-bytes", "peak_bytes", "the inference peak of activation memory at --dtype, in bytes"),
)
FORMATS = ("table", "json", "junit", "github")


def add_arguments(sub) -> None:
    c = sub.add_parser(
        "check",
        help="check specs against budgets: exit 1 when a limit is over",
        description="Check each spec's totals against limits, exactly (4.1G is 4,100,000,000): the "
        "limits given here and those declared in the spec's budget: section. Sizes are the "
        "spec's defaults, --set, and a declared budget's own at:. A symbol left open (--open, "
        "or no default) must keep the total within the limit over its whole range; that is "
        "proved or refused, never sampled. Exit status: 0 within every limit, 1 over one, 2 "
        "for a mistake or a limit that cannot be decided.",
        epilog="Examples: cnncalc check resnet50 --max-params 26M --max-macs 4.1G | cnncalc check "
        "specs/*.yaml --format github | cnncalc check my.yaml --open H=32:224 --max-macs 4.1G",
    )
    c.add_argument("specs", nargs="+", metavar="SPEC", help="spec files or names of bundled specs")
    for option, _metric, what in LIMITS:
        c.add_argument(
            option,
            metavar="N",
            help=f"at most N {what}"
            + (" (512MiB, 64e6)" if option == "--max-peak-bytes" else " (26M, 4.1G, 4100000000)"),
        )
    options.add_set(c)
    options.add_strict(c)
    c.add_argument(
        "--open",
        action="append",
        default=[],
        metavar="NAME[=LOW:HIGH]",
        help="leave a symbol open: the --max-* limits must hold for every value in its declared "
        "range, or in LOW:HIGH (e.g. --open H=32:224 --open W=32:224); may be repeated",
    )
    c.add_argument(
        "--dtype",
        choices=tuple(DTYPES),
        default="float32",
        help="data type of --max-peak-bytes and of a budget's peak_bytes (default: float32)",
    )
    c.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        default="table",
        help="table (default), json, junit (JUnit XML, one test case per limit) or github "
        "(annotations of a GitHub Actions run, at the budget's line)",
    )
    c.add_argument(
        "--width",
        type=options.width,
        metavar="N",
        help="lay the table out for N columns (default: the terminal's width; when output is not "
        "a terminal, $COLUMNS, else 120); narrower than the table, one paragraph per limit",
    )
    options.add_plugin(c)


def run(args: argparse.Namespace) -> int:
    from ..analysis.budget import check
    from ..core.engine import analyze
    from ..lang.budget import Budget, parse_amount

    values = options.assignments(args.assignments)
    limits = {}
    for option, metric, _ in LIMITS:
        raw = getattr(args, option[2:].replace("-", "_"))
        if raw is not None:
            try:
                limits[metric] = parse_amount(raw, metric)
            except ValueError as exc:
                raise UsageError(f"{option} {raw}: {exc}") from None
    opened = _open(args.open)
    if opened and not limits:
        raise UsageError("--open applies to the --max-* limits: give at least one (e.g. --max-macs 4.1G)")
    results = []
    for name in args.specs:
        spec = options.load(name)
        for n in opened:
            if n not in spec.symbols:
                raise UsageError(f"--open {n}: {spec.filename} declares no symbol {n!r}")
        options.warn(analyze(spec, values), args)
        budgets = list(spec.budgets)
        if limits:
            budgets.insert(0, Budget(limits, {}, opened, "command line"))
        results.append((spec, check(spec, tuple(budgets), values, args.dtype)))
    from ..report import budget as render

    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(render.to_dict(results), indent=2) + "\n")
    elif args.format == "junit":
        sys.stdout.write(render.junit(results))
    elif args.format == "github":
        sys.stdout.write(render.github(results))
    else:
        width = options.width_of(args)
        options.console(width).print(render.table(results, width))
    for spec, verdicts in results:
        if not verdicts:
            sys.stderr.write(
                f"cnncalc: note: {spec.filename} has no budget "
                "(declare one under budget:, or give --max-...)\n"
            )
    return 1 if any(v.over for _, vs in results for v in vs) else 0


def _open(items: list[str]) -> dict:
    """``["H=32:224", "W"]`` -> {H: (32, 224), W: (None, None)}."""
    from ..lang.expr import parse

    out = {}
    for item in items:
        name, eq, span = item.partition("=")
        name = name.strip()
        if not name.isidentifier():
            raise UsageError(f"--open expects NAME or NAME=LOW:HIGH, found {item!r}")
        if name in out:
            raise UsageError(f"--open gives {name} twice")
        if not eq:
            out[name] = (None, None)
            continue
        low, colon, high = span.partition(":")
        try:
            bounds = tuple(parse(v.strip()).constant for v in (low, high)) if colon else (None,)
        except CnncalcError:
            bounds = (None,)
        if len(bounds) != 2 or None in bounds:
            raise UsageError(f"--open {item}: a range is LOW:HIGH of numbers, such as H=32:224")
        if bounds[1] < bounds[0]:
            raise UsageError(f"--open {item}: the range is empty")
        out[name] = bounds
    return out
