"""Property testing of layers and networks: hypothesis strategies and the layer contract.

A layer kind (cnncalc's own, or a custom one registered with :func:`cnncalc.layers.register`)
provides ``examples()``: a hypothesis strategy of :class:`Case`, each a spec entry for the layer,
a concrete input shape and, where the strategy built it by construction, the output shape the
layer must produce. :func:`check_layer` then checks, for one case:

1. the symbolic rules (sizes left open as symbols ``N, C, H, W``) evaluated at the case's sizes
   equal the rules run on integers, layer by layer: output shape, params, MACs, FLOPs;
2. the output shape equals the one the case was built for;
3. the reference kernel accepts the predicted output shape (its own arithmetic agrees), counts
   the predicted MACs, and accepts weights of the predicted parameter count.

A kind whose cost is unknown (``cost_known = False``, the ``opaque`` layer) is held to what it
declares instead: its shape rule gives the case's shape, its params, MACs and FLOPs are None
(unknown, never a number), it has no kernel (verification reports it as not verified and feeds
the layers after it a random tensor of its shape), and every other layer of the case is
checked as usual.

A failure is an :class:`AssertionError` naming the configuration and each quantity, e.g.
``MACs: predicted 1, counted by the kernel 2 (formula: C*H*N*W)``; under hypothesis the
configuration is the shrunk, minimal one.

A user's test of a custom layer is two lines::

    from cnncalc.testing import contract_test
    test_space_to_depth = contract_test("space_to_depth", plugin="my_layers")

or, spelled out::

    from hypothesis import given
    from cnncalc.testing import cases, check_layer

    @given(cases("space_to_depth"))
    def test_space_to_depth(case):
        check_layer(case)

:func:`networks` draws whole random networks (sequential, residual and concat branches, an
optional classifier head), valid by construction with their output shape carried alongside,
optionally around a given layer's configurations: ``networks(around=cases("space_to_depth"))``.
They are :class:`Case`\\ s too, checked by the same :func:`check_layer`.

hypothesis is imported only by the strategies, when they are built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .core import dims
from .core.engine import Analysis, LayerResult, analyze, evaluate_at
from .lang.spec import parse_spec
from .strategies import NETWORK_STEPS, Case, Window, networks, shapes, windows

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from .layers import Layer

__all__ = [
    "NETWORK_STEPS",
    "Case",
    "ContractFailure",
    "Window",
    "cases",
    "check_layer",
    "contract_test",
    "networks",
    "shapes",
    "windows",
]


class ContractFailure(AssertionError):
    """A case where a layer's rules, its symbolic rules and its kernel disagree.

    Attributes:
        case: the configuration.
        problems: one line per quantity that disagrees.
    """

    def __init__(self, case: Case, problems: Sequence[str]):
        self.case = case
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{case.describe()}:\n{lines}")


def check_layer(case: Case, *, seed: int = 0) -> None:
    """Check the contract on one case (see the module docstring).

    Args:
        case: a configuration, usually drawn from :func:`cases` or :func:`networks`.
        seed: seed of the random input and weights of the run.

    Raises:
        ContractFailure: an ``AssertionError`` naming the case and every quantity that
            disagrees, with the formula that predicted it.
    """
    __tracebackhide__ = True  # pytest shows the failure, not this function's source
    from .analysis.verify import verify

    spec = parse_spec(case.spec_text(), "<case>")
    values = case.symbols()
    problems: list[str] = []
    try:
        concrete = analyze(spec)
    except Exception as exc:
        raise ContractFailure(
            case, [f"the rules refuse a configuration built to be valid: {type(exc).__name__}: {exc}"]
        ) from exc
    for c in concrete.layers:
        problems.extend(_non_integers(c) if c.layer.cost_known else _unknown_costs(c))
    try:
        symbolic: Analysis | None = analyze(spec, symbolic=True)
    except Exception as exc:
        symbolic = None
        hint = (
            " (rules must not branch on a size with `if`, nor use Python's int, min, max or math "
            "on it: use checks (at_least, divides) and cnncalc.dims (dmax, floordiv, ...))"
            if isinstance(exc, TypeError)
            else ""
        )
        problems.append(
            f"the rules fail when the sizes are symbols ({', '.join(values)}): "
            f"{type(exc).__name__}: {exc}{hint}"
        )
    formulas: dict[str, LayerResult] = {}
    if symbolic is not None:
        at = ", ".join(f"{k}={v}" for k, v in values.items())
        for s, c in zip(symbolic.layers, concrete.layers, strict=True):
            formulas[c.name] = s
            got = tuple(evaluate_at(d, values) for d in s.output_shape)
            if got != tuple(c.output_shape):
                problems.append(
                    f"{c.name}: output shape: the symbolic rule {_shape(s.output_shape)} gives "
                    f"{_shape(got)} at {at}, the rule on integers {_shape(c.output_shape)}"
                )
            for what, label in (("params", "params"), ("macs", "MACs"), ("flops", "FLOPs")):
                sv, cv = evaluate_at(getattr(s, what), values), getattr(c, what)
                if sv != cv:
                    problems.append(
                        f"{c.name}: {label}: the symbolic rule {dims.fmt(getattr(s, what))} gives "
                        f"{dims.fmt(sv)} at {at}, the rule on integers {dims.fmt(cv)}"
                    )
    last = concrete.layers[-1]
    if case.expected is not None and tuple(last.output_shape) != tuple(case.expected):
        problems.append(
            f"{last.name}: output shape: predicted {_shape(last.output_shape)}, the configuration was "
            f"built for {_shape(case.expected)}{_formula(formulas.get(last.name), 'output_shape')}"
        )
    result = verify(concrete, seed=seed)
    for check, c in zip(result.layers, concrete.layers, strict=True):
        if check.not_verified is not None:
            if c.layer.cost_known:
                problems.append(f"{check.name} ({check.kind}): not verified, yet its cost is known")
            continue
        if not c.layer.cost_known:
            problems.append(f"{check.name} ({check.kind}): an opaque layer was run as if it had a kernel")
            continue
        if check.ok:
            continue
        formula = formulas.get(check.name)
        name = f"{check.name} ({check.kind})"
        if check.error:
            problems.append(f"{name}: {check.error}")
        if check.observed_shape is not None and check.observed_shape != check.predicted_shape:
            problems.append(
                f"{name}: output shape: predicted {_shape(check.predicted_shape)}, the kernel's own "
                f"arithmetic gives {_shape(check.observed_shape)}{_formula(formula, 'output_shape')}"
            )
        if check.counted_macs is not None and check.counted_macs != check.predicted_macs:
            problems.append(
                f"{name}: MACs: predicted {check.predicted_macs}, counted by the kernel "
                f"{check.counted_macs}{_formula(formula, 'macs')}"
            )
        if check.allocated_params is not None and check.allocated_params != check.predicted_params:
            problems.append(
                f"{name}: params: predicted {check.predicted_params}, the kernel accepted weights of "
                f"{check.allocated_params}{_formula(formula, 'params')}"
            )
    if problems:
        raise ContractFailure(case, problems)


def _non_integers(c: LayerResult) -> list[str]:
    """A rule that returned a float or a fraction at concrete sizes (``/`` instead of ``//``)."""
    found = [
        (label, value)
        for label, values in (
            ("output shape", c.output_shape),
            ("params", (c.params,)),
            ("MACs", (c.macs,)),
            ("FLOPs", (c.flops,)),
        )
        for value in values
        if not isinstance(value, int) or isinstance(value, bool)
    ]
    return [
        f"{c.name}: {label}: the rule returned {value!r} ({type(value).__name__}), not an integer; "
        "divide with cnncalc.dims.floordiv or ceildiv, or dims.div when the division is exact"
        for label, value in found
    ]


def _unknown_costs(c: LayerResult) -> list[str]:
    """A kind whose cost is unknown must say so with None, not with a number."""
    found = [
        (label, value)
        for label, value in (
            ("params", c.params),
            ("MACs", c.macs),
            ("FLOPs", c.flops),
            ("buffers", c.buffers),
        )
        if value is not None
    ]
    return [
        f"{c.name}: {label}: {value!r} for a kind whose cost is unknown (cost_known = False); it must be None"
        for label, value in found
    ]


_shape = dims.fmt_shape


def _formula(s: LayerResult | None, what: str) -> str:
    if s is None:
        return ""
    value = getattr(s, what)
    text = _shape(value) if what == "output_shape" else dims.fmt(value)
    return f" (formula: {text})"


def cases(kind: str | type[Layer]) -> SearchStrategy[Case]:
    """The hypothesis strategy of :class:`Case` of a registered layer kind (its ``examples()``).

    Args:
        kind: the tag (``"conv2d"``) or the layer class.

    Raises:
        cnncalc.errors.UnknownLayerError: for a tag nobody registered.
        NotImplementedError: when the kind has no ``examples()``.
    """
    from .layers import get

    cls = get(kind) if isinstance(kind, str) else kind
    return cls.examples()


def contract_test(
    kind: str | type[Layer],
    *,
    plugin: str | None = None,
    max_examples: int | None = None,
    seed: int = 0,
) -> Callable[[], None]:
    """A test function checking the contract of ``kind`` on its drawn configurations.

    Assign it to a name starting with ``test_`` in a test module and pytest runs it::

        test_space_to_depth = contract_test("space_to_depth", plugin="my_layers")

    Args:
        kind: the tag or the layer class.
        plugin: a module to load first, the one registering ``kind`` (or an installed
            entry point of the ``cnncalc.layers`` group), as ``--plugin`` loads it.

    Raises:
        cnncalc.errors.PluginError: when the plugin cannot be loaded.
        max_examples: how many configurations to try (default: the hypothesis profile's).
        seed: seed of the random tensors of each run.
    """
    from hypothesis import given, settings

    if plugin is not None:
        from .layers._plugins import load_plugin

        load_plugin(plugin)
    options: dict[str, Any] = {"deadline": None}  # the first example compiles the kernels
    if max_examples is not None:
        options["max_examples"] = max_examples

    @settings(**options)
    @given(case=cases(kind))
    def test(case: Case) -> None:
        __tracebackhide__ = True
        check_layer(case, seed=seed)

    name = kind if isinstance(kind, str) else kind.kind
    test.__name__ = test.__qualname__ = f"test_{name}_contract"
    return test
