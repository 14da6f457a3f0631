"""Terminal UI latency: from a keystroke in the editor to the updated layer table, and start time.

Run: ``python benchmarks/bench_tui.py``. Prints figures; asserts nothing.

- keystroke to table: on ResNet-50 and ResNet-152 (goal on ResNet-152: median at most 40 ms,
  95th percentile at most 80 ms), a digit typed into the number of classes (``K: {default: 1000``
  becomes 10000, then back), timed from the key press to the moment the table shows the new
  parameter count of ``fc``, with the app's defaults (any debounce included); beside it the
  median parts (key to analysis started, the analysis, the table's update), the median CPU time
  the process spent from key to table (every thread: what a busy machine does not change), and
  the median of a whole analysis without the memo of the previous keystroke's results. The spec
  is first edited elsewhere (a comment), as in a session of typing: otherwise every other timed
  edit would restore the text as loaded and take the "modified" mark off the title, which lays
  the whole screen out again (on the first edit only when a person types). The last two lines
  are ``keystroke NAME: median N ms, p95 M ms``;
- start: a fresh process, from its start to the app's first screen (``on_mount`` done, the
  editor showing the spec), and to the first table of the spec; beside it, a process that only
  imports textual, for scale (the machine's load shows in every figure).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EDITS = 40
PARTS: list[tuple[float, float, float]] = []  # per edit: key to analysis, analysis, table update
CPU: list[float] = []  # per edit: the process's CPU time from the key to the table (every thread)
SIZE = (160, 48)


async def keystroke_latency(name: str, debounce: float | None) -> list[float]:
    from cnncalc.lang.zoo import find_spec
    from cnncalc.tui.app import CnncalcApp

    text = find_spec(name).read_text()
    kwargs = {} if debounce is None else {"debounce": debounce}
    marks: dict[str, float] = {}

    class Timed(CnncalcApp):
        def _start_analysis(self):
            marks["start"] = time.perf_counter()
            super()._start_analysis()

        def _show(self, generation, outcome, request=None):
            marks["show"] = time.perf_counter()
            super()._show(generation, outcome, request)
            marks["shown"] = time.perf_counter()

    app = Timed(text=text, title=name, **kwargs)
    times = []
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one("#layers")

        def fc_params() -> str:
            for index, row in enumerate(app.row_list):
                if row.key == "fc":
                    return table.cell(index, "params")
            return ""

        while not fc_params():
            await pilot.pause(0.01)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        editor = app.query_one("#editor")
        editor.focus()
        editor.move_cursor((0, len(text.splitlines()[0])))  # the end of the first comment line
        await pilot.press("full_stop")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        line = next(i for i, s in enumerate(text.splitlines()) if "K: {default: 1000" in s)
        column = text.splitlines()[line].index("1000") + 4
        for i in range(EDITS):
            before = fc_params()
            editor.move_cursor((line, column + i % 2))
            await pilot.pause()
            start, cpu = time.perf_counter(), time.process_time()
            # The key is sent as a task: the pilot's press returns only once the app is idle.
            key = asyncio.create_task(pilot.press("0" if i % 2 == 0 else "backspace"))
            while fc_params() == before:
                await asyncio.sleep(0.001)
            times.append(time.perf_counter() - start)
            CPU.append(time.process_time() - cpu)
            await key
            shown = marks["shown"] - marks["show"]
            PARTS.append((marks["start"] - start, marks["show"] - marks["start"], shown))
            await app.workers.wait_for_complete()  # the formulas for the detail pane, off the clock
            await pilot.pause(0.05)
    return times


CHILD = """
import os, sys, time
sys.path.insert(0, {root!r})
from cnncalc.tui.app import CnncalcApp
from cnncalc.lang.zoo import find_spec

t0 = float(os.environ["BENCH_T0"])

class Timed(CnncalcApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(lambda: print("screen", time.time() - t0, flush=True))

    def _show(self, generation, outcome, request=None):
        super()._show(generation, outcome, request)
        if self.row_list:
            print("table", time.time() - t0, flush=True)
            self.exit()

async def main():
    app = Timed(text=find_spec({name!r}).read_text())
    async with app.run_test(size=(160, 48)) as pilot:
        while app.is_running:
            await pilot.pause(0.01)

import asyncio
asyncio.run(main())
"""


def start_time(name: str, repeats: int = 5) -> tuple[float, float]:
    screens, tables = [], []
    for _ in range(repeats):
        env = {**os.environ, "BENCH_T0": repr(time.time())}
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(root=str(ROOT), name=name)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        lines = [line.split() for line in out.splitlines()]
        figures = dict(words for words in lines if words[:1] in (["screen"], ["table"]))
        screens.append(float(figures["screen"]))
        tables.append(float(figures["table"]))
    return statistics.median(screens), statistics.median(tables)


def full_analysis(name: str, repeats: int = 5) -> float:
    """Median seconds of one analysis of the whole spec, nothing remembered (for scale)."""
    from cnncalc.lang.zoo import find_spec
    from cnncalc.tui import model

    text = find_spec(name).read_text()
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        model.compute(text.replace("default: 1000", f"default: 100{i}"), name, {})
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    reference = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import textual.app, textual.widgets"], check=True)
        reference.append(time.perf_counter() - t)
    print(f"reference: a process that only imports textual takes {statistics.median(reference):.2f} s")
    for name in ("resnet50", "resnet152"):
        screen, table = start_time(name)
        print(f"start, {name}: first screen {screen:.2f} s, first table {table:.2f} s (median of 5 runs)")
    print(f"keystroke to updated table ({EDITS} edits each, the app's defaults):")
    results = {}
    for name in ("resnet50", "resnet152"):
        PARTS.clear()
        CPU.clear()
        times = asyncio.run(keystroke_latency(name, None))
        key, analysis, update = (statistics.median(p[i] for p in PARTS) * 1000 for i in range(3))
        whole = full_analysis(name) * 1000
        print(
            f"  {name:10} median {statistics.median(times) * 1000:4.0f} ms, p95 {p95(times) * 1000:4.0f} ms, "
            f"worst {max(times) * 1000:4.0f} ms   (key to analysis {key:.0f}, analysis {analysis:.0f}, "
            f"table {update:.0f}; CPU {statistics.median(CPU) * 1000:.0f}; a whole analysis, nothing "
            f"remembered: {whole:.0f} ms)"
        )
        results[name] = times
    print("goal on resnet152: median 40 ms, p95 80 ms")
    for name, times in results.items():
        median, worst = statistics.median(times) * 1000, p95(times) * 1000
        print(f"keystroke {name}: median {median:.0f} ms, p95 {worst:.0f} ms")


if __name__ == "__main__":
    main()
