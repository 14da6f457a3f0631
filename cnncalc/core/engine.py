"""The analysis: every layer's shape, parameters, MACs and FLOPs, exact.

:func:`analyze` binds the spec's symbols (defaults, then the values given), expands the graph,
and threads shapes through it layer by layer. It returns plain frozen records and never prints.
Values are ints when concrete and sympy expressions of the open symbols otherwise; when every
symbol is bound, sympy is never imported.

A layer whose kind cannot know its cost (``opaque``) has ``None`` for its params, buffers, MACs
and FLOPs. Totals (and every subtotal) are then the sums over the other layers, and
``Totals.unknown_cost`` names the layers left out: a cost is never taken as 0 silently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..errors import CnncalcError, Diagnostic, ShapeError, SpecError, UsageError
from ..lang.expr import parse
from ..lang.model import INPUT, Spec
from ..lang.source import Mark
from ..layers import Layer, Param, Shape
from ..layers._base import same_dims
from . import dims
from .constraints import Constraint, Decider
from .dims import Dim
from .graph import Node, build
from .memo import Memo
from .sizes import require_sizes


@dataclass(frozen=True)
class LayerResult:
    """What one layer application produces and costs."""

    name: str
    kind: str
    category: str  # the breakdown row: kind, refined by kernel size for convolutions
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    weights: tuple[tuple[str, Param], ...]  # every tensor the layer owns (or shares)
    # learnable parameters it owns (0 when it shares another layer's); the four counts are None
    # when the layer's cost is unknown (an opaque layer)
    params: Dim | None
    buffers: Dim | None
    macs: Dim | None
    flops: Dim | None
    trainable: bool
    shares: str | None
    layer: Layer  # bound: arguments evaluated
    position: Mark | None = None  # where the layer's entry is written in the spec (1-based)

    @property
    def cost_known(self) -> bool:
        """False when params, buffers, MACs and FLOPs are unknown (None)."""
        return self.macs is not None

    def params_by_role(self) -> dict[str, Dim | None]:
        """Parameters owned, split into weight / bias / norm (each None when unknown)."""
        if not self.cost_known:
            return {"weight": None, "bias": None, "norm": None}
        out: dict[str, Dim] = {"weight": 0, "bias": 0, "norm": 0}
        if self.shares:
            return out
        for _, p in self.weights:
            if p.role != "buffer":
                out[p.role] = dims.add(out[p.role], dims.prod(p.shape))
        return out


@dataclass(frozen=True)
class Totals:
    """Sums over the layers. The cost sums (params to flops) leave out the layers whose cost is
    unknown, named in ``unknown_cost``; ``activations`` counts every layer (shapes are known)."""

    params: Dim
    trainable_params: Dim
    frozen_params: Dim
    buffers: Dim
    macs: Dim
    flops: Dim
    activations: Dim  # elements of every layer output, summed
    unknown_cost: tuple[str, ...] = ()  # layers whose params, MACs and FLOPs are unknown

    @property
    def complete(self) -> bool:
        """True when every layer's cost is counted."""
        return not self.unknown_cost


@dataclass(frozen=True)
class Analysis:
    """The result of analysing a spec at given symbol values."""

    name: str
    filename: str
    symbols: dict[str, Any]  # name -> value in force, or None when left open
    input_shape: Shape
    layers: tuple[LayerResult, ...]
    totals: Totals
    constraints: tuple[Constraint, ...]
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def open_symbols(self) -> tuple[str, ...]:
        return tuple(n for n, v in self.symbols.items() if v is None)

    @property
    def concrete(self) -> bool:
        return not self.open_symbols


def follow_derived(spec: Spec, bound: dict[str, Any], given: Any) -> dict[str, Any]:
    """``bound`` without the derived symbols that were not ``given`` a value: the analysis
    derives them again from the symbols they read, open ones included (a width derived from an
    open multiplier is its formula, not its value at the multiplier's default)."""
    return {k: v for k, v in bound.items() if k in given or spec.symbols[k].derived is None}


def resolve_symbols(
    spec: Spec, values: dict[str, Any] | None = None, symbolic: bool = False
) -> dict[str, Any]:
    """The value of every symbol: given, else its default (unless ``symbolic``), else open.

    ``values`` maps names to numbers or to text such as ``"3/4"``.

    Raises:
        UsageError: for an unknown symbol, a value that is not a number, or out of bounds.
    """
    values = dict(values or {})
    for name in values:
        if name in spec.lists:
            raise UsageError(
                f"{name} is a list in {spec.filename}; a list cannot be given a value here",
                code="usage.unknown-symbol",
            )
        if name not in spec.symbols:
            from ..errors import unknown_message

            raise UsageError(
                unknown_message("symbol", name, spec.symbols) + f" (declared in {spec.filename})",
                code="usage.unknown-symbol",
            )
    from ..lang.symbols import bind

    # A symbol that decides how many layers there are keeps its value; a derived one follows
    # the symbols it is computed from.
    given = {name: _check_value(spec.symbols[name], value) for name, value in values.items()}
    return bind(spec.symbols, spec.lists, given, spec.structural, symbolic, spec.source)


def _check_value(sym, raw: Any):
    from ..errors import shorten

    shown = shorten(str(raw))
    binding = f"{sym.name}={shown}"
    try:
        e = parse(raw)
        v = e.constant
    except CnncalcError as exc:
        raise UsageError(str(exc), code="usage.symbol-value", binding=binding) from None
    if v is None:
        raise UsageError(f"expected a number, found {shown!r}", code="usage.symbol-value", binding=binding)
    if sym.integer and not isinstance(v, int):
        raise UsageError(f"{sym.name} is an integer symbol", code="usage.symbol-value", binding=binding)
    if v < sym.lower or (sym.max is not None and v > sym.max):
        hi = dims.fmt(sym.max) if sym.max is not None else "inf"
        raise UsageError(
            f"{sym.name} must be in [{dims.fmt(sym.lower)}, {hi}]", code="usage.symbol-value", binding=binding
        )
    return v


def analyze(
    spec: Spec, values: dict[str, Any] | None = None, *, symbolic: bool = False, memo: Memo | None = None
) -> Analysis:
    """Analyse ``spec`` with the given symbol values.

    Args:
        spec: a loaded spec.
        values: symbol values to bind, overriding defaults.
        symbolic: leave every symbol not in ``values`` open, ignoring defaults.
        memo: results of layer applications kept from earlier analyses (an editor's, of the
            spec as it was a keystroke ago), used where a layer reads the same arguments,
            values and inputs, and filled with the new ones.

    Raises:
        SpecError: for mistakes found while expanding blocks.
        ShapeError: when a layer cannot apply to its input, naming the layer.
    """
    bound = resolve_symbols(spec, values, symbolic)
    scope: dict[str, Any] = {}
    for name, value in bound.items():
        scope[name] = value if value is not None else dims.symbol(name, integer=spec.symbols[name].integer)
    return _Analyser(spec, scope, bound, memo).run()


class _Analyser:
    def __init__(self, spec: Spec, scope: dict[str, Any], bound: dict[str, Any], memo: Memo | None = None):
        self.spec = spec
        self.memo = memo
        # what else decides a layer's checks: the symbols' declarations
        self.context = tuple((s.name, s.lower, s.max, s.integer) for s in spec.symbols.values())
        self.scope = scope
        self.bound = bound
        self.decider = Decider(spec.symbols, scope)
        self.shapes: dict[str, Shape] = {}
        self.owners: dict[str, LayerResult] = {}
        self.results: list[LayerResult] = []
        self.lints: list[Diagnostic] = []

    def run(self) -> Analysis:
        graph = build(self.spec, self.scope, self._start, self._apply)
        # `freeze_until` freezes what precedes a layer, known once the graph is complete.
        results = tuple(
            replace(r, trainable=False) if node.frozen and r.trainable else r
            for r, node in zip(self.results, graph.nodes, strict=True)
        )
        return Analysis(
            name=self.spec.name,
            filename=self.spec.filename,
            symbols=self.bound,
            input_shape=graph.input_shape,
            layers=results,
            totals=_totals(results),
            constraints=tuple(self.decider.constraints),
            warnings=(
                *(self._warning(p, m) for p, m in (*self.spec.warnings, *graph.warnings)),
                *self.lints,
            ),
        )

    def _start(self, input_shape: Shape) -> None:
        digits = dims.too_large(dims.prod(input_shape))
        if digits:
            raise self.spec.source.error(
                ("input",),
                f"the input has a number of elements of {digits:,} digits "
                f"(at most {dims.MAX_DIGITS}, the limit of digits of a result)",
                ShapeError,
            )
        self.shapes[INPUT] = input_shape

    def _apply(self, node: Node) -> Shape:
        result = self._node(node)
        self.results.append(result)
        return result.output_shape

    def _error(self, node: Node, message: str | CnncalcError, cls: type[CnncalcError] = ShapeError):
        """An error about ``node``, located at its entry in the spec."""
        located = self.spec.source.diagnostic(node.path, message, cls.code_prefix)
        return cls(replace(located, where=f"layer {node.name!r} ({node.kind})"))

    def _warning(self, path, message: str) -> Diagnostic:
        """A warning about what is written at ``path``: located in the file, the place in the
        message."""
        return replace(self.spec.source.diagnostic(path, message, "lint"), where="", severity="warning")

    def _lint(self, node: Node, message: str) -> Diagnostic:
        return self._warning(node.path, f"layer {node.name!r} ({node.kind}) {message}")

    def _node(self, node: Node) -> LayerResult:
        xs = tuple(self.shapes[i] for i in node.inputs)
        layer = node.layer
        if layer.arity == 1 and len(xs) != 1:
            raise self._error(node, f"takes one input, got {len(xs)}", SpecError)
        key = self.memo.key(layer, node.scope, xs, self.context) if self.memo is not None else None
        found = self.memo.get(key) if key is not None else None
        try:
            if found is not None:  # the same arguments, values and inputs: the same results
                bound, arg_checks, checks, y, weights, macs, flops, category, lints, counts = found
                for check in (*arg_checks, *checks):
                    self.decider.require(check, node.name)
                require_sizes(bound, xs, y, self.decider, node.name)  # its conditions, afresh
            else:
                bound, arg_checks = layer.bind(node.scope)
                for check in arg_checks:
                    self.decider.require(check, node.name)
                checks = tuple(bound.checks(*xs))
                for check in checks:
                    self.decider.require(check, node.name)
                y = bound.output_shape(*xs)
                require_sizes(bound, xs, y, self.decider, node.name)
                weights = bound.weights(*xs)
                if bound.cost_known:
                    macs = bound.macs(*xs, out=y)
                    flops = bound.flops(*xs, out=y)
                else:
                    macs = flops = None
                category = bound.category(*xs)
                lints = tuple(bound.lints(*xs, out=y))
            for message in lints:
                self.lints.append(self._lint(node, message))
        except ShapeError as exc:
            detail = ""
            if len(xs) > 1:
                detail = "; inputs: " + ", ".join(
                    f"{n!r} {dims.fmt_shape(s)}" for n, s in zip(node.inputs, xs, strict=True)
                )
            d = exc.diagnostic  # a SizeError or a plugin's RuleError stays one
            raise self._error(node, type(exc)(replace(d, message=d.message + detail)), type(exc)) from None
        own = tuple(weights.items())
        if found is None:
            self._check_size(node, y, macs, flops, weights)
            counts = (
                dims.add(*(dims.prod(p.shape) for _, p in own if p.role != "buffer")),
                dims.add(*(dims.prod(p.shape) for _, p in own if p.role == "buffer")),
            )
            if key is not None:
                entry = (bound, tuple(arg_checks), checks, y, weights, macs, flops, category, lints, counts)
                self.memo.put(key, entry)
        self.shapes[node.name] = y
        params, buffers = counts
        if not bound.cost_known:
            params = buffers = None
        elif node.share:
            owner = self.owners[node.share]
            theirs = dict(owner.weights)
            for key, p in own:
                if key not in theirs or not same_dims(theirs[key].shape, p.shape):
                    raise self._error(
                        node,
                        f"cannot share the weights of {node.share!r}: "
                        f"{key} would be {dims.fmt_shape(p.shape)} here but is "
                        f"{dims.fmt_shape(theirs[key].shape) if key in theirs else 'absent'} there",
                    )
            params, buffers = 0, 0
        result = LayerResult(
            name=node.name,
            kind=node.kind,
            category=category,
            inputs=node.inputs,
            input_shapes=xs,
            output_shape=y,
            weights=own,
            params=params,
            buffers=buffers,
            macs=macs,
            flops=flops,
            trainable=not node.frozen,
            shares=node.share,
            layer=bound,
            position=self.spec.source.mark(node.path),
        )
        if not node.share:
            self.owners[node.name] = result
        return result

    def _check_size(self, node: Node, y: Shape, macs: Dim | None, flops: Dim | None, weights: dict) -> None:
        """Refuse results too large to print (``MAX_DIGITS``) or nested too deeply to handle
        (``MAX_FORMULA_NESTING``), at the layer that produces them.

        Numbers are all checked (cheaply); formulas by the output shape, from which the counts
        are products of a few factors."""
        values = [("the output shape", d) for d in y]
        if all(dims.is_concrete(d) for d in y):
            values.append(("the output size", dims.prod(y)))
        values += [
            (what, v)
            for what, v in (("the MAC count", macs), ("the FLOP count", flops))
            if v is not None and dims.is_concrete(v)
        ]
        for key, p in weights.items():
            size = dims.prod(p.shape)
            if dims.is_concrete(size):
                values.append((f"the {key} tensor", size))
        for what, v in values:
            digits = dims.too_large(v)
            if digits:
                limit = f"at most {dims.MAX_DIGITS}, the limit of digits of a result"
                raise self._error(node, f"{what} has {digits:,} digits ({limit})")
            if not dims.is_concrete(v) and dims.nesting(v) > dims.MAX_FORMULA_NESTING:
                open_ = ", ".join(sorted(str(x) for x in dims.free_symbols(v)))
                raise self._error(
                    node,
                    ShapeError(
                        f"{what} is a formula nested more than {dims.MAX_FORMULA_NESTING} levels deep "
                        f"(the limit of formula nesting)",
                        hint=f"give {open_} a value{{how}}",
                    ),
                )


def known_sum(values) -> Dim:
    """The sum of the values that are known (not None); 0 for none."""
    known = [v for v in values if v is not None]
    return dims.add(*known) if known else 0


def _totals(results: tuple[LayerResult, ...]) -> Totals:
    return Totals(
        params=known_sum([r.params for r in results]),
        trainable_params=known_sum([r.params for r in results if r.trainable]),
        frozen_params=known_sum([r.params for r in results if not r.trainable]),
        buffers=known_sum([r.buffers for r in results]),
        macs=known_sum([r.macs for r in results]),
        flops=known_sum([r.flops for r in results]),
        activations=known_sum([dims.prod(r.output_shape) for r in results]),
        unknown_cost=tuple(r.name for r in results if not r.cost_known),
    )


def evaluate_at(value: Dim | None, values: dict[str, Any]) -> Dim | None:
    """Substitute symbol values into a result (exact; for sampling symbolic results); None
    (an unknown cost) stays None."""
    if value is None or dims.is_concrete(value):
        return value
    subs = {sym: dims.to_sympy(values[str(sym)]) for sym in value.free_symbols if str(sym) in values}
    return dims.canon(value.xreplace(subs)) if subs else value


__all__ = [
    "Analysis",
    "LayerResult",
    "Totals",
    "analyze",
    "evaluate_at",
    "known_sum",
    "resolve_symbols",
]
