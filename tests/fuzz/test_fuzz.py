"""Fuzzing the command line: for any spec text, cnncalc exits 0 with output, or 2 with one
located message, never a traceback, within the limits (a child process killed after TIMEOUT
seconds fails the example).

A small derandomised budget runs with the tests. A large run, on demand::

    CNNCALC_FUZZ_EXAMPLES=1000 HYPOTHESIS_PROFILE=dev python -m pytest tests/fuzz -n 2 \\
        --hypothesis-show-statistics

(``dev`` draws new random examples each run; the default ``ci`` profile is derandomised.)
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..helpers import run_forked
from .strategies import grammar_specs, mutated_specs

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
