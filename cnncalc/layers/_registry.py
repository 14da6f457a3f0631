"""The registry of layer kinds: :func:`register` checks a class against the contract and files it
under the tag spec files use; :func:`get` finds it again.

cnncalc's own kinds are known by name before their modules are imported: :class:`Registry`
imports a kind's module the first time the kind itself is asked for, so that a spec pays only
for the kinds it uses (each kind is a pydantic model, and creating its class is a noticeable
part of a short run's start-up).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator, MutableMapping
from typing import TypeVar

from ..errors import LayerDefinitionError, UnknownLayerError, unknown_message
from ._base import Layer
from ._guard import guard

L = TypeVar("L", bound=Layer)


class Registry(MutableMapping[str, type[Layer]]):
    """The layer classes by kind: a mapping whose keys are every kind known, whose values are
    imported on first use.

    ``kind in REGISTRY``, ``len`` and iteration over the kinds import nothing; ``REGISTRY[kind]``
    (and ``get``, ``values``, ``items``) imports the module of a built-in kind the first time
    it is asked for, and the module registers its classes with :func:`register` as it runs.
    The kinds are listed in a fixed order, whichever were used: the built-in ones in the order
    of their table, then the others in the order they were registered.
    """

    def __init__(self, package: str) -> None:
        self._package = package
        #: kind -> the module of ``package`` that defines it (kept once it is imported).
        self._modules: dict[str, str] = {}
        self._classes: dict[str, type[Layer]] = {}
        self._order: dict[str, None] = {}

    def expect(self, module: str, kinds: tuple[str, ...]) -> None:
        """Note that the module ``module`` of the package defines ``kinds`` (imported when one of
        them is first asked for)."""
        for kind in kinds:
            self._modules[kind] = module
            self._order[kind] = None

    def module_of(self, kind: str) -> str | None:
        """The module (of the package) expected to define ``kind``, while it is not imported."""
        return self._modules.get(kind)

    def loaded(self, kind: str) -> type[Layer] | None:
        """The class registered under ``kind``, without importing anything."""
        return self._classes.get(kind)

    def __getitem__(self, kind: str) -> type[Layer]:
        try:
            return self._classes[kind]
        except KeyError:
            module = self._modules.get(kind)
            if module is None:
                raise
        importlib.import_module(f"{self._package}.{module}")
        try:
            return self._classes[kind]
        except KeyError:
            raise LayerDefinitionError(
                f"{self._package}.{module} does not register the layer kind {kind!r}, which the "
                f"table KIND_MODULES of {self._package} says it defines; correct the table"
            ) from None

    def __setitem__(self, kind: str, cls: type[Layer]) -> None:
        self._classes[kind] = cls
        self._order[kind] = None

    def __delitem__(self, kind: str) -> None:
        if kind not in self._order:
            raise KeyError(kind)
        self._classes.pop(kind, None)
        self._modules.pop(kind, None)
        del self._order[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._order

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"<layer registry: {', '.join(self._order)}>"


REGISTRY = Registry(__package__)

_TAG = re.compile(r"^[a-z][a-z0-9_]*$")
#: Keys a spec entry uses for itself (``spec.META_KEYS``, and a merge layer's ``inputs`` and
#: ``branches``): a layer argument of one of these names could never be given.
RESERVED_ARGUMENTS = (
    "name",
    "freeze",
    "from",
    "repeat",
    "for",
    "first",
    "share",
    "when",
    "inputs",
    "branches",
)
#: Names a spec gives other meanings than a layer kind.
RESERVED_KINDS = ("residual", "input")
#: The rules every layer kind must define itself (the others have documented defaults).
REQUIRED_RULES = ("output_shape", "flops", "forward")


def register(cls: type[L]) -> type[L]:
    """Class decorator adding a layer kind to the registry, checked eagerly.

    The class must be a :class:`Layer` with a snake_case ``kind`` not taken by another class,
    a docstring stating its ``MACs:`` and ``FLOPs:`` formulas, its own ``output_shape``,
    ``flops`` and ``forward``, and rules whose signatures the engine can call (``macs(*xs, out=y)``,
    ``forward(xs, weights, out)``...). The contract is written down in ``docs/custom-layers.md``.

    Registering again a class of the same module and name (a module imported twice) replaces
    the earlier one.

    Raises:
        LayerDefinitionError: naming the class and the rule it breaks (also a ``TypeError``).
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise LayerDefinitionError(f"@register expects a subclass of cnncalc.layers.Layer, got {cls!r}")
    name = f"{cls.__module__}.{cls.__qualname__}"
    # The signatures of cnncalc's own kinds are checked by its tests, not at every start.
    builtin = cls.__module__.startswith(__package__ + ".")
    for problem in _contract_problems(cls, signatures=not builtin):
        raise LayerDefinitionError(f"layer class {name}: {problem}")
    kind = cls.kind
    taken = REGISTRY.loaded(kind)
    if taken is None and REGISTRY.module_of(kind) not in (None, _short(cls.__module__)):
        taken = REGISTRY[kind]  # a kind of cnncalc's of the same tag, imported to be told apart
    if taken is not None and taken is not cls and not _same_class(taken, cls):
        raise LayerDefinitionError(
            f"layer class {name}: kind {kind!r} is already registered by "
            f"{taken.__module__}.{taken.__qualname__}; choose another tag"
        )
    if not cls.__dict__.get("prefix"):
        cls.prefix = kind  # not inherited: a subclass is another kind
    if not builtin:
        guard(cls)
    REGISTRY[kind] = cls
    return cls


def _short(module: str) -> str:
    """A module's name within this package (``conv2d`` for ``cnncalc.layers.conv2d``)."""
    return module.removeprefix(__package__ + ".")


def _same_class(a: type, b: type) -> bool:
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def _contract_problems(cls: type[Layer], *, signatures: bool = True):
    """The rules of the contract ``cls`` breaks, as a generator of messages (the first is
    reported); ``signatures`` also checks that the engine can call each rule."""
    kind = cls.kind
    if not isinstance(kind, str) or not _TAG.match(kind):
        yield (
            f"kind = {kind!r} must be a snake_case tag (lower-case letters, digits and '_', "
            "starting with a letter): the name spec files use"
        )
        return
    if kind in RESERVED_KINDS:
        yield f"kind = {kind!r} is reserved by the spec format; choose another tag"
    for name, meant in _misspelt(cls) if signatures else ():
        yield (
            f"{name}{'()' if callable(cls.__dict__[name]) else ''} is not part of the layer contract, "
            f"and is never used (did you mean {meant}{'()' if meant in CONTRACT_RULES else ''}?); "
            "a helper of your own is named with a leading underscore"
        )
    doc = cls.__dict__.get("__doc__") or ""
    missing = [word for word in ("MACs", "FLOPs") if word not in doc]
    if missing:
        what = f"its docstring does not mention {' or '.join(missing)}" if doc.strip() else "has no docstring"
        yield (
            f"must state its MACs and FLOPs formulas in its docstring ({what}); write e.g. "
            "'MACs: N*out*H*W*C. FLOPs: 2*MACs.' (a layer without products says 'MACs: 0.')"
        )
    for rule in REQUIRED_RULES:
        if getattr(cls, rule) is getattr(Layer, rule):
            yield f"must implement {rule}() ({_RULE_HELP[rule]})"
    if cls.arity not in (1, None):
        yield f"arity = {cls.arity!r} must be 1 (one input) or None (two or more, a merge layer)"
    if cls.min_inputs not in (1, 2):
        yield f"min_inputs = {cls.min_inputs!r} must be 1 or 2 (the fewest inputs of a layer of arity None)"
    reserved = [f for f in cls.model_fields if f in RESERVED_ARGUMENTS]
    if reserved:
        yield (
            f"argument {reserved[0]!r} is a key the spec format keeps for itself "
            f"({', '.join(RESERVED_ARGUMENTS)}); rename it"
        )
    if not signatures:
        return
    problem = _unreadable_arguments(cls)
    if problem:
        yield (
            f"its arguments cannot be read ({problem}): annotate arguments with the types of "
            "docs/custom-layers.md (Int, Pair, bool, float, Literal[...], ...)"
        )
        return
    ys = ((), ()) if cls.arity is None else ((),)
    calls = {
        "checks": ((*ys,), {}),
        "output_shape": ((*ys,), {}),
        "weights": ((*ys,), {}),
        "category": ((*ys,), {}),
        "macs": ((*ys,), {"out": ()}),
        "flops": ((*ys,), {"out": ()}),
        "workspace": ((*ys,), {"out": ()}),
        "forward": (([], {}, None), {}),
    }
    for rule, (args, kwargs) in calls.items():
        method = getattr(cls, rule)
        if method is getattr(Layer, rule):
            continue
        if not callable(method):
            yield f"{rule} must be a method, found {type(method).__name__}"
            continue
        try:
            inspect.signature(method).bind(None, *args, **kwargs)
        except TypeError as exc:
            shown = "(xs, weights, out)" if rule == "forward" else _CALL_TEXT[(rule in _OUT_RULES, cls.arity)]
            yield f"{rule}{_signature(method)} cannot be called as {rule}{shown}: {exc}"
        except ValueError:  # no signature (a builtin): nothing to check
            pass
    if not isinstance(inspect.getattr_static(cls, "examples"), classmethod):
        yield "examples() must be a @classmethod returning a hypothesis strategy of cnncalc.testing.Case"


#: The names the engine, verify and the toolkit call or read on a layer class.
CONTRACT_RULES = (
    "checks",
    "output_shape",
    "weights",
    "macs",
    "flops",
    "forward",
    "examples",
    "windows",
    "workspace",
    "category",
    "lints",
    "axis_order",
    "to_onnx",
)
CONTRACT_ATTRIBUTES = ("kind", "prefix", "arity", "min_inputs", "cost_known", "min_output_size")


def _misspelt(cls: type[Layer]):
    """(name, the contract name it is one slip away from) for each public name ``cls`` defines
    that is not in the contract: a misspelt rule would never be called."""
    fields = set(cls.model_fields)
    for name in cls.__dict__:
        if name.startswith("_") or name.startswith("model_") or name in fields or hasattr(Layer, name):
            continue
        names = (
            CONTRACT_RULES
            if callable(cls.__dict__[name])
            or isinstance(cls.__dict__[name], (classmethod, staticmethod, property))
            else CONTRACT_ATTRIBUTES
        )
        near = [c for c in names if _near(name, c)]
        if near:
            yield name, near[0]


def _near(name: str, target: str) -> bool:
    """Whether ``name`` is one slip from ``target``: the same but for case and underscores, or
    one edit away (two for names of 8 letters or more): a letter added, dropped, swapped with
    its neighbour, or (beyond 5 letters) replaced; ``maps`` is not taken for ``macs``."""
    a, b = name.lower().replace("_", ""), target.replace("_", "")
    if a == b:
        return True
    short = len(target) <= 5
    return _distance(name.lower(), target, 2 if short else 1) <= (1 if len(target) < 8 else 2)


def _distance(a: str, b: str, sub: int = 1) -> int:
    """Optimal string alignment distance (Levenshtein with adjacent transpositions), a
    substitution costing ``sub``."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else sub
            best = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, prev2[j - 2] + 1)
            row.append(best)
        prev2, prev = prev, row
    return prev[-1]


def _unreadable_arguments(cls: type[Layer]) -> str | None:
    """Why pydantic cannot build the model of ``cls``'s arguments (None when it can)."""
    from pydantic import PydanticSchemaGenerationError, PydanticUndefinedAnnotation, PydanticUserError

    try:
        cls.model_rebuild(force=True)
    except (PydanticUndefinedAnnotation, PydanticSchemaGenerationError, PydanticUserError) as exc:
        return str(exc).splitlines()[0]
    except (NameError, TypeError, SyntaxError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


_OUT_RULES = ("macs", "flops", "workspace")
_CALL_TEXT = {
    (False, 1): "(x)",
    (False, None): "(*xs)",
    (True, 1): "(x, *, out)",
    (True, None): "(*xs, out)",
}
_RULE_HELP = {
    "output_shape": "the output shape of the input shapes",
    "flops": "the FLOPs formula; return 0 for a pure copy, and say so in the docstring",
    "forward": "the reference kernel: write into out, return the MACs it counted",
}


def _signature(method) -> str:
    try:
        return str(inspect.signature(method))
    except (TypeError, ValueError):
        return "(...)"


def all_kinds() -> dict[str, type[Layer]]:
    """Every layer kind registered, cnncalc's own imported: what lists or documents every kind
    (the JSON Schema, the contract tests) asks for them this way, not one by one."""
    return dict(REGISTRY.items())


def get(kind: str) -> type[Layer]:
    """The layer class registered under ``kind`` (its module imported if it is one of
    cnncalc's own and not yet imported).

    Raises:
        UnknownLayerError: naming the closest known kinds.
    """
    try:
        return REGISTRY[kind]
    except KeyError:
        raise UnknownLayerError(unknown_message("layer kind", kind, REGISTRY)) from None
