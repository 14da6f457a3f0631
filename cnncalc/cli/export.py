"""``cnncalc export``: a spec written as an ONNX model."""

from __future__ import annotations

import argparse

from ..lang.source import display_path
from . import options


def add_arguments(sub) -> None:
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
    options.add_set(e)
    options.add_plugin(e)
    e.add_argument("-o", "--output", required=True, metavar="MODEL.onnx", help="the file to write")
    e.add_argument(
        "--seed",
        type=options.seed,
        default=0,
        help=f"seed of the random weights, 0 to {options.MAX_SEED} (default 0)",
    )
    e.add_argument("--opset", type=int, metavar="N", help="ONNX opset to write (default 18)")


def run(args: argparse.Namespace) -> int:
    from ..onnx.export import DEFAULT_OPSET, export, save, summary

    values = options.assignments(args.assignments)
    spec = options.load(args.spec)
    opset = DEFAULT_OPSET if args.opset is None else args.opset  # 0 is an opset to refuse, not "unset"
    exported = export(spec, values, seed=args.seed, opset=opset)
    save(exported, args.output)
    options.write_wrapped(f"wrote {display_path(args.output)}: {summary(exported)}\n")
    return 0
