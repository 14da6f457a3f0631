"""Analysis speed: whole-process times of the command line, and how symbolic analysis grows.

Run: ``python benchmarks/bench_analyze.py``. Prints figures; asserts nothing.

- start-up: ``cnncalc analyze resnet50`` against the floor of the imports it needs (yaml,
  rich.console and pydantic's BaseModel), taking turns in one run, in seconds and, when valgrind
  is installed, in instructions executed (a count a busy machine does not change); the floor
  with one pydantic model class declared is shown beside it, for what any model costs. The
  package is byte-compiled first, as installing it does; then where the instructions go, step
  by step (the floor's imports, the command line's modules, parsing, the engine's modules,
  loading the spec, the analysis, the table laid out and printed);
- whole process: ``cnncalc --help``, ``cnncalc analyze`` of VGG-16, ResNet-50, ResNet-152
  (concrete and --symbolic), each the median of several runs, next to ``python -c "import
  torch"`` measured in the same run when torch is installed (every peer tool pays that import;
  torchinfo's ResNet-50 summary takes about 7.6 s on this machine);
- in process: analysis of synthetic chains of 50, 200 and 1,000 conv/pool layers and of
  synthetic ResNets of 10, 100 and 1,000 basic blocks, concrete and symbolic, with the size of
  the final spatial expression (count_ops) and of the total MACs expression.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wall(cmd: list[str], repeats: int = 5) -> float:
    return statistics.median(walls(cmd, repeats))


def walls(cmd: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return times


#: The imports any analysis with a table needs: the floor start-up is measured against.
FLOOR = "import yaml, rich.console; from pydantic import BaseModel"
#: The floor and one pydantic model class, declared and used: what any program pays for a model
#: (pydantic imports ``pydantic.fields`` and the modules behind it at the first class, and more
#: at the first validation), for reference. Its plugin lookup is skipped, as the command line
#: skips it (cnncalc.cli._no_plugin_lookup).
ONE_MODEL = (
    "import sys, types\n"
    "sys.modules['pydantic.plugin._loader'] = loader = types.ModuleType('loader')\n"
    "loader.get_plugins = lambda: ()\n"
    f"{FLOOR}\n"
    "class Model(BaseModel):\n"
    "    x: int\n"
    "Model(x=1)"
)
#: The goal: ``cnncalc analyze resnet50`` within this factor of the floor.
GOAL = 1.6


def compile_package() -> None:
    """Byte-compile cnncalc first, as installing it does: with PYTHONDONTWRITEBYTECODE set (or a
    read-only tree), a module edited since its last compilation would be compiled again at every
    run and counted in the figures."""
    import compileall

    compileall.compile_dir(ROOT / "cnncalc", quiet=2)


def start_up(rounds: int = 15) -> None:
    """``cnncalc analyze resnet50`` against the floor of the imports it needs (:data:`FLOOR`),
    measured in the same run, with the interpreter alone beside them. The commands take turns,
    round after round, so that a slow spell of the machine weighs on each alike; check that the
    machine is quiet (``uptime``) before reading the figures."""
    print(f"== start-up (min / median of {rounds}, interleaved) ==")
    py = sys.executable
    rows = [
        ("python -c pass", [py, "-c", "pass"]),
        ("floor: yaml, rich.console, pydantic", [py, "-c", FLOOR]),
        ("floor and one pydantic model", [py, "-c", ONE_MODEL]),
        ("analyze resnet50 --format csv", [py, "-m", "cnncalc", "analyze", "resnet50", "-f", "csv"]),
        ("analyze resnet50", [py, "-m", "cnncalc", "analyze", "resnet50"]),
    ]
    times: dict[str, list[float]] = {label: [] for label, _ in rows}
    for _ in range(rounds):
        for label, cmd in rows:
            times[label] += walls(cmd, 1)
    base_low = min(times["floor: yaml, rich.console, pydantic"])
    base_mid = statistics.median(times["floor: yaml, rich.console, pydantic"])
    for label, _ in rows:
        low, mid = min(times[label]), statistics.median(times[label])
        print(
            f"{label:36} {low * 1000:5.0f} ms / {mid * 1000:5.0f} ms   "
            f"{low / base_low:5.2f}x / {mid / base_mid:5.2f}x the floor"
        )
    ratio = statistics.median(times["analyze resnet50"]) / base_mid
    print(f"analyze resnet50: {ratio:.2f}x the floor (median; goal {GOAL}x)")


def instructions(cmd: list[str]) -> int | None:
    """Instructions the command executes (valgrind's callgrind), or None without valgrind.

    Unlike seconds, the count does not depend on what else the machine is doing: the same
    command gives the same count within a fraction of a percent, busy machine or quiet."""
    import re
    import shutil
    import tempfile

    if shutil.which("valgrind") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", *cmd],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    m = re.search(r"Collected : (\d+)", done.stderr)
    return int(m.group(1)) if m else None


def start_up_instructions() -> None:
    """The start-up ratio counted in instructions, which a busy machine does not change."""
    py = sys.executable
    floor = instructions([py, "-c", FLOOR])
    if floor is None:
        print("(valgrind is not installed: no instruction counts)")
        return
    print("== start-up in instructions (valgrind callgrind; independent of the machine's load) ==")
    print(f"{'floor: yaml, rich.console, pydantic':36} {floor / 1e6:8.0f} M")
    for label, cmd in (
        ("floor and one pydantic model", [py, "-c", ONE_MODEL]),
        ("analyze resnet50 --format csv", [py, "-m", "cnncalc", "analyze", "resnet50", "-f", "csv"]),
        ("analyze resnet50", [py, "-m", "cnncalc", "analyze", "resnet50"]),
    ):
        n = instructions(cmd)
        print(f"{label:36} {n / 1e6:8.0f} M   {n / floor:5.2f}x the floor (goal {GOAL}x)")


#: ``cnncalc analyze resnet50`` as the command line runs it, in steps: a step's instructions are
#: those of its first steps run less those of the steps before it (kept to the command's own
#: path: cnncalc.cli.main, cnncalc.cli.analyze.run).
STAGES = (
    ("the floor's imports", "import yaml, rich.console\nfrom pydantic import BaseModel"),
    (
        "the command line's modules",
        "import os\nos.environ.setdefault('PYDANTIC_DISABLE_PLUGINS', '__all__')\n"
        "from cnncalc import cli\nfrom cnncalc.cli import options\ncli._no_plugin_lookup()",
    ),
    ("parsing the arguments", "args = cli._parser('analyze').parse_args(['analyze', 'resnet50'])"),
    ("the engine's modules", "from cnncalc import report\nfrom cnncalc.core.engine import analyze"),
    ("loading the spec (kinds, models)", "spec = options.load('resnet50')"),
    (
        "the analysis",
        "from cnncalc.cli.analyze import _with_convention\n"
        "a = _with_convention(analyze(spec, {}, symbolic=False), 'cnncalc')",
    ),
    ("the table, laid out", "view = options.view(args)\ntable = report.render(a, view)"),
    ("the table, printed", "options.console(view.width).print(table)"),
)


def start_up_stages() -> None:
    """Where ``cnncalc analyze resnet50``'s instructions go, step by step (:data:`STAGES`)."""
    py = sys.executable
    print("== start-up in instructions, step by step ==")
    before = 0
    for i, (label, _) in enumerate(STAGES):
        n = instructions([py, "-c", "\n".join(code for _, code in STAGES[: i + 1])])
        if n is None:
            print("(valgrind is not installed: no instruction counts)")
            return
        print(f"{label:36} {(n - before) / 1e6:+8.0f} M   {n / 1e6:6.0f} M in all")
        before = n


def whole_process() -> None:
    exe = [sys.executable, "-m", "cnncalc"]
    print("== whole process (median of 5) ==")
    torch_import = None
    try:
        import importlib.util

        if importlib.util.find_spec("torch"):
            torch_import = wall([sys.executable, "-c", "import torch"], 3)
    except Exception:
        pass
    rows = [
        ("cnncalc --help", [*exe, "--help"]),
        ("analyze vgg16", [*exe, "analyze", "vgg16"]),
        ("analyze resnet50", [*exe, "analyze", "resnet50"]),
        ("analyze resnet50 --symbolic", [*exe, "analyze", "resnet50", "--symbolic"]),
        ("analyze resnet152", [*exe, "analyze", "resnet152"]),
        ("analyze resnet152 --symbolic", [*exe, "analyze", "resnet152", "--symbolic"]),
        ("analyze vgg16 --format json", [*exe, "analyze", "vgg16", "-f", "json"]),
    ]
    import tempfile

    synthetic = Path(tempfile.mkdtemp()) / "resnet_1000_blocks.yaml"
    synthetic.write_text(RESNET_TEMPLATE.format(blocks=1000))
    rows += [
        ("analyze synthetic 1000-block ResNet", [*exe, "analyze", str(synthetic), "-f", "json"]),
        ("  ... --symbolic", [*exe, "analyze", str(synthetic), "-f", "json", "--symbolic"]),
    ]
    for label, cmd in rows:
        t = wall(cmd, 3 if "synthetic" in label or "..." in label else 5)
        extra = ""
        if torch_import:
            extra = f"   {t / torch_import:5.2f}x 'import torch' ({torch_import:.2f} s)"
        print(f"{label:34} {t:6.3f} s   {t / 7.6:5.3f}x torchinfo's 7.6 s{extra}")


def chain_spec(n: int):
    from cnncalc.lang.spec import parse_spec

    cycle = [
        "conv2d: {out: 8, kernel: 3, padding: 1}",
        "conv2d: {out: 8, kernel: 3, stride: 2, padding: 1}",
        "max_pool2d: {kernel: 3, stride: 2, padding: 1}",
        "conv2d: {out: 8, kernel: 5, stride: 3, padding: 2}",
        "relu",
    ]
    lines = "\n".join(f"  - {cycle[i % len(cycle)]}" for i in range(n))
    return parse_spec(f"symbols: {{N: 1, H: 224, W: 224}}\ninput: [N, 8, H, W]\nlayers:\n{lines}\n")


RESNET_TEMPLATE = """
symbols: {{N: 1, H: 224, W: 224}}
input: [N, 3, H, W]
blocks:
  basic:
    args: {{out: null}}
    layers:
      - residual:
          body:
            - conv2d: {{out: out, kernel: 3, padding: 1, bias: false}}
            - batch_norm2d
            - relu
            - conv2d: {{out: out, kernel: 3, padding: 1, bias: false}}
            - batch_norm2d
      - relu
layers:
  - conv2d: {{out: 64, kernel: 7, stride: 2, padding: 3, bias: false}}
  - max_pool2d: {{kernel: 3, stride: 2, padding: 1}}
  - basic: {{out: 64, repeat: {blocks}, name: body}}
  - global_avg_pool2d
  - flatten
  - linear: {{out: 1000}}
"""


def resnet_spec(blocks: int):
    from cnncalc.lang.spec import parse_spec

    return parse_spec(RESNET_TEMPLATE.format(blocks=blocks))


def in_process() -> None:
    import sympy

    from cnncalc.core.engine import analyze

    print("\n== in process: synthetic chains (conv/pool, strides 1, 2 and 3) ==")
    print(
        f"{'layers':>8} {'concrete s':>11} {'symbolic s':>11} {'s/layer':>9} "
        f"{'shape ops':>10} {'MACs ops':>9}"
    )
    for n in (50, 200, 1000):
        spec = chain_spec(n)
        t = time.perf_counter()
        analyze(spec)
        tc = time.perf_counter() - t
        t = time.perf_counter()
        a = analyze(spec, symbolic=True)
        ts = time.perf_counter() - t
        print(
            f"{n:>8} {tc:>11.3f} {ts:>11.3f} {ts / n * 1e3:>8.2f}m "
            f"{sympy.count_ops(a.layers[-1].output_shape[2]):>10} "
            f"{sympy.count_ops(a.totals.macs):>9}"
        )

    print("\n== in process: synthetic ResNets of basic blocks ==")
    print(f"{'blocks':>8} {'layers':>7} {'concrete s':>11} {'symbolic s':>11} {'s/block':>9}")
    for n in (10, 100, 1000):
        spec = resnet_spec(n)
        t = time.perf_counter()
        a = analyze(spec)
        tc = time.perf_counter() - t
        t = time.perf_counter()
        analyze(spec, symbolic=True)
        ts = time.perf_counter() - t
        print(f"{n:>8} {len(a.layers):>7} {tc:>11.3f} {ts:>11.3f} {ts / n * 1e3:>8.2f}m")

    print("\n== in process: zoo ==")
    from cnncalc.lang.spec import load_spec

    for name in ("vgg16", "resnet50", "resnet152"):
        spec = load_spec(ROOT / "specs" / f"{name}.yaml")
        t = time.perf_counter()
        analyze(spec)
        tc = time.perf_counter() - t
        t = time.perf_counter()
        analyze(spec, symbolic=True)
        ts = time.perf_counter() - t
        print(f"{name:>10} concrete {tc:.3f} s, symbolic {ts:.3f} s")


if __name__ == "__main__":
    compile_package()
    start_up()
    start_up_instructions()
    start_up_stages()
    whole_process()
    in_process()
