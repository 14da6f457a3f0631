"""from_torch on torchvision's ResNet-50 against torch.export alone, in one process.

    python benchmarks/bench_from_torch.py [--model resnet50] [--repeat 3]

Prints the median seconds of each and the ratio. torch.export alone is the trace from_torch
starts with (N, H and W dynamic); from_torch adds torch's ONNX exporter (in memory), its graph
optimiser and the import (shape arithmetic, analysis, folding into blocks).
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import torch
    import torchvision

    from cnncalc.onnx.pytorch import _axes, _export, import_torch

    module = torchvision.models.get_model(args.model, weights=None).eval()
    x = torch.zeros(1, 3, 224, 224)
    export_s, total_s = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        _export(torch, module, x, _axes(("N", "H", "W"), 4))
        export_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        imported = import_torch(module, x)
        total_s.append(time.perf_counter() - start)
    a, b = statistics.median(export_s), statistics.median(total_s)
    print(f"{args.model}: torch.export alone {a:.1f} s, from_torch {b:.1f} s ({b / a:.1f}x)")
    print(f"  {len(imported.analysis.layers)} layers, spec of {imported.text.count(chr(10))} lines")


if __name__ == "__main__":
    main()
