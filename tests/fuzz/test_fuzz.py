"""Fuzzing the command line: for any spec text, cnncalc exits 0 with output, or 2 with one
located message, never a traceback, within the limits (a child process killed after TIMEOUT
seconds fails the example).

A small derandomised budget runs with the tests. A large run, on demand::

    CNNCALC_FUZZ_EXAMPLES=1000 HYPOTHESIS_PROFILE=dev python -m pytest tests/fuzz -n 2 \\
        --hypothesis-show-statistics

(``dev`` draws new random examples each run; the default ``ci`` profile is derandomised.)
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..helpers import run_forked
from .strategies import conditional_networks, grammar_specs, mutated_specs

#: Examples per test: a few seconds' worth by default.
EXAMPLES = int(os.environ.get("CNNCALC_FUZZ_EXAMPLES", "12"))
#: Seconds a single run may take before it counts as a hang.
TIMEOUT = 600
#: Address space of a run.
MEMORY = 4 * 2**30

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the bound is the child's timeout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

COMMANDS = st.sampled_from(
    [
        ["analyze", "{spec}"],
        ["analyze", "{spec}", "--symbolic", "-f", "json"],
        ["analyze", "{spec}", "-f", "csv"],
        ["analyze", "{spec}", "--symbolic", "-f", "markdown"],
        ["analyze", "{spec}", "--set", "H=9"],
        ["compare", "{spec}", "lenet5", "--symbolic"],
    ]
)


def check(text: str, command: list[str], tmp_path) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    args = [a.replace("{spec}", str(path)) for a in command]
    code, out, err = run_forked(args, None, tmp_path, timeout=TIMEOUT, memory=MEMORY)
    assert "Traceback" not in err, err[-3000:]
    assert "\x1b" not in out + err, "a raw escape character reached the terminal"
    if code == 0:
        assert out.strip(), "exit 0 without output"
        # only the spec's warnings (a block never used, a pool of kernel 1), one line each
        assert all(line.startswith("cnncalc: warning: ") for line in err.splitlines()), err
    else:
        assert code == 2, (code, err[-3000:])
        assert err.startswith("cnncalc: error: ") and err.count("\n") == 1, err
        assert out == ""


@FUZZ
@given(text=mutated_specs(), command=COMMANDS)
def test_mutated_specs(text, command, tmp_path):
    check(text, command, tmp_path)


@FUZZ
@given(text=grammar_specs(), command=COMMANDS)
def test_grammar_specs(text, command, tmp_path):
    check(text, command, tmp_path)


# -- solve and sweep ---------------------------------------------------------------------------

SOLVE_SWEEP = st.sampled_from(
    [
        ["solve", "{spec}", "--shape", "7x7"],
        ["solve", "{spec}", "--largest", "H", "--within", "macs=1e9"],
        ["solve", "{spec}", "--largest", "H,W", "--within", "flops=1e6", "--upto", "300"],
        ["sweep", "{spec}", "--range", "H=1:40", "-f", "csv"],
        ["sweep", "{spec}", "--range", "H=8:64:8", "--range", "W=16,32", "--pareto", "H,macs"],
        ["bounds", "{spec}"],
    ]
)


@FUZZ
@given(text=grammar_specs(), command=SOLVE_SWEEP)
def test_solve_and_sweep_on_grammar_specs(text, command, tmp_path):
    check(text, command, tmp_path)


@FUZZ
@given(text=mutated_specs(), command=SOLVE_SWEEP)
def test_solve_and_sweep_on_mutated_specs(text, command, tmp_path):
    check(text, command, tmp_path)


def _every_value(spec) -> dict[int, Any]:
    """H -> the analysis at H, for each H from 1 to 60 the network takes."""
    from cnncalc.core.engine import analyze
    from cnncalc.errors import CnncalcError

    out = {}
    for h in range(1, 61):
        with contextlib.suppress(CnncalcError):
            out[h] = analyze(spec, {"H": h})
    return out


@FUZZ
@given(text=conditional_networks(), budget=st.integers(1, 10**7), size=st.integers(1, 40))
def test_sweep_and_solve_agree_with_each_value(text, budget, size):
    """The answers of sweep and solve against the analysis at each value of H (no formula)."""
    from cnncalc.analysis.inverse import largest_within, solve_shape
    from cnncalc.analysis.sweep import sweep
    from cnncalc.errors import CnncalcError
    from cnncalc.lang.spec import parse_spec

    spec = parse_spec(text, "net.yaml")
    every = _every_value(spec)
    try:
        s = sweep(spec, {"H": list(range(1, 61))})
    except CnncalcError:
        assert not every, "refused a sweep of a network some value takes"
        return
    for h, valid, macs in zip(s.points["H"], s.valid, s.totals["macs"], strict=True):
        assert valid == (h in every), h
        if valid:
            assert macs == every[h].totals.macs, h
    fits = [h for h, a in every.items() if a.totals.macs <= budget]
    b = largest_within(spec, ("H",), "macs", budget)
    assert b.best == (max(fits) if fits else None)
    (h_sol, _) = solve_shape(spec, (size, size))
    found = {v for lo, hi in h_sol.intervals for v in range(lo, hi + 1)}
    assert {h for h, a in every.items() if a.layers[-1].output_shape[2] == size} <= found
