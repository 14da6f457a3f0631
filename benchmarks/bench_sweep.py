"""Sweep throughput: totals evaluated from the compiled formulas against re-analysing per point.

Prints points per second for ResNet-50 over a grid of input sizes (H and W), exact integers both
ways (the two are compared on a sample). Asserts nothing.

    python benchmarks/bench_sweep.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnncalc.analysis.exact import compile_formulas  # noqa: E402
from cnncalc.analysis.sweep import METRICS, open_analysis, parse_range, sweep  # noqa: E402
from cnncalc.core.engine import analyze  # noqa: E402
from cnncalc.lang.spec import load_spec  # noqa: E402

SPEC = load_spec(ROOT / "specs" / "resnet50.yaml")


def main() -> None:
    t = time.perf_counter()
    a = open_analysis(SPEC, {}, ("H", "W"))
    compiled = compile_formulas({m: getattr(a.totals, m) for m in METRICS}, ("H", "W"))
    setup = time.perf_counter() - t
    print(f"symbolic analysis + compile (once): {setup:.3f} s")

    side = np.arange(1, 1001, dtype=np.int64)
    h, w = (g.reshape(-1) for g in np.meshgrid(side, side))
    t = time.perf_counter()
    out = compiled({"H": h, "W": w})
    dt = time.perf_counter() - t
    print(
        f"compiled formulas: {h.size:,} points (H, W in 1..1000) in {dt:.3f} s = {h.size / dt:,.0f} points/s"
    )

    sample = range(0, h.size, h.size // 20)
    t = time.perf_counter()
    for i in sample:
        r = analyze(SPEC, {"H": int(h[i]), "W": int(w[i])})
        assert r.totals.macs == int(out["macs"][i]) and r.totals.flops == int(out["flops"][i])
    per = (time.perf_counter() - t) / len(sample)
    print(f"re-analysing per point: {1 / per:,.0f} points/s ({per * 1e3:.1f} ms a point); same integers")
    print(f"ratio: {h.size / dt * per:,.0f}x")

    t = time.perf_counter()
    s = sweep(SPEC, dict([parse_range("H=32:1024:32"), parse_range("W=32:1024:32")]))
    print(f"sweep over H, W in 32:1024:32: {len(s):,} points, {time.perf_counter() - t:.3f} s end to end")


if __name__ == "__main__":
    main()
