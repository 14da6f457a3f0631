"""``cnncalc compare``: designs side by side, with ratios to the first."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from ..lang.source import exists
from . import options


def add_arguments(sub) -> None:
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
    options.add_set(c)
    options.add_strict(c)
    options.add_plugin(c)
    c.add_argument(
        "--symbolic",
        action="store_true",
        help="leave every symbol not given a value open: ratios are formulas",
    )
    c.add_argument("--format", "-f", choices=options.FORMATS, default="table")
    options.add_view(c)


def _design(text: str) -> tuple[str, dict[str, str]]:
    """``resnet50@H=160,W=160`` -> (``resnet50``, {H: 160, W: 160})."""

    spec, at, bindings = text.rpartition("@")
    if at and not exists(text):
        # Not a file named with an '@': bindings, one '@' before them, commas between.
        example = f"{spec.split('@')[0] or 'resnet50'}@H=160,W=160"
        if "=" not in bindings and spec:
            raise UsageError(
                f"{text}: {bindings!r} after '@' is not NAME=VALUE; a design is SPEC or "
                f"SPEC@NAME=VALUE,... (e.g. {example})"
            )
        if "@" in spec and "=" in spec and not exists(spec):
            raise UsageError(f"{text}: one '@' before the bindings, commas between them (e.g. {example})")
    if not at or "=" not in bindings:
        return text, {}
    if not spec:
        raise UsageError(f"{text!r}: a design is SPEC or SPEC@NAME=VALUE,...; the spec is missing")
    return spec, options.assignments(bindings.split(","), f"{text}: ")


def run(args: argparse.Namespace) -> int:
    from .. import report
    from ..analysis.compare import compare
    from ..core.engine import analyze, resolve_symbols

    if len(args.designs) < 2:
        raise UsageError("compare needs two or more designs (the first is the baseline)")
    values = options.assignments(args.assignments)
    designs = [_design(d) for d in args.designs]
    if sum(name == "-" for name, _ in designs) > 1:
        raise UsageError("only one design can be - (standard input is read once)")
    specs = [options.load(name) for name, _ in designs]
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
            raise UsageError(f"{written}: {exc}") from None
        analyses.append(analyze(spec, {**given, **own}, symbolic=args.symbolic))
        options.warn(analyses[-1], args)
    from ..errors import escape_controls

    # a design's name as written heads its column; a file name's control characters (terminal
    # escapes, bidirectional overrides) are shown escaped, as messages show them (JSON escapes
    # them itself)
    labels = args.designs if args.format == "json" else [escape_controls(d) for d in args.designs]
    result = compare(analyses, labels)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.comparison_dict(result), indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(report.comparison_csv(result))
        from ..report.compare import condition_lines

        for line in condition_lines(result):  # a CSV has no place for them; the other formats give them
            sys.stderr.write(f"cnncalc: note: {line}\n")
    elif args.format == "markdown":
        sys.stdout.write(report.comparison_markdown(result))
    else:
        view = options.view(args)
        options.console(10**5 if view.wide else view.width).print(
            report.comparison_render(result, view.fit_width, view.fit_units)
        )
    return 0
