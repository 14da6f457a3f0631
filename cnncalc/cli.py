"""The ``cnncalc`` command line.

Each command parses its arguments, calls the engine, and prints what the report module renders.
A mistake in the user's input (a :class:`~cnncalc.errors.CnncalcError`) prints one message and
exits with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .errors import CnncalcError, UsageError

FORMATS = ("table", "json", "csv", "markdown")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnncalc",
        description="Shapes, parameters, MACs and FLOPs of convolutional networks, derived "
        "exactly (as numbers or formulas) from a spec file.",
        epilog="Examples: cnncalc analyze vgg16 | cnncalc analyze my.yaml --set H=160 W=160 "
        "--format json | cnncalc analyze resnet18 --symbolic",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("analyze", help="per-layer shapes, params, MACs and FLOPs of a spec",
                       description="Analyse a spec: every layer's output shape, parameters, "
                       "MACs and FLOPs, and the totals. Symbols take their declared defaults "
                       "unless --set or --symbolic says otherwise.")
    a.add_argument("spec", help="a spec file, or the name of a bundled spec (vgg16, lenet5, ...)")
    _add_set(a)
    a.add_argument("--symbolic", action="store_true",
                   help="leave every symbol not given by --set open: results are formulas")
    a.add_argument("--format", "-f", choices=FORMATS, default="table",
                   help="output format (default: table)")

    c = sub.add_parser("compare", help="two designs side by side, with ratios",
                       description="Compare two specs: totals side by side, the ratio B/A of "
                       "each (a formula when symbols are open), and MACs and params per layer "
                       "category. --set applies to every spec that declares the symbol.")
    c.add_argument("spec_a", metavar="A", help="the reference design (spec file or bundled name)")
    c.add_argument("spec_b", metavar="B", help="the design compared with it")
    _add_set(c)
    c.add_argument("--symbolic", action="store_true",
                   help="leave every symbol not given by --set open: ratios are formulas")
    c.add_argument("--format", "-f", choices=("table", "json", "markdown"), default="table")

    s = sub.add_parser("schema", help="print the JSON Schema of spec files",
                       description="Print the JSON Schema of spec files, for editors.")
    s.add_argument("--indent", type=int, default=2)

    sub.add_parser("zoo", help="list the bundled specs", description="List the bundled specs.")
    return p


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="assignments", action="extend", nargs="+", default=[],
                   metavar="NAME=VALUE", help="give symbols values, e.g. --set H=160 W=160 alpha=0.5")


def _assignments(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise UsageError(f"--set expects NAME=VALUE, found {item!r}"
                             + (" (put the spec before --set)" if not eq else ""))
        name = name.strip()
        if name in out:
            raise UsageError(f"--set gives {name} twice")
        out[name] = value.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _COMMANDS[args.command](args)
    except CnncalcError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        return 130


def _error(message: str) -> None:
    print(f"cnncalc: error: {message}", file=sys.stderr)


def _console():
    from rich.console import Console

    # Piped output is read in files and editors: give tables room rather than 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=160)


def cmd_analyze(args: argparse.Namespace) -> int:
    from . import report
    from .engine import analyze
    from .spec import load_spec
    from .zoo import find_spec

    values = _assignments(args.assignments)
    spec = load_spec(find_spec(args.spec))
    analysis = analyze(spec, values, symbolic=args.symbolic)
    _emit(analysis, args.format, report)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from . import compare as cmp
    from . import report
    from .engine import analyze
    from .spec import load_spec
    from .zoo import find_spec

    values = _assignments(args.assignments)
    specs = [load_spec(find_spec(args.spec_a)), load_spec(find_spec(args.spec_b))]
    unknown = [n for n in values if not any(n in s.symbols for s in specs)]
    if unknown:
        declared = sorted({n for s in specs for n in s.symbols})
        raise UsageError(f"--set {unknown[0]}: neither spec declares a symbol {unknown[0]!r} "
                         f"(declared: {', '.join(declared) or 'none'})")
    a, b = (analyze(s, {k: v for k, v in values.items() if k in s.symbols},
                    symbolic=args.symbolic) for s in specs)
    result = cmp.compare(a, b)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.comparison_dict(result), indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(report.comparison_markdown(result))
    else:
        _console().print(report.comparison_render(result))
    return 0


def _emit(analysis: Any, fmt: str, report: Any) -> None:
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps(report.to_dict(analysis), indent=2) + "\n")
    elif fmt == "csv":
        sys.stdout.write(report.to_csv(analysis))
    elif fmt == "markdown":
        sys.stdout.write(report.to_markdown(analysis))
    else:
        _console().print(report.render(analysis))


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from .schema import spec_schema

    sys.stdout.write(json.dumps(spec_schema(), indent=args.indent) + "\n")
    return 0


def cmd_zoo(args: argparse.Namespace) -> int:
    from .spec import load_spec
    from .zoo import bundled

    for name, path in bundled().items():
        try:
            description = load_spec(path).description
        except CnncalcError:
            description = "(invalid spec)"
        print(f"{name:32} {description}")
    return 0


_COMMANDS = {"analyze": cmd_analyze, "compare": cmd_compare, "schema": cmd_schema,
             "zoo": cmd_zoo}


if __name__ == "__main__":
    sys.exit(main())
