"""Report speed: the terminal table against the JSON of the same analysis, and start-up.

Run: ``python benchmarks/bench_report.py``. Prints figures and ratios; asserts nothing.

- in process: a synthetic ResNet of 20,000 layers (and ResNet-50), analysed once, then
  rendered as the terminal table (every layer, indented under its blocks; and at depth 1) at
  120 columns, and as JSON; the table's time as a ratio of the JSON's (goal: within 2x);
- whole process: ``cnncalc analyze resnet50`` to a pipe, median of several runs, next to
  ``python -c pass`` measured in the same run (the interpreter's own start).
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_analyze import RESNET_TEMPLATE, wall  # noqa: E402


def best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rendering() -> None:
    from rich.console import Console

    from cnncalc.core.engine import analyze
    from cnncalc.lang.spec import load_spec, parse_spec
    from cnncalc.report import View, render, to_dict

    cases = [
        ("resnet50", load_spec(ROOT / "specs" / "resnet50.yaml")),
        ("synthetic 20,000 layers", parse_spec(RESNET_TEMPLATE.format(blocks=2855))),
    ]
    print("== in process: table vs JSON of the same analysis (best of 3) ==")
    for label, spec in cases:
        a = analyze(spec)

        def as_json(a=a):
            json.dumps(to_dict(a))

        def table(depth=None, a=a):
            console = Console(file=io.StringIO(), width=120, color_system=None)
            console.print(render(a, View(width=120, depth=depth)))

        tj = best(as_json)
        tt = best(table)
        t1 = best(lambda: table(1))
        print(
            f"{label:26} {len(a.layers):6} layers: JSON {tj:7.3f} s, table {tt:7.3f} s "
            f"({tt / tj:4.2f}x JSON), depth 1 {t1:7.3f} s ({t1 / tj:4.2f}x)"
        )


def start_up() -> None:
    print("\n== whole process (median of 5) ==")
    python = wall([sys.executable, "-c", "pass"])
    rows = [
        ("python -c pass", None),
        ("cnncalc --help", [sys.executable, "-m", "cnncalc", "--help"]),
        ("analyze resnet50 (table)", [sys.executable, "-m", "cnncalc", "analyze", "resnet50"]),
        ("analyze resnet50 -f json", [sys.executable, "-m", "cnncalc", "analyze", "resnet50", "-f", "json"]),
    ]
    for label, cmd in rows:
        t = python if cmd is None else wall(cmd)
        print(f"{label:28} {t:6.3f} s   ({t - python:6.3f} s beyond the interpreter's start)")


if __name__ == "__main__":
    rendering()
    start_up()
