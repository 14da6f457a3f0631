"""``cnncalc solve``: inverse questions: sizes giving a shape, the largest size within a budget."""

from __future__ import annotations

import argparse
import sys

from ..analysis.dtypes import DTYPES
from ..errors import UsageError
from . import options


def add_arguments(sub) -> None:
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
    options.add_set(s)
    options.add_plugin(s)
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
        "--upto",
        metavar="VALUE",
        help="search values up to VALUE only (default: the symbol's declared max, else without "
        "end); needed for a symbol that decides which layers exist (a repeat count)",
    )
    s.add_argument(
        "--dtype",
        choices=tuple(DTYPES),
        default="float32",
        help="data type of the memory budgets peak_bytes and memory_bytes (default: float32)",
    )
    s.add_argument("--format", "-f", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    import json

    from ..analysis import inverse
    from ..analysis.sweep import parse_number
    from ..report import domain

    spec = options.load(args.spec)
    values = options.assignments(args.assignments)
    if (args.shape is None) == (args.largest is None):
        raise UsageError("solve needs one of --shape HxW or --largest SYMBOLS --within METRIC=BUDGET")
    upto = _upto(args.upto)
    for option, value, question, what in (
        ("--within", args.within, "--shape", "the budget of --largest"),
        ("--step", args.step, "--shape", "the resolution of --largest"),
        ("--layer", args.layer, "--largest", "the layer whose output --shape is"),
    ):
        if value is not None and getattr(args, question[2:]) is not None:
            raise UsageError(f"{option} does not apply to {question} ({option} gives {what})")
    if args.shape is not None:
        result = inverse.solve_shape(spec, _shape(args.shape), values, args.layer, upto)
        out = json.dumps(domain.shape_dict(result), indent=2) + "\n" if args.format == "json" else None
        if out:
            sys.stdout.write(out)
        else:
            options.write_wrapped(domain.shape_text(result))
        return 0
    if not args.within:
        raise UsageError("--largest needs --within METRIC=BUDGET (e.g. macs=1e9)")
    metric, budget = _budget(args.within)
    try:
        step = parse_number(args.step) if args.step else None
    except ValueError as exc:
        raise UsageError(f"--step: {exc}; write a number such as 1/32") from None
    symbols = tuple(n.strip() for n in args.largest.split(",") if n.strip())
    result = inverse.largest_within(
        spec, symbols, metric, budget, values, step, inverse.byte_metrics(args.dtype), upto
    )
    if args.format == "json":
        sys.stdout.write(json.dumps(domain.budget_dict(result), indent=2) + "\n")
    else:
        options.write_wrapped(domain.budget_text(result))
    return 0


#: Digits a size of --shape may have.
MAX_SHAPE_DIGITS = 30


def _shape(text: str) -> tuple[int, int]:
    """``7x7``, ``7`` (square) or ``14x7``: ASCII digits only (``²`` passes str.isdigit but
    is no number), at most :data:`MAX_SHAPE_DIGITS` each."""
    import re

    from ..errors import shorten

    parts = text.lower().split("x")
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not all(re.fullmatch(r"\s*[0-9]+\s*", p) for p in parts):
        raise UsageError(f"--shape expects HxW such as 7x7 (digits 0-9), found {shorten(repr(text))}")
    if any(len(p.strip()) > MAX_SHAPE_DIGITS for p in parts):
        raise UsageError(f"--shape {shorten(text)}: a size has at most {MAX_SHAPE_DIGITS} digits")
    return int(parts[0]), int(parts[1])


def _upto(text: str | None):
    from ..analysis.sweep import parse_number

    if text is None:
        return None
    try:
        return parse_number(text)
    except ValueError as exc:
        raise UsageError(f"--upto: {exc}; write a number such as 100") from None


#: A count budget's units, as the reports print them (``4.09 G``): powers of 1000.
_COUNT_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _budget(within: str) -> tuple[str, int]:
    """``macs=2G`` -> ("macs", 2000000000); ``peak_bytes=512MiB`` -> ("peak_bytes", 2**29).

    A count takes ``k``, ``M``, ``G`` or ``T`` (powers of 1000) or none; a budget in bytes
    (``peak_bytes``, ``memory_bytes``) a plain number or a size read as ``--memory-budget`` reads
    it (``512MiB``, ``4GiB``: powers of 1024).
    """
    import re

    from ..analysis.sweep import parse_number
    from ..core.dims import fmt as dims_text
    from ..errors import shorten

    metric, eq, raw = within.partition("=")
    metric = metric.strip()
    example = "macs=2G, macs=1.5e9 or peak_bytes=512MiB"
    if not eq or not metric:
        raise UsageError(f"--within expects METRIC=BUDGET such as {example}, found {shorten(repr(within))}")
    m = re.fullmatch(r"\s*(.*?)\s*([A-Za-z]*)\s*", raw)
    number, unit = m.group(1), m.group(2)
    if metric.endswith("_bytes") and unit:
        from ..analysis.verify import parse_bytes

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
