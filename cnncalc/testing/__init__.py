"""Property testing of layers and networks: hypothesis strategies and the layer contract.

A layer kind (cnncalc's own, or a custom one registered with :func:`cnncalc.layers.register`)
provides ``examples()``: a hypothesis strategy of :class:`Case`, each a spec entry for the layer,
a concrete input shape and, where the strategy built it by construction, the output shape the
layer must produce. :func:`check_layer` then checks, for one case:

1. the rules accept it, and give whole sizes of at least 1 and integer counts;
2. the symbolic rules (sizes left open as symbols ``N, C, H, W``) evaluated at the case's sizes
   equal the rules run on integers, layer by layer: output shape, params, MACs, FLOPs;
3. the output shape equals the one the case was built for;
4. the reference kernel accepts the predicted output shape (its own arithmetic agrees), writes
   every element of it, counts the predicted MACs, and accepts weights of the predicted
   parameter count;
5. FLOPs are at least 2 per MAC the kernel counted, and the docstring's formula when it is
   ``FLOPs: 0``, ``FLOPs: 2*MACs`` or ``FLOPs: K per element``;
6. every tensor ``weights()`` declares is read by the kernel (drawn again with other values, it
   changes the output), and ``windows()`` covers what the kernel reads (moving one input row or
   column changes only outputs whose windows hold it).

:func:`check_nearby` then takes the configurations one slip away from the case (:func:`nearby`:
sizes and arguments off by one, a kernel larger than the input, a flag flipped): for each,
either the layer's checks refuse it, or its rules give whole sizes and its kernel runs and
agrees. A configuration that the checks accept and the kernel refuses, or whose size is not a
whole number of at least 1, is a **missing check**, reported with that configuration.

A kind whose cost is unknown (``cost_known = False``, the ``opaque`` layer) is held to what it
declares instead: its shape rule gives the case's shape, its params, MACs and FLOPs are None
(unknown, never a number), it has no kernel (verification reports it as not verified and feeds
the layers after it a random tensor of its shape), and every other layer of the case is
checked as usual.

A failure is a :class:`ContractFailure` (an ``AssertionError``) naming the configuration and
each quantity, e.g. ``MACs: predicted 1, counted by the kernel 2 (formula: C*H*N*W)``; under
hypothesis the configuration is the shrunk, minimal one.

A user's test of a custom layer is two lines::

    from cnncalc.testing import contract_test
    test_space_to_depth = contract_test("space_to_depth", plugin="my_layers")

or, spelled out::

    from hypothesis import given
    from cnncalc.testing import cases, check_layer, check_nearby

    @given(cases("space_to_depth"))
    def test_space_to_depth(case):
        check_layer(case)
        check_nearby(case)

:func:`networks` draws whole random networks (sequential, residual and concat branches, an
optional classifier head), valid by construction with their output shape carried alongside,
optionally around a given layer's configurations: ``networks(around=cases("space_to_depth"))``.
They are :class:`Case`\\ s too, checked by the same :func:`check_layer`.

hypothesis is imported only by the strategies, when they are built.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..core import dims
from ..core.engine import Analysis, LayerResult, analyze, evaluate_at
from ..errors import CnncalcError, LayerDefinitionError, RuleError, SizeError, SpecError
from ..lang.spec import parse_spec
from ..layers import Layer
from ..strategies import NETWORK_STEPS, Case, WindowGeometry, networks, shapes, windows
from ._nearby import near_problems, nearby, plain
from ._probes import flops_problems, unused_weights, window_problems

nearby_configurations = nearby  # contract_test's argument of that name hides the function

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "NETWORK_STEPS",
    "Case",
    "ContractFailure",
    "ContractWarning",
    "WindowGeometry",
    "cases",
    "check_layer",
    "check_nearby",
    "contract_test",
    "nearby",
    "networks",
    "shapes",
    "windows",
]


class ContractWarning(UserWarning):
    """Something the contract will hold a layer to in a later release, and which this layer
    breaks: for now a warning naming the fix (a kind that defines no ``windows()`` while its
    outputs read other positions than their own)."""


class ContractFailure(AssertionError):
    """A case where a layer's rules, its symbolic rules and its kernel disagree.

    Attributes:
        case: the configuration.
        problems: one line per quantity that disagrees.
        near: for a configuration of :func:`check_nearby`, the valid case it is near, and what
            changed (``channels 4 -> 5``); None otherwise.
        missing_check: True when the layer accepts a configuration it must refuse.
    """

    def __init__(
        self,
        case: Case,
        problems: Sequence[str],
        *,
        near: tuple[Case, str] | None = None,
        missing_check: bool = False,
    ):
        self.case = case
        self.problems = tuple(problems)
        self.near = near
        self.missing_check = missing_check
        lines = "\n".join(f"  {p}" for p in self.problems)
        head = case.describe()
        if near is not None:
            head += f" ({near[1]} from the valid {near[0].describe()})"
        super().__init__(f"{head}:\n{lines}")


def check_layer(case: Case, *, seed: int = 0) -> None:
    """Check the contract on one case (see the module docstring, items 1 to 6).

    Args:
        case: a configuration, usually drawn from :func:`cases` or :func:`networks`.
        seed: seed of the random input and weights of the run.

    Raises:
        ContractFailure: an ``AssertionError`` naming the case and every quantity that
            disagrees, with the formula that predicted it.
    """
    __tracebackhide__ = True  # pytest shows the failure, not this function's source
    failure = _failure(case, seed, nearby=False)
    if failure is not None:
        raise failure


def _failure(case: Case, seed: int, *, nearby: bool) -> ContractFailure | None:
    """The failure of :func:`check_layer` on ``case``, then (with ``nearby``) of
    :func:`check_nearby`, or None: raised at one place by the callers, so that hypothesis sees
    one kind of failure and shrinks to the smallest case of either."""
    problems = _problems(case, seed)
    if problems:
        return ContractFailure(case, problems)
    return _near_failure(case, seed) if nearby else None


def _near_failure(case: Case, seed: int) -> ContractFailure | None:
    for near, change in nearby_configurations(case):
        problems, missing = near_problems(near, seed)
        if problems:
            return ContractFailure(near, problems, near=(case, change), missing_check=missing)
    return None


def check_nearby(case: Case, *, seed: int = 0) -> None:
    """Check the configurations one slip from a valid ``case`` (:func:`nearby`): each is
    refused by the layer's checks, or its rules and its kernel agree on it.

    Raises:
        ContractFailure: for the first configuration that fails, with ``near`` saying which
            valid case it comes from and what changed, and ``missing_check`` True when the
            checks accept what the kernel refuses or what has no whole size.
    """
    __tracebackhide__ = True
    failure = _near_failure(case, seed)
    if failure is not None:
        raise failure


def _problems(case: Case, seed: int) -> list[str]:
    """Every problem of the contract on ``case``, in words (empty when it holds)."""
    from ..analysis.verify import run_layers

    try:
        spec = parse_spec(case.spec_text(), "<case>")
    except SpecError as exc:
        return [
            f"the configuration is not a valid spec entry: {plain(exc)} (examples() built "
            f"{case.entry!r}; a Case entry is the layer as a spec writes it, {{kind: {{arguments}}}})"
        ]
    values = case.symbols()
    try:
        concrete = analyze(spec)
    except RuleError as exc:
        return [plain(exc)]
    except SizeError as exc:
        built = f"; the configuration was built for {_shape(case.expected)}" if case.expected else ""
        return [f"{plain(exc)}{built}"]
    except CnncalcError as exc:
        return [
            f"the rules refuse a configuration built to be valid: {plain(exc)} (either "
            "a check is too strict, or examples() built a configuration the layer must refuse)"
        ]
    problems: list[str] = []
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
        said = plain(exc) if isinstance(exc, CnncalcError) else f"{type(exc).__name__}: {exc}"
        problems.append(f"the rules fail when the sizes are symbols ({', '.join(values)}): {said}{hint}")
    formulas: dict[str, LayerResult] = {}
    if symbolic is not None:
        problems.extend(_symbolic_problems(symbolic, concrete, values, formulas))
    last = concrete.layers[-1]
    result = run_layers(concrete, seed=seed)
    if case.expected is not None and tuple(last.output_shape) != tuple(case.expected):
        run = result[-1]
        hint = (
            "; the rules and the kernel agree on it: did examples() build the expected shape wrong?"
            if run.observed_shape == run.predicted_shape and run.error is None
            else ""
        )
        problems.append(
            f"{last.name}: output shape: predicted {_shape(last.output_shape)}, the configuration was "
            f"built for {_shape(case.expected)}{_formula(formulas.get(last.name), 'output_shape')}{hint}"
        )
    for check, c in zip(result, concrete.layers, strict=True):
        if check.not_verified is not None:
            if c.layer.cost_known:
                problems.append(f"{check.name} ({check.kind}): not verified, yet its cost is known")
            continue
        if not c.layer.cost_known:
            problems.append(f"{check.name} ({check.kind}): an opaque layer was run as if it had a kernel")
            continue
        name = f"{check.name} ({check.kind})"
        if not check.ok:
            problems.extend(f"{name}: {p}" for p in _run_problems(check, formulas.get(check.name)))
            continue
        found = [
            f"{p}{_formula(formulas.get(c.name), 'flops')}" for p in flops_problems(c, check.counted_macs)
        ]
        if problems or found:  # the probes below run the kernel many times: a failure is enough
            problems.extend(f"{name}: {p}" for p in found)
            continue
        found = [] if c.shares else unused_weights(c, seed)
        windows = window_problems(c, seed)
        if type(c.layer).windows is Layer.windows:
            for p in windows:  # a new rule: a warning first, naming the fix
                warnings.warn(
                    ContractWarning(f"{name}: {p}; this will fail the contract in a later release"),
                    stacklevel=3,
                )
        else:
            found.extend(windows)
        problems.extend(f"{name}: {p}" for p in found)
    return problems


def _symbolic_problems(
    symbolic: Analysis, concrete: Analysis, values: dict[str, int], formulas: dict[str, LayerResult]
) -> list[str]:
    problems = []
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
                    f"{_number(sv)} at {at}, the rule on integers {_number(cv)}"
                )
    return problems


def _run_problems(check: Any, formula: LayerResult | None) -> list[str]:
    problems = []
    if check.error:
        problems.append(check.error)
    if check.observed_shape is not None and check.observed_shape != check.predicted_shape:
        problems.append(
            f"output shape: predicted {_shape(check.predicted_shape)}, the kernel's own "
            f"arithmetic gives {_shape(check.observed_shape)}{_formula(formula, 'output_shape')}"
        )
    if check.counted_macs is not None and check.counted_macs != check.predicted_macs:
        problems.append(
            f"MACs: predicted {check.predicted_macs:,}, counted by the kernel "
            f"{check.counted_macs:,}{_formula(formula, 'macs')}"
        )
    if check.allocated_params is not None and check.allocated_params != check.predicted_params:
        problems.append(
            f"params: predicted {check.predicted_params:,}, the kernel accepted weights of "
            f"{check.allocated_params:,}{_formula(formula, 'params')}"
        )
    return problems


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


def _number(v: Any) -> str:
    """A count as every message writes it: ``1,474,560`` (a formula or a fraction as it is)."""
    return (
        f"{v:,}"
        if isinstance(v, int) and not isinstance(v, bool)
        else dims.fmt(v)
        if v is not None
        else "None"
    )


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
        cnncalc.errors.LayerDefinitionError: when ``examples()`` does not return a strategy
            (or the kind has none).
    """
    from hypothesis.strategies import SearchStrategy

    from ..layers import get

    cls = get(kind) if isinstance(kind, str) else kind
    try:
        strategy = cls.examples()
    except NotImplementedError as exc:
        raise LayerDefinitionError(f"{cls.__module__}.{cls.__qualname__}: {exc}") from None
    if not isinstance(strategy, SearchStrategy):
        where = f"{cls.__module__}.{cls.__qualname__}.examples()"
        if callable(strategy):
            name = getattr(strategy, "__name__", "build")
            raise LayerDefinitionError(
                f"{where} returned the function {name} itself, not a hypothesis strategy of "
                f"cnncalc.testing.Case: call it (return {name}(), not {name})"
            )
        raise LayerDefinitionError(
            f"{where} returned {type(strategy).__name__} {strategy!r:.60}, not a hypothesis "
            "strategy of cnncalc.testing.Case"
        )
    return strategy.map(lambda case: _a_case(cls, case))


def _a_case(cls: type, case: Any) -> Case:
    if not isinstance(case, Case):
        raise LayerDefinitionError(
            f"{cls.__module__}.{cls.__qualname__}.examples() drew {type(case).__name__} {case!r:.60}, "
            "not a cnncalc.testing.Case(entry, input_shape, expected)"
        )
    return case


def contract_test(
    kind: str | type[Layer],
    *,
    plugin: str | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    nearby: bool = True,
) -> Callable[[], None]:
    """A test function checking the contract of ``kind`` on its drawn configurations and on
    the configurations near them.

    Assign it to a name starting with ``test_`` in a test module and pytest runs it::

        test_space_to_depth = contract_test("space_to_depth", plugin="my_layers")

    Args:
        kind: the tag or the layer class.
        plugin: a module to load first, the one registering ``kind`` (or an installed
            entry point of the ``cnncalc.layers`` group, or a file path), as ``--plugin``
            loads it.
        max_examples: how many configurations to try (default: the hypothesis profile's).
        seed: seed of the random tensors of each run.
        nearby: also check the configurations one slip from each (:func:`check_nearby`).

    Raises:
        cnncalc.errors.PluginError: when the plugin cannot be loaded.
    """
    from hypothesis import Phase, given, settings

    if plugin is not None:
        from ..layers._plugins import load_plugin

        load_plugin(plugin)
    options: dict[str, Any] = {
        "deadline": None,  # the first example compiles the kernels
        # The explain phase varies the shrunk case once more to comment on it: on a failure, it
        # would take longer than the search (each case runs the rules symbolically).
        "phases": tuple(p for p in settings().phases if p is not Phase.explain),
    }
    if max_examples is not None:
        options["max_examples"] = max_examples
    near = nearby

    @settings(**options)
    @given(case=cases(kind))
    def test(case: Case) -> None:
        __tracebackhide__ = True
        failure = _failure(case, seed, nearby=near)
        if failure is not None:
            raise failure

    name = kind if isinstance(kind, str) else kind.kind
    test.__name__ = test.__qualname__ = f"test_{name}_contract"
    return test


def __getattr__(name: str) -> Any:
    if name == "Window":  # renamed: the rule's window is cnncalc.layers.Window
        import warnings

        warnings.warn(
            "cnncalc.testing.Window is now cnncalc.testing.WindowGeometry (what windows() draws for "
            "examples()); a layer's windows() rule returns cnncalc.layers.Window",
            DeprecationWarning,
            stacklevel=2,
        )
        return WindowGeometry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
