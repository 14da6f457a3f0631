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
from ..lang.expr import INPUT_AXES, Expr, Tensor, evaluate
from ..lang.model import COUNT, HERE, INDEX, INPUT, MAX_NESTING, NETWORK, ROW, Entry, Ref, Spec
from ..lang.refnames import split_reference
from ..lang.source import FileKey, Path_
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


def input_dims(shape: Shape, name: str = INPUT) -> dict[str, Any]:
    """The names ``input.N`` ... ``input.W`` for a tensor of ``shape`` (as many as it has)."""
    return {f"{name}.{axis}": shape[k] for axis, k in INPUT_AXES.items() if k < len(shape)}


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
        self._seq = 0
        self.source = spec.source

    def graph(self) -> Graph:
        from ..lang.symbols import list_value

        self.modules = {"": {**self.scope}}
        for name, (path, value) in self.spec.lists.items():
            self.modules[""][name] = list_value(value, self.modules[""], self.source, path)
        for prefix in sorted(self.spec.modules, key=lambda p: p.count(".")):
            self.modules[prefix] = self._module_scope(prefix)
        input_shape = tuple(self._input_dim(e, i) for i, e in enumerate(self.spec.input))
        self.start(input_shape)
        self.shapes[INPUT] = input_shape
        ns = _Namespace(prefix="", input=INPUT)
        scope = {**self.modules[""], **input_dims(input_shape)}
        self.root = ns
        self._entries(self.spec.layers, ns, scope, INPUT, frozen=False)
        nodes = self.nodes
        if self.spec.freeze_until is not None:
            nodes = self._freeze_until(nodes, self.spec.freeze_until)
        return Graph(self.spec, self.scope, input_shape, tuple(nodes), tuple(self.warnings.items()))

    def _module_scope(self, prefix: str) -> dict[str, Any]:
        """The values of a used spec's symbols: given under ``use:`` (in the using spec's
        scope), else their defaults; then its lists."""
        from ..lang.symbols import derived_value, list_value

        module = self.spec.modules[prefix]
        outer = self.modules[module.parent]
        # lists given under use: are read in the using spec's scope
        given = {n: list_value(v, outer, self.source, p) for n, (p, v) in module.given_lists.items()}
        scope: dict[str, Any] = {}
        for name, sym in module.symbols.items():
            if name in module.given:
                scope[name] = self._eval(module.given[name], outer, (*module.path, "symbols", name))
            elif sym.derived is not None:
                for n, (path, value) in module.lists.items():
                    if n in sym.derived.names and n not in scope:
                        scope[n] = given[n] if n in given else list_value(value, scope, self.source, path)
                scope[name] = derived_value(sym, scope, self.source)
            elif sym.default is not None:
                scope[name] = sym.default
            else:
                raise self.source.error(
                    module.path,
                    f"symbol {name!r} of the used spec has no default; give it a value here "
                    f"(symbols: {{{name}: ...}})",
                )
        for name, (path, value) in module.lists.items():
            scope[name] = given[name] if name in given else list_value(value, scope, self.source, path)
        return scope

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
        frozen = frozen or entry.freeze
        if entry.input_axes and ns is self.root:
            self._lint_input(entry, current)
        rows = self._rows(entry, scope, ns, current)
        count = 0
        for row, row_scope in rows:
            start_scope = self._with_reads(entry, row_scope, ns, current)
            per_repetition = entry.when is not None and (INDEX in entry.when.names or row is not None)
            if entry.when is not None and not per_repetition and not self._when(entry, start_scope):
                return current
            times = self._repeat(entry, start_scope)
            for i in range(times):
                self._step(entry)
                here = row_scope if entry.repeat is None else {**row_scope, INDEX: i}
                if row is not None:
                    here = {**here, COUNT: count, **({} if entry.repeat is not None else {INDEX: row})}
                count += 1
                start = (
                    self._resolve(entry.source_ref, ns, here, entry.path, "from")
                    if (entry.source_ref and count == 1)
                    else current
                )
                here = self._with_reads(entry, here, ns, start)
                if per_repetition and not self._when(entry, here):
                    continue
                self._seq = i if row is None else count - 1  # the index in a generated name
                current = self._apply_entry(entry, i, times, ns, here, start, frozen)
        if entry.name and (entry.repeat is not None or entry.table is not None) and count:
            # `layer3` (repeated as layer3.0 ... layer3.5) names the output of the last
            ns.local.setdefault(entry.name, current)
            self.outputs.setdefault(ns.prefix + entry.name, current)
        return current

    def _apply_entry(
        self, entry: Entry, i: int, times: int, ns: _Namespace, here: dict, start: str, frozen: bool
    ) -> str:
        if entry.kind in self.spec.blocks:
            return self._invoke(entry, i, times, ns, here, start, frozen)
        if entry.kind == "residual":
            return self._merge(entry, i, times, ns, here, start, frozen, REGISTRY["add"])
        if entry.branches:
            return self._merge(entry, i, times, ns, here, start, frozen, REGISTRY[entry.kind])
        inputs = tuple(
            name for r in entry.inputs for name in self._resolve_all(r, ns, here, entry.path, "inputs")
        ) or (start,)
        written = len(entry.inputs) < entry.layer.min_inputs and all(r.var is None for r in entry.inputs)
        if entry.inputs and written:
            # `add: {inputs: [input]}`: the current tensor and the one named
            inputs = (start, *inputs)
        elif entry.inputs and len(inputs) < entry.layer.min_inputs:
            shown = ", ".join(inputs)
            raise self.source.error(
                (*entry.path, "inputs"),
                f"{entry.kind} takes at least {entry.layer.min_inputs} inputs; the list gives "
                f"{len(inputs)} ({shown})",
            )
        return self._leaf(entry, entry.layer, i, times, ns, here, inputs, frozen)

    def _rows(self, entry: Entry, scope: dict, ns: _Namespace, current: str) -> list:
        """(row index, scope) for each row of the entry's table (one, None, without ``for``)."""
        if entry.table is None:
            return [(None, scope)]
        path = (*entry.path, "for")
        table = evaluate_table(entry, self._with_reads(entry, scope, ns, current), self.source, path)
        out = []
        for r, row in enumerate(table):
            if len(entry.fields) == 1:
                values = (row,)
            elif not isinstance(row, tuple) or len(row) != len(entry.fields):
                found = (
                    f"{len(row)} value{'s' * (len(row) != 1)}"
                    if isinstance(row, tuple)
                    else f"the value {dims.fmt(row)}"
                )
                raise self.source.error(
                    path,
                    f"row {r} of {entry.table.text} has {found}; for: binds {len(entry.fields)} "
                    f"({', '.join(entry.fields)})",
                )
            else:
                values = row
            out.append((r, {**scope, ROW: r, **dict(zip(entry.fields, values, strict=True))}))
            self._step(entry)
        return out

    def _with_reads(self, entry: Entry, scope: dict, ns: _Namespace, start: str) -> dict:
        """``scope`` with the tensors' dimensions the entry reads (``here.C``, ``layer1.H``)."""
        if not entry.reads:
            return scope
        out = dict(scope)
        for name in entry.reads:
            base, axis = split_reference(name)
            if base == HERE:
                node = start
            elif base == NETWORK:
                node = INPUT
            else:
                node = self._resolve(Ref(base, (base,)), ns, scope, entry.path, "", what=name)
            shape = self.shapes[node]
            k = INPUT_AXES[axis]
            if k >= len(shape):
                raise self.source.error(
                    entry.path,
                    f"{name}: the tensor {'arriving here' if base == HERE else repr(base)} has "
                    f"{len(shape)} dimensions {dims.fmt_shape(shape)}, so no {axis}",
                )
            out[name] = shape[k]
        return out

    def _lint_input(self, entry: Entry, current: str) -> None:
        """At top level, ``input.C`` is the network's input: say so where a layer before the
        entry changed that dimension."""
        network, here = self.shapes[INPUT], self.shapes[current]
        changed = []
        for axis in sorted(entry.input_axes, key=INPUT_AXES.get):
            k = INPUT_AXES[axis]
            if k < len(network) and (k >= len(here) or dims.canon(here[k]) != dims.canon(network[k])):
                was = dims.fmt(here[k]) if k < len(here) else "none"
                changed.append(f"input.{axis} = {dims.fmt(network[k])} (arriving here: {was})")
        if changed:
            axes = "/".join(sorted(entry.input_axes, key=INPUT_AXES.get))
            self.warnings.setdefault(
                entry.path,
                f"{', '.join(changed)}: at top level input.* is the network's input, not the tensor "
                f"arriving here; write here.{axes} for the tensor arriving here, or network.{axes} "
                f"to say that the network's input is meant",
            )

    def _variant(self, entry: Entry, scope: dict) -> Entry:
        """The entry whose kind is the block argument ``entry.kind``, as the kind passed."""
        kind = scope[entry.kind]
        return self.spec.variants[(entry.path, kind)]

    def _when(self, entry: Entry, scope: dict) -> bool:
        path = (*entry.path, "when")
        value = self._eval(entry.when, scope, path)
        if not isinstance(value, int):
            if dims.is_concrete(value) or not dims.free_symbols(value):  # a fraction, a root
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
            if dims.is_concrete(value) or not dims.free_symbols(value):  # a fraction, a root
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
        if entry.table is not None:
            i = self._seq  # counted over the rows
        if entry.template:
            if i == 0:
                ns.counters[prefix] = n + 1
            return self._template(entry, scope)
        if entry.name:
            if i == 0:
                ns.counters[prefix] = n + 1
            return entry.name if entry.repeat is None and entry.table is None else f"{entry.name}.{i}"
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
            share = self._resolve(entry.share, ns, scope, entry.path, "share")
            owners = self.by_name
            if share not in owners:
                raise self.source.error(
                    (*entry.path, "share"),
                    f"share names the layer whose weights to use; {entry.share.text!r} is "
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
        seq = self._seq
        outs = tuple(self._entries(branch, ns, scope, start, frozen) for branch in entry.branches)
        self._seq = seq
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
        arriving = self.shapes[start]
        inner_scope = {
            **self.modules[block.module],
            **input_dims(arriving),
            **input_dims(arriving, HERE),
        }
        inner = _Namespace(prefix=qualified + ".", input=start, parent=ns)
        for name, value in args.items():
            where = (
                (*entry.path, "first", name)
                if (i == 0 and entry.first and name in entry.first)
                else (*entry.path, name)
            )
            if isinstance(value, Ref):
                inner_scope[name] = Tensor(self._resolve(value, ns, scope, where, ""))
            else:
                inner_scope[name] = self._arg(value, scope, where)
        for name, default in block.args.items():
            if name not in args:
                where = (*block.path, "args", name)
                if isinstance(default, Ref):
                    inner_scope[name] = Tensor(self._resolve(default, inner, inner_scope, where, ""))
                else:
                    inner_scope[name] = self._arg(default, inner_scope, where)
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
            return tuple(self._arg(e, scope, (*path, k)) for k, e in enumerate(value))
        try:
            return evaluate(value, scope, pairs=True)
        except ExpressionError as exc:
            raise self.source.error(path, exc) from None

    def _names(self, ref: Ref, scope: dict, path: Path_) -> list[str]:
        """The names a reference stands for: one, or one for each value of its range."""
        if ref.plain is not None:
            return [ref.plain]
        if ref.var is None:
            return [self._fill(ref, scope, path)]
        bounds = []
        for b in ref.bounds:
            value = self._eval(b, scope, path)
            if not isinstance(value, int):
                raise self.source.error(
                    path, f"in {ref.text!r}: range() needs known integers, found {dims.fmt(value)}"
                )
            bounds.append(value)
        lo, hi = (0, bounds[0]) if len(bounds) == 1 else bounds
        if hi - lo > MAX_NODES:
            raise self.source.error(
                path, f"in {ref.text!r}: range({lo}, {hi}) names more than {MAX_NODES} layers"
            )
        out = []
        for k in range(lo, hi):
            self.steps += 1
            if self.steps > MAX_EXPANSION_STEPS:
                raise self.source.error(
                    path,
                    f"expanding the network takes more than {MAX_EXPANSION_STEPS:,} steps (the limit "
                    f"of expansion steps, names built over ranges counted); reduce the ranges",
                )
            out.append(self._fill(ref, {**scope, ref.var: k}, path))
        return out

    def _fill(self, ref: Ref, scope: dict, path: Path_) -> str:
        out = []
        for part in ref.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = self._eval(part, scope, path)
            if not isinstance(value, int):
                raise self.source.error(
                    path, f"{{{part.text}}} in {ref.text!r} is {dims.fmt(value)}, not a known integer"
                )
            out.append(str(value))
        return "".join(out)

    def _resolve_all(self, ref: Ref, ns: _Namespace, scope: dict, path: Path_, key: str) -> list[str]:
        where = (*path, key) if key else path
        return [self._lookup_name(name, ref, ns, scope, where) for name in self._names(ref, scope, where)]

    def _resolve(
        self, ref: Ref, ns: _Namespace, scope: dict, path: Path_, key: str, what: str | None = None
    ) -> str:
        where = (*path, key) if key else path
        names = self._names(ref, scope, where)
        if len(names) != 1:
            raise self.source.error(where, f"{ref.text!r} names {len(names)} layers; name one here")
        return self._lookup_name(names[0], ref, ns, scope, where, what)

    def _lookup_name(
        self, name: str, ref: Ref, ns: _Namespace, scope: dict, where: Path_, what: str | None = None
    ) -> str:
        """The node a name stands for: a block argument naming a tensor, ``input``, a layer of
        this block or of an enclosing one (nearest first), or a layer by its full name."""
        value = scope.get(name)
        if isinstance(value, Tensor):
            return value.node
        if name == INPUT:
            return ns.input
        at: _Namespace | None = ns
        while at is not None:
            if name in at.local:
                return at.local[name]
            at = at.parent
        if name in self.outputs:
            return self.outputs[name]
        import difflib

        known = sorted(set(self.outputs) | {INPUT})
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        shown = ", ".join(known[-8:])
        made = f" ({ref.text!r} gives {name!r})" if ref.plain is None else ""
        later = self.spec.declared.get(name) if name not in self.paths else None
        if later is not None and not (later and isinstance(later[0], FileKey)):
            hint += f"; a layer {name!r} is defined at {self.source.where(later)}, below"
        reading = f"{what} reads a tensor, but " if what else ""
        raise self.source.error(
            where,
            f"{reading}no earlier layer is named {name!r}{made}{hint}; a reference must name a "
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


def evaluate_table(entry: Entry, scope: dict, source, path: Path_) -> tuple:
    """The rows of an entry's ``for:`` table."""
    try:
        table = evaluate(entry.table, scope, pairs=True)
    except ExpressionError as exc:
        raise source.error(path, exc) from None
    if not isinstance(table, tuple):
        raise source.error(path, f"for: {entry.table.text} is {dims.fmt(table)}, not a list of rows")
    return table
