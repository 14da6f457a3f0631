"""Regenerate the ONNX fixtures of tests/test_onnx_exporters.py: graphs torch's exporters wrote
for torchvision models, their weights stripped, with torch's own counts beside them.

    python tools/make_onnx_fixtures.py [--exports DIR] [--models a,b]

Each fixture is tests/data/onnx/<variant>/<model>.onnx, where variant is ``dynamo-<opset>`` or
``legacy-<opset>``: the graph as the exporter wrote it (nodes, attributes, the module scopes
dynamo records, initializers with their names, types and shapes), with the data of every
initializer larger than 64 values removed (cnncalc counts parameters from shapes; small ones
may be reshape targets and stay). tests/data/onnx/oracle.json records, per model, torch's MACs
by forward hooks on Conv2d and Linear (bias excluded; for a transformer, torch's flop counter
halved, which sees attention) at the sizes the model runs at (two, or ViT's one), and per
fixture the number of parameters the original file held (float initializers, once per node
reading them).

The exports come from DIR/<variant>/<model>.onnx when given (an export already made), else are
made here: ``torch.onnx.export(model, (x,), dynamo=True, dynamic_shapes=...)`` with N, H and W
dynamic (or ``dynamo=False`` with dynamic_axes for the legacy exporter, which cannot keep H
and W dynamic through an adaptive pool: AlexNet and VGG are exported at 224x224). Needs torch,
torchvision and onnx.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from onnx_coverage import build, file_params, sizes_for, torch_macs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "onnx"
#: variant -> models. The four the default tests also export live, at three opsets and by both
#: exporters; more models by the default (dynamo) exporter.
FIXTURES = {
    "dynamo-20": [
        "resnet18", "mobilenet_v3_small", "vgg16", "shufflenet_v2_x1_0", "alexnet", "squeezenet1_0",
        "efficientnet_b0", "regnet_y_400mf", "mnasnet0_5", "densenet121", "googlenet",
        "fcn_resnet50", "deeplabv3_resnet50", "lraspp_mobilenet_v3_large", "convnext_tiny",
        "vit_b_32", "swin_t", "maxvit_t",
    ],
    "dynamo-17": ["resnet18", "mobilenet_v3_small", "vgg16", "shufflenet_v2_x1_0"],
    "dynamo-21": ["resnet18", "mobilenet_v3_small", "vgg16", "shufflenet_v2_x1_0"],
    "dynamo-18": ["resnet18", "mobilenet_v3_small"],
    "dynamo-19": ["resnet18", "mobilenet_v3_small"],
    "legacy-17": [
        "resnet18", "mobilenet_v3_small", "shufflenet_v2_x1_0", "vgg16", "alexnet",
        "lraspp_mobilenet_v3_large", "deeplabv3_resnet50", "vit_b_32", "swin_t", "maxvit_t",
    ],
    "legacy-20": ["resnet18", "shufflenet_v2_x1_0"],
}  # fmt: skip
#: Metadata kept on nodes (the module scopes and classes the importer reads).
KEEP_METADATA = {"pkg.torch.onnx.name_scopes", "pkg.torch.onnx.class_hierarchy"}
#: Largest initializer whose data is kept.
KEEP_DATA = 64
#: Largest integer initializer whose data is kept (the indices of an as_strided are read).
KEEP_INDICES = 4096


def export(model: str, variant: str, path: Path) -> None:
    import torch
    from torch.export import Dim

    m = build(model)
    h = sizes_for(model)[0][0]
    x = torch.randn(1, 3, h, h)
    exporter, opset = variant.split("-")
    if exporter == "dynamo":
        ds = ({0: Dim("N", min=1), 2: Dim("H", min=32), 3: Dim("W", min=32)},)
        with torch.fx.experimental._config.patch(backed_size_oblivious=True):
            ep = torch.export.export(
                m, (x,), dynamic_shapes=ds, strict=False, prefer_deferred_runtime_asserts_over_guards=True
            )
        torch.onnx.export(ep, dynamo=True, opset_version=int(opset), f=str(path))
    else:
        torch.onnx.export(
            m,
            (x,),
            str(path),
            dynamo=False,
            opset_version=int(opset),
            input_names=["x"],
            dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}},
        )


def strip(source: Path, target: Path) -> None:
    import onnx
    from onnx import numpy_helper

    integers = {onnx.TensorProto.INT64, onnx.TensorProto.INT32}

    m = onnx.load(str(source), load_external_data=False)
    for t in m.graph.initializer:
        n = 1
        for d in t.dims:
            n *= d
        if t.data_type in integers and n <= KEEP_INDICES:
            if t.data_location == t.EXTERNAL:  # an index tensor (as_strided): kept, inline
                array = numpy_helper.to_array(t, base_dir=str(source.parent))
                t.CopyFrom(numpy_helper.from_array(array, t.name))
            continue
        if n > KEEP_DATA or t.data_location == t.EXTERNAL:
            dims, dtype, name = list(t.dims), t.data_type, t.name
            t.Clear()
            t.name, t.data_type = name, dtype
            t.dims.extend(dims)
    for node in m.graph.node:
        kept = [(p.key, p.value) for p in node.metadata_props if p.key in KEEP_METADATA]
        del node.metadata_props[:]
        for k, v in kept:
            node.metadata_props.add(key=k, value=v)
        node.doc_string = ""
    del m.graph.value_info[:]
    m.doc_string = ""
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(target))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--exports", type=Path, help="a folder of exports already made (DIR/<variant>/<model>.onnx)"
    )
    ap.add_argument("--models", help="only these (comma-separated)")
    args = ap.parse_args(argv)
    wanted = set(args.models.split(",")) if args.models else None
    oracle_path = OUT / "oracle.json"
    oracle = json.loads(oracle_path.read_text()) if oracle_path.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant, models in FIXTURES.items():
            for model in models:
                if wanted and model not in wanted:
                    continue
                source = args.exports / variant / f"{model}.onnx" if args.exports else None
                if source is None or not source.exists():
                    source = Path(tmp) / variant / f"{model}.onnx"
                    source.parent.mkdir(parents=True, exist_ok=True)
                    export(model, variant, source)
                entry = oracle.setdefault(model, {"macs": {}, "params": {}})
                if not entry["macs"]:
                    module = build(model)
                    for h, w in sizes_for(model):
                        try:
                            entry["macs"][f"{h}x{w}"] = torch_macs(module, h, w, model)
                        except Exception:  # the model refuses the size (ViT holds only 224x224)
                            continue
                entry["params"][variant] = file_params(source)
                strip(source, OUT / variant / f"{model}.onnx")
                print(
                    f"{variant} {model}: {entry['params'][variant]:,} params, MACs {entry['macs']}",
                    flush=True,
                )
                oracle_path.write_text(json.dumps(oracle, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
