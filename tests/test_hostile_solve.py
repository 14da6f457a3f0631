"""Hostile input to solve, sweep and bounds, the expression paths they take, and the process's
environment: one case of each class that once ended in a traceback, a hang, a MemoryError, an
input accepted without a word, or a wrong answer. Run as tests/test_hostile.py runs its cases:
the command line in a child process, under a timeout and an address-space limit."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from .helpers import ROOT
from .test_hostile import TIMEOUT, _limit, run

BIG = "9" * 5000  # past Python's 4,300 digits for int <-> str

#: A chain of blocks, each passing ``v + 1 if H > i else v`` to the next: a conditional of a
#: conditional, 60 levels deep.
COND60 = (
    "symbols: {H: 32}\ninput: [1, 3, H, H]\nblocks:\n"
    + "".join(
        f"  b{i}: {{args: {{v: null}}, layers: [{{b{i + 1}: {{v: 'v + 1 if H > {i} else v'}}}}]}}\n"
        for i in range(59)
    )
    + "  b59: {args: {v: null}, layers: [{conv2d: {out: v, kernel: 1}}]}\nlayers: [{b0: {v: 1}}]\n"
)
TWO = re.sub(
    r"if H > (\d+)",
    lambda m: f"if {'H' if int(m.group(1)) % 2 else 'W'} > {m.group(1)}",
    COND60.replace("{H: 32}", "{H: 32, W: 32}").replace("H, H]", "H, W]"),
)
ROOT_SPEC = "input: [1, 3, 8, 8]\nlayers:\n  - identity\n  - {relu: {%s: '%s'}}\n"


def case(id_: str, spec: str | None, args: list[str], match: str):
    return pytest.param(spec, args, match, id=id_)


REFUSED = [
    # huge-int: past the digits Python converts (solve --shape read them with int())
    case(
        "huge-int-shape", None, ["solve", "resnet50", "--shape", f"{BIG}x7"], r"a size has at most 30 digits"
    ),
    case("huge-int-range", None, ["sweep", "lenet5", "--range", f"H=32:{BIG}"], r"more digits than the 101"),
    # unicode-digit: str.isdigit() accepts a superscript two, int() refuses it
    case("unicode-digit-shape", None, ["solve", "resnet50", "--shape", "\u00b2x\u00b2"], r"digits 0-9"),
    # root-structural: a root where a count is needed (an IndexError)
    case(
        "root-repeat",
        ROOT_SPEC % ("repeat", "2**(1/2)"),
        ["analyze", "{spec}"],
        r"= sqrt\(2\) is not an integer",
    ),
    case(
        "root-when", ROOT_SPEC % ("when", "3**(1/3)"), ["analyze", "{spec}"], r"when = 3\*\*\(1/3\) is not an"
    ),
    # sweep-size: grids built whole before (a MemoryError, or minutes in argparse)
    case(
        "sweep-grid-1e10",
        None,
        ["sweep", "lenet5", "--range", "H=1:100000", "--range", "W=1:100000", "-f", "csv"],
        r"the grid has 10,000,000,000 points \(100,000 \(H\) x 100,000 \(W\)\)",
    ),
    case("sweep-range-1e100", None, ["sweep", "lenet5", "--range", "H=1:1e100"], r"about 10\^100 points"),
    case(
        "sweep-20000-names",
        None,
        ["sweep", "lenet5", *[x for i in range(20000) for x in ("--range", f"s{i}=1")]],
        r"--range: given more than 64 times",
    ),
    # hang-nested: two symbols cannot be folded into one list of ranges: refused, not minutes
    case(
        "hang-two-symbols", TWO, ["analyze", "{spec}", "--symbolic"], r"grows to more than 20,000 operations"
    ),
    # accepted: inputs taken without a word
    case(
        "accepted-opset-0", None, ["export", "lenet5", "-o", "x.onnx", "--opset", "0"], r"--opset 0: cnncalc"
    ),
    case(
        "accepted-sweep-twice",
        None,
        ["sweep", "lenet5", "--range", "H=32", "--range", "H=64"],
        r"gives H twice",
    ),
    # solve-wrong: a symbol that decides the layers, without a range to search
    case(
        "solve-repeat-unbounded",
        "symbols: {H: 32, n: 2}\ninput: [1, 3, H, H]\nlayers:\n  - conv2d: {out: 8, kernel: 3, repeat: n}\n",
        ["solve", "{spec}", "--largest", "n", "--within", "macs=1e7"],
        r"n decides which layers exist .* give --upto",
    ),
]


@pytest.mark.parametrize(("spec", "args", "match"), REFUSED)
def test_refused(spec, args, match, tmp_path):
    code, out, err = run(args, spec=spec, tmp_path=tmp_path)
    assert "Traceback" not in err and "MemoryError" not in err, err[-2000:]
    assert code == 2, err
    assert len(err.strip().splitlines()) <= 8 and "\n\n" not in err.strip(), err  # one paragraph
    assert re.search(match, err), err
    assert out == ""


def test_conditionals_nested_sixty_deep_answer(tmp_path):
    code, out, err = run(["analyze", "{spec}", "--symbolic", "-f", "csv"], spec=COND60, tmp_path=tmp_path)
    assert code == 0, err
    # b0 to b58 each add 1 when H > i: v = 1 + min(H, 59), 2 for H = 1, ..., 60 from H = 59 on
    channels = out.splitlines()[1].split('"')[1]
    steps = " else ".join(f"{h + 1} if H < {h + 1}" for h in range(1, 59))
    assert channels == f"[1, ({steps} else 60), H, H]"


def _python(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """A real ``python -m cnncalc`` (the interpreter reads PYTHONIOENCODING at start-up)."""
    proc = subprocess.run(
        [sys.executable, "-m", "cnncalc", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        preexec_fn=_limit,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


@pytest.mark.parametrize(
    ("env", "args", "want"),
    [
        # LeNet-5: 61,706 parameters (README)
        ({"COLUMNS": BIG}, ["analyze", "lenet5"], "61,706"),
        ({"COLUMNS": "\u00b2"}, ["analyze", "lenet5"], "61,706"),
        ({"PYTHONIOENCODING": "ascii"}, ["analyze", "lenet5"], "61,706"),
        ({"PYTHONIOENCODING": "ascii"}, ["bounds", "lenet5"], "The last feature map"),
    ],
    ids=["columns-huge", "columns-superscript", "ascii-analyze", "ascii-bounds"],
)
def test_environment_that_once_broke_a_run(env, args, want):
    code, out, err = _python(args, env)
    assert code == 0 and "Traceback" not in err, err
    assert want in out


def test_an_unreadable_numba_setting_is_one_warning(tmp_path):
    env = {"NUMBA_OPT": "banana", "NUMBA_NUM_THREADS": "0"}
    code, out, err = _python(["conv", "--input", "[[1,2],[3,4]]", "--filter", "[[1]]"], env)
    assert code == 0 and "Traceback" not in err, err
    assert "values:\n  1 2\n  3 4" in out
    assert err.splitlines() == [
        "cnncalc: warning: NUMBA_NUM_THREADS='0' is ignored (expected a number of threads of 1 or "
        "more); numba's default is used",
        "cnncalc: warning: NUMBA_OPT='banana' is ignored (Environment variable `NUMBA_OPT` is set to an "
        "unsupported value 'banana', supported values are 0, 1, 2, 3, and 'max'); numba's default is used",
    ]
