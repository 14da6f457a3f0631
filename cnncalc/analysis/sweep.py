"""Totals over a grid of symbol values, from the formulas, exactly.

The spec is analysed once with the swept symbols open; each total is a formula of them, compiled
by :mod:`.exact` and evaluated over the whole grid at once (integer floor divisions, never float
division inside a floor). A point where the network is not valid (a condition of the analysis
fails, ``H >= 32`` for VGG) is marked invalid; its totals are still the formulas' values.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..core import dims
from ..core.engine import Analysis, analyze, resolve_symbols
from ..errors import CnncalcError, UsageError, shorten
from ..lang.model import Spec
from .exact import compile_formulas

#: The totals a sweep evaluates, in order.
METRICS = ("params", "trainable_params", "macs", "flops", "activations")


@dataclass(frozen=True)
class Sweep:
    """Totals at every point of a grid."""

    name: str
    symbols: tuple[str, ...]  # the swept symbols
    fixed: dict[str, Any]  # the other symbols' values
    points: dict[str, tuple]  # symbol -> its value at each point (the grid, flattened)
    totals: dict[str, tuple]  # metric -> its value at each point
    valid: tuple[bool, ...]  # whether every condition of the analysis holds at each point
    formulas: dict[str, Any]  # metric -> its formula of the swept symbols
    conditions: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.valid)


def parse_range(text: str) -> tuple[str, list]:
    """``H=32:1024:32`` (start:stop:step, stop included), ``H=160,192,224`` or ``alpha=1/4:1:1/4``.

    Raises:
        UsageError: for anything else, an empty range, or a step that is not positive.
    """
    name, eq, spec = text.partition("=")
    name = name.strip()
    if not eq or not name or not spec.strip():
        raise UsageError(f"--range expects NAME=START:STOP:STEP or NAME=V1,V2,..., found {text!r}")
    try:
        if ":" in spec:
            parts = [parse_number(p) for p in spec.split(":")]
            if len(parts) == 2:
                parts.append(1)
            if len(parts) != 3:
                raise ValueError("expected START:STOP or START:STOP:STEP")
            start, stop, step = parts
            if step <= 0:
                raise ValueError("the step must be positive")
            if stop < start:
                raise ValueError(f"the stop {stop} is below the start {start}")
            count = int((stop - start) // step) + 1
            if count > 10_000_000:
                raise ValueError(f"{count:,} values (at most 10,000,000)")
            values = [dims.canon(start + i * step) for i in range(count)]
        else:
            values = [dims.canon(parse_number(p)) for p in spec.split(",")]
    except ValueError as exc:
        raise UsageError(f"--range {text}: {exc}") from None
    return name, values


#: Digits a number given on the command line may have, its exponent counted (``1e100`` has 101):
#: beyond, a value is refused before it is built (``1e99999999`` would take minutes).
MAX_DIGITS = 101


def parse_number(text: str) -> int | Fraction:
    """``224``, ``3/4``, ``0.5``, ``1.5e9``: an exact int or Fraction.

    Raises:
        ValueError: for anything else, or a number of more than :data:`MAX_DIGITS` digits.
    """
    text = text.strip()
    m = re.fullmatch(r"-?(\d+)(?:/(\d+)|\.(\d+))?(?:e(\d+))?", text)
    if not m:
        raise ValueError(f"expected a number, found {shorten(repr(text))}")
    whole, denominator, decimals, exponent = m.groups()
    if denominator is not None and not denominator.strip("0"):
        raise ValueError(f"{shorten(repr(text))} divides by zero")
    digits = max(len(whole.lstrip("0")) + len(decimals or ""), len((denominator or "").lstrip("0")))
    if len(exponent or "") > 4 or digits + int(exponent or 0) > MAX_DIGITS:
        raise ValueError(f"{shorten(repr(text))} has more digits than the {MAX_DIGITS} a number may have")
    try:
        return int(text)
    except ValueError:
        return Fraction(text)


def open_analysis(spec: Spec, values: dict[str, Any], open_names) -> Analysis:
    """``spec`` analysed with ``open_names`` open and every other symbol at its value (given, else
    its default)."""
    bound = resolve_symbols(spec, {k: v for k, v in values.items() if k not in open_names})
    given = {k: _text(v) for k, v in bound.items() if v is not None and k not in open_names}
    return analyze(spec, given, symbolic=True)


def _text(v: Any) -> Any:
    return f"{v.numerator}/{v.denominator}" if isinstance(v, Fraction) else v


def check_open(a: Analysis, names) -> None:
    """Every open symbol of ``a`` must be one of ``names``.

    Raises:
        UsageError: naming the symbols that need a value.
    """
    missing = [n for n in a.open_symbols if n not in names]
    if missing:
        raise UsageError(
            f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no value: give one with --set"
        )


def unknown_cost_error(a: Analysis, what: str) -> UsageError:
    """The refusal of a question about costs when some layer's cost is unknown (opaque)."""
    names = a.totals.unknown_cost
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return UsageError(
        f"{what}: the cost of {len(names)} layer{'s' * (len(names) > 1)} ({shown}) is unknown "
        f"(opaque), so params, MACs and FLOPs would leave {'them' if len(names) > 1 else 'it'} "
        f"out; replace it with layer kinds, or read the known part with cnncalc analyze"
    )


def sweep(spec: Spec, ranges: dict[str, list], values: dict[str, Any] | None = None) -> Sweep:
    """Every total of ``spec`` at every combination of the ``ranges`` (symbol -> values).

    Raises:
        UsageError: for an unknown symbol, another symbol left without a value, or a layer of
            unknown cost (opaque).
    """
    values = dict(values or {})
    for name in ranges:
        if name not in spec.symbols:
            from ..errors import unknown_message

            raise UsageError("--range: " + unknown_message("symbol", name, spec.symbols))
        if name in values:
            raise UsageError(f"{name} is given both by --set and by --range")
    names = tuple(ranges)
    for name in names:
        for v in ranges[name]:
            resolve_symbols(spec, {name: _text(v)})  # bounds and integrality, as --set checks
    # Symbols that decide how many layers there are (repeat counts) cannot be formulas: one
    # analysis per combination of their values, the other swept symbols open in each.
    fixed_names = tuple(n for n in names if n in spec.structural)
    open_names = tuple(n for n in names if n not in spec.structural)
    grid = list(itertools.product(*(ranges[n] for n in names)))
    columns = {n: np.array([p[i] for p in grid], dtype=object) for i, n in enumerate(names)}
    totals: dict[str, list] = {m: [None] * len(grid) for m in METRICS}
    valid = np.zeros(len(grid), dtype=bool)
    conditions: list[str] = []
    formulas: dict[str, Any] = {}
    groups: dict[tuple, list[int]] = {}
    for k, point in enumerate(grid):
        groups.setdefault(tuple(point[names.index(n)] for n in fixed_names), []).append(k)
    a = None
    for key, rows in groups.items():
        given = {**values, **{n: _text(v) for n, v in zip(fixed_names, key, strict=True)}}
        a = open_analysis(spec, given, open_names)
        check_open(a, open_names)
        if not a.totals.complete:
            raise unknown_cost_error(a, "sweep")
        formulas = {m: getattr(a.totals, m) for m in METRICS}
        sub = {n: columns[n][rows] for n in open_names}
        out = compile_formulas(formulas, open_names)(sub) if open_names else formulas
        for m in METRICS:
            values_m = np.broadcast_to(np.asarray(out[m], dtype=object), (len(rows),))
            for j, k in enumerate(rows):
                totals[m][k] = values_m[j]
        found = tuple(c.condition for c in a.constraints)
        conditions += [c for c in found if c not in conditions]
        valid[rows] = holds(found, sub, len(rows))
    return Sweep(
        name=a.name if a is not None else spec.name,
        symbols=names,
        fixed={k: v for k, v in a.symbols.items() if k not in names} if a is not None else {},
        points={n: tuple(dims.canon(v) for v in columns[n]) for n in names},
        totals={m: tuple(_plain(v) for v in totals[m]) for m in METRICS},
        valid=tuple(bool(v) for v in valid),
        formulas=formulas if not fixed_names else {},
        conditions=tuple(conditions),
    )


def _plain(v: Any) -> Any:
    return int(v) if isinstance(v, np.integer) else dims.canon(v)


_BOUND = re.compile(r"^(\w+) (>=|<=) (-?[\d/]+)$")
_RESIDUE = re.compile(r"^(\w+) % (\d+) (==|in) \{?([\d, ]+)\}?$")


def holds(conditions, columns: dict[str, np.ndarray], count: int) -> np.ndarray:
    """Whether every condition holds at each of ``count`` points (``columns`` gives the values
    of the symbols at each point). Conditions are those of an analysis, in spec syntax."""
    ok = np.ones(count, dtype=bool)
    for c in conditions:
        m = _BOUND.match(c)
        if m and m.group(1) in columns:
            x, bound = columns[m.group(1)], Fraction(m.group(3))
            ok &= np.array([(v >= bound) if m.group(2) == ">=" else (v <= bound) for v in x], dtype=bool)
            continue
        m = _RESIDUE.match(c)
        if m and m.group(1) in columns:
            period = int(m.group(2))
            residues = {int(r) for r in m.group(4).split(",")}
            ok &= np.array([int(v) % period in residues for v in columns[m.group(1)]], dtype=bool)
            continue
        ok &= _general(c, columns, count)
    return ok


def _general(condition: str, columns: dict[str, np.ndarray], count: int) -> np.ndarray:
    """``EXPR >= 0``, ``EXPR == 0`` or ``A is a multiple of B``, evaluated point by point."""
    from ..lang.expr import evaluate, parse

    if " is a multiple of " in condition:
        a, _, b = condition.partition(" is a multiple of ")
        lhs, rel = f"({a}) % ({b})", "=="
    else:
        lhs, rel = re.split(r" (>=|==) 0$", condition)[:2]
    text = lhs.replace("ceiling(", "ceil(").replace("Max(", "max(").replace("Min(", "min(")
    try:
        expr = parse(text)
    except CnncalcError as exc:
        raise UsageError(f"the condition {condition!r} cannot be checked at each point: {exc}") from None
    out = np.ones(count, dtype=bool)
    for i in range(count):
        v = evaluate(expr, {n: dims.canon(columns[n][i]) for n in columns})
        out[i] = v >= 0 if rel == ">=" else v == 0
    return out
