"""``cnncalc import``: an ONNX model, or a PyTorch module (``--torch``), read into a spec."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from ..lang.source import display_path


def add_arguments(sub) -> None:
    i = sub.add_parser(
        "import",
        help="read an ONNX model or a PyTorch module into a spec",
        description="Read an ONNX model into a spec (needs the onnx extra: pip install "
        '"cnncalc[onnx]"): its layers, their arguments and the graph, named after the nodes '
        "and initializers. Dynamic dimensions (dim_param) become symbols; shape arithmetic "
        "(Shape, Gather, Concat, Div, ...) is evaluated into the sizes of the layer it configures. "
        "Every initializer is checked against the shape of its layer's parameters. Operators "
        "without a layer kind are listed, and the import fails (exit status 2), unless --opaque "
        "keeps each as an opaque layer: its output shape from onnx's shape inference, its cost "
        "unknown. With --torch MODULE:CALLABLE, the callable is imported and called (your code runs) "
        "and the module it returns is read through torch.export and torch's ONNX exporter "
        '(needs the torch extra: pip install "cnncalc[torch]").',
        epilog="Examples: cnncalc import resnet50.onnx --symbols N,H,W -o resnet50.yaml; "
        "cnncalc import --torch torchvision.models:resnet50 -o resnet50.yaml",
    )
    i.add_argument("model", nargs="?", help="an ONNX file")
    i.add_argument(
        "--torch",
        metavar="MODULE:CALLABLE",
        help="import MODULE, call CALLABLE() and read the torch.nn.Module it returns (runs your code)",
    )
    i.add_argument(
        "--input-shape",
        metavar="N,C,H,W",
        default="1,3,224,224",
        help="with --torch: the example input's shape (default 1,3,224,224); N, H and W stay symbols "
        "where torch.export allows, these sizes their defaults",
    )
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
    i.add_argument(
        "--flat",
        action="store_true",
        help="write one line per layer (by default, repeated structure is written as blocks with repeat)",
    )


def run(args: argparse.Namespace) -> int:
    from ..onnx.importer import summary

    if args.torch:
        if args.model or args.symbols:
            raise UsageError("--torch reads a module: it takes no ONNX file or --symbols")
        imported = _from_torch(args.torch, args.input_shape, fold=not args.flat, opaque=args.opaque)
    else:
        if not args.model:
            raise UsageError("import: give an ONNX file, or --torch MODULE:CALLABLE")
        from ..onnx.importer import import_model, load

        imported = import_model(
            load(args.model), source=args.model, symbols=args.symbols, opaque=args.opaque, fold=not args.flat
        )
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(imported.text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"wrote {display_path(args.output)}: {summary(imported)}", file=sys.stderr)
    else:
        sys.stdout.write(imported.text)
    return 0


def _from_torch(target: str, shape: str, *, fold: bool, opaque: bool):
    """Import MODULE, call CALLABLE, and read the module it returns."""
    import importlib
    import os

    from ..onnx.pytorch import TorchError, first_line, import_torch

    module_name, colon, attr = target.partition(":")
    if not colon or not module_name or not attr:
        raise UsageError(
            f"--torch: expected MODULE:CALLABLE (such as torchvision.models:resnet50), got {target!r}"
        )
    sizes = _shape(shape)
    try:
        import torch
    except ImportError:
        from ..onnx.pytorch import INSTALL_HINT

        raise UsageError(f"--torch needs torch: {INSTALL_HINT}") from None
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())  # the user's own module, as `python -m` finds it
    try:
        try:
            module = importlib.import_module(module_name)
        except BaseException as exc:  # the user's code: anything it raises is reported
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise TorchError(f"--torch: cannot import {module_name}: {first_line(exc)}") from None
        fn = module
        for part in attr.split("."):
            if not hasattr(fn, part):
                raise TorchError(f"--torch: {module_name} has no {attr!r}")
            fn = getattr(fn, part)
        if not callable(fn):
            raise TorchError(f"--torch: {target} is not callable")
        try:
            built = fn()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise TorchError(f"--torch: {target}() raised {type(exc).__name__}: {first_line(exc)}") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    if not isinstance(built, torch.nn.Module):
        raise TorchError(f"--torch: {target}() returned a {type(built).__name__}, not a torch.nn.Module")
    return import_torch(built, torch.zeros(*sizes), name=attr.rsplit(".", 1)[-1], fold=fold, opaque=opaque)


def _shape(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",")]
    if not 1 <= len(parts) <= 8 or not all(p.isascii() and p.isdigit() and 0 < len(p) <= 6 for p in parts):
        raise UsageError(
            f"--input-shape: sizes are positive whole numbers, such as 1,3,224,224 (found {text[:40]!r})"
        )
    sizes = [int(p) for p in parts]
    if 0 in sizes:
        raise UsageError("--input-shape: a size is at least 1")
    total = 1
    for s in sizes:
        total *= s
    if total > 2**28:
        raise UsageError(f"--input-shape: {total:,} elements (at most {2**28:,})")
    return sizes
