"""``cnncalc import``: an ONNX model read into a spec."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError


def add_arguments(sub) -> None:
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


def run(args: argparse.Namespace) -> int:
    from ..onnx.importer import import_model, load, summary

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
