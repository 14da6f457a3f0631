"""Measure which torchvision models ``cnncalc import`` reads exactly, exporter by exporter.

    python tools/onnx_coverage.py EXPORTS_DIR [--models a,b] [--markdown docs/onnx-coverage.md]

EXPORTS_DIR holds one folder per export variant (``dynamo-20/resnet18.onnx``, ``legacy-17/...``),
exported with N, H and W dynamic. For each model and variant the ONNX file is imported (without
--opaque), and compared with the oracles:

- MACs: torch's own count, forward hooks on every Conv2d and Linear (bias excluded: output
  elements times the input channels per group times the kernel area; output elements times the
  input features), on the model built by torchvision, at 224x224 and at 197x251 (299x299 and
  301x317 for inception_v3), batch 1. The transformers' attention is neither (its projections
  are called as functions, its products are not modules): their oracle is torch's flop counter
  halved, every convolution and matrix product run (tests/helpers.py);
- params: the elements the file's float initializers hold, each counted once per node reading
  it (an initializer shared through Identity nodes is counted at each use), except those read
  only to compute a tensor of fixed values from stored ones (Swin's attention mask: scattered
  values, not parameters); a stored weight rearranged before use (a relative position bias the
  exporter gathered from its table) counts.

The torch counts are cached in EXPORTS_DIR/torch_counts.json. Needs torch and torchvision.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEGMENTATION = ["fcn_resnet50", "deeplabv3_resnet50", "lraspp_mobilenet_v3_large"]


def sizes_for(model: str) -> list[tuple[int, int]]:
    return [(299, 299), (301, 317)] if model == "inception_v3" else [(224, 224), (197, 251)]


def build(model: str):
    import torchvision.models as tm
    import torchvision.models.segmentation as ts

    if model in SEGMENTATION:
        kw = {"weights": None, "weights_backbone": None}
        if model != "lraspp_mobilenet_v3_large":
            kw["aux_loss"] = False
        return getattr(ts, model)(**kw).eval()
    return tm.get_model(model, weights=None).eval()


TRANSFORMERS = ("vit_", "swin_", "maxvit_")


def torch_macs(module, h: int, w: int, model: str = "") -> int:
    """torch's own count at h x w: the tests' oracle (tests/helpers.py), on the module's device."""
    import torch

    from tests.helpers import torch_flop_counter_macs
    from tests.helpers import torch_macs as count

    if model.startswith(TRANSFORMERS):
        return torch_flop_counter_macs(module, torch.zeros(1, 3, h, w))
    return count(module, torch.zeros(1, 3, h, w), meta=False)


def file_params(path: Path) -> int:
    """Elements of the float initializers the file's nodes read, once per reading node."""
    import onnx

    m = onnx.load(str(path), load_external_data=False)
    floats = {
        onnx.TensorProto.FLOAT,
        onnx.TensorProto.FLOAT16,
        onnx.TensorProto.DOUBLE,
        onnx.TensorProto.BFLOAT16,
    }
    size = {}
    for t in m.graph.initializer:
        if t.data_type in floats:
            n = 1
            for d in t.dims:
                n *= d
            size[t.name] = n
    alias = {}
    for node in m.graph.node:
        if node.op_type == "Identity" and node.input and node.input[0] in size:
            alias[node.output[0]] = node.input[0]
    # Tensors that read no input of the model: the initializers, Constant nodes' outputs, and
    # what nodes compute from those alone (Swin's attention mask, built from the image's size).
    stored = {t.name for t in m.graph.initializer} | {""}
    for node in m.graph.node:
        if all(x in stored or x in alias for x in node.input):
            stored.update(node.output)
    rearrange = {"Reshape", "Transpose", "Unsqueeze", "Squeeze", "Flatten"}
    total = 0
    for node in m.graph.node:
        if node.op_type == "Identity":
            continue
        # A weight read only to build a fixed tensor (a mask's values, scattered) is a
        # constant, not a parameter; a weight rearranged (a relative position bias the
        # exporter gathered from its table) stays one.
        if node.op_type not in rearrange and all(x in stored or x in alias for x in node.input):
            continue
        for x in node.input:
            name = alias.get(x, x)
            if name in size and size[name] > 1:
                total += size[name]
    return total


def oracle(model: str, cache: dict) -> dict:
    if model not in cache or (model.startswith(TRANSFORMERS) and "counter" not in cache[model]):
        m = build(model)
        counts = {}
        for h, w in sizes_for(model):
            try:
                counts[f"{h}x{w}"] = torch_macs(m, h, w, model)
            except Exception:  # the model itself refuses the size (maxvit_t needs multiples of 32)
                counts[f"{h}x{w}"] = None
        if model.startswith(TRANSFORMERS):
            counts["counter"] = True
        cache[model] = counts
    return {k: v for k, v in cache[model].items() if k != "counter"}


def check(path: Path, model: str, macs: dict) -> dict:
    from cnncalc.core.engine import analyze
    from cnncalc.errors import CnncalcError
    from cnncalc.onnx.importer import import_model, load

    start = time.perf_counter()
    try:
        model_proto = load(str(path))
        dims = [d.dim_param or d.dim_value for d in model_proto.graph.input[0].type.tensor_type.shape.dim]
        # An export at a fixed H and W (the legacy exporter through an adaptive pool): the
        # sizes made symbols again, as a user would with --symbols.
        symbols = "H,W" if all(isinstance(d, int) for d in dims[2:]) else None
        try:
            imported = import_model(model_proto, source=str(path), symbols=symbols)
        except CnncalcError:
            if symbols is None:
                raise
            # A model that holds only at its one size (ViT's position embedding): read at it.
            symbols = None
            imported = import_model(model_proto, source=str(path))
    except CnncalcError as exc:
        return {"ok": False, "why": str(exc).split(": ", 1)[-1][:300]}
    seconds = time.perf_counter() - start
    spec = imported.spec
    free = [s for s in ("N", "H", "W") if s in spec.symbols]
    one_size = "x".join(str(d) for d in dims[2:]) if "H" not in free and "W" not in free else ""
    wrong = []
    for key, want in macs.items():
        if want is None:
            continue  # torch itself cannot run the model at this size
        h, w = (int(v) for v in key.split("x"))
        values = {k: v for k, v in {"N": 1, "H": h, "W": w}.items() if k in spec.symbols}
        if one_size and one_size != f"{h}x{w}":
            continue  # a model read at one size is compared at that size only
        try:
            got = analyze(spec, values).totals.macs
        except CnncalcError as exc:
            wrong.append(f"{key}: {str(exc)[:120]}")
            continue
        if got != want:
            wrong.append(f"MACs at {key}: {got:,} (torch {want:,})")
    params = imported.analysis.totals.params + imported.analysis.totals.buffers
    held = file_params(path)
    if params != held:
        wrong.append(f"params+buffers {params:,} (file {held:,})")
    return {
        "ok": not wrong,
        "why": "; ".join(wrong),
        "symbols": free,
        "fixed": bool(symbols),
        "one_size": one_size,
        "s": round(seconds, 2),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("exports", type=Path)
    ap.add_argument("--models", help="comma-separated (default: every model exported)")
    ap.add_argument(
        "--json",
        type=Path,
        help="keep the results here: a file from an earlier run is updated model by model, so a "
        "table can be built up in several runs (--models) and written from all of them",
    )
    ap.add_argument("--markdown", type=Path, help="write the table (a markdown page) here")
    args = ap.parse_args(argv)
    cache_path = args.exports / "torch_counts.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    variants = sorted(p.name for p in args.exports.iterdir() if p.is_dir() and any(p.glob("*.onnx")))
    models = (
        args.models.split(",")
        if args.models
        else sorted({f.stem for v in variants for f in (args.exports / v).glob("*.onnx")})
    )
    results: dict = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
    for model in models:
        files = [(v, args.exports / v / f"{model}.onnx") for v in variants]
        files = [(v, f) for v, f in files if f.exists()]
        if not files:
            continue
        macs = oracle(model, cache)
        cache_path.write_text(json.dumps(cache, indent=1))
        for v, f in files:
            r = check(f, model, macs)
            results.setdefault(model, {})[v] = r
            print(f"{v:10} {model:32} {'exact' if r['ok'] else 'FAIL ' + r['why'][:160]}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, sort_keys=True))
    if args.markdown:
        measured = sorted({v for r in results.values() for v in r})
        args.markdown.write_text(table(results, measured))
    return 0


def table(results: dict, variants: list[str]) -> str:
    """The results as a markdown table: one row a model, one column an export variant."""
    lines = ["| model | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
    for model in sorted(results):
        cells = []
        for v in variants:
            r = results[model].get(v)
            if r is None:
                cells.append("")
            elif r["ok"]:
                note = " (`--symbols H,W`)" if r.get("fixed") else ""
                note += f" (at {r['one_size']} only)" if r.get("one_size") else ""
                cells.append("exact" + note)
            else:
                ops = re.findall(r"(?:^|; |: )([A-Za-z.]+) x\d+ \(", r["why"])
                cells.append(
                    "no layer kind: " + ", ".join(ops[:6])
                    if ops
                    else "no: " + r["why"].replace("|", "/")[:90]
                )
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    exact = [sum(1 for m in results if results[m].get(v, {}).get("ok")) for v in variants]
    total = [sum(1 for m in results if v in results[m]) for v in variants]
    lines.append(
        "| **exact** | " + " | ".join(f"**{e} of {t}**" for e, t in zip(exact, total, strict=True)) + " |"
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
