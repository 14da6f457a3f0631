"""``cnncalc verify``: run a spec through the reference kernels and compare."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from . import options


def add_arguments(sub) -> None:
    v = sub.add_parser(
        "verify",
        help="run a spec through the reference kernels and compare",
        description="Bind the symbols, draw a seeded random input and random "
        "weights, run every layer through its numba reference kernel, and compare "
        "each predicted output shape, MAC count and parameter count with what the "
        "kernel computed, counted and accepted. Exit status 1 on any mismatch.",
    )
    v.add_argument("spec", help=options.SPEC_HELP)
    options.add_set(v)
    options.add_strict(v)
    options.add_plugin(v)
    v.add_argument(
        "--seed",
        type=options.seed,
        default=0,
        help=f"seed of the random tensors, 0 to {options.MAX_SEED} (default 0)",
    )
    v.add_argument(
        "--runtime",
        choices=("kernels", "onnxruntime"),
        default="kernels",
        help="kernels: cnncalc's reference kernels (default); onnxruntime: export the spec to ONNX "
        "and compare every layer's output shape with what onnxruntime computes (onnx extra)",
    )
    v.add_argument("--format", "-f", choices=("table", "json"), default="table")
    v.add_argument("--width", type=options.width, metavar="N", help="lay the table out for N columns")
    v.add_argument(
        "--memory-budget",
        metavar="SIZE",
        help="refuse runs estimated above SIZE (e.g. 2GiB; default: half the physical memory)",
    )


def run(args: argparse.Namespace) -> int:
    from .. import report
    from ..analysis.verify import check_budget, default_budget, parse_bytes, verify
    from ..core.engine import analyze, resolve_symbols

    values = options.assignments(args.assignments)
    spec = options.load(args.spec)
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
    options.warn(analysis, args)
    check_budget(spec, analysis, values, budget)
    if args.format == "json" or not sys.stderr.isatty():
        result = verify(analysis, seed=args.seed)
    else:
        result = _verify_with_progress(analysis, args.seed, verify)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.verification_dict(result), indent=2) + "\n")
    else:
        options.console(options.width_of(args)).print(
            report.verification_render(result, options.width_of(args))
        )
    return 0 if result.ok else 1


def _verify_onnxruntime(args: argparse.Namespace, spec, values) -> int:
    from .. import report
    from ..onnx import runtime

    result = runtime.check(spec, values, seed=args.seed)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.runtime_dict(result), indent=2) + "\n")
    else:
        options.console(options.width_of(args)).print(report.runtime_render(result, options.width_of(args)))
    return 0 if result.ok else 1


def _verify_with_progress(analysis, seed, verify):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..analysis.verify import cache_note

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
