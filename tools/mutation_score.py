"""Print the mutation score of each mutated module from mutmut's results.

Run after ``mutmut run`` from the repository root::

    python tools/mutation_score.py [--survivors]

Reads ``mutants/**/*.py.meta`` (mutmut's per-file results) and ``tests/mutation-equivalent.md``
(surviving mutants that behave like the original for every input: ``- `name`: why`` lines,
several names before the colon when one reason covers them). The score of a module is
killed / (run - equivalent): timeouts count as killed (the mutant made the code loop),
mutants no selected test reaches count as surviving, mutants not run yet are left out and
reported.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "tests" / "mutation-equivalent.md"

KILLED = {1, 3, 36, 24, -24, 152, 255, 37}
SURVIVED = {0, 5, 33}
NOT_RUN = {None, 2, 34}


def equivalent_names() -> set[str]:
    if not EQUIVALENT.exists():
        return set()
    names = set()
    for line in EQUIVALENT.read_text().splitlines():
        if line.startswith("- "):
            names.update(re.findall(r"`([^`\s]+__mutmut_\d+)`", line.split(":")[0] + ":"))
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    args = parser.parse_args(argv)
    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if not metas:
        print("no results: run `mutmut run` first", file=sys.stderr)
        return 1
    equivalent = equivalent_names()
    total = Counter()
    survivors: list[str] = []
    rows = []
    for meta in metas:
        module = meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        c = Counter()
        for name, code in codes.items():
            if code in NOT_RUN:
                c["not run"] += 1
            elif code in KILLED:
                c["killed"] += 1
            elif name in equivalent:
                c["equivalent"] += 1
            else:
                c["surviving"] += 1
                survivors.append(name)
        c["generated"] = len(codes)
        total.update(c)
        rows.append((module, c))
    print(f"{'module':40} {'mutants':>8} {'run':>6} {'killed':>7} {'equiv':>6} {'surv':>5} {'score':>7}")
    for module, c in [*rows, ("total", total)]:
        run = c["generated"] - c["not run"]
        scored = run - c["equivalent"]
        score = f"{100 * c['killed'] / scored:6.1f}%" if scored else "    -  "
        print(
            f"{module:40} {c['generated']:8} {run:6} {c['killed']:7} {c['equivalent']:6} "
            f"{c['surviving']:5} {score:>7}"
        )
    if args.survivors:
        print()
        print("\n".join(sorted(survivors)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
