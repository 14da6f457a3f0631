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

    a = sub.add_parser(
        "analyze",
        help="per-layer shapes, params, MACs and FLOPs of a spec",
        description="Analyse a spec: every layer's output shape, parameters, "
        "MACs and FLOPs, and the totals. Symbols take their declared defaults "
        "unless --set or --symbolic says otherwise.",
    )
    a.add_argument("spec", help="a spec file, or the name of a bundled spec (vgg16, lenet5, ...)")
    _add_set(a)
    _add_plugin(a)
    a.add_argument(
        "--symbolic",
        action="store_true",
        help="leave every symbol not given by --set open: results are formulas",
    )
    a.add_argument("--format", "-f", choices=FORMATS, default="table", help="output format (default: table)")

    v = sub.add_parser(
        "verify",
        help="run a spec through the reference kernels and compare",
        description="Bind the symbols, draw a seeded random input and random "
        "weights, run every layer through its numba reference kernel, and compare "
        "each predicted output shape, MAC count and parameter count with what the "
        "kernel computed, counted and accepted. Exit status 1 on any mismatch.",
    )
    v.add_argument("spec", help="a spec file, or the name of a bundled spec")
    _add_set(v)
    _add_plugin(v)
    v.add_argument("--seed", type=int, default=0, help="seed of the random tensors (default 0)")
    v.add_argument("--format", "-f", choices=("table", "json"), default="table")
    v.add_argument(
        "--memory-budget",
        metavar="SIZE",
        help="refuse runs estimated above SIZE (e.g. 2GiB; default: half the physical memory)",
    )

    c = sub.add_parser(
        "compare",
        help="two designs side by side, with ratios",
        description="Compare two specs: totals side by side, the ratio B/A of "
        "each (a formula when symbols are open), and MACs and params per layer "
        "category. --set applies to every spec that declares the symbol.",
    )
    c.add_argument("spec_a", metavar="A", help="the reference design (spec file or bundled name)")
    c.add_argument("spec_b", metavar="B", help="the design compared with it")
    _add_set(c)
    _add_plugin(c)
    c.add_argument(
        "--symbolic",
        action="store_true",
        help="leave every symbol not given by --set open: ratios are formulas",
    )
    c.add_argument("--format", "-f", choices=("table", "json", "markdown"), default="table")

    s = sub.add_parser(
        "schema",
        help="print the JSON Schema of spec files",
        description="Print the JSON Schema of spec files, for editors.",
    )
    s.add_argument("--indent", type=int, default=2)

    sub.add_parser("zoo", help="list the bundled specs", description="List the bundled specs.")

    from . import conv_command, tui  # light modules: textual loads only when the TUI runs

    conv_command.add_parser(sub)
    tui.add_parser(sub)
    return p


def _add_plugin(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, so that the layer kinds it registers can be used "
        "(a spec never loads Python code by itself)",
    )


def _load_plugins(modules: list[str]) -> None:
    import importlib
    import os

    if modules and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a plugin beside the spec, as `python -m` would find it
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UsageError(f"--plugin {name}: cannot import it ({exc})") from None


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="assignments",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="give symbols values, e.g. --set H=160 W=160 alpha=0.5",
    )


def _assignments(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise UsageError(
                f"--set expects NAME=VALUE, found {item!r}"
                + (" (put the spec before --set)" if not eq else "")
            )
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
        _load_plugins(getattr(args, "plugin", []))
        return _COMMANDS[args.command](args)
    except CnncalcError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`cnncalc zoo | head`): stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


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


def cmd_verify(args: argparse.Namespace) -> int:
    from . import report
    from .engine import analyze
    from .spec import load_spec
    from .verify import check_budget, default_budget, parse_bytes, verify
    from .zoo import find_spec

    values = _assignments(args.assignments)
    spec = load_spec(find_spec(args.spec))
    analysis = analyze(spec, values)
    if not analysis.concrete:
        raise UsageError(
            f"verification runs at concrete sizes: give {', '.join(analysis.open_symbols)} a value with --set"
        )
    budget = parse_bytes(args.memory_budget) if args.memory_budget else default_budget()
    check_budget(spec, analysis, values, budget)
    if args.format == "json" or not sys.stderr.isatty():
        result = verify(analysis, seed=args.seed)
    else:
        result = _verify_with_progress(analysis, args.seed, verify)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.verification_dict(result), indent=2) + "\n")
    else:
        _console().print(report.verification_render(result))
    return 0 if result.ok else 1


def _verify_with_progress(analysis, seed, verify):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[layer]}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int, layer: str) -> None:
            if phase not in tasks:
                label = "compiling kernels" if phase == "compile" else "running layers"
                tasks[phase] = bar.add_task(label, total=total, layer="")
            bar.update(tasks[phase], completed=done, total=total, layer=layer)

        return verify(analysis, seed=seed, progress=progress)


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
        raise UsageError(
            f"--set {unknown[0]}: neither spec declares a symbol {unknown[0]!r} "
            f"(declared: {', '.join(declared) or 'none'})"
        )
    a, b = (
        analyze(s, {k: v for k, v in values.items() if k in s.symbols}, symbolic=args.symbolic) for s in specs
    )
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


def _run_module(name: str, args: argparse.Namespace) -> int:
    """A command that lives in its own module (``run(args)``), imported when it runs."""
    import importlib

    return importlib.import_module(f"{__package__}.{name}").run(args)


_COMMANDS = {
    "analyze": cmd_analyze,
    "verify": cmd_verify,
    "compare": cmd_compare,
    "schema": cmd_schema,
    "zoo": cmd_zoo,
    "conv": lambda args: _run_module("conv_command", args),
    "tui": lambda args: _run_module("tui", args),
}


if __name__ == "__main__":
    sys.exit(main())
