"""Print the mutation score of each mutated module from mutmut's results.

Run after ``mutmut run`` from the repository root::

    python tools/mutation_score.py [--survivors] [--only MODULE ...]

Modules with thousands of mutants (the engine, the layers) take days to run in full; a seeded
random sample of them gives an estimate of their score::

    python tools/mutation_score.py --sample 150 --seed 1 --only engine graph layers > sample.txt
    nice mutmut run --max-children 2 $(cat sample.txt)
    python tools/mutation_score.py --only engine graph layers --among sample.txt

(``--sample`` prints mutant names drawn from those mutmut has generated: run ``mutmut run`` once
with a name that matches nothing to generate them.) When only part of a module's mutants has
run, the score is that of the sample, with its 95% interval (Wilson).

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
import math
import random
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
    parser.add_argument(
        "--only", nargs="+", metavar="MODULE", help="modules whose path contains one of these words"
    )
    parser.add_argument("--sample", type=int, metavar="N", help="print N mutant names drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    parser.add_argument(
        "--among", type=Path, metavar="FILE", help="score only the mutants named in FILE (a --sample)"
    )
    args = parser.parse_args(argv)
    among = set(args.among.read_text().split()) if args.among else None
    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if args.only:
        metas = [m for m in metas if any(w in m.relative_to(ROOT / "mutants").as_posix() for w in args.only)]
    if not metas:
        print("no results: run `mutmut run` first", file=sys.stderr)
        return 1
    if args.sample:
        names = sorted(n for m in metas for n in json.loads(m.read_text())["exit_code_by_key"])
        print("\n".join(sorted(random.Random(args.seed).sample(names, min(args.sample, len(names))))))
        return 0
    equivalent = equivalent_names()
    total = Counter()
    survivors: list[str] = []
    rows = []
    for meta in metas:
        module = meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if among is not None:
            codes = {name: code for name, code in codes.items() if name in among}
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
    print(
        f"{'module':40} {'mutants':>8} {'run':>6} {'killed':>7} {'equiv':>6} {'surv':>5} {'score':>7}"
        "  95% interval of a sample"
    )
    for module, c in [*rows, ("total", total)]:
        run = c["generated"] - c["not run"]
        scored = run - c["equivalent"]
        score = f"{100 * c['killed'] / scored:6.1f}%" if scored else "    -  "
        interval = ""
        if scored and (c["not run"] or among is not None):
            low, high = wilson(c["killed"], scored)
            interval = f"  {100 * low:.1f}% to {100 * high:.1f}%"
        print(
            f"{module:40} {c['generated']:8} {run:6} {c['killed']:7} {c['equivalent']:6} "
            f"{c['surviving']:5} {score:>7}{interval}"
        )
    if args.survivors:
        print()
        print("\n".join(sorted(survivors)))
    return 0


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion ``k`` of ``n``."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


if __name__ == "__main__":
    sys.exit(main())
