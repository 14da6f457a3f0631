"""``cnncalc conv``: the one-layer calculator on the command line (arithmetic in :mod:`.calc`)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from ..errors import UsageError, shorten
from ..lang.source import exists

# ASCII digits only: str.isdigit() and \d accept "²" and "٣", which int() refuses or reads.
_PAIR = re.compile(r"\s*([0-9]+)\s*(?:[x,]\s*([0-9]+)\s*)?", re.ASCII)
_SIZE = re.compile(r"\s*([0-9]+)\s*(?:[x,]\s*([0-9]+)\s*(?:[x,]\s*([0-9]+)\s*)?)?", re.ASCII)
#: The most digits a number on conv's command line may have (sizes past any tensor's).
MAX_DIGITS = 30


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
    c.add_argument(
        "size",
        nargs="?",
        help="input size: n (square), HxW (28x31) or HxWxC with the channels (28x28x3; CxHxW with --chw)",
    )
    c.add_argument("--chw", action="store_true", help="read a three-part size as CxHxW (3x28x28)")
    c.add_argument("-k", "--kernel", help="kernel size f or FHxFW (default 3, or the filter's size)")
    c.add_argument("-p", "--padding", default="0", help="p, PHxPW, 'same' or 'valid' (default 0)")
    c.add_argument("-s", "--stride", default=None, help="s or SHxSW (default 1; pooling: the kernel)")
    c.add_argument("-d", "--dilation", default="1", help="dilation (default 1)")
    c.add_argument("--ceil-mode", action="store_true", help="pooling: round the division up")
    c.add_argument("--pool", choices=("max", "avg"), help="a pooling window instead of a convolution")
    c.add_argument("-c", "--channels", help="input channels (default 1, or the input's)")
    c.add_argument("--filters", help="number of filters, the output channels (default 1, or the filter's)")
    c.add_argument("-g", "--groups", help="groups: each filter sees channels/groups of the input (default 1)")
    c.add_argument(
        "--depthwise",
        action="store_true",
        help="a depthwise convolution: one group per input channel (groups = channels; filters "
        "default to the channels, a multiple of them gives that many per channel)",
    )
    c.add_argument("--no-bias", action="store_true", help="count no bias parameters")
    c.add_argument("--input", metavar="MATRIX", help="input values: nested lists, or a .npy / .csv file")
    c.add_argument("--filter", metavar="MATRIX", help="filter values: nested lists, or a .npy / .csv file")
    c.add_argument("--format", "-f", choices=("text", "json"), default="text")


def _int(digits: str, name: str) -> int:
    """A run of ASCII digits as an int, refused past :data:`MAX_DIGITS` digits (and so never
    past Python's own limit of int(str))."""
    if len(digits) > MAX_DIGITS:
        raise UsageError(f"{name}: a number of {len(digits):,} digits; at most {MAX_DIGITS}")
    return int(digits)


def parse_pair(text: str, name: str) -> tuple[int, int]:
    """``5`` -> (5, 5); ``28x31`` or ``28,31`` -> (28, 31)."""
    m = _PAIR.fullmatch(text)
    if not m:
        raise UsageError(f"{name}: expected a number or HxW such as 28x31, found {shorten(text)!r}")
    a = _int(m.group(1), name)
    return a, _int(m.group(2), name) if m.group(2) else a


def parse_size(text: str, chw: bool = False) -> tuple[tuple[int, int], int | None]:
    """``28`` -> ((28, 28), None); ``28x31`` -> ((28, 31), None); ``28x28x3`` -> ((28, 28), 3),
    and with ``chw`` ``3x28x28`` -> ((28, 28), 3): the size and the channels if given."""
    m = _SIZE.fullmatch(text)
    if not m:
        raise UsageError(
            f"size: expected n, HxW or HxWxC such as 28x28x3 (CxHxW with --chw), found {shorten(text)!r}"
        )
    parts = [_int(g, "size") for g in m.groups() if g is not None]
    if len(parts) == 1:
        return (parts[0], parts[0]), None
    if len(parts) == 2:
        return (parts[0], parts[1]), None
    if chw:
        return (parts[1], parts[2]), parts[0]
    return (parts[0], parts[1]), parts[2]


def _count(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    stripped = text.strip()
    if not re.fullmatch(r"[0-9]+", stripped, re.ASCII):
        raise UsageError(f"{name}: expected a whole number, found {shorten(text)!r}")
    return _int(stripped, name)


def load_matrix(text: str, name: str):
    """Nested lists written inline (JSON), or a ``.npy`` or ``.csv`` file."""
    import numpy as np

    from ..analysis.calc import matrix, parse_matrix

    stripped = text.strip()
    if stripped.startswith("["):
        return parse_matrix(stripped, name)
    path = Path(stripped)
    if not exists(path, "file"):
        raise UsageError(f"{name}: {text!r} is neither nested lists such as [[1,0],[0,1]] nor a file")
    try:
        if path.suffix.lower() == ".npy":
            data = np.load(path, allow_pickle=False)
            if data.dtype.kind not in "biuf":  # complex, dates, text: not real numbers
                raise UsageError(
                    f"{name}: {path}: holds {data.dtype} values; the calculator takes real "
                    f"numbers (integers or floats)"
                )
        elif path.suffix.lower() == ".csv":  # read as text: whole numbers stay exact
            if path.stat().st_size > 64 * 2**20:
                raise UsageError(f"{name}: {path}: a CSV file of more than 64 MiB")
            return parse_matrix(path.read_text(encoding="utf-8", errors="strict"), name)
        else:
            raise UsageError(f"{name}: {path}: expected a .npy or .csv file")
    except (OSError, ValueError) as exc:  # UnicodeDecodeError included
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
    groups = _count(getattr(args, "groups", None), "--groups")
    depthwise = getattr(args, "depthwise", False)
    size, given = parse_size(args.size, getattr(args, "chw", False)) if args.size else (None, None)
    if given is not None:
        if channels is not None and channels != given:
            raise UsageError(f"size {args.size} gives {given} channel(s), --channels {channels}")
        channels = given
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
    if op != "conv" and filters is not None:
        raise UsageError("--filters applies to convolutions; a pooling keeps the input's channels")
    if depthwise:
        if op != "conv":
            raise UsageError("--depthwise applies to convolutions")
        c = 1 if channels is None else channels
        if groups is not None and groups != c:
            raise UsageError(
                f"--depthwise means groups = the {c} input channel(s); --groups {groups} disagrees"
            )
        groups = c
        filters = filters if filters is not None or filt is not None else c
    if filt is not None and depthwise and filt.ndim == 3:  # c x kh x kw: one filter a channel
        filt = filt.reshape(filt.shape[0], 1, *filt.shape[1:])
    if filt is not None:
        fo, fc, kh, kw = filter_shape(filt, op)
        if kernel is not None and kernel != (kh, kw):
            raise UsageError(f"--kernel {args.kernel} disagrees with the --filter matrix, which is {kh}x{kw}")
        if filters is not None and filters != fo:
            raise UsageError(f"--filters {filters} disagrees with the --filter matrix's {fo} filter(s)")
        g = 1 if groups is None else max(1, groups)
        if channels is not None and fc * g != channels:
            each = f" ({channels} / {g} groups)" if g > 1 else ""
            raise UsageError(
                f"the --filter matrix has {fc} channel(s), the input {channels}; each filter "
                f"reads {channels // g if channels % g == 0 else channels / g:g}{each}"
            )
        kernel, filters, channels = (kh, kw), fo, fc * g
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
        channels=1 if channels is None else channels,
        filters=1 if filters is None else filters,
        bias=not args.no_bias,
        groups=1 if groups is None else groups,
    )
    return calc, image, filt


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
    from ..report.conv import summary_lines

    lines = [piece for line in summary_lines(calc) for piece in wrap_hanging(line, width, at_equals=True)]
    if values is not None:
        lines += ["values:", *("  " + row for row in matrix_text(values))]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
