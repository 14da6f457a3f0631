"""Every option of every command, given values a person might mistype: one message, never a
traceback.

The options are read from the command line's own parser, so a new option is covered the day it
is added. Each value below once broke some option (a zero step, a zero denominator, an exponent
of a hundred million digits) or is a common slip (an empty value, a unit, a stray ``=``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import signal

import pytest

from cnncalc import cli

VALUES = (
    "0",
    "-1",
    "1/2",
    "1/0",
    "",
    "abc",
    "1e999",
    "1e99999999",
    "99999999999999999999",
    "1.5",
    "-",
    "x=1",
    "H=",
    "=1",
    "H=abc",
    "H=1/0",
    "H=1e400",
    "é",
)
#: What each command needs besides the option tried (a small network, so that runs are quick).
BASE = {
    "analyze": ["lenet5"],
    "verify": ["lenet5"],
    "compare": ["lenet5"],
    "bounds": ["lenet5"],
    "solve": ["resnet50", "--largest", "H,W", "--within", "macs=1G"],
    "sweep": ["lenet5", "--range", "H=28:32:4"],
    "conv": ["28x28"],
    "schema": [],
    "zoo": [],
}
#: Seconds one run may take; more is a hang. The slowest valid case takes a few seconds on a
#: quiet machine: the limit is far above what any load can make of that.
LIMIT = 600


def _options():
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cases = []
    for command, p in sub.choices.items():
        if command not in BASE:  # tui (interactive); export and import have tests of their own
            continue
        for action in p._actions:
            if not action.option_strings or action.option_strings[0] == "-h":
                continue
            cases.append((command, action.option_strings[-1], action.nargs == 0, tuple(action.choices or ())))
    return cases


OPTIONS = _options()


class _Hang(Exception):
    pass


def _run(argv: list[str]) -> tuple[int, str]:
    def alarm(*_):
        raise _Hang(f"cnncalc {' '.join(argv)} ran over {LIMIT} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(LIMIT)
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse's own refusals
                code = exc.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


def test_every_command_is_covered():
    assert {c for c, *_ in OPTIONS} >= {"analyze", "verify", "compare", "bounds", "solve", "sweep", "conv"}
    assert ("solve", "--step", False, ()) in OPTIONS and ("sweep", "--range", False, ()) in OPTIONS


@pytest.mark.parametrize(
    ("command", "option", "flag", "choices"), OPTIONS, ids=[f"{c} {o}" for c, o, *_ in OPTIONS]
)
def test_an_option_never_ends_in_a_traceback(command, option, flag, choices):
    values = [None] if flag else [*choices, *VALUES]
    for value in values:
        argv = [command, *BASE[command], option if value is None else f"{option}={value}"]
        code, err = _run(argv)
        assert code in (0, 1, 2), (argv, code, err)
        assert "Traceback" not in err, (argv, err)
        if code == 2:
            assert "error:" in err, (argv, err)  # says what is wrong


@pytest.mark.parametrize("command", [c for c in BASE if BASE[c]])
def test_a_mistyped_spec_never_ends_in_a_traceback(command):
    for value in VALUES:
        argv = [command, value, *BASE[command][1:]]
        code, err = _run(argv)
        assert code in (0, 1, 2) and "Traceback" not in err, (argv, code, err)
