"""The ``cnncalc`` command line.

Each command parses its arguments, calls the engine, and prints what the report module renders.
A mistake in the user's input (a :class:`~cnncalc.errors.CnncalcError`) prints one message and
exits with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys

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
    a.add_argument(
        "--depth",
        type=_depth,
        metavar="N",
        help="0: totals only; 1: top-level entries, each block one row with its subtotals; "
        "2: one level deeper; ... (default: every layer, indented under its blocks)",
    )
    _add_view(a)
    a.add_argument(
        "--dtype",
        choices=tuple(_DTYPES),
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
        "ptflops, ptflops-aten, fvcore",
    )
    a.add_argument(
        "--chart",
        nargs="?",
        const="macs",
        choices=("macs", "params", "memory"),
        help="per-layer bars of MACs (the default), params or activation memory, after the table",
    )
    _add_plot(a, "per-layer bars of MACs, params and activation bytes")

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
    v.add_argument("--width", type=_width, metavar="N", help="lay the table out for N columns")
    v.add_argument(
        "--memory-budget",
        metavar="SIZE",
        help="refuse runs estimated above SIZE (e.g. 2GiB; default: half the physical memory)",
    )

    c = sub.add_parser(
        "compare",
        help="designs side by side, with ratios to the first",
        description="Compare designs: totals side by side, the ratio of each to the first "
        "(a formula when symbols are open), and MACs and params per layer category. "
        "A design is a spec with optional bindings: resnet50@H=160,W=160. --set applies to "
        "every spec that declares the symbol; a design's own bindings override it.",
        epilog="Example: cnncalc compare resnet50 resnet50@H=160,W=160 mobilenet_v2",
    )
    c.add_argument(
        "designs",
        nargs="+",
        metavar="SPEC[@NAME=VALUE,...]",
        help="two or more designs; the first is the baseline",
    )
    _add_set(c)
    _add_plugin(c)
    c.add_argument(
        "--symbolic",
        action="store_true",
        help="leave every symbol not given a value open: ratios are formulas",
    )
    c.add_argument("--format", "-f", choices=FORMATS, default="table")
    _add_view(c)

    s = sub.add_parser(
        "schema",
        help="print the JSON Schema of spec files",
        description="Print the JSON Schema of spec files, for editors.",
    )
    s.add_argument("--indent", type=int, default=2)

    sub.add_parser("zoo", help="list the bundled specs", description="List the bundled specs.")
    _add_domain_commands(sub)
    return p


def _add_domain_commands(sub) -> None:
    """``bounds``, ``solve`` and ``sweep``: questions about the range of the symbols."""
    b = sub.add_parser(
        "bounds",
        help="the smallest and largest valid value of each symbol, and exact downsampling",
        description="For each symbol (the others at their values): the smallest value for which "
        "every layer has an output, the largest where a bound applies, the divisibility under "
        "which no downsampling layer drops a pixel, and how much input the last feature map sees.",
    )
    b.add_argument("spec", help="a spec file, or the name of a bundled spec")
    _add_set(b)
    _add_plugin(b)
    b.add_argument("--format", "-f", choices=("table", "json"), default="table")
    _add_view(b)

    s = sub.add_parser(
        "solve",
        help="input sizes giving an output shape; the largest size within a budget",
        description="Inverse questions, answered exactly from the formulas. --shape HxW: the "
        "values of the symbols that give a layer's output that size (default layer: the last "
        "feature map). --largest H,W --within macs=1e9: the largest value of the symbols (tied "
        "together) keeping a total (macs, params, flops, activations) within a budget.",
        epilog="Examples: cnncalc solve resnet50 --shape 7x7 | cnncalc solve resnet50 --largest "
        "H,W --within macs=1e9 | cnncalc solve mobilenet_v1 --largest alpha --within macs=300e6 "
        "--step 1/32",
    )
    s.add_argument("spec", help="a spec file, or the name of a bundled spec")
    _add_set(s)
    _add_plugin(s)
    s.add_argument("--shape", metavar="HxW", help="the wanted output size (height x width)")
    s.add_argument(
        "--layer", metavar="NAME", help="the layer whose output --shape is (default: last feature map)"
    )
    s.add_argument("--largest", metavar="SYMBOLS", help="symbols to grow together, comma separated")
    s.add_argument(
        "--within",
        metavar="METRIC=BUDGET",
        help="macs, params, flops, activations (elements), peak_bytes (inference peak) or "
        "memory_bytes (input + params + activations at --dtype); e.g. macs=1e9",
    )
    s.add_argument("--step", metavar="STEP", help="resolution for rational symbols (default 1/100)")
    s.add_argument(
        "--dtype",
        choices=tuple(_DTYPES),
        default="float32",
        help="data type of the memory budgets peak_bytes and memory_bytes (default: float32)",
    )
    s.add_argument("--format", "-f", choices=("table", "json"), default="table")

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
    _add_set(w)
    _add_plugin(w)
    w.add_argument("--format", "-f", choices=("table", "json", "csv"), default="table")
    _add_view(w)
    _add_plot(w, "the totals as curves over the first swept symbol")


def _add_plot(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--plot",
        metavar="FILE",
        help=f"also draw {what} to FILE (.png or .svg; needs matplotlib: pip install 'cnncalc[plot]')",
    )


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


_DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}


def _depth(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, found {value}")
    return value


def _width(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of columns, found {text!r}") from None
    if not 20 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be between 20 and 10000 columns, found {value}")
    return value


def _add_view(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--width",
        type=_width,
        metavar="N",
        help="lay tables out for N columns (default: the terminal's width; when output is "
        "not a terminal, $COLUMNS, else 120)",
    )
    p.add_argument(
        "--wide",
        action="store_true",
        help="every column, exact numbers, however wide the table gets",
    )
    p.add_argument(
        "--units",
        choices=("auto", "raw", "human"),
        default="auto",
        help="numbers in tables: raw (exact), human (102.76 M) or auto (exact when the main "
        "columns fit, else units; the default). JSON and CSV are always exact",
    )


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


def _assignments(items: list[str], where: str = "--set ") -> dict[str, str]:
    """``["H=160", "W=160"]`` -> {H: "160", W: "160"}; ``where`` starts each message."""
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise UsageError(
                f"{where}expects NAME=VALUE, found {item!r}"
                + (" (put the spec before --set)" if not eq and where == "--set " else "")
            )
        name = name.strip()
        if name in out:
            raise UsageError(f"{where}gives {name} twice")
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


def _width_of(args: argparse.Namespace | None = None) -> int:
    """The columns to lay tables out for: --width, else the terminal's, else $COLUMNS, else 120."""
    import os
    import shutil

    from .report import DEFAULT_WIDTH

    if args is not None and getattr(args, "width", None):
        return args.width
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and 20 <= int(columns) <= 10_000:
        return int(columns)
    return DEFAULT_WIDTH


def _console(width: int | None = None):
    from rich.console import Console

    return Console(width=width or _width_of(), soft_wrap=False)


def _view(args: argparse.Namespace):
    from .report import View

    return View(
        width=_width_of(args),
        units=args.units,
        depth=getattr(args, "depth", None),
        dtype=getattr(args, "dtype", "float32"),
        wide=args.wide,
        optimizer=getattr(args, "optimizer", "adam"),
    )


def cmd_analyze(args: argparse.Namespace) -> int:
    from . import report
    from .engine import analyze
    from .spec import load_spec
    from .zoo import find_spec

    values = _assignments(args.assignments)
    spec = load_spec(find_spec(args.spec))
    analysis = _with_convention(analyze(spec, values, symbolic=args.symbolic), args.convention)
    if args.format == "json":
        import json

        data = report.to_dict(analysis, args.dtype, args.optimizer)
        if args.convention != "cnncalc":
            data["macs_convention"] = args.convention
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(report.to_csv(analysis, args.dtype))
    elif args.format == "markdown":
        sys.stdout.write(report.to_markdown(analysis, args.depth, args.dtype))
    else:
        view = _view(args)
        console = _console(10**5 if view.wide else view.width)
        console.print(report.render(analysis, view))
        if args.convention != "cnncalc":
            from .analysis.conventions import DESCRIPTIONS

            console.print(f"MACs counted as {DESCRIPTIONS[args.convention]}.", style="dim")
        if args.chart:
            from .report.chart import chart

            console.print(chart(analysis, args.chart, view.width, args.dtype))
    if args.plot:
        from .report.chart import plot_layers

        plot_layers(analysis, args.plot, args.dtype)
    return 0


def _with_convention(analysis, name: str):
    """The analysis with MACs counted as the tool ``name`` counts them."""
    from .analysis.conventions import CONVENTIONS, apply

    if name not in CONVENTIONS:
        raise UsageError(f"--convention {name}: unknown; known: {', '.join(CONVENTIONS)}")
    return apply(analysis, name)


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
        _console(_width_of(args)).print(report.verification_render(result, _width_of(args)))
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


def _design(text: str) -> tuple[str, dict[str, str]]:
    """``resnet50@H=160,W=160`` -> (``resnet50``, {H: 160, W: 160})."""
    spec, at, bindings = text.rpartition("@")
    if not at or "=" not in bindings:
        return text, {}
    if not spec:
        raise UsageError(f"{text!r}: a design is SPEC or SPEC@NAME=VALUE,...; the spec is missing")
    return spec, _assignments(bindings.split(","), f"{text}: ")


def cmd_compare(args: argparse.Namespace) -> int:
    from . import report
    from .analysis.compare import compare
    from .engine import analyze
    from .spec import load_spec
    from .zoo import find_spec

    if len(args.designs) < 2:
        raise UsageError("compare needs two or more designs (the first is the baseline)")
    values = _assignments(args.assignments)
    designs = [_design(d) for d in args.designs]
    specs = [load_spec(find_spec(name)) for name, _ in designs]
    unknown = [n for n in values if not any(n in s.symbols for s in specs)]
    if unknown:
        declared = sorted({n for s in specs for n in s.symbols})
        raise UsageError(
            f"--set {unknown[0]}: no spec declares a symbol {unknown[0]!r} "
            f"(declared: {', '.join(declared) or 'none'})"
        )
    analyses = []
    for (text, own), spec in zip(designs, specs, strict=True):
        given = {k: v for k, v in values.items() if k in spec.symbols}
        for k in own:
            if k not in spec.symbols:
                raise UsageError(
                    f"{text}: {spec.filename} declares no symbol {k!r} "
                    f"(declared: {', '.join(spec.symbols) or 'none'})"
                )
        analyses.append(analyze(spec, {**given, **own}, symbolic=args.symbolic))
    result = compare(analyses, args.designs)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.comparison_dict(result), indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(report.comparison_csv(result))
    elif args.format == "markdown":
        sys.stdout.write(report.comparison_markdown(result))
    else:
        view = _view(args)
        _console(10**5 if view.wide else view.width).print(
            report.comparison_render(result, view.fit_width, view.fit_units)
        )
    return 0


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


def cmd_bounds(args: argparse.Namespace) -> int:
    from .analysis.bounds import bounds
    from .report import domain
    from .spec import load_spec
    from .zoo import find_spec

    result = bounds(load_spec(find_spec(args.spec)), _assignments(args.assignments))
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(domain.bounds_dict(result), indent=2) + "\n")
    else:
        view = _view(args)
        _console(view.fit_width).print(domain.bounds_render(result, view.fit_width, view.fit_units))
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    import json

    from .analysis import inverse
    from .analysis.sweep import parse_number
    from .report import domain
    from .spec import load_spec
    from .zoo import find_spec

    spec = load_spec(find_spec(args.spec))
    values = _assignments(args.assignments)
    if (args.shape is None) == (args.largest is None):
        raise UsageError("solve needs one of --shape HxW or --largest SYMBOLS --within METRIC=BUDGET")
    if args.shape is not None:
        parts = args.shape.lower().split("x")
        if len(parts) == 1:
            parts *= 2
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise UsageError(f"--shape expects HxW such as 7x7, found {args.shape!r}")
        result = inverse.solve_shape(spec, tuple(int(p) for p in parts), values, args.layer)
        out = json.dumps(domain.shape_dict(result), indent=2) + "\n" if args.format == "json" else None
        sys.stdout.write(out or domain.shape_text(result))
        return 0
    if not args.within:
        raise UsageError("--largest needs --within METRIC=BUDGET (e.g. macs=1e9)")
    metric, eq, raw = args.within.partition("=")
    try:
        budget = parse_number(raw)
    except ValueError:
        budget = None
    if not eq or budget is None or int(budget) != budget:
        raise UsageError(f"--within expects METRIC=BUDGET such as macs=1e9, found {args.within!r}")
    try:
        step = parse_number(args.step) if args.step else None
    except ValueError:
        raise UsageError(f"--step expects a number such as 1/32, found {args.step!r}") from None
    symbols = tuple(n.strip() for n in args.largest.split(",") if n.strip())
    result = inverse.largest_within(
        spec, symbols, metric.strip(), int(budget), values, step, _memory_budgets(args.dtype)
    )
    if args.format == "json":
        sys.stdout.write(json.dumps(domain.budget_dict(result), indent=2) + "\n")
    else:
        sys.stdout.write(domain.budget_text(result))
    return 0


def _memory_budgets(dtype: str) -> dict:
    """Budgets in bytes: the inference peak, and input + params + every activation."""
    from .analysis import memory
    from .analysis.lifetimes import lifetimes

    return {
        "peak_bytes": lambda a: lifetimes(a, dtype).peak_bytes,
        "memory_bytes": lambda a: memory.memory(a, dtype).total_bytes,
    }


def cmd_sweep(args: argparse.Namespace) -> int:
    from .analysis.sweep import parse_range, sweep
    from .report import domain
    from .spec import load_spec
    from .zoo import find_spec

    ranges = dict(parse_range(r) for r in args.ranges)
    result = sweep(load_spec(find_spec(args.spec)), ranges, _assignments(args.assignments))
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(domain.sweep_dict(result), indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(domain.sweep_csv(result))
    else:
        view = _view(args)
        _console(view.fit_width).print(domain.sweep_render(result, view.fit_width, view.fit_units))
    if args.plot:
        from .report.chart import plot_sweep

        plot_sweep(result, args.plot)
    return 0


_COMMANDS = {
    "bounds": cmd_bounds,
    "solve": cmd_solve,
    "sweep": cmd_sweep,
    "analyze": cmd_analyze,
    "verify": cmd_verify,
    "compare": cmd_compare,
    "schema": cmd_schema,
    "zoo": cmd_zoo,
}


if __name__ == "__main__":
    sys.exit(main())
