"""Configurations near a valid one: where a missing check shows.

A layer's ``examples()`` builds valid configurations, so a contract checked on them alone never
runs an input the layer must refuse: a layer without its divisibility check, or without the
check that its kernel fits, passes. :func:`nearby` derives from a valid case the configurations
one slip away from it:

- each size of the input one more and one less, and each spatial size 1 (a kernel larger than
  the input);
- each integer argument (and each item of a pair) one more, one less, and one more than the
  largest spatial size; each boolean argument flipped.

For each, either the layer's checks refuse it, or its shape rule gives whole sizes of at least 1
and its kernel runs and agrees with the rules. :func:`near_problems` says which.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from ..errors import CnncalcError, RuleError, SizeError, SpecError
from ..strategies import Case

_AXES4 = ("batch", "channels", "height", "width")


def nearby(case: Case) -> list[tuple[Case, str]]:
    """The configurations one slip from ``case``, each with what changed (``channels 4 ->
    5``), without repeats and without ``case`` itself."""
    seen = {case.spec_text()}
    out = []
    for near, change in _candidates(case):
        text = near.spec_text()
        if text not in seen:
            seen.add(text)
            out.append((near, change))
    return out


def _candidates(case: Case) -> Iterator[tuple[Case, str]]:
    x = case.input_shape
    rank = len(x)
    names = _AXES4 if rank == 4 else tuple(f"axis {i}" for i in range(rank))
    if not case.before:  # the layers before the entry were built for this input
        for i, d in enumerate(x):
            for v in (d + 1, d - 1):
                if v >= 1:
                    yield Case(case.entry, (*x[:i], v, *x[i + 1 :])), f"{names[i]} {d} -> {v}"
        if rank >= 3:
            small = (*x[:2], *(1 for _ in x[2:]))
            yield Case(case.entry, small), f"spatial sizes {list(x[2:])} -> {list(small[2:])}"
    big = max(x[2:], default=max(x)) + 1
    kind, args = _kind_args(case.entry)
    if not isinstance(args, dict):
        return
    for key, value in args.items():
        if isinstance(value, bool):
            yield _with(case, kind, key, None, not value), f"{key} {_json(value)} -> {_json(not value)}"
        elif isinstance(value, int):
            for v in (value + 1, value - 1, big):
                yield _with(case, kind, key, None, v), f"{key} {value} -> {v}"
        elif isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            for i, item in enumerate(value):
                for v in (item + 1, item - 1, big):
                    yield _with(case, kind, key, i, v), f"{key}[{i}] {item} -> {v}"


def _kind_args(entry: dict[str, Any]) -> tuple[str, Any]:
    from ..strategies import _ENTRY_KEYS

    kind = next((k for k in entry if k not in _ENTRY_KEYS), next(iter(entry)))
    return kind, entry[kind]


def _with(case: Case, kind: str, key: str, index: int | None, value: Any) -> Case:
    entry = copy.deepcopy(case.entry)
    if index is None:
        entry[kind][key] = value
    else:
        entry[kind][key][index] = value
    return Case(entry, case.input_shape, None, case.before)


def _json(v: Any) -> str:
    return "true" if v is True else "false" if v is False else str(v)


def plain(exc: BaseException) -> str:
    """An error's message without the place in the case's own spec (``<case>:4:23: ``)."""
    return re.sub(r"^<case>:\d+:\d+: ", "", str(exc))


#: Outcomes of configurations already tried, by (the classes of the kinds they use, the
#: configuration, the seed): neighbouring cases share many of their near configurations.
_TRIED: dict[tuple, tuple[list[str], bool]] = {}
_MAX_TRIED = 4096


def near_problems(near: Case, seed: int = 0) -> tuple[list[str], bool]:
    """What is wrong with the layer on the configuration ``near`` (empty when its checks refuse
    it, or when the rules and the kernel agree on it), and whether it is a missing check."""
    from ..layers import REGISTRY

    kinds = tuple(REGISTRY.get(_kind_args(e)[0]) for e in (*near.before, near.entry))
    key = (kinds, near.spec_text(), seed)
    if key not in _TRIED:
        if len(_TRIED) >= _MAX_TRIED:
            _TRIED.clear()
        _TRIED[key] = _near_problems(near, seed)
    problems, missing = _TRIED[key]
    return list(problems), missing


def _near_problems(near: Case, seed: int) -> tuple[list[str], bool]:
    from ..analysis.verify import run_layers
    from ..core.engine import analyze
    from ..lang.spec import parse_spec

    try:
        spec = parse_spec(near.spec_text(), "<case>")
    except SpecError:
        return [], False  # an argument no spec may give (of the wrong type): refused on loading
    try:
        a = analyze(spec)
    except RuleError as exc:
        return [plain(exc)], False
    except SizeError as exc:
        return [
            f"missing check (or a wrong shape rule): the checks accept this configuration, but {plain(exc)}"
        ], True
    except CnncalcError:
        return [], False  # the checks refuse it, as they should
    problems: list[str] = []
    missing = False
    for check in run_layers(a, seed=seed):
        if check.ok or check.not_verified is not None:
            continue
        name = f"{check.name} ({check.kind})"
        shown = "[" + ", ".join(str(d) for d in check.predicted_shape) + "]"
        if check.error and check.observed_shape is None and check.counted_macs is None:
            missing = True
            problems.append(
                f"missing check: the checks accept this configuration (output {shown}), but "
                f"{check.error}; a check (at_least, divides) must refuse what the kernel cannot run"
            )
            continue
        if check.error:
            problems.append(f"{name}: {check.error}")
        if check.observed_shape is not None and check.observed_shape != check.predicted_shape:
            seen = "[" + ", ".join(str(d) for d in check.observed_shape) + "]"
            problems.append(
                f"{name}: output shape: predicted {shown}, the kernel's own arithmetic gives {seen}"
            )
        if check.counted_macs is not None and check.counted_macs != check.predicted_macs:
            problems.append(
                f"{name}: MACs: predicted {check.predicted_macs:,}, counted by the kernel "
                f"{check.counted_macs:,}"
            )
    return problems, missing
