"""Reports of the validity domain (``cnncalc bounds``), of inverse questions (``cnncalc solve``)
and of sweeps (``cnncalc sweep``): tables fitted to a width, JSON and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from ..analysis.bounds import Bounds
from ..analysis.inverse import CEILING, BudgetSolution, ShapeSolution
from ..analysis.sweep import METRICS, Chunk, Plan, Sweep
from ..core import dims
from . import layout
from .layout import Column
from .text import json_value, number, short


def _text(v: Any) -> str:
    return "-" if v is None else dims.fmt(v)


# ---------------------------------------------------------------------------------------------
# bounds


def bounds_dict(b: Bounds) -> dict[str, Any]:
    """JSON: per symbol ``min``, ``max`` (null: unbounded), ``exact`` (the divisibility for
    exact downsampling, or null), and the conditions; the last feature map's receptive field."""
    from .structured import field_json

    return {
        "name": b.name,
        "symbols": {
            s.name: {
                "value": None if s.value is None else json_value(s.value),
                "min": json_value(s.min),
                "max": None if s.max is None else json_value(s.max),
                "min_layer": s.min_layer,
                "exact": s.exact,
                "exact_layers": list(s.exact_layers),
                "inexact_layers": list(s.inexact_layers),
                "conditions": list(s.conditions),
            }
            for s in b.symbols
        },
        "conditions": [s.exact for s in b.symbols if s.exact]
        + sorted({c for s in b.symbols for c in s.conditions}),
        "receptive_field": (
            None
            if b.field is None
            else {
                "layer": b.field_layer,
                **field_json(b.field),
                "global_context": any(ax.context for ax in b.field),
            }
        ),
    }


def bounds_render(b: Bounds, width: int, units: str = "auto"):
    from rich.console import Group
    from rich.text import Text

    syms = b.symbols
    cols = [
        Column("symbol", [s.name for s in syms], kind="name", justify="left", style="cyan"),
        Column("value", [_text(s.value) for s in syms], priority=3),
        Column("min", [_text(s.min) for s in syms]),
        Column("set by", [s.min_layer or "" for s in syms], kind="name", justify="left", priority=4),
        Column("max", [_text(s.max) if s.max is not None else "none" for s in syms], priority=2),
        Column(
            "exact downsampling", [s.exact or "" for s in syms], kind="formula", justify="left", priority=1
        ),
    ]
    fitted = layout.fit(cols, width, units)
    parts: list[Any] = [layout.FittedTable(fitted, [None] * len(syms), title=f"{b.name}: valid inputs")]
    notes = [
        "min: the smallest value for which every layer has at least one output (the other "
        "symbols at their values); exact downsampling: every layer of stride s maps n to n/s."
    ]
    for s in syms:
        if s.inexact_layers:
            notes.append(
                f"{s.name}: {', '.join(s.inexact_layers)} drop pixels whatever {s.name} is "
                f"(their output times their stride is less than their input)."
            )
        others = [c for c in s.conditions if not c.startswith(f"{s.name} >= ")]
        if others:
            notes.append(f"{s.name} also needs: {'; '.join(others)}.")
    if b.field is not None:
        h, w = b.field
        size = dims.fmt(h.size) if h.size == w.size else f"{dims.fmt(h.size)} x {dims.fmt(w.size)}"
        jump = dims.fmt(h.jump) if h.jump == w.jump else f"{dims.fmt(h.jump)} x {dims.fmt(w.jump)}"
        if h.context or w.context:
            notes.append(
                f"The last feature map ({b.field_layer}) sees at most {size} input pixels per position "
                f"through its spatial path (jump {jump}), and the whole input through global pooling "
                f"inside the network (a squeeze-and-excitation or pooled branch): a larger input adds "
                f"positions and changes that pooled context."
            )
        else:
            notes.append(
                f"The last feature map ({b.field_layer}) sees at most {size} input pixels per position "
                f"(jump {jump}): a larger input adds positions, not context."
            )
    parts.append(Text("\n".join(notes), style="dim"))
    return Group(*parts)


# ---------------------------------------------------------------------------------------------
# solve


def shape_dict(solutions: tuple[ShapeSolution, ...]) -> dict[str, Any]:
    return {
        "layer": solutions[0].layer if solutions else None,
        "solutions": [
            {
                "symbol": s.symbol,
                "axis": s.axis,
                "size": s.size,
                "interval": list(s.interval) if s.interval else None,
                "intervals": [list(i) for i in s.intervals],
                "conditions": list(s.conditions),
                "formula": None if s.formula is None else json_value(s.formula),
                "searched_to": s.searched_to,
            }
            for s in solutions
        ],
    }


def shape_text(solutions: tuple[ShapeSolution, ...]) -> str:
    lines = []
    for s in solutions:
        formula = f" ({dims.fmt(s.formula)})" if s.formula is not None else ""
        where = f"{s.layer} size {s.size} along axis {s.axis}{formula}"
        if s.interval is None and s.searched_to is not None:
            limit = "2**40" if s.searched_to >= CEILING else f"its declared maximum {s.searched_to}"
            lines.append(f"{where}: no value of {s.symbol} up to {limit} (each gives a smaller size)")
            continue
        if s.interval is None:
            lines.append(f"{where}: no value of {s.symbol}")
            continue
        spans = " or ".join(_span(s.symbol, lo, hi) for lo, hi in (s.intervals or (s.interval,)))
        extra = f", with {' and '.join(s.conditions)}" if s.conditions else ""
        lines.append(f"{where}: {spans}{extra}")
    return "\n".join(lines) + "\n"


def _span(symbol: str, lo, hi) -> str:
    if hi is None:
        return f"{symbol} >= {lo}"
    return f"{symbol} = {lo}" if lo == hi else f"{lo} <= {symbol} <= {hi}"


def budget_dict(b: BudgetSolution) -> dict[str, Any]:
    return {
        "symbols": list(b.symbols),
        "metric": b.metric,
        "budget": b.budget,
        "best": None if b.best is None else json_value(b.best),
        "best_cost": None if b.best_cost is None else json_value(b.best_cost),
        "next": None if b.next is None else json_value(b.next),
        "next_cost": None if b.next_cost is None else json_value(b.next_cost),
        "step": json_value(b.step),
        "formula": None if b.formula is None else json_value(b.formula),
        "stopped_by": b.stopped_by,
        "searched": None
        if b.searched is None
        else [None if v is None else json_value(v) for v in b.searched],
    }


def budget_text(b: BudgetSolution) -> str:
    who = " = ".join(b.symbols)
    if b.best is None:
        if b.next_cost is not None and b.next_cost > b.budget and b.formula is not None:
            return (
                f"no value of {who} keeps {b.metric} within {number(b.budget)}: at {dims.fmt(b.next)} "
                f"it is already {number(b.next_cost)}\n"
            )
        lo, hi = b.searched or (b.next, None)
        span = f"from {dims.fmt(lo)} " + ("on" if hi is None else f"to {dims.fmt(hi)}")
        return f"no value of {who} {span} keeps {b.metric} within {number(b.budget)}\n"
    if b.stopped_by == "ceiling":
        return (
            f"{who} can be at least {dims.fmt(b.best)} with {b.metric} <= {number(b.budget)} "
            f"({b.metric} {number(b.best_cost)} there): the search stops at 2**40 steps\n"
        )
    if b.stopped_by == "max":
        end = (
            f"--upto {dims.fmt(b.upto)}" if b.upto is not None else f"the declared maximum of {b.symbols[0]}"
        )
        return (
            f"largest {who} with {b.metric} <= {number(b.budget)}: {dims.fmt(b.best)} ({b.metric} "
            f"{number(b.best_cost)}): {end} ends the search, not the budget\n"
        )
    out = (
        f"largest {who} with {b.metric} <= {number(b.budget)}: {dims.fmt(b.best)} "
        f"({b.metric} {number(b.best_cost)})\n"
    )
    cost = (
        f": {b.metric} {number(b.next_cost)}" if b.next_cost is not None else " (beyond the range searched)"
    )
    out += f"  next {who} = {dims.fmt(b.next)}{cost}\n"
    return out


# ---------------------------------------------------------------------------------------------
# sweep

_HEADERS = {
    "params": "params",
    "trainable_params": "trainable",
    "macs": "MACs",
    "flops": "FLOPs",
    "activations": "activations",
}


def sweep_dict(s: Sweep) -> dict[str, Any]:
    return {
        **_sweep_head(s.name, s.symbols, s.fixed, s.formulas, s.conditions),
        "points": [
            {
                **{n: json_value(s.points[n][i]) for n in s.symbols},
                "valid": s.valid[i],
                **{m: json_value(s.totals[m][i]) for m in METRICS},
                "reason": s.reason[i],
            }
            for i in range(len(s))
        ],
    }


def _sweep_head(name, symbols, fixed, formulas, conditions, pareto=None) -> dict[str, Any]:
    return {
        "name": name,
        "symbols": list(symbols),
        "fixed": {k: None if v is None else json_value(v) for k, v in fixed.items()},
        "formulas": {m: json_value(v) for m, v in formulas.items()},
        "conditions": list(conditions),
        **({"pareto": [str(o) for o in pareto]} if pareto else {}),
    }


def sweep_json_parts(p: Plan, chunks, pareto=None):
    """The JSON of a sweep (as :func:`sweep_dict` writes it) in pieces, a chunk of points at a
    time; ``p``'s analyses must all be made (:meth:`Plan.analyse_all`)."""
    import json

    head = json.dumps(_sweep_head(p.name, p.symbols, p.fixed, p.formulas, p.conditions, pareto), indent=2)
    head = head[: head.rindex("}")].rstrip() + ',\n  "points": ['
    yield head
    first = True
    for c in chunks:
        lines = []
        for i in range(len(c)):
            point = {
                **{n: json_value(_plain(c.points[n][i])) for n in p.symbols},
                "valid": bool(c.valid[i]),
                **{m: json_value(c.total(m, i)) for m in METRICS},
                "reason": c.reasons[c.reason[i]] if c.reason[i] >= 0 else None,
            }
            lines.append(json.dumps(point, indent=2).replace("\n", "\n    "))
        if lines:
            yield ("\n    " if first else ",\n    ") + ",\n    ".join(lines)
            first = False
    yield "]\n}\n" if first else "\n  ]\n}\n"


def _plain(v: Any) -> Any:
    if v is None:
        return None
    return int(v) if isinstance(v, np.integer) else dims.canon(v)


def sweep_csv_header(symbols) -> str:
    return ",".join([*symbols, "valid", *METRICS, "reason"]) + "\n"


def _csv_reason(text: str) -> str:
    """A reason as a CSV cell: ASCII (other characters as ``\\u00e9``, as JSON writes them),
    quoted as the csv module quotes."""
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([text, ""])
    return buf.getvalue()[: -len(",\n")]


def sweep_csv_rows(c: Chunk) -> str:
    """The CSV lines of a chunk of a sweep (exact integers, fractions as ``3/4``)."""
    return bytes(sweep_csv_bytes(c)).decode("ascii")


def sweep_csv_bytes(c: Chunk, borrowed: bool = False) -> bytes | memoryview:
    """The CSV lines of a chunk as ASCII bytes; ``borrowed``: possibly a view valid until the
    next call (to be written out at once, without a copy)."""
    from . import csvrows

    cols = []
    for name in c.points:
        scaled, den = c.scaled.get(name, (None, 1))
        if scaled is not None and scaled.dtype != object:
            cols.append(csvrows.ratios(scaled, den))
        else:
            cols.append(csvrows.integers(c.points[name]))
    cols.append(csvrows.booleans(c.valid))
    every = bool(c.valid.all())
    for m in METRICS:
        values = np.asarray(c.totals[m])
        if every and len(c) and values.dtype != object and (values == values[0]).all():
            cols.append(csvrows.text(str(int(values[0]))))
        else:  # empty where the point is invalid: no network, no totals
            cols.append(csvrows.integers(values, present=None if every else c.valid))
    if (c.reason < 0).all():
        cols.append(csvrows.text(""))
    else:
        cols.append(csvrows.choices(c.reason, tuple(_csv_reason(t) for t in c.reasons)))
    return csvrows.rows(cols, len(c), borrowed=borrowed)


def sweep_csv(s: Sweep) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*s.symbols, "valid", *METRICS, "reason"])
    for i in range(len(s)):
        reason = s.reason[i]
        w.writerow(
            [
                *(dims.fmt(s.points[n][i]) for n in s.symbols),
                "true" if s.valid[i] else "false",
                *("" if s.totals[m][i] is None else dims.fmt(s.totals[m][i]) for m in METRICS),
                "" if reason is None else reason.encode("ascii", "backslashreplace").decode("ascii"),
            ]
        )
    return buf.getvalue()


def sweep_render(s: Sweep, width: int, units: str = "auto", title: str | None = None):
    from rich.console import Group
    from rich.text import Text

    n = len(s)
    cols = [Column(name, [dims.fmt(v) for v in s.points[name]]) for name in s.symbols]
    cols.append(Column("valid", ["yes" if v else "no" for v in s.valid], priority=5))
    priorities = {"macs": 0, "params": 1, "flops": 2, "activations": 3, "trainable_params": 4}
    for m in METRICS:
        values = s.totals[m]
        cols.append(
            Column(
                _HEADERS[m],
                [_total(v, number) for v in values],
                units=lambda values=values: [_total(v, short) for v in values],
                priority=priorities[m],
            )
        )
    reasons = [r or "" for r in s.reason]
    if any(reasons):
        cols.append(Column("reason", reasons, kind="formula", justify="left", priority=6, wrap_above=40))
    fitted = layout.fit(cols, width, units)
    fixed = ", ".join(f"{k}={dims.fmt(v)}" for k, v in s.fixed.items() if v is not None)
    parts: list[Any] = [
        layout.FittedTable(
            fitted, [None if v else "dim" for v in s.valid], title=title or f"{s.name}: {n} points"
        )
    ]
    notes = []
    if fixed:
        notes.append(f"Other symbols: {fixed}.")
    invalid = [i for i in range(n) if not s.valid[i]]
    if invalid:
        notes.append(_no_network(s, invalid, "reason" in fitted.dropped))
    if fitted.dropped:
        notes.append(f"Not shown at {width} columns: {', '.join(fitted.dropped)}.")
    if notes:
        parts.append(Text("\n".join(notes), style="dim"))
    return Group(*parts)


def _total(v: Any, shown) -> str:
    return "-" if v is None else shown(v)


#: Reasons a table's note lists when its reason column does not fit.
NOTED_REASONS = 3


def _no_network(s: Sweep, invalid: list[int], dropped: bool) -> str:
    """The note on the rows marked no: no network at those values, so no totals (and why,
    when the reason column does not show it)."""
    head = "Rows marked no have no network at those values, so no totals (-)"
    if not dropped:
        return f"{head}: the reason column says why."
    shown = [
        f"{', '.join(f'{k}={dims.fmt(s.points[k][i])}' for k in s.symbols)}: {s.reason[i]}"
        for i in invalid[:NOTED_REASONS]
    ]
    more = len(invalid) - len(shown)
    tail = f"; and {more:,} more (--format csv or json gives each reason)" if more else ""
    return f"{head}: {'; '.join(shown)}{tail}."
