"""``cnncalc conv``: the one-layer calculator on the command line (arithmetic in :mod:`.calc`)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from ..errors import UsageError

_PAIR = re.compile(r"\s*(\d+)\s*(?:[x,]\s*(\d+)\s*)?")


def add_arguments(sub) -> None:
    """Register ``conv`` on the command line's subparsers."""
    c = sub.add_parser(
        "conv",
        help="output size, arithmetic, params and MACs of one convolution or pooling",
        description="The output size of one convolution (or pooling) window over an input, with "
        "the formula floor((n + 2p - f)/s) + 1 and its numbers, the parameters and MACs; with "
        "--input (and --filter) matrices, the output values computed by the reference kernel.",
        epilog="Examples: cnncalc conv 28x31 -k 5 -p 2 -s 3 | cnncalc conv 32 -k 3 -p same -c 3 "
        "--filters 16 | cnncalc conv --input '[[3,0,1],[1,5,8],[2,7,2]]' --filter '[[1,0],[0,-1]]'",
    )
    c.add_argument("size", nargs="?", help="input size: n (square) or HxW, e.g. 28x31")
    c.add_argument("-k", "--kernel", help="kernel size f or FHxFW (default 3, or the filter's size)")
    c.add_argument("-p", "--padding", default="0", help="p, PHxPW, 'same' or 'valid' (default 0)")
    c.add_argument("-s", "--stride", default=None, help="s or SHxSW (default 1; pooling: the kernel)")
    c.add_argument("-d", "--dilation", default="1", help="dilation (default 1)")
    c.add_argument("--ceil-mode", action="store_true", help="pooling: round the division up")
    c.add_argument("--pool", choices=("max", "avg"), help="a pooling window instead of a convolution")
    c.add_argument("-c", "--channels", help="input channels (default 1, or the input's)")
    c.add_argument("--filters", help="number of filters, the output channels (default 1, or the filter's)")
    c.add_argument("--no-bias", action="store_true", help="count no bias parameters")
    c.add_argument("--input", metavar="MATRIX", help="input values: nested lists, or a .npy / .csv file")
    c.add_argument("--filter", metavar="MATRIX", help="filter values: nested lists, or a .npy / .csv file")
    c.add_argument("--format", "-f", choices=("text", "json"), default="text")


def parse_pair(text: str, name: str) -> tuple[int, int]:
    """``5`` -> (5, 5); ``28x31`` or ``28,31`` -> (28, 31)."""
    m = _PAIR.fullmatch(text)
    if not m:
        raise UsageError(f"{name}: expected a number or HxW such as 28x31, found {text!r}")
    a = int(m.group(1))
    return a, int(m.group(2)) if m.group(2) else a


def _count(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise UsageError(f"{name}: expected a whole number, found {text!r}")
    return int(text)


def load_matrix(text: str, name: str):
    """Nested lists written inline (JSON), or a ``.npy`` or ``.csv`` file."""
    import numpy as np

    from ..analysis.calc import matrix, parse_matrix

    stripped = text.strip()
    if stripped.startswith("["):
        return parse_matrix(stripped, name)
    path = Path(stripped)
    if not path.is_file():
        raise UsageError(f"{name}: {text!r} is neither nested lists such as [[1,0],[0,1]] nor a file")
    try:
        if path.suffix.lower() == ".npy":
            data = np.load(path, allow_pickle=False)
        elif path.suffix.lower() == ".csv":
            data = np.loadtxt(path, delimiter=",", ndmin=2)
        else:
            raise UsageError(f"{name}: {path}: expected a .npy or .csv file")
    except (OSError, ValueError) as exc:
        raise UsageError(f"{name}: {path}: cannot be read ({exc})") from None
    return matrix(data, name)


def calculation_from_args(args: argparse.Namespace, image=None, filt=None):
    """The :class:`~cnncalc.calc.Calculation` and the matrices the arguments describe.

    ``args`` holds the command line's strings (``size``, ``kernel``, ``padding``, ``stride``,
    ``dilation``, ``ceil_mode``, ``pool``, ``channels``, ``filters``, ``no_bias``, ``input``,
    ``filter``); matrices already read may be given as ``image`` and ``filt`` instead.
    """
    from ..analysis.calc import calculate, filter_shape, input_shape

    op = "conv" if args.pool is None else f"{args.pool}_pool"
    image = load_matrix(args.input, "--input") if args.input else image
    filt = load_matrix(args.filter, "--filter") if args.filter else filt
    if image is not None and op == "conv" and filt is None:
        raise UsageError("--input with a convolution needs a --filter to compute output values")
    channels = _count(args.channels, "--channels")
    filters = _count(args.filters, "--filters")
    size = parse_pair(args.size, "size") if args.size else None
    kernel = parse_pair(args.kernel, "--kernel") if args.kernel else None
    if image is not None:
        c, h, w = input_shape(image)
        if size is not None and size != (h, w):
            raise UsageError(f"size {args.size} disagrees with the --input matrix, which is {h}x{w}")
        if channels is not None and channels != c:
            raise UsageError(f"--channels {channels} disagrees with the --input matrix's {c} channel(s)")
        size, channels = (h, w), c
    if size is None:
        raise UsageError("give the input size (e.g. 28x31) or an --input matrix")
    if filt is not None:
        fo, fc, kh, kw = filter_shape(filt, op)
        if kernel is not None and kernel != (kh, kw):
            raise UsageError(f"--kernel {args.kernel} disagrees with the --filter matrix, which is {kh}x{kw}")
        if filters is not None and filters != fo:
            raise UsageError(f"--filters {filters} disagrees with the --filter matrix's {fo} filter(s)")
        if channels is not None and fc != channels:
            raise UsageError(f"the --filter matrix has {fc} channel(s), the input {channels}")
        kernel, filters, channels = (kh, kw), fo, fc
    if filt is not None and image is None:
        raise UsageError("--filter needs an --input matrix to apply it to")
    kernel = kernel or (3, 3)
    padding = args.padding.strip().lower()
    if padding in ("same", "valid"):
        pad = padding
    elif _PAIR.fullmatch(padding):
        pad = parse_pair(padding, "--padding")
    else:
        raise UsageError(f"--padding: expected a number, PHxPW, 'same' or 'valid', found {args.padding!r}")
    stride = parse_pair(args.stride, "--stride") if args.stride else (1, 1) if op == "conv" else kernel
    calc = calculate(
        size,
        kernel,
        stride=stride,
        padding=pad,
        dilation=parse_pair(args.dilation, "--dilation"),
        ceil_mode=args.ceil_mode,
        op=op,
        channels=channels or 1,
        filters=filters or 1,
        bias=not args.no_bias,
    )
    return calc, image, filt


def summary_lines(calc) -> list[str]:
    """The calculation as text: the size, each axis's arithmetic, the output, params and MACs."""
    lines = [calc.size_text]
    for a in calc.axes:
        lines.append(f"{a.label}: {a.formula} = {a.worked}")
    _, c_out, ho, wo = calc.output_shape
    what = "filter" if calc.op == "conv" else "channel"
    lines.append(f"output: {ho}x{wo}x{c_out} ({c_out} {what}{'s' if c_out != 1 else ''})")
    if calc.op == "conv":
        bias = f" + {calc.biases:,} bias{'es' if calc.biases != 1 else ''}" if calc.biases else ""
        lines.append(
            f"params: {calc.params:,} = {c_out} x ({calc.channels} x {calc.height.kernel} x "
            f"{calc.width.kernel}) weights{bias}"
        )
        lines.append(
            f"MACs: {calc.macs:,} = {ho}x{wo} positions x {c_out} filter{'s' if c_out != 1 else ''} x "
            f"{calc.channels * calc.height.kernel * calc.width.kernel} per output"
        )
    else:
        lines.append("params: 0; MACs: 0 (pooling multiplies nothing)")
    return lines


def run(args: argparse.Namespace) -> int:
    """Run ``cnncalc conv``; returns the exit status."""
    from ..analysis.calc import apply, matrix_text, matrix_values

    calc, image, filt = calculation_from_args(args)
    values = apply(calc, image, filt) if image is not None else None
    if args.format == "json":
        data = calc.as_dict()
        if values is not None:
            data["values"] = matrix_values(values)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    from ..report.layout import output_width, wrap_hanging

    # The arithmetic wraps at spaces to the terminal's width: a terminal's own wrapping would
    # split "10" at its last column.
    width = output_width()
    lines = [piece for line in summary_lines(calc) for piece in wrap_hanging(line, width, at_equals=True)]
    if values is not None:
        lines += ["values:", *("  " + row for row in matrix_text(values))]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
