"""Sweep throughput: exact points a second, whole process, CSV to a file, on one core.

Two sweeps, each run as ``python -m cnncalc sweep ... --format csv > FILE`` (the whole process:
start-up, the symbolic analysis, compiling, evaluating and writing), timed by the wall clock and
by the CPU time the child used (on a busy machine the CPU time is the truer figure):

- ResNet-50 over H (W = 224): ten million points;
- MobileNet v2 with a width multiplier alpha (torchvision's ``width_mult``: every stage's
  channels ``make_divisible(c*alpha, 8)``, the last ``make_divisible(1280*max(1, alpha), 8)``)
  over alpha x H: 176 widths times 56,818 sizes, ten million points.

Then, in this process, the same engines alone (chunks evaluated without writing) and the
reference the goal is set against: analysing the spec at each point. Every figure's exactness is
checked: sampled rows of each CSV against the analysis at those values. Asserts nothing else.

    python benchmarks/bench_sweep.py [--quick]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnncalc.analysis.sweep import parse_range, plan  # noqa: E402
from cnncalc.core.engine import analyze  # noqa: E402
from cnncalc.lang.spec import load_spec, parse_spec  # noqa: E402

RESNET = ROOT / "specs" / "resnet50.yaml"


def mobilenet_v2_alpha() -> str:
    """The zoo's MobileNet v2 with torchvision's width multiplier."""
    text = (ROOT / "specs" / "mobilenet_v2.yaml").read_text()
    text = text.replace(
        "K: {default: 1000, doc: number of classes}",
        "K: {default: 1000, doc: number of classes}\n  alpha: {default: 1, min: 1/4, type: rational}",
    )
    # The residual add: every block of a stage but the first (its input has other channels);
    # with alpha open, "input.C == out" compares two formulas of alpha, so it is said outright.
    replacements = [
        ('e: "t != 1"}', 'e: "t != 1", residual: 1}'),
        ('when: "stride == 1 and input.C == out"', "when: residual"),
        ("out: c, first: {stride: s}", 'out: "make_divisible(c*alpha, 8)", first: {stride: s, residual: 0}'),
        (
            "{out: 32, kernel: 3, stride: 2, name: features.0}",
            '{out: "make_divisible(32*alpha, 8)", kernel: 3, stride: 2, name: features.0}',
        ),
        (
            "{out: 1280, name: features.18}",
            '{out: "make_divisible(1280*max(1, alpha), 8)", name: features.18}',
        ),
    ]
    for old, new in replacements:
        if old not in text:
            raise SystemExit(f"specs/mobilenet_v2.yaml changed: {old!r} is not in it; update the benchmark")
        text = text.replace(old, new)
    return text


def whole_process(args: list[str], out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of ``python -m cnncalc ARGS > out``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(out, "wb") as f:
        subprocess.run(
            [sys.executable, "-m", "cnncalc", *args],
            stdout=f,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def check_rows(path: Path, spec, names: list[str], every: int) -> int:
    """Compare every ``every``-th row of a sweep's CSV with the analysis at its values."""
    checked = 0
    with open(path) as f:
        header = f.readline().strip().split(",")
        for i, line in enumerate(f):
            if i % every:
                continue
            row = dict(zip(header, line.strip().split(","), strict=True))
            values = {n: row[n] for n in names}
            t = analyze(spec, values).totals
            assert int(row["macs"]) == t.macs and int(row["flops"]) == t.flops, values
            checked += 1
    return checked


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mobilenet = tmp / "mobilenet_v2_alpha.yaml"
        mobilenet.write_text(mobilenet_v2_alpha())
        m_spec = parse_spec(mobilenet.read_text(), str(mobilenet))
        # The variant against torchvision and the paper (Sandler et al., Table 6: 300 M, 209 M
        # and 97 M multiply-adds at widths 1, 0.75 and 0.5); at alpha = 1 it is the zoo's.
        zoo = analyze(load_spec(ROOT / "specs" / "mobilenet_v2.yaml")).totals.macs
        widths = {a: analyze(m_spec, {"alpha": a}).totals.macs for a in ("1", "3/4", "1/2")}
        assert widths["1"] == zoo == 300_774_272
        assert [round(v / 1e6) for v in widths.values()] == [301, 209, 97]
        stop = 1_000_031 if quick else 10_000_031
        runs = [
            ("ResNet-50 over H", RESNET, [f"H=32:{stop}"], {"W": "224"}, load_spec(RESNET)),
            (
                "MobileNet v2 over alpha x H",
                mobilenet,
                ["alpha=1/4:2:1/100", f"H=32:{5_713 if quick else 56_849}"],
                {},
                m_spec,
            ),
        ]
        for title, path, ranges, values, spec in runs:
            out = tmp / "sweep.csv"
            args = [x for r in ranges for x in ("--range", r)] + [
                x for k, v in values.items() for x in ("--set", f"{k}={v}")
            ]
            names = [r.partition("=")[0] for r in ranges]
            wall, cpu = whole_process(["sweep", str(path), *args, "--format", "csv"], out)
            with open(out, "rb") as f:
                points = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1
            checked = check_rows(out, spec, names, max(1, points // 20))
            print(
                f"{title}: {points:,} points, whole process to a CSV file: {wall:.2f} s wall "
                f"({points / wall:,.0f} points/s), {cpu:.2f} s CPU ({points / cpu:,.0f} points/s); "
                f"{checked} rows checked against the analysis"
            )
            p = plan(spec, dict(parse_range(r) for r in ranges), values)
            start = time.process_time()
            evaluated = sum(len(c) for c in p.chunks())
            engine = time.process_time() - start
            print(f"  engine alone (in process, no output): {evaluated / engine:,.0f} points/s")
        # The reference: an analysis at each point.
        s = load_spec(RESNET)
        start = time.process_time()
        for h in range(224, 244):
            analyze(s, {"H": h, "W": 224})
        per = (time.process_time() - start) / 20
        print(f"reference, re-analysing ResNet-50 at each point: {1 / per:,.0f} points/s")


if __name__ == "__main__":
    main()
