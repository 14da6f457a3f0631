"""Verification speed: ``cnncalc verify`` of ResNet-50 at 224x224 against a PyTorch forward.

Run: ``python benchmarks/bench_verify.py``. Prints figures; asserts nothing.

- whole process, ``cnncalc verify resnet50 --format json``: with an empty numba cache (cold:
  every kernel compiled) and with the cache filled (warm), median of 3;
- in process: the time spent inside the kernels for the whole network (``kernel_seconds``),
  the whole run (drawing 25M random weights included), and a PyTorch CPU forward of the same
  network measured in the same process (torchvision's resnet50 when installed, else the same
  layers built with torch.nn), as ratios.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def whole_process() -> None:
    print("== cnncalc verify resnet50 (1x3x224x224), whole process ==")
    cmd = [sys.executable, "-m", "cnncalc", "verify", "resnet50", "--format", "json"]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold (empty cache)", "warm (cached)"):
            times, inner = [], None
            for _ in range(1 if label.startswith("cold") else 3):
                t = time.perf_counter()
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                times.append(time.perf_counter() - t)
                inner = json.loads(out.stdout)
            print(
                f"{label:20} {statistics.median(times):6.2f} s   compile {inner['compile_seconds']:.2f} s, "
                f"run {inner['run_seconds']:.2f} s, kernels {inner['kernel_seconds']:.3f} s, "
                f"ok={inner['ok']}"
            )


def in_process() -> None:
    from cnncalc.analysis.verify import verify
    from cnncalc.core.engine import analyze
    from cnncalc.lang.spec import load_spec

    a = analyze(load_spec(ROOT / "specs" / "resnet50.yaml"))
    verify(a)  # compile or load the kernels
    runs = [verify(a, seed=i) for i in range(5)]
    kernels = statistics.median(r.kernel_seconds for r in runs)
    whole = statistics.median(r.run_seconds for r in runs)
    print("\n== in process (median of 5) ==")
    print(f"cnncalc kernels, every layer of ResNet-50: {kernels * 1e3:7.1f} ms")
    print(f"cnncalc verify run (random weights drawn): {whole * 1e3:7.1f} ms")
    try:
        import numpy as np
        import torch
    except ImportError:
        print("torch not installed: no ratio")
        return
    from bench_kernels import build_torch_resnet50, make_resnet50_params

    model, flavour = build_torch_resnet50(make_resnet50_params())
    model.eval()
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32))
    with torch.no_grad():
        model(x)
        times = []
        for _ in range(11):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    forward = statistics.median(times)
    print(f"torch forward ({flavour}, {torch.get_num_threads()} threads): {forward * 1e3:7.1f} ms")
    print(f"ratio kernels / torch: {kernels / forward:5.2f}x;  whole run / torch: {whole / forward:5.2f}x")


if __name__ == "__main__":
    whole_process()
    in_process()
