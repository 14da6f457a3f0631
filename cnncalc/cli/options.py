"""What the commands share: the options several take, reading a spec, and writing output."""

from __future__ import annotations

import argparse
import sys

from ..errors import SpecError, UsageError

FORMATS = ("table", "json", "csv", "markdown")
#: Largest indentation ``schema --indent`` accepts.
MAX_INDENT = 16
#: Largest seed ``verify --seed`` accepts (seeds are 64-bit).
MAX_SEED = 2**64 - 1
SPEC_HELP = "a spec file, the name of a bundled spec (vgg16, lenet5, ...), or - for standard input"


def add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="assignments",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="give symbols values, e.g. --set H=160 W=160 alpha=0.5",
    )


def add_strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="treat warnings (an unused block, a pooling that does nothing, a linear layer on an "
        "axis of size 1, a repeat of 0) as errors",
    )


def add_plugin(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="load custom layer kinds first: NAME is a module (found on the Python path, then in "
        "the current directory) or an installed plugin of the entry-point group cnncalc.layers "
        "(a spec never loads Python code by itself); may be repeated",
    )


def add_view(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--width",
        type=width,
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


def add_plot(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--plot",
        metavar="FILE",
        help=f"also draw {what} to FILE (.png or .svg; needs matplotlib: pip install 'cnncalc[plot]')",
    )


def load_plugins(modules: list[str]) -> None:
    if modules:
        from ..layers._plugins import load

        load(modules)


def assignments(items: list[str], where: str = "--set ") -> dict[str, str]:
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


def warn(analysis, args: argparse.Namespace) -> None:
    """Print the analysis's warnings to standard error; with --strict, refuse them (exit 2)."""
    if not analysis.warnings:
        return
    if getattr(args, "strict", False):
        n = len(analysis.warnings)
        listed = "; ".join(str(w) for w in analysis.warnings)
        raise SpecError(f"{n} warning{'s' * (n > 1)}, errors with --strict: {listed}")
    for w in analysis.warnings:
        sys.stderr.write(f"cnncalc: warning: {w}\n")


def bounded_int(text: str, what: str, high: int) -> int:
    from ..errors import shorten

    try:
        value = int(text) if len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None or not 0 <= value <= high:
        raise argparse.ArgumentTypeError(
            f"{what} is a whole number from 0 to {high}, found {shorten(repr(text))}"
        )
    return value


def seed(text: str) -> int:
    return bounded_int(text, "the seed", MAX_SEED)


def indent(text: str) -> int:
    return bounded_int(text, "the indentation", MAX_INDENT)


def depth(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, found {value}")
    return value


def width(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of columns, found {text!r}") from None
    if not 20 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be between 20 and 10000 columns, found {value}")
    return value


def width_of(args: argparse.Namespace | None = None) -> int:
    """The columns to lay tables out for: --width, else the terminal's, else $COLUMNS, else 120."""
    if args is not None and getattr(args, "width", None):
        return args.width
    from ..report.layout import output_width

    return output_width()


def write_wrapped(text: str) -> None:
    """Lines of prose written to the output's width, broken at spaces (never inside a number)."""
    from ..report.layout import wrap_hanging

    width = width_of()
    lines = [piece for line in text.splitlines() for piece in wrap_hanging(line, width)]
    sys.stdout.write("".join(line + "\n" for line in lines))


def console(width: int | None = None):
    from rich.console import Console

    return Console(width=width or width_of(), soft_wrap=False)


def view(args: argparse.Namespace):
    from ..report import View

    return View(
        width=width_of(args),
        units=args.units,
        depth=getattr(args, "depth", None),
        dtype=getattr(args, "dtype", "float32"),
        wide=args.wide,
        optimizer=getattr(args, "optimizer", "adam"),
    )


def load(name: str):
    """The spec a command names: a file, a bundled spec's name, or ``-`` for standard input.

    Raises:
        CnncalcError: when it cannot be found, read or validated (located in the file).
    """
    from ..lang.spec import load_spec
    from ..lang.zoo import find_spec

    return load_spec(find_spec(name))
