"""Expanding a spec into a graph of layer applications.

:func:`build` takes a loaded :class:`~cnncalc.spec.Spec` and the symbol values in force and
returns the network as a flat list of :class:`Node` in execution order: blocks are expanded with
their arguments evaluated, repeats unrolled, residuals and branches turned into merge nodes, and
every node named after its place in the nesting (``layer3.2.conv1``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ExpressionError, SpecError
from ..lang.expr import INPUT_AXES, Expr, evaluate
from ..lang.model import INDEX, INPUT, MAX_NESTING, Entry, Spec
from ..lang.source import Path_
from ..layers import REGISTRY, Layer, Shape
from . import dims

#: Most layers a spec may expand to (repeat counts are user input; a 1,000-block ResNet has
#: about 7,000).
MAX_NODES = 20_000
#: Most expansion steps (entries visited, each repetition counted, including entries that
#: expand to nothing), so that nested repeats of empty blocks cannot run for ever.
MAX_EXPANSION_STEPS = 200_000


@dataclass(frozen=True)
class Node:
    """One application of a layer: its name, inputs and the scope its arguments read."""

    name: str
    layer: Layer
    inputs: tuple[str, ...]
    scope: dict[str, Any]
    path: Path_
    frozen: bool = False
    share: str | None = None  # the node whose weights this one uses

    @property
    def kind(self) -> str:
        return self.layer.kind


@dataclass(frozen=True)
class Graph:
    """A spec expanded for given symbol values."""

    spec: Spec
    scope: dict[str, Any]  # symbol name -> int, Fraction or sympy Symbol
    input_shape: tuple
    nodes: tuple[Node, ...]
    warnings: tuple[tuple[Path_, str], ...] = ()  # (where, what): valid but suspicious


@dataclass
class _Namespace:
    prefix: str
    input: str
    parent: _Namespace | None = None
    local: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)


def build(
    spec: Spec,
    scope: dict[str, Any],
    start: Callable[[Shape], None],
    apply: Callable[[Node], Shape],
) -> Graph:
    """Expand ``spec`` with symbol values ``scope`` into a :class:`Graph`.

    Expressions may read the shape of the tensor a block (or the network) takes
    (``input.C``), so shapes are computed while expanding: ``start`` receives the input shape
    first, and ``apply`` each node as it is added, returning its output shape.

    Raises:
        SpecError: for a repeat count that is not a known positive integer, a bad block
            argument value, an unknown reference or a duplicate name, with its location.
    """
    return _Builder(spec, scope, start, apply).graph()


def input_dims(shape: Shape) -> dict[str, Any]:
    """The names ``input.N`` ... ``input.W`` for a tensor of ``shape`` (as many as it has)."""
    return {f"{INPUT}.{axis}": shape[k] for axis, k in INPUT_AXES.items() if k < len(shape)}


class _Builder:
    def __init__(
        self,
        spec: Spec,
        scope: dict[str, Any],
        start: Callable[[Shape], None],
        apply: Callable[[Node], Shape],
    ):
        self.spec = spec
        self.scope = scope
        self.start = start
        self.apply = apply
        self.shapes: dict[str, Shape] = {}
        self.warnings: dict[Path_, str] = {}
        # Blocks being expanded, with the kinds passed to them: blocks passed as kind arguments
        # can nest, and must not recur.
        self.stack: list[tuple[str, tuple]] = []
        self.nodes: list[Node] = []
        self.paths: dict[str, Path_] = {}  # qualified name -> where it was declared
        self.outputs: dict[str, str] = {}  # qualified name of a node or block -> its output node
        self.by_name: dict[str, Node] = {}
        self.steps = 0
        self.source = spec.source

    def graph(self) -> Graph:
        input_shape = tuple(self._input_dim(e, i) for i, e in enumerate(self.spec.input))
        self.start(input_shape)
        self.shapes[INPUT] = input_shape
        ns = _Namespace(prefix="", input=INPUT)
        scope = {**self.scope, **input_dims(input_shape)}
        self._entries(self.spec.layers, ns, scope, INPUT, frozen=False)
        nodes = self.nodes
        if self.spec.freeze_until is not None:
            nodes = self._freeze_until(nodes, self.spec.freeze_until)
        return Graph(self.spec, self.scope, input_shape, tuple(nodes), tuple(self.warnings.items()))

    def _input_dim(self, e: Expr, i: int) -> dims.Dim:
        path = ("input", i)
        value = self._eval(e, self.scope, path)
        if dims.is_integer_valued(value) is not True:
            shown = e.text if e.text == dims.fmt(value) else f"{e.text} = {dims.fmt(value)}"
            raise self.source.error(path, f"input dimension {shown} is not an integer")
        if dims.is_concrete(value) and value < 1:
            raise self.source.error(path, f"input dimension {e.text} = {value} must be at least 1")
        return value

    def _eval(self, e: Expr, scope: dict, path: Path_) -> Any:
        try:
            return evaluate(e, scope)
        except ExpressionError as exc:
            raise self.source.error(path, exc) from None

    # -- expansion ---------------------------------------------------------------------------

    def _entries(self, entries, ns: _Namespace, scope: dict, current: str, frozen: bool) -> str:
        for entry in entries:
            current = self._entry(entry, ns, scope, current, frozen)
        return current

    def _step(self, entry: Entry) -> None:
        self.steps += 1
        if self.steps > MAX_EXPANSION_STEPS:
            raise self.source.error(
                entry.path,
                f"expanding the network takes more than {MAX_EXPANSION_STEPS:,} steps (the limit "
                f"of expansion steps: entries visited, every repetition counted, even those that "
                f"expand to nothing); reduce the repeat counts",
            )

    def _entry(self, entry: Entry, ns: _Namespace, scope: dict, current: str, frozen: bool) -> str:
        self._step(entry)
        if entry.kind_arg:
            entry = self._variant(entry, scope)
        per_repetition = entry.when is not None and INDEX in entry.when.names
        if entry.when is not None and not per_repetition and not self._when(entry, scope):
            return current
        times = self._repeat(entry, scope)
        frozen = frozen or entry.freeze
        for i in range(times):
            self._step(entry)
            here = scope if entry.repeat is None else {**scope, INDEX: i}
            if per_repetition and not self._when(entry, here):
                continue
            start = (
                self._resolve(entry.source_ref, ns, entry.path, "from")
                if (entry.source_ref and i == 0)
                else current
            )
            if entry.kind in self.spec.blocks:
                current = self._invoke(entry, i, times, ns, here, start, frozen)
            elif entry.kind == "residual":
                current = self._merge(entry, i, times, ns, here, start, frozen, REGISTRY["add"])
            elif entry.branches:
                current = self._merge(entry, i, times, ns, here, start, frozen, REGISTRY[entry.kind])
            else:
                inputs = tuple(self._resolve(r, ns, entry.path, "inputs") for r in entry.inputs) or (start,)
                if entry.inputs and len(entry.inputs) < entry.layer.min_inputs:
                    # `add: {inputs: [input]}`: the current tensor and the one named
                    inputs = (start, *inputs)
                current = self._leaf(entry, entry.layer, i, times, ns, here, inputs, frozen)
        return current

    def _variant(self, entry: Entry, scope: dict) -> Entry:
        """The entry whose kind is the block argument ``entry.kind``, as the kind passed."""
        kind = scope[entry.kind]
        return self.spec.variants[(entry.path, kind)]

    def _when(self, entry: Entry, scope: dict) -> bool:
        path = (*entry.path, "when")
        value = self._eval(entry.when, scope, path)
        if not isinstance(value, int):
            if dims.is_concrete(value):
                raise self.source.error(path, f"when = {entry.when.text} is not an integer; {_WHEN_DECIDES}")
            names = _open_names(value)
            raise self.source.error(
                path,
                SpecError(
                    f"when = {entry.when.text} depends on {names}, which {_has(names)} no value; "
                    + _WHEN_DECIDES,
                    hint="give it one{how}",
                ),
            )
        return value != 0

    def _repeat(self, entry: Entry, scope: dict) -> int:
        if entry.repeat is None:
            return 1
        path = (*entry.path, "repeat")
        value = self._eval(entry.repeat, scope, path)
        if not isinstance(value, int):
            if dims.is_concrete(value):
                raise self.source.error(
                    path, f"repeat = {entry.repeat.text} = {dims.fmt(value)} is not an integer"
                )
            names = _open_names(value)
            raise self.source.error(
                path,
                SpecError(
                    f"repeat = {entry.repeat.text} must be a known number, but {names} "
                    f"{_has(names)} no value",
                    hint="give it one{how}",
                ),
            )
        if value < 0:
            shown = entry.repeat.text if entry.repeat.text == str(value) else f"{entry.repeat.text} = {value}"
            raise self.source.error(path, f"repeat = {shown} must not be negative")
        if value == 0:
            shown = "0" if entry.repeat.text == "0" else f"{entry.repeat.text} = 0"
            self.warnings[path] = f"repeat = {shown} removes the entry (use when: 0 to switch it off)"
        if value > MAX_NODES:
            raise self.source.error(
                path, f"repeat = {value} is too large (at most {MAX_NODES} layers in all)"
            )
        return value

    def _name(self, entry: Entry, prefix: str, i: int, scope: dict, ns: _Namespace) -> str:
        """Local name of repetition ``i``: ``name``, ``name.i``, a template's value
        (``denselayer{i + 1}``) or a generated ``conv3``.

        Generated names count every layer of the kind in the block instance, named or not, so
        the second convolution is ``conv2`` even when the first is called ``stem``.
        """
        n = ns.counters.get(prefix, 0)
        if entry.template:
            if i == 0:
                ns.counters[prefix] = n + 1
            return self._template(entry, scope)
        if entry.name:
            if i == 0:
                ns.counters[prefix] = n + 1
            return entry.name if entry.repeat is None else f"{entry.name}.{i}"
        while True:
            n += 1
            # relu6 numbers its layers relu6_1, relu6_2: a digit after a digit would misread
            candidate = f"{prefix}_{n}" if prefix[-1:].isdigit() else f"{prefix}{n}"
            if ns.prefix + candidate not in self.paths and candidate not in ns.local:
                break
        ns.counters[prefix] = n
        return candidate

    def _template(self, entry: Entry, scope: dict) -> str:
        path = (*entry.path, "name")
        out = []
        for part in entry.template:
            if isinstance(part, str):
                out.append(part)
                continue
            value = self._eval(part, scope, path)
            if not isinstance(value, int):
                raise self.source.error(
                    path,
                    f"{{{part.text}}} in the name {entry.name!r} is {dims.fmt(value)}, not a known integer",
                )
            out.append(str(value))
        name = "".join(out)
        if not name or name == INPUT or not (name[0].isalnum() or name[0] == "_"):
            raise self.source.error(path, f"the name {entry.name!r} gives {name!r}, which cannot be a name")
        return name

    def _declare(self, local: str, ns: _Namespace, path: Path_, output: str | None) -> str:
        qualified = ns.prefix + local
        if qualified in self.paths or qualified == INPUT:
            first = self.source.where(self.paths.get(qualified, ()))
            raise self.source.error(path, f"the name {qualified!r} is already used (at {first})")
        self.paths[qualified] = path
        if output is not None:
            self.outputs[qualified] = output
            ns.local[local] = output
        return qualified

    def _leaf(
        self,
        entry: Entry,
        layer: Layer,
        i: int,
        times: int,
        ns: _Namespace,
        scope: dict,
        inputs: tuple[str, ...],
        frozen: bool,
    ) -> str:
        if len(self.nodes) >= MAX_NODES:
            raise self.source.error(entry.path, f"the network expands to more than {MAX_NODES} layers")
        local = self._name(entry, type(layer).prefix, i, scope, ns)
        qualified = ns.prefix + local
        self._declare(local, ns, entry.path, qualified)
        share = None
        if entry.share:
            share = self._resolve(entry.share, ns, entry.path, "share")
            owners = self.by_name
            if share not in owners:
                raise self.source.error(
                    (*entry.path, "share"),
                    f"share names the layer whose weights to use; {entry.share!r} is "
                    + ("the input" if share == ns.input and share not in owners else "this layer"),
                )
            owner = owners[share]
            while owner.share:
                owner = owners[owner.share]
            if owner.kind != layer.kind:
                raise self.source.error(
                    (*entry.path, "share"),
                    f"cannot share the weights of {share!r}, a {owner.kind}, with a {layer.kind}",
                )
            share = owner.name
        node = Node(qualified, layer, inputs, scope, entry.path, frozen, share)
        self.shapes[qualified] = self.apply(node)
        self.nodes.append(node)
        self.by_name[qualified] = node
        return qualified

    def _merge(
        self,
        entry: Entry,
        i: int,
        times: int,
        ns: _Namespace,
        scope: dict,
        start: str,
        frozen: bool,
        cls: type[Layer],
    ) -> str:
        outs = tuple(self._entries(branch, ns, scope, start, frozen) for branch in entry.branches)
        layer = entry.layer if entry.layer is not None else cls()
        return self._leaf(entry, layer, i, times, ns, scope, outs, frozen)

    def _invoke(
        self, entry: Entry, i: int, times: int, ns: _Namespace, scope: dict, start: str, frozen: bool
    ) -> str:
        block = self.spec.blocks[entry.first_block if (i == 0 and entry.first_block) else entry.kind]
        local = self._name(entry, entry.kind, i, scope, ns)
        qualified = self._declare(local, ns, entry.path, None)
        args = dict(entry.block_args)
        if i == 0 and entry.first:
            args.update(entry.first)
        inner_scope = {**self.scope, **input_dims(self.shapes[start])}
        for name, value in args.items():
            where = (
                (*entry.path, "first", name)
                if (i == 0 and entry.first and name in entry.first)
                else (*entry.path, name)
            )
            inner_scope[name] = self._arg(value, scope, where)
        for name, default in block.args.items():
            if name not in args:
                inner_scope[name] = self._arg(default, inner_scope, (*block.path, "args", name))
        inner = _Namespace(prefix=qualified + ".", input=start, parent=ns)
        key = (block.name, tuple(sorted((k, inner_scope[k]) for k in block.kinds)))
        if block.kinds and key in self.stack:
            chain = " -> ".join([b for b, _ in self.stack[self.stack.index(key) :]] + [block.name])
            raise self.source.error(entry.path, f"blocks use each other in a cycle: {chain}")
        if len(self.stack) >= MAX_NESTING:
            raise self.source.error(
                entry.path,
                f"blocks nest more than {MAX_NESTING} levels deep (the limit of nesting depth)",
            )
        self.stack.append(key)
        out = self._entries(block.layers, inner, inner_scope, start, frozen)
        self.stack.pop()
        self.outputs[qualified] = out
        ns.local[local] = out
        return out

    def _arg(self, value: Any, scope: dict, path: Path_) -> Any:
        """A block argument's value: a number or formula, a pair of them, or a layer kind (a
        kind argument passed on from the enclosing block is looked up)."""
        if isinstance(value, str):
            return scope.get(value, value) if isinstance(scope.get(value), str) else value
        if isinstance(value, tuple):
            return tuple(self._eval(e, scope, (*path, k)) for k, e in enumerate(value))
        try:
            return evaluate(value, scope, pairs=True)
        except ExpressionError as exc:
            raise self.source.error(path, exc) from None

    def _resolve(self, ref: str, ns: _Namespace, path: Path_, key: str) -> str:
        if ref == INPUT:
            return ns.input
        scope: _Namespace | None = ns
        while scope is not None:
            if ref in scope.local:
                return scope.local[ref]
            scope = scope.parent
        if ref in self.outputs:
            return self.outputs[ref]
        import difflib

        known = sorted(set(self.outputs) | {INPUT})
        close = difflib.get_close_matches(ref, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        shown = ", ".join(known[-8:])
        raise self.source.error(
            (*path, key),
            f"no earlier layer is named {ref!r}{hint}; a reference must name a "
            f"layer defined above it (the latest: {shown})",
        )

    def _freeze_until(self, nodes: list[Node], target: str) -> list[Node]:
        last = None
        for k, n in enumerate(nodes):
            if n.name == target or n.name.startswith(target + "."):
                last = k
        if last is None:
            raise self.source.error(("freeze_until",), f"no layer or block is named {target!r}")
        from dataclasses import replace

        return [replace(n, frozen=True) if k <= last else n for k, n in enumerate(nodes)]


#: Why a ``when`` must be known.
_WHEN_DECIDES = "it decides whether the layer exists (0: no)"


def _open_names(value) -> str:
    """The open symbols of a value, in a sentence: ``H``, ``H and W``, ``C, H and W``."""
    names = sorted(str(s) for s in dims.free_symbols(value))
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _has(names: str) -> str:
    return "have" if " and " in names else "has"
