"""Totals over a grid of symbol values, from the formulas, exactly, in chunks.

The spec is analysed once with the swept symbols open; each total is a formula of them, compiled
by :mod:`.exact` and evaluated over the grid a chunk of points at a time (integer floor
divisions, never float division inside a floor), so memory stays bounded however large the
grid. A rational symbol swept over multiples of ``1/D`` is written ``K/D`` with an integer
``K`` before compiling, so that its formulas stay in 64-bit integers where a bound allows.
Symbols that decide how many layers there are (repeat counts) cannot be formulas: the spec is
analysed once for each of their values, the other swept symbols open in each.

A point where the network is not valid is marked invalid, with the reason, and has no totals:
where a condition of the analysis fails (``H >= 32`` for VGG), the reason is the first condition
broken (the formulas hold only where their conditions do: their values elsewhere, a negative
parameter count for LeNet-5 at H = 1, are no network's); where the analysis of a structural
value fails (a layer that a ``when:`` keeps cannot take its input), that analysis's message.
Only the user's sizes make a point invalid (a :class:`~cnncalc.errors.ShapeError`); any other
failure stops the sweep, as does a failure of an analysis with no structural symbol swept (it
holds at every point).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..core import dims
from ..core.engine import Analysis, analyze, follow_derived, resolve_symbols
from ..errors import CnncalcError, RuleError, ShapeError, SizeError, UsageError, clean_message, shorten
from ..lang.model import Spec
from .exact import Compiled, compile_formulas
from .separable import Separable, compile_separable

#: The totals a sweep evaluates, in order.
METRICS = ("params", "trainable_params", "macs", "flops", "activations")
#: Points a sweep takes by default; more with ``max_points`` (``--max-points``): a sweep is
#: streamed in chunks, so the limit is one of time, not of memory.
MAX_POINTS = 10_000_000
#: Points evaluated at once.
CHUNK = 1 << 18
#: Analyses a sweep makes at most (one for each combination of the values of the symbols that
#: decide how many layers there are).
MAX_ANALYSES = 10_000
#: Digits a number given on the command line may have, its exponent counted (``1e100`` has 101):
#: beyond, a value is refused before it is built (``1e99999999`` would take minutes).
MAX_DIGITS = 101


class Range(Sequence):
    """The values of one swept symbol: ``start, start + step, ...`` up to ``stop`` (included),
    or a list. Indexing and :meth:`take` compute values; none is stored."""

    def __init__(self, start=None, step=None, count: int = 0, values: tuple = ()):
        self.start, self.step, self.count = start, step, count if not values else len(values)
        self.values = tuple(values)
        self._tables: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.count))]
        if not -self.count <= i < self.count:
            raise IndexError(i)
        i %= self.count
        return self.values[i] if self.values else dims.canon(self.start + i * self.step)

    def __repr__(self) -> str:
        if self.values:
            return f"Range(values={list(self.values)!r})"
        return f"Range({dims.fmt(self.start)}, step {dims.fmt(self.step)}, {self.count} values)"

    @property
    def low(self):
        return min(self.values) if self.values else self.start

    @property
    def high(self):
        return max(self.values) if self.values else self.start + (self.count - 1) * self.step

    @property
    def denominator(self) -> int:
        """The least common denominator of every value."""
        if self.values:
            return math.lcm(*(Fraction(v).denominator for v in self.values))
        return math.lcm(Fraction(self.start).denominator, Fraction(self.step).denominator)

    def take(self, idx: np.ndarray, scale: int = 1) -> np.ndarray:
        """``scale`` times the values at the indexes ``idx`` (integers: int64 when they fit)."""
        if self.values:
            if scale not in self._tables:
                self._tables[scale] = _array([Fraction(v) * scale for v in self.values])
            return self._tables[scale][idx]
        a, b = Fraction(self.start) * scale, Fraction(self.step) * scale
        if a.denominator == b.denominator == 1:
            a, b = int(a), int(b)
            if max(abs(a), abs(a + (self.count - 1) * b)) < 2**62:
                return a + idx.astype(np.int64) * b
            return np.array([a + int(i) * b for i in idx], dtype=object)
        return np.array([dims.canon(a + int(i) * b) for i in idx], dtype=object)


def _array(values: list) -> np.ndarray:
    if all(v.denominator == 1 and abs(v) < 2**62 for v in values):
        return np.array([int(v) for v in values], dtype=np.int64)
    return np.array([dims.canon(v) for v in values], dtype=object)


def parse_range(text: str) -> tuple[str, Range]:
    """``H=32:1024:32`` (start:stop:step, stop included), ``H=160,192,224`` or ``alpha=1/4:1:1/4``.

    Raises:
        UsageError: for anything else, an empty range, or a step that is not positive.
    """
    name, eq, spec = text.partition("=")
    name = name.strip()
    if not eq or not name or not spec.strip():
        raise UsageError(
            f"--range expects NAME=START:STOP:STEP or NAME=V1,V2,..., found {shorten(repr(text))}"
        )
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
                raise ValueError(f"the stop {dims.fmt(stop)} is below the start {dims.fmt(start)}")
            values = Range(dims.canon(start), dims.canon(step), int((stop - start) // step) + 1)
        else:
            values = Range(values=tuple(dims.canon(parse_number(p)) for p in spec.split(",")))
    except ValueError as exc:
        raise UsageError(f"--range {shorten(text)}: {exc}") from None
    return name, values


def symbol_bound(condition: str) -> tuple[str, str, Fraction] | None:
    """``("H", ">=", Fraction(29))`` for a condition of the analysis that bounds one side by a
    number (``H >= 29``, ``W <= 512``); None for any other."""
    for op in (" >= ", " <= "):
        head, found, bound = condition.partition(op)
        if found:
            try:
                return head, op.strip(), Fraction(bound)
            except (ValueError, ZeroDivisionError):
                return None
    return None


def parse_number(text: str) -> int | Fraction:
    """``224``, ``3/4``, ``0.5``, ``1.5e9``: an exact int or Fraction (ASCII digits only).

    Raises:
        ValueError: for anything else, or a number of more than :data:`MAX_DIGITS` digits.
    """
    text = text.strip()
    m = re.fullmatch(r"-?([0-9]+)(?:/([0-9]+)|\.([0-9]+))?(?:e([0-9]+))?", text)
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
    return analyze(spec, follow_derived(spec, given, values), symbolic=True)


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


# ---------------------------------------------------------------------------------------------
# the plan of a sweep, and its chunks


class Points(Mapping):
    """Each swept symbol's values at the points of a chunk. A rational symbol's are made (as
    Python fractions) only when read: its integers ``K`` of ``K/D`` serve the evaluation and the
    CSV, and a fraction a point costs a microsecond."""

    def __init__(self, order: tuple[str, ...], ready: dict[str, np.ndarray], scaled: dict[str, tuple]):
        self._order, self._ready, self._scaled = order, dict(ready), scaled

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._ready:
            if name not in self._scaled:
                raise KeyError(name)
            ks, d = self._scaled[name]
            self._ready[name] = np.array([dims.canon(Fraction(int(k), d)) for k in ks], dtype=object)
        return self._ready[name]

    def __iter__(self):
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)


@dataclass(frozen=True)
class Chunk:
    """The totals at consecutive points of a grid (``start`` is the first point's index)."""

    start: int
    points: Mapping[str, np.ndarray]  # symbol -> values (int64, or objects: ints and Fractions)
    scaled: dict[str, tuple[np.ndarray, int]]  # symbol -> (values times D as integers, D)
    # metric -> values (int64, or objects: Python ints), totals only where the point is valid:
    # elsewhere there is no network, and a value there is none of its totals (a formula's value
    # where its conditions fail, a negative parameter count for LeNet-5 at H = 1): read them
    # with :meth:`total`, or mask them with ``valid``
    totals: dict[str, np.ndarray]
    valid: np.ndarray  # bool
    reason: np.ndarray  # int64: why each point is invalid, as an index into reasons; -1 if valid
    reasons: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.valid)

    def total(self, metric: str, i: int) -> Any:
        """The total ``metric`` at the chunk's ``i``-th point, None where it is invalid."""
        return _plain(self.totals[metric][i]) if self.valid[i] else None


@dataclass
class _Variant:
    """The compiled formulas of one analysis (one combination of structural values), or the
    failure of that analysis (``failure``: a size the network cannot take)."""

    analysis: Analysis | None
    totals: Separable | None
    valid: Compiled | None
    conditions: tuple[str, ...]
    reasons: tuple[str, ...] = ()  # why a point breaking each condition is invalid
    failure: ShapeError | None = None

    @property
    def failed(self) -> str:
        """The failure of the analysis as a row's reason: the layer and the message."""
        d = self.failure.diagnostic
        return clean_message(f"{d.where}: {d.message}" if d.where else d.message)


@dataclass
class Plan:
    """A sweep ready to run: the grid, and the analyses compiled. :meth:`chunks` evaluates it."""

    spec: Spec
    ranges: dict[str, Range]
    values: dict[str, Any]
    structural: tuple[str, ...]  # swept symbols that decide the layers
    open: tuple[str, ...]  # swept symbols left open in the analyses
    scales: dict[str, int]  # rational symbol -> the D of its values K/D
    _variants: dict[tuple, _Variant] = field(default_factory=dict)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.ranges)

    @property
    def size(self) -> int:
        return math.prod(r.count for r in self.ranges.values())

    @property
    def first(self) -> _Variant:
        return self.variant(tuple(self.ranges[n][0] for n in self.structural))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def fixed(self) -> dict[str, Any]:
        """The values of the symbols that are the same at every point."""
        # a derived symbol reading a swept one (or one derived from it) follows the points
        follows = set(self.ranges)
        for k, sym in self.spec.symbols.items():  # in order: a default reads the symbols above it
            if k not in self.values and sym.derived is not None and follows & set(sym.derived.names):
                follows.add(k)
        made = next((v.analysis for v in self._variants.values() if v.analysis is not None), None)
        if made is not None:
            symbols = made.symbols
        else:  # no analysis succeeded: the symbols at the first point
            first = {n: _text(r[0]) for n, r in self.ranges.items()}
            symbols = resolve_symbols(self.spec, {**{k: _text(v) for k, v in self.values.items()}, **first})
        return {k: v for k, v in symbols.items() if k not in follows and dims.is_concrete(v)}

    @property
    def formulas(self) -> dict[str, Any]:
        """metric -> its formula of the swept symbols (none when the layers depend on them)."""
        if self.structural:
            return {}
        return {m: getattr(self.first.analysis.totals, m) for m in METRICS}

    @property
    def conditions(self) -> tuple[str, ...]:
        out: list[str] = []
        for v in self._variants.values():
            out += [c for c in v.conditions if c not in out]
        return tuple(out)

    def variant(self, key: tuple) -> _Variant:
        """The analysis for the structural values ``key``, compiled (made once)."""
        if key not in self._variants:
            if len(self._variants) >= MAX_ANALYSES:
                raise UsageError(f"the sweep needs more than {MAX_ANALYSES:,} analyses")
            given = {**self.values, **{n: _text(v) for n, v in zip(self.structural, key, strict=True)}}
            try:
                a = open_analysis(self.spec, given, self.open)
            except ShapeError as exc:
                if isinstance(exc, (SizeError, RuleError)):  # a layer's rules are wrong: no size is
                    raise
                # no network at these structural values (whatever the open symbols are: the
                # symbolic analysis proves a check false for every value their bounds allow)
                self._variants[key] = _Variant(None, None, None, (), failure=exc)
                return self._variants[key]
            check_open(a, self.open)
            if not a.totals.complete:
                raise unknown_cost_error(a, "sweep")
            subs = _scaling(self.scales)
            formulas = {m: _substitute(getattr(a.totals, m), subs) for m in METRICS}
            conditions = tuple(c.condition for c in a.constraints)
            names = tuple(_scaled_name(n) if n in self.scales else n for n in self.open)
            rational = {n for n, sym in self.spec.symbols.items() if not sym.integer}
            tests = {
                f"c{i}": _substitute(condition_formula(c, rational), subs) for i, c in enumerate(conditions)
            }
            try:
                totals = compile_separable(formulas, names)
                valid = compile_formulas(tests, names)
            except ValueError as exc:
                raise UsageError(f"sweep: {exc}") from None
            kinds = {r.name: r.kind for r in a.layers}
            reasons = tuple(
                clean_message(f"{_where(c.layer, kinds)}: needs {c.condition}") for c in a.constraints
            )
            self._variants[key] = _Variant(a, totals, valid, conditions, reasons)
        return self._variants[key]

    def analyse_all(self) -> None:
        """Make the analysis of every combination of structural values (each is otherwise made
        when a chunk first needs it)."""
        import itertools

        for key in itertools.product(*(self.ranges[n] for n in self.structural)):
            self.variant(tuple(key))

    def chunks(self, size: int = CHUNK, start: int = 0, stop: int | None = None) -> Iterator[Chunk]:
        """The grid's points ``start`` to ``stop`` (the first symbol varies slowest), ``size``
        points at a time. Chunks are independent: any range of them can be evaluated apart (on
        another process or machine) and the results concatenated in order."""
        stop = self.size if stop is None else min(stop, self.size)
        counts = [len(r) for r in self.ranges.values()]
        for lo in range(start, stop, size):
            flat = np.arange(lo, min(stop, lo + size), dtype=np.int64)
            idx = np.unravel_index(flat, counts) if counts else ()
            yield self._chunk(lo, dict(zip(self.ranges, idx, strict=True)))

    def _chunk(self, lo: int, idx: dict[str, np.ndarray]) -> Chunk:
        n = len(next(iter(idx.values())))
        scaled = {k: (self.ranges[k].take(idx[k], d), d) for k, d in self.scales.items()}
        ready = {k: r.take(idx[k]) for k, r in self.ranges.items() if k not in scaled}
        points = Points(tuple(self.ranges), ready, scaled)
        inputs, axes = {}, {}
        for k in self.open:
            name = _scaled_name(k) if k in self.scales else k
            inputs[name] = scaled[k][0] if k in self.scales else points[k]
            # the symbol's distinct values in the chunk: a span of its range's values
            lo, hi = int(idx[k].min()), int(idx[k].max())
            span = np.arange(lo, hi + 1, dtype=np.int64)
            axes[name] = (self.ranges[k].take(span, self.scales.get(k, 1)), idx[k] - lo)
        totals = {m: np.empty(n, dtype=np.int64) for m in METRICS}
        valid = np.zeros(n, dtype=bool)
        reason = np.full(n, -1, dtype=np.int64)
        texts: dict[str, int] = {}  # the chunk's reasons, each once
        if self.structural:
            keys = np.stack([idx[k] for k in self.structural])
            uniq, inverse = np.unique(keys, axis=1, return_inverse=True)
            groups = []
            for g, col in enumerate(uniq.T):
                key = tuple(self.ranges[k][int(i)] for k, i in zip(self.structural, col, strict=True))
                groups.append((key, np.flatnonzero(inverse.reshape(-1) == g)))
        else:
            groups = [((), None)]
        for key, rows in groups:
            v = self.variant(key)
            here = slice(None) if rows is None else rows
            if v.failure is not None:  # no network here: invalid, and no totals
                for m in METRICS:
                    totals[m][here] = 0  # read nowhere: the point is invalid
                valid[here] = False
                reason[here] = texts.setdefault(v.failed, len(texts))
                continue
            sub = inputs if rows is None else {k: a[rows] for k, a in inputs.items()}
            on = axes if rows is None else {k: (values, at[rows]) for k, (values, at) in axes.items()}
            out = v.totals(on) if self.open else {m: getattr(v.analysis.totals, m) for m in METRICS}
            ok = v.valid(sub) if self.open else {f"c{i}": True for i in range(len(v.conditions))}
            for m in METRICS:
                got = np.broadcast_to(np.asarray(out[m]), (n,) if rows is None else (len(rows),))
                if got.dtype == object and totals[m].dtype != object:
                    totals[m] = totals[m].astype(object)
                if rows is None:
                    totals[m][:] = got
                else:
                    totals[m][rows] = got
            size = n if rows is None else len(rows)
            holds = [np.broadcast_to(np.asarray(c).astype(bool), (size,)) for c in ok.values()]
            good = np.ones(size, dtype=bool)
            for h in holds:
                good &= h
            valid[here] = good
            if not good.all():  # the first condition each invalid point breaks
                first = np.argmin(np.stack(holds), axis=0)
                codes = np.array([texts.setdefault(r, len(texts)) for r in v.reasons], dtype=np.int64)
                reason[here] = np.where(good, -1, codes[first])
        return Chunk(lo, points, scaled, totals, valid, reason, tuple(texts))


def plan(spec: Spec, ranges: dict[str, Sequence], values: dict[str, Any] | None = None) -> Plan:
    """A sweep of ``spec`` over every combination of the ``ranges`` (symbol -> values), the other
    symbols at ``values`` (else their defaults). Nothing is evaluated until its chunks are read.

    Raises:
        UsageError: for an unknown symbol, a symbol given twice, a value out of its symbol's
            bounds, another symbol left without a value, or a layer of unknown cost (opaque).
    """
    values = dict(values or {})
    grid: dict[str, Range] = {}
    for name, r in ranges.items():
        if name not in spec.symbols:
            from ..errors import unknown_message

            raise UsageError(unknown_message("symbol", name, spec.symbols) + " (to sweep)")
        if name in values:
            raise UsageError(f"{name} is both given a value and swept: keep one")
        grid[name] = r if isinstance(r, Range) else Range(values=tuple(dims.canon(v) for v in r))
        _check_range(spec.symbols[name], grid[name])
    structural = tuple(n for n in grid if n in spec.structural)
    open_ = tuple(n for n in grid if n not in spec.structural)
    scales = {n: grid[n].denominator for n in open_ if grid[n].denominator > 1}
    p = Plan(spec, grid, values, structural, open_, scales)
    first = p.first  # the first analysis: its mistakes are the user's, before any output
    if first.failure is not None and not structural:  # the one analysis: no point has a network
        raise first.failure
    return p


def _where(layer: str, kinds: dict[str, str]) -> str:
    """A layer as a message names it (``layer 'pool5' (max_pool2d)``); several layers that
    need one condition are named as they are."""
    return f"layer {layer!r} ({kinds[layer]})" if layer in kinds else layer


def _check_range(sym, r: Range) -> None:
    """The values of a range must be values of the symbol, as --set checks one."""
    if not r.count:
        raise UsageError(f"the sweep of {sym.name} has no values")
    lo, hi = r.low, r.high
    if lo < sym.lower or (sym.max is not None and hi > sym.max):
        top = dims.fmt(sym.max) if sym.max is not None else "inf"
        bad = lo if lo < sym.lower else hi
        raise UsageError(
            f"the sweep of {sym.name}: {sym.name} must be in [{dims.fmt(sym.lower)}, {top}], "
            f"found {dims.fmt(bad)}"
        )
    if sym.integer and r.denominator != 1:
        bad = next(v for v in (r.values or (r.start, r.step)) if Fraction(v).denominator != 1)
        raise UsageError(f"the sweep of {sym.name}: {sym.name} is an integer symbol, found {dims.fmt(bad)}")


def _scaled_name(name: str) -> str:
    return f"{name}#K"


def _scaling(scales: dict[str, int]) -> dict[str, Any]:
    """Each rational symbol's replacement ``K/D``, ``K`` an integer symbol."""
    return {n: dims.symbol(_scaled_name(n)) / d for n, d in scales.items()}


def _substitute(formula: Any, subs: dict[str, Any]) -> Any:
    """``formula`` with the symbols named in ``subs`` replaced."""
    if not subs or dims.is_concrete(formula) or not hasattr(formula, "free_symbols"):
        return formula
    found = {f: subs[str(f)] for f in formula.free_symbols if str(f) in subs}
    return formula.xreplace(found) if found else formula


@dataclass(frozen=True)
class Sweep:
    """Totals at every point of a grid."""

    name: str
    symbols: tuple[str, ...]  # the swept symbols
    fixed: dict[str, Any]  # the other symbols' values
    points: dict[str, tuple]  # symbol -> its value at each point (the grid, flattened)
    totals: dict[str, tuple]  # metric -> its value at each point (None: no network there)
    valid: tuple[bool, ...]  # whether every condition of the analysis holds at each point
    formulas: dict[str, Any]  # metric -> its formula of the swept symbols
    conditions: tuple[str, ...]
    reason: tuple[str | None, ...] = ()  # why each point is invalid (None where it is valid)

    def __len__(self) -> int:
        return len(self.valid)


def sweep(
    spec: Spec,
    ranges: dict[str, Sequence],
    values: dict[str, Any] | None = None,
    max_points: int = MAX_POINTS,
) -> Sweep:
    """Every total of ``spec`` at every combination of the ``ranges`` (symbol -> values), held
    in memory (:func:`plan` streams instead).

    Raises:
        UsageError: as :func:`plan`, and for a grid of more than ``max_points`` points.
    """
    p = plan(spec, ranges, values)
    check_size(p, max_points)
    return collect(p, p.chunks())


def collect(p: Plan, chunks) -> Sweep:
    """The chunks of ``p`` (all of them, or those kept, such as a Pareto front's) held as one
    :class:`Sweep`."""
    chunks = list(chunks)
    p.analyse_all()
    points = {n: tuple(_plain(v) for c in chunks for v in c.points[n]) for n in p.symbols}
    totals = {m: tuple(c.total(m, i) for c in chunks for i in range(len(c))) for m in METRICS}
    valid = tuple(bool(v) for c in chunks for v in c.valid)
    reason = tuple(c.reasons[k] if k >= 0 else None for c in chunks for k in c.reason.tolist())
    return Sweep(p.name, p.symbols, p.fixed, points, totals, valid, p.formulas, p.conditions, reason)


def check_size(p: Plan, max_points: int) -> None:
    """Refuse a grid of more than ``max_points`` points, saying how many it has.

    Raises:
        UsageError: with the grid's size, factor by factor.
    """
    if p.size <= max_points:
        return
    factors = " x ".join(f"{_count(r.count)} ({n})" for n, r in p.ranges.items())
    raise UsageError(
        f"the grid has {_count(p.size)} points ({factors}), more than the {max_points:,} a sweep takes "
        f"(--max-points raises the limit: a sweep streams in chunks, at about a million points a "
        f"second)"
    )


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"


def _plain(v: Any) -> Any:
    if v is None:
        return None
    return int(v) if isinstance(v, np.integer) else dims.canon(v)


# ---------------------------------------------------------------------------------------------
# conditions, evaluated at many points

_BOUND = re.compile(r"^(\w+) (>=|<=) (-?[\d/]+)$")
_RESIDUE = re.compile(r"^(\w+) % (\d+) (==|in) \{?([\d, ]+)\}?$")


def condition_formula(condition: str, rational=frozenset()) -> Any:
    """A condition of an analysis (spec syntax: ``H >= 32``, ``H % 32 in {0, 1}``, ``EXPR >= 0``,
    ``A is a multiple of B``) as a sympy condition of its symbols (integers, but for the names
    in ``rational``).

    Raises:
        UsageError: for a condition that cannot be read back.
    """
    from ..lang.expr import evaluate, parse

    s = dims.sp()

    def symbol(name: str):
        return dims.symbol(name, integer=name not in rational)

    m = _BOUND.match(condition)
    if m:
        x, bound = symbol(m.group(1)), s.Rational(m.group(3))
        return s.Ge(x, bound) if m.group(2) == ">=" else s.Le(x, bound)
    m = _RESIDUE.match(condition)
    if m:
        x, period = symbol(m.group(1)), int(m.group(2))
        return s.Or(*(s.Eq(s.Mod(x, period), int(r)) for r in m.group(4).split(",")))
    if " is a multiple of " in condition:
        a, _, b = condition.partition(" is a multiple of ")
        text, rel = f"({a}) % ({b})", "=="
    else:
        parts = re.split(r" (>=|==) 0$", condition)
        if len(parts) < 2:
            raise UsageError(f"the condition {condition!r} cannot be checked at each point")
        text, rel = parts[0], parts[1]
    text = text.replace("ceiling(", "ceil(").replace("Max(", "max(").replace("Min(", "min(")
    try:
        expr = parse(text)
        scope = {n: symbol(n) for n in expr.names}
        value = dims.to_sympy(evaluate(expr, scope))
    except CnncalcError as exc:
        raise UsageError(f"the condition {condition!r} cannot be checked at each point: {exc}") from None
    return s.Ge(value, 0) if rel == ">=" else s.Eq(value, 0)


def holds(conditions, columns: dict[str, np.ndarray], count: int, rational=frozenset()) -> np.ndarray:
    """Whether every condition holds at each of ``count`` points (``columns`` gives the values
    of the symbols at each point). Conditions are those of an analysis, in spec syntax."""
    ok = np.ones(count, dtype=bool)
    if not conditions:
        return ok
    tests = {f"c{i}": condition_formula(c, rational) for i, c in enumerate(conditions)}
    names = sorted({str(x) for t in tests.values() for x in getattr(t, "free_symbols", ())})
    missing = [n for n in names if n not in columns]
    if missing:
        raise UsageError(f"the conditions need a value of {', '.join(missing)}")
    out = compile_formulas(tests, names)({n: columns[n] for n in names})
    for v in out.values():
        ok &= np.broadcast_to(np.asarray(v).astype(bool), (count,))
    return ok
