"""Questions about the sizes a spec takes: its valid range (bounds), the sizes giving a shape
or fitting a budget (solve), and its totals over a grid of sizes (sweep)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UsageError
from ._base import _Result, _values, load


def _pre(text: str) -> str:
    from html import escape

    return f"<pre>{escape(text)}</pre>"


def bounds(spec: Any, /, *, values: Mapping[str, Any] | None = None, **symbols: Any) -> Bounds:
    """For each symbol (the others at their values): the smallest value for which every layer
    has an output, the largest where a bound applies, the divisibility under which no
    downsampling layer drops a pixel, and how much of the input the last feature map sees.

    Args:
        spec: what :func:`load` takes.
        values, **symbols: values for the other symbols (a symbol given a value is still
            examined, the others held at theirs).

    >>> b = cnncalc.bounds("resnet50")
    >>> [(s.name, s.min, s.exact) for s in b.symbols if s.exact]
    [('H', 1, 'H % 32 == 0'), ('W', 1, 'W % 32 == 0')]
    """
    from ..analysis.bounds import bounds as run

    return Bounds(run(load(spec), _values(values, symbols)))


class Bounds(_Result):
    """The result of :func:`bounds`: ``symbols`` (per symbol: ``name``, ``value``, ``min``,
    ``max`` (None: unbounded), ``exact``: the divisibility for exact downsampling, ...) and the
    last feature map's receptive field (``field_layer``, ``field``)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cnncalc bounds --format json``."""
        from ..report.domain import bounds_dict

        return bounds_dict(self.record)

    def renderable(self, width: int | None = None) -> Any:
        from ..report.domain import bounds_render
        from ..report.layout import output_width

        return bounds_render(self.record, width or output_width())

    def _repr_html_(self) -> str:
        return _pre(repr(self))


def solve(
    spec: Any,
    /,
    *,
    shape: int | tuple[int, int] | str | None = None,
    layer: str | None = None,
    largest: str | Sequence[str] | None = None,
    within: str | Mapping[str, Any] | None = None,
    step: Any = None,
    upto: Any = None,
    dtype: str = "float32",
    values: Mapping[str, Any] | None = None,
    **symbols: Any,
) -> ShapeSolve | BudgetSolve:
    """Inverse questions, answered exactly from the formulas and proved over the whole range
    (or refused, saying which part could not be proved), as ``cnncalc solve`` answers them.

    Args:
        spec: what :func:`load` takes.
        shape: the wanted output size ``(height, width)``, ``7`` for a square, or ``"7x7"``:
            the values of the symbols giving ``layer`` (default: the last feature map) that
            size. Returns a :class:`ShapeSolve`.
        layer: the layer whose output ``shape`` is.
        largest: the symbols grown together (``("H", "W")`` or ``"H,W"``), for the largest value
            keeping a total ``within`` a budget. Returns a :class:`BudgetSolve`.
        within: one budget: ``{"macs": 10**9}``, ``{"peak_bytes": "512MiB"}`` or
            ``"macs=1G"`` (k, M, G, T: powers of 1000; KiB, MiB, GiB: powers of 1024).
            Metrics: ``macs``, ``params``, ``flops``, ``activations``, ``peak_bytes``,
            ``memory_bytes``.
        step: the resolution of rational symbols (default 1/100).
        upto: search values up to this one only (default: the symbol's declared max).
        dtype: the data type of the byte budgets.
        values, **symbols: values of the other symbols.

    >>> cnncalc.solve("resnet50", shape=(7, 7)).solutions[0].interval
    (193, 224)
    >>> cnncalc.solve("resnet50", largest="H,W", within={"macs": 10**9}).best
    100
    """
    from ..analysis import inverse
    from ..analysis.dtypes import DTYPES

    if (shape is None) == (largest is None):
        raise UsageError("solve takes one of shape= or largest= (with within=)")
    loaded, given = load(spec), _values(values, symbols)
    bound = None if upto is None else _number(upto, "upto")
    if shape is not None:
        return ShapeSolve(inverse.solve_shape(loaded, _shape(shape), given, layer, bound))
    if within is None:
        raise UsageError("largest= needs within=, a budget such as {'macs': 10**9}")
    if dtype not in DTYPES:
        raise UsageError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPES)}")
    names = tuple(n.strip() for n in largest.split(",")) if isinstance(largest, str) else tuple(largest)
    metric, budget = _budget(within)
    resolution = None if step is None else _number(step, "step")
    return BudgetSolve(
        inverse.largest_within(
            loaded, names, metric, budget, given, resolution, inverse.byte_metrics(dtype), bound
        )
    )


def _number(value: Any, what: str) -> Any:
    from fractions import Fraction

    from ..analysis.sweep import parse_number

    if isinstance(value, bool) or not isinstance(value, (int, Fraction, str)):
        raise UsageError(f"{what} is a number (an int, a Fraction or text such as '1/32'), found {value!r}")
    if isinstance(value, str):
        try:
            return parse_number(value)
        except ValueError as exc:
            raise UsageError(f"{what}: {exc}") from None
    return value


def _shape(shape: Any) -> tuple[int, int]:
    if isinstance(shape, str):
        parts = shape.lower().split("x")
        try:
            sizes = tuple(int(p) for p in (parts * 2 if len(parts) == 1 else parts))
        except ValueError:
            raise UsageError(f"shape is HxW such as '7x7', found {shape!r}") from None
    elif isinstance(shape, int) and not isinstance(shape, bool):
        sizes = (shape, shape)
    else:
        sizes = tuple(shape)
    if len(sizes) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise UsageError(f"shape is (height, width), two whole numbers of 1 or more, found {shape!r}")
    return sizes


def _budget(within: Any) -> tuple[str, int]:
    from ..lang.budget import parse_amount

    if isinstance(within, str):
        metric, eq, amount = within.partition("=")
        if not eq:
            raise UsageError(f"within is METRIC=BUDGET such as 'macs=1G', found {within!r}")
        pairs = [(metric.strip(), amount)]
    elif isinstance(within, Mapping):
        pairs = list(within.items())
    else:
        raise UsageError(f"within is a mapping such as {{'macs': 10**9}} or text 'macs=1G', found {within!r}")
    if len(pairs) != 1:
        raise UsageError(f"within holds one budget, found {len(pairs)}")
    ((metric, amount),) = pairs
    try:
        return str(metric), parse_amount(amount, str(metric))
    except ValueError as exc:
        raise UsageError(f"within {metric}: {exc}") from None


class ShapeSolve(_Result):
    """The result of :func:`solve` with ``shape``: ``solutions``, one per spatial axis
    (``symbol``, ``layer``, ``size``, ``interval``: the first run of values, ``intervals``:
    every run, ``conditions`` they must also meet, ``formula``)."""

    @property
    def solutions(self) -> tuple[Any, ...]:
        return self.record

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cnncalc solve --shape ... --format json``."""
        from ..report.domain import shape_dict

        return shape_dict(self.record)

    def renderable(self, width: int | None = None) -> Any:
        from ..report.domain import shape_text

        return shape_text(self.record)

    def _repr_html_(self) -> str:
        return _pre(repr(self))


class BudgetSolve(_Result):
    """The result of :func:`solve` with ``largest``: ``best`` (the largest value within the
    budget; None when no value is), ``best_cost``, ``next`` and ``next_cost`` (the next value,
    over the budget), ``metric``, ``budget``, ``formula``."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cnncalc solve --largest ... --format json``."""
        from ..report.domain import budget_dict

        return budget_dict(self.record)

    def renderable(self, width: int | None = None) -> Any:
        from ..report.domain import budget_text

        return budget_text(self.record)

    def _repr_html_(self) -> str:
        return _pre(repr(self))


def sweep(
    spec: Any,
    /,
    ranges: Mapping[str, Any],
    *,
    pareto: str | None = None,
    max_points: int | None = None,
    values: Mapping[str, Any] | None = None,
    **symbols: Any,
) -> Sweep:
    """Every total at every point of a grid of sizes, exact, as ``cnncalc sweep`` computes it.

    Args:
        spec: what :func:`load` takes.
        ranges: symbol -> its values: a ``range``, a sequence of numbers, or text as
            ``--range`` takes it (``"32:224:32"``, stop included; ``"1/4:1:1/4"``;
            ``"160,192,224"``). Several symbols form a grid, the first varying slowest.
        pareto: keep the non-dominated designs only, e.g. ``"macs,H"`` (totals minimised,
            symbols maximised; ``min:``/``max:`` to choose).
        max_points: the largest grid taken (default 10,000,000).
        values, **symbols: values of the other symbols.

    A point where the network is not valid is kept, marked: ``valid`` False, None for each
    total (there is no network there), and its ``reason``: the first condition of the formulas
    it breaks or, where a symbol deciding the layers is swept and a layer cannot take its input,
    that layer's message.

    >>> s = cnncalc.sweep("resnet50", {"H": range(160, 225, 32)})
    >>> s.points["H"], s.totals["macs"]
    ((160, 192, 224), (2921431040, 3505307648, 4089184256))
    """
    from ..analysis import sweep as engine

    if not isinstance(ranges, Mapping) or not ranges:
        raise UsageError("ranges maps each swept symbol to its values, e.g. {'H': range(32, 225, 32)}")
    grid = {name: _range(engine, name, r) for name, r in ranges.items()}
    p = engine.plan(load(spec), grid, _values(values, symbols))
    engine.check_size(p, engine.MAX_POINTS if max_points is None else max_points)
    chunks = p.chunks()
    if pareto is not None:
        from ..analysis.pareto import Front, parse_objectives

        front = Front(parse_objectives(pareto, p.symbols), p.symbols, p.scales)
        for c in chunks:
            front.add(c)
        best = front.chunk()
        chunks = [best] if best is not None else []
    return Sweep(engine.collect(p, chunks))


def _range(engine: Any, name: str, r: Any) -> Any:
    if isinstance(r, str):
        return engine.parse_range(f"{name}={r}")[1]
    if isinstance(r, range):
        if not r:
            raise UsageError(f"ranges[{name!r}] is empty")
        if r.step < 0:
            r = r[::-1]
        return engine.Range(r.start, r.step, len(r))
    if isinstance(r, bytes) or not isinstance(r, Sequence):
        raise UsageError(f"ranges[{name!r}] is a range, a sequence of numbers or text, found {r!r}")
    return [_number(v, f"ranges[{name!r}]") for v in r]


class Sweep(_Result):
    """The result of :func:`sweep`: ``symbols`` swept, ``points`` (symbol -> its value at each
    point), ``totals`` (metric -> its value at each point: ``params``, ``trainable_params``,
    ``macs``, ``flops``, ``activations``; None where the point is not valid), ``valid``
    (whether every layer has an output there), ``reason`` (why each invalid point is, None where
    it is valid) and the totals' ``formulas``."""

    def __len__(self) -> int:
        return len(self.record)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cnncalc sweep --format json``."""
        from ..report.domain import sweep_dict

        return sweep_dict(self.record)

    def to_csv(self) -> str:
        """The CSV of ``cnncalc sweep --format csv``."""
        from ..report.domain import sweep_csv

        return sweep_csv(self.record)

    def to_pandas(self) -> Any:
        """A pandas DataFrame, one row per point: the swept symbols, ``valid``, the totals
        (exact values, in object columns; None where the point has no network) and ``reason``."""
        from ._base import _pandas

        pd = _pandas()
        s = self.record
        columns = {**{n: s.points[n] for n in s.symbols}, "valid": s.valid, **s.totals, "reason": s.reason}
        return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})

    def renderable(self, width: int | None = None) -> Any:
        from ..report.domain import sweep_render
        from ..report.layout import output_width

        return sweep_render(self.record, width or output_width())

    def _repr_html_(self) -> str:
        return _pre(repr(self))
