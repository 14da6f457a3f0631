"""The ``cnncalc`` command line.

Each command parses its arguments, calls the engine, and prints what the report module renders.
A mistake in the user's input (a :class:`~cnncalc.errors.CnncalcError`) prints one message and
exits with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from .dtypes import DTYPES
from .errors import CnncalcError, SpecError, UsageError

FORMATS = ("table", "json", "csv", "markdown")
#: Largest indentation ``schema --indent`` accepts.
MAX_INDENT = 16
#: Largest seed ``verify --seed`` accepts (seeds are 64-bit).
MAX_SEED = 2**64 - 1
#: Longest error message printed; longer ones are cut, saying how long they were.
MAX_MESSAGE_CHARS = 4000
SPEC_HELP = "a spec file, the name of a bundled spec (vgg16, lenet5, ...), or - for standard input"


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with ``only`` (a command's name) just that command's arguments, which
    is all parsing it needs (building every command's arguments is a noticeable part of a
    short run's start-up)."""
    p = argparse.ArgumentParser(
        prog="cnncalc",
        description="Shapes, parameters, MACs and FLOPs of convolutional networks, derived "
        "exactly (as numbers or formulas) from a spec file.",
        epilog="Examples: cnncalc analyze vgg16 | cnncalc analyze my.yaml --set H=160 W=160 "
        "--format json | cnncalc analyze resnet18 --symbolic",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    for name, add in _SUBPARSERS.items():
        if only is None or name == only:
            add(sub)
    return p


def _add_analyze(sub) -> None:
    a = sub.add_parser(
        "analyze",
        help="per-layer shapes, params, MACs and FLOPs of a spec",
        description="Analyse a spec: every layer's output shape, parameters, "
        "MACs and FLOPs, and the totals. Symbols take their declared defaults "
        "unless --set or --symbolic says otherwise.",
    )
    a.add_argument("spec", help=SPEC_HELP)
    _add_set(a)
    _add_strict(a)
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


def _add_verify(sub) -> None:
    v = sub.add_parser(
        "verify",
        help="run a spec through the reference kernels and compare",
        description="Bind the symbols, draw a seeded random input and random "
        "weights, run every layer through its numba reference kernel, and compare "
        "each predicted output shape, MAC count and parameter count with what the "
        "kernel computed, counted and accepted. Exit status 1 on any mismatch.",
    )
    v.add_argument("spec", help=SPEC_HELP)
    _add_set(v)
    _add_strict(v)
    _add_plugin(v)
    v.add_argument(
        "--seed", type=_seed, default=0, help=f"seed of the random tensors, 0 to {MAX_SEED} (default 0)"
    )
    v.add_argument(
        "--runtime",
        choices=("kernels", "onnxruntime"),
        default="kernels",
        help="kernels: cnncalc's reference kernels (default); onnxruntime: export the spec to ONNX "
        "and compare every layer's output shape with what onnxruntime computes (onnx extra)",
    )
    v.add_argument("--format", "-f", choices=("table", "json"), default="table")
    v.add_argument("--width", type=_width, metavar="N", help="lay the table out for N columns")
    v.add_argument(
        "--memory-budget",
        metavar="SIZE",
        help="refuse runs estimated above SIZE (e.g. 2GiB; default: half the physical memory)",
    )


def _add_compare(sub) -> None:
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
    _add_strict(c)
    _add_plugin(c)
    c.add_argument(
        "--symbolic",
        action="store_true",
        help="leave every symbol not given a value open: ratios are formulas",
    )
    c.add_argument("--format", "-f", choices=FORMATS, default="table")
    _add_view(c)


def _add_schema(sub) -> None:
    s = sub.add_parser(
        "schema",
        help="print the JSON Schema of spec files",
        description="Print the JSON Schema of spec files, for editors.",
    )
    s.add_argument("--indent", type=_indent, default=2, help=f"0 to {MAX_INDENT} spaces (default 2)")


def _add_zoo(sub) -> None:
    sub.add_parser("zoo", help="list the bundled specs", description="List the bundled specs.")


def _add_conv(sub) -> None:
    from . import conv_command

    conv_command.add_parser(sub)


def _add_tui(sub) -> None:
    from . import tui  # a light module: textual loads only when the TUI runs

    tui.add_parser(sub)


def _add_bounds(sub) -> None:
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


def _add_solve(sub) -> None:
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
        "memory_bytes (input + params + activations at --dtype); e.g. macs=1e9, macs=2G "
        "(k, M, G, T: powers of 1000), peak_bytes=512MiB (KiB, MiB, GiB: powers of 1024)",
    )
    s.add_argument("--step", metavar="STEP", help="resolution for rational symbols (default 1/100)")
    s.add_argument(
        "--dtype",
        choices=tuple(DTYPES),
        default="float32",
        help="data type of the memory budgets peak_bytes and memory_bytes (default: float32)",
    )
    s.add_argument("--format", "-f", choices=("table", "json"), default="table")


def _add_sweep(sub) -> None:
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


def _bounded_int(text: str, what: str, high: int) -> int:
    from .errors import shorten

    try:
        value = int(text) if len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None or not 0 <= value <= high:
        raise argparse.ArgumentTypeError(
            f"{what} is a whole number from 0 to {high}, found {shorten(repr(text))}"
        )
    return value


def _seed(text: str) -> int:
    return _bounded_int(text, "the seed", MAX_SEED)


def _indent(text: str) -> int:
    return _bounded_int(text, "the indentation", MAX_INDENT)


def _add_plugin(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="load custom layer kinds first: NAME is a module (found on the Python path, then in "
        "the current directory) or an installed plugin of the entry-point group cnncalc.layers "
        "(a spec never loads Python code by itself); may be repeated",
    )


def _load_plugins(modules: list[str]) -> None:
    if modules:
        from .plugins import load

        load(modules)


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


def _add_strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="treat warnings (an unused block, a pooling that does nothing, a linear layer on an "
        "axis of size 1, a repeat of 0) as errors",
    )


def _warn(analysis, args: argparse.Namespace) -> None:
    """Print the analysis's warnings to standard error; with --strict, refuse them (exit 2)."""
    if not analysis.warnings:
        return
    if getattr(args, "strict", False):
        n = len(analysis.warnings)
        listed = "; ".join(str(w) for w in analysis.warnings)
        raise SpecError(f"{n} warning{'s' * (n > 1)}, errors with --strict: {listed}")
    for w in analysis.warnings:
        sys.stderr.write(f"cnncalc: warning: {w}\n")


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
    if sys.stdout is None:
        _error("cannot write the output: standard output is closed")
        return 1
    stdout = sys.stdout
    sys.stdout = _Output(stdout)
    try:
        words = sys.argv[1:] if argv is None else argv
        parser = _parser(words[0] if words and words[0] in _SUBPARSERS else None)
        args = parser.parse_args(words)
        if args.command is None:
            parser.print_help()
            return 2
        _load_plugins(getattr(args, "plugin", []))
        status = _COMMANDS[args.command](args)
        sys.stdout.flush()
        return status
    except CnncalcError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`cnncalc zoo | head`): stop quietly, as Unix tools do.
        _silence(stdout)
        return 0
    except _OutputError as exc:
        _error(f"cannot write the output: {exc.error.strerror or exc.error}")
        _silence(stdout)
        return 1
    finally:
        sys.stdout = stdout


class _OutputError(Exception):
    """Writing the output failed (a full disk, a closed descriptor): not a bug, exit 1."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


class _Output:
    """Standard output, with failures to write it told apart from every other OSError."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _silence(stream) -> None:
    """Point standard output at /dev/null, so that the interpreter's final flush of what could
    not be written does not fail again."""
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _error(message: str) -> None:
    from .errors import clean_message

    text = clean_message(message)
    if len(text) > MAX_MESSAGE_CHARS:
        text = f"{text[:MAX_MESSAGE_CHARS]}... ({len(text):,} characters)"
    with contextlib.suppress(OSError, AttributeError, ValueError):  # stderr closed: the status tells
        print(f"cnncalc: error: {text}", file=sys.stderr)


def _width_of(args: argparse.Namespace | None = None) -> int:
    """The columns to lay tables out for: --width, else the terminal's, else $COLUMNS, else 120."""
    if args is not None and getattr(args, "width", None):
        return args.width
    from .report.layout import output_width

    return output_width()


def _write_wrapped(text: str) -> None:
    """Lines of prose written to the output's width, broken at spaces (never inside a number)."""
    from .report.layout import wrap_hanging

    width = _width_of()
    lines = [piece for line in text.splitlines() for piece in wrap_hanging(line, width)]
    sys.stdout.write("".join(line + "\n" for line in lines))


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
    _warn(analysis, args)
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
    from .engine import analyze, resolve_symbols
    from .spec import load_spec
    from .verify import check_budget, default_budget, parse_bytes, verify
    from .zoo import find_spec

    values = _assignments(args.assignments)
    spec = load_spec(find_spec(args.spec))
    open_ = [n for n, v in resolve_symbols(spec, values).items() if v is None]
    if open_:  # before analysing: a symbolic analysis of a long network takes a while
        raise UsageError(f"verification runs at concrete sizes: give {', '.join(open_)} a value with --set")
    if args.runtime == "onnxruntime":
        return _verify_onnxruntime(args, spec, values)
    budget = parse_bytes(args.memory_budget) if args.memory_budget is not None else default_budget()
    analysis = analyze(spec, values)
    if not analysis.concrete:
        raise UsageError(
            f"verification runs at concrete sizes: give {', '.join(analysis.open_symbols)} a value with --set"
        )
    _warn(analysis, args)
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


def _verify_onnxruntime(args: argparse.Namespace, spec, values) -> int:
    from . import report
    from .onnx import runtime

    result = runtime.check(spec, values, seed=args.seed)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.runtime_dict(result), indent=2) + "\n")
    else:
        _console(_width_of(args)).print(report.runtime_render(result, _width_of(args)))
    return 0 if result.ok else 1


def _verify_with_progress(analysis, seed, verify):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .verify import cache_note

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=12),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[layer]}"),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int, name: str) -> None:
            if phase not in tasks:
                label = "compiling kernels" if phase == "compile" else "running layers"
                tasks[phase] = bar.add_task(label, total=total, layer="")
            if phase == "compile":
                # The first run compiles; later runs load the kernels from numba's cache.
                label = f"compiling {name}" if name else "compiling kernels"
                left = f"{total - done} left (then cached)" if done < total else ""
                bar.update(tasks[phase], completed=done, total=total, description=label, layer=left)
            else:
                bar.update(tasks[phase], completed=done, total=total, layer=name)

        result = verify(analysis, seed=seed, progress=progress)
    note = cache_note(result)
    if note:
        console.print(note, style="dim", highlight=False)
    return result


def _design(text: str) -> tuple[str, dict[str, str]]:
    """``resnet50@H=160,W=160`` -> (``resnet50``, {H: 160, W: 160})."""
    from pathlib import Path

    spec, at, bindings = text.rpartition("@")
    if at and not Path(text).exists():
        # Not a file named with an '@': bindings, one '@' before them, commas between.
        example = f"{spec.split('@')[0] or 'resnet50'}@H=160,W=160"
        if "=" not in bindings and spec:
            raise UsageError(
                f"{text}: {bindings!r} after '@' is not NAME=VALUE; a design is SPEC or "
                f"SPEC@NAME=VALUE,... (e.g. {example})"
            )
        if "@" in spec and "=" in spec and not Path(spec).exists():
            raise UsageError(f"{text}: one '@' before the bindings, commas between them (e.g. {example})")
    if not at or "=" not in bindings:
        return text, {}
    if not spec:
        raise UsageError(f"{text!r}: a design is SPEC or SPEC@NAME=VALUE,...; the spec is missing")
    return spec, _assignments(bindings.split(","), f"{text}: ")


def cmd_compare(args: argparse.Namespace) -> int:
    from . import report
    from .analysis.compare import compare
    from .engine import analyze, resolve_symbols
    from .spec import load_spec
    from .zoo import find_spec

    if len(args.designs) < 2:
        raise UsageError("compare needs two or more designs (the first is the baseline)")
    values = _assignments(args.assignments)
    designs = [_design(d) for d in args.designs]
    if sum(name == "-" for name, _ in designs) > 1:
        raise UsageError("only one design can be - (standard input is read once)")
    specs = [load_spec(find_spec(name)) for name, _ in designs]
    unknown = [n for n in values if not any(n in s.symbols for s in specs)]
    if unknown:
        declared = sorted({n for s in specs for n in s.symbols})
        raise UsageError(
            f"--set {unknown[0]}: no spec declares a symbol {unknown[0]!r} "
            f"(declared: {', '.join(declared) or 'none'})"
        )
    analyses = []
    for written, (text, own), spec in zip(args.designs, designs, specs, strict=True):
        given = {k: v for k, v in values.items() if k in spec.symbols}
        for k in own:
            if k not in spec.symbols:
                raise UsageError(
                    f"{text}: {spec.filename} declares no symbol {k!r} "
                    f"(declared: {', '.join(spec.symbols) or 'none'})"
                )
        try:  # the design's own bindings, checked under its own name
            resolve_symbols(spec, own)
        except UsageError as exc:
            raise UsageError(f"{written}: {str(exc).removeprefix('--set ')}") from None
        analyses.append(analyze(spec, {**given, **own}, symbolic=args.symbolic))
        _warn(analyses[-1], args)
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

    entries = []
    for name, path in bundled().items():
        try:
            description = load_spec(path).description
        except CnncalcError:
            description = "(invalid spec)"
        entries.append((name, description))
    if not sys.stdout.isatty():  # one line a spec, for grep and scripts
        for name, description in entries:
            print(f"{name:32} {description}")
        return 0
    # In a terminal, each description wraps under its column (at spaces: never inside a number).
    from .report.layout import wrap

    width = _width_of()
    name_width = max(len(name) for name, _ in entries)
    room = width - name_width - 2
    for name, description in entries:
        if room < 20:  # too narrow for two columns: each description under its name
            print(name)
            for line in wrap(description, max(width - 2, 10)):
                print("  " + line)
            continue
        lines = wrap(description, room)
        print(f"{name:{name_width}}  {lines[0]}")
        for line in lines[1:]:
            print(" " * (name_width + 2) + line)
    return 0


def _add_export(sub) -> None:
    e = sub.add_parser(
        "export",
        help="write a spec as an ONNX model with random weights",
        description="Write the spec as an ONNX model with seeded random weights (needs the onnx "
        'extra: pip install "cnncalc[onnx]"). Symbols written bare in the input shape and not '
        "given by --set stay dynamic (dim_param) unless a weight shape or an operator attribute "
        "needs their value; every other symbol takes its --set value or its default.",
        epilog="Example: cnncalc export resnet50 -o resnet50.onnx",
    )
    e.add_argument("spec", help="a spec file, or the name of a bundled spec")
    _add_set(e)
    _add_plugin(e)
    e.add_argument("-o", "--output", required=True, metavar="MODEL.onnx", help="the file to write")
    e.add_argument(
        "--seed", type=_seed, default=0, help=f"seed of the random weights, 0 to {MAX_SEED} (default 0)"
    )
    e.add_argument("--opset", type=int, metavar="N", help="ONNX opset to write (default 18)")


def cmd_export(args: argparse.Namespace) -> int:
    from .onnx.export import DEFAULT_OPSET, export, save, summary
    from .spec import load_spec
    from .zoo import find_spec

    values = _assignments(args.assignments)
    spec = load_spec(find_spec(args.spec))
    exported = export(spec, values, seed=args.seed, opset=args.opset or DEFAULT_OPSET)
    save(exported, args.output)
    _write_wrapped(f"wrote {args.output}: {summary(exported)}\n")
    return 0


def _add_import(sub) -> None:
    i = sub.add_parser(
        "import",
        help="read an ONNX model into a spec",
        description="Read an ONNX model into a spec (needs the onnx extra: pip install "
        '"cnncalc[onnx]"): its layers, their arguments and the graph, named after the nodes '
        "and initializers. Dynamic dimensions (dim_param) become symbols. Every initializer is "
        "checked against the shape of its layer's parameters. Operators without a layer kind "
        "are listed, and the import fails (exit status 2), unless --opaque keeps each as an "
        "opaque layer: its output shape from onnx's shape inference, its cost unknown.",
        epilog="Example: cnncalc import resnet50.onnx --symbols N,H,W -o resnet50.yaml && "
        "cnncalc analyze resnet50.yaml --symbolic",
    )
    i.add_argument("model", help="an ONNX file")
    i.add_argument(
        "-o", "--output", metavar="SPEC.yaml", help="write the spec here (default: standard output)"
    )
    i.add_argument(
        "--symbols",
        metavar="N,H,W",
        help="make these fixed input dimensions symbols, their values the defaults (N, C, H, W "
        "name the axes of an (N, C, H, W) input; NAME:AXIS any axis)",
    )
    i.add_argument(
        "--opaque",
        action="store_true",
        help="write an operator without a layer kind as an opaque layer (output shape from onnx's "
        "shape inference at the model's size, or in the --symbols where it gives them so; params, "
        "MACs and FLOPs unknown, shown as ? and left out of the totals) instead of failing",
    )


def cmd_import(args: argparse.Namespace) -> int:
    from .onnx.importer import import_model, load, summary

    imported = import_model(load(args.model), source=args.model, symbols=args.symbols, opaque=args.opaque)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(imported.text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"wrote {args.output}: {summary(imported)}", file=sys.stderr)
    else:
        sys.stdout.write(imported.text)
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
        if out:
            sys.stdout.write(out)
        else:
            _write_wrapped(domain.shape_text(result))
        return 0
    if not args.within:
        raise UsageError("--largest needs --within METRIC=BUDGET (e.g. macs=1e9)")
    metric, budget = _budget(args.within)
    try:
        step = parse_number(args.step) if args.step else None
    except ValueError as exc:
        raise UsageError(f"--step: {exc}; write a number such as 1/32") from None
    symbols = tuple(n.strip() for n in args.largest.split(",") if n.strip())
    result = inverse.largest_within(spec, symbols, metric, budget, values, step, _memory_budgets(args.dtype))
    if args.format == "json":
        sys.stdout.write(json.dumps(domain.budget_dict(result), indent=2) + "\n")
    else:
        _write_wrapped(domain.budget_text(result))
    return 0


#: A count budget's units, as the reports print them (``4.09 G``): powers of 1000.
_COUNT_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _budget(within: str) -> tuple[str, int]:
    """``macs=2G`` -> ("macs", 2000000000); ``peak_bytes=512MiB`` -> ("peak_bytes", 2**29).

    A count takes ``k``, ``M``, ``G`` or ``T`` (powers of 1000) or none; a budget in bytes
    (``peak_bytes``, ``memory_bytes``) a plain number or a size read as ``--memory-budget`` reads
    it (``512MiB``, ``4GiB``: powers of 1024).
    """
    import re

    from .analysis.sweep import parse_number
    from .dims import fmt as dims_text
    from .errors import shorten

    metric, eq, raw = within.partition("=")
    metric = metric.strip()
    example = "macs=2G, macs=1.5e9 or peak_bytes=512MiB"
    if not eq or not metric:
        raise UsageError(f"--within expects METRIC=BUDGET such as {example}, found {shorten(repr(within))}")
    m = re.fullmatch(r"\s*(.*?)\s*([A-Za-z]*)\s*", raw)
    number, unit = m.group(1), m.group(2)
    if metric.endswith("_bytes") and unit:
        from .verify import parse_bytes

        try:
            return metric, parse_bytes(raw)
        except UsageError:
            raise UsageError(
                f"--within {shorten(within)}: expected a size in bytes such as "
                f"{metric}=512MiB or {metric}=64e6 (units are powers of 1024: KiB, MiB, GiB, TiB)"
            ) from None
    if unit not in _COUNT_UNITS:
        raise UsageError(
            f"--within {shorten(within)}: {unit!r} is not a unit of a count; "
            f"write k, M, G or T (powers of 1000), e.g. {example}"
        )
    try:
        value = parse_number(number) * _COUNT_UNITS[unit]
    except ValueError as exc:
        raise UsageError(f"--within {shorten(within)}: {exc}; write a budget such as {example}") from None
    if value != int(value) or value < 0:
        raise UsageError(
            f"--within {shorten(within)}: a budget is a whole number of {metric} at least 0, found "
            f"{dims_text(value)}"
        )
    return metric, int(value)


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


def _run_module(name: str, args: argparse.Namespace) -> int:
    """A command that lives in its own module (``run(args)``), imported when it runs."""
    import importlib

    return importlib.import_module(f"{__package__}.{name}").run(args)


_COMMANDS = {
    "bounds": cmd_bounds,
    "solve": cmd_solve,
    "sweep": cmd_sweep,
    "analyze": cmd_analyze,
    "verify": cmd_verify,
    "compare": cmd_compare,
    "schema": cmd_schema,
    "zoo": cmd_zoo,
    "export": cmd_export,
    "import": cmd_import,
    "conv": lambda args: _run_module("conv_command", args),
    "tui": lambda args: _run_module("tui", args),
}


#: Each command's arguments, in the order ``--help`` lists them.
_SUBPARSERS = {
    "analyze": _add_analyze,
    "verify": _add_verify,
    "compare": _add_compare,
    "schema": _add_schema,
    "zoo": _add_zoo,
    "export": _add_export,
    "import": _add_import,
    "bounds": _add_bounds,
    "solve": _add_solve,
    "sweep": _add_sweep,
    "conv": _add_conv,
    "tui": _add_tui,
}


if __name__ == "__main__":
    sys.exit(main())
