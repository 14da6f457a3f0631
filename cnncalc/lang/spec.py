"""The spec file format: loading and validating it into a :class:`Spec`.

A spec is YAML read top to bottom like a paper's table::

    name: LeNet-5
    symbols:
      N: 1                            # a symbol with its default value
      H: {default: 32, min: 5}        # ... with bounds
    input: [N, 1, H, H]
    layers:
      - conv2d: {out: 6, kernel: 5}
      - avg_pool2d: {kernel: 2}
      - relu                           # a layer without arguments
      ...

Loading checks everything that does not depend on symbol values: the YAML, the structure, every
layer's arguments (declared fields, :mod:`cnncalc.fields`: a misspelt argument is an error),
the names used in expressions, block definitions and references. Errors carry the file, line and
column. :func:`cnncalc.graph.build` then expands blocks and repeats for given symbol values.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from .. import layers as registry
from ..errors import ExpressionError, UnknownLayerError, unknown_message
from .expr import FUNCTIONS, INPUT_AXES, Expr, parse
from .fields import ArgumentError, Declared
from .source import Path_, Source, display_path, load_yaml, read_text

#: Keys every entry may carry besides its arguments.
META_KEYS = ("name", "freeze", "from", "repeat", "first", "share", "when")
#: Structural entries that are not layers.
CONSTRUCTS = ("residual",)
#: The name of the network's (or a block's) input in references.
INPUT = "input"
#: The dimensions of the input expressions may read (``input.C``): always in scope.
INPUT_DIMS = frozenset(f"{INPUT}.{axis}" for axis in INPUT_AXES)
#: The index of a repetition (0, 1, ...) in the expressions and the name of a repeated entry.
INDEX = "i"
#: Most entries a spec may write out (in layers, blocks and branches together): a network of
#: more layers than the expansion allows is written with ``repeat``.
MAX_ENTRIES = 20_000
#: Deepest nesting of blocks inside blocks and of branches inside branches, counted together
#: (real networks nest a few levels; expansion recurses once per level).
MAX_NESTING = 100

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LAYER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
#: A ``{expression}`` in a name template (``denselayer{i + 1}``).
_TEMPLATE_PART = re.compile(r"\{([^{}]*)\}")


# ---------------------------------------------------------------------------------------------
# What a loaded spec is made of.


@dataclass(frozen=True)
class Symbol:
    """A declared symbol: its default value (None if it has none), bounds and kind."""

    name: str
    default: int | Fraction | None
    min: int | Fraction | None
    max: int | Fraction | None
    integer: bool
    doc: str = ""

    @property
    def lower(self) -> int | Fraction:
        """The smallest allowed value (1 for integers unless a minimum says otherwise)."""
        if self.min is not None:
            return self.min
        return 1 if self.integer else 0


@dataclass(frozen=True)
class Entry:
    """One item of a ``layers`` list, validated but not expanded."""

    kind: str
    path: Path_
    layer: registry.Layer | None = None  # a leaf layer, validated
    block_args: dict[str, Arg] = field(default_factory=dict)  # a block invocation
    name: str | None = None
    template: tuple[str | Expr, ...] | None = None  # a name with {expressions}: its parts
    freeze: bool = False
    source_ref: str | None = None  # `from:`
    inputs: tuple[str, ...] = ()  # `inputs:` of a merge layer
    branches: tuple[tuple[Entry, ...], ...] = ()  # `branches:` of a merge layer, or residual
    repeat: Expr | None = None
    when: Expr | None = None  # the entry exists only when this is not 0
    first: dict[str, Arg] | None = None  # argument overrides for the first repetition
    first_block: str | None = None  # a different block for the first repetition
    share: str | None = None
    kind_arg: bool = False  # `kind` is a block argument naming the layer kind


#: A block argument's value: an expression, a pair of them, or (for an argument used as an
#: entry's kind) the name of a layer kind.
Arg = Expr | tuple[Expr, Expr] | str


@dataclass(frozen=True)
class Block:
    """A reusable block: named arguments (None = required) and its layers.

    ``kinds`` are the arguments used as the kind of an entry (``act: relu`` then ``- act``).
    """

    name: str
    args: dict[str, Arg | None]
    layers: tuple[Entry, ...]
    path: Path_
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Spec:
    """A loaded, validated spec file."""

    name: str
    description: str
    symbols: dict[str, Symbol]
    input: tuple[Expr, ...]
    blocks: dict[str, Block]
    layers: tuple[Entry, ...]
    freeze_until: str | None
    source: Source
    #: The leaf entries whose kind is a block argument, validated for each kind passed:
    #: (entry path, kind) -> the entry as that kind.
    variants: dict[tuple[Path_, str], Entry] = field(default_factory=dict)
    #: Valid but suspicious things found while loading (a block never used): (path, message).
    warnings: tuple[tuple[Path_, str], ...] = ()
    #: The symbols that decide how the network expands (read by a repeat, a when or a name,
    #: directly or through block arguments): they need values, so they are never left open.
    structural: frozenset[str] = frozenset()

    @property
    def filename(self) -> str:
        return self.source.filename


# ---------------------------------------------------------------------------------------------
# The parts with a fixed structure.

_Value = int | float | str | None


class _SymbolModel(Declared):
    default: _Value = None
    min: _Value = None
    max: _Value = None
    type: Literal["integer", "rational"] = "integer"
    doc: str = ""


class _BlockModel(Declared):
    args: dict[str, int | float | str | list | None] = {}  # noqa: RUF012 (never changed)
    layers: list[Any]
    doc: str = ""


class _SpecModel(Declared):
    name: str = ""
    description: str = ""
    symbols: dict[str, Any] = {}  # noqa: RUF012 (never changed)
    input: list[Any]
    blocks: dict[str, _BlockModel] = {}  # noqa: RUF012 (never changed)
    layers: list[Any]
    freeze_until: str | None = None


def _raise_validation(exc: ArgumentError, source: Source, base: Path_) -> None:
    """Turn an ArgumentError into a located SpecError (with a did-you-mean for an unknown key)."""
    path = (*base, *exc.loc)
    if exc.reason == "unknown":
        import difflib

        name = exc.loc[-1]
        close = difflib.get_close_matches(str(name), list(exc.known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = f" (expected: {', '.join(exc.known)})" if exc.known else ""
        raise source.error(path[:-1], f"unknown argument {name!r}{hint}{listed}")
    if exc.reason == "missing":
        if len(path) == 1:
            example = {"input": "input: [N, 3, H, W]", "layers": "layers: [...]"}.get(path[-1], "")
            raise source.error((), f"a spec needs {path[-1]!r}" + (f" ({example})" if example else ""))
        raise source.error(path[:-1], exc.message)
    raise source.error(path, exc.message)


# ---------------------------------------------------------------------------------------------
# Loading.


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file.

    Raises:
        SpecError: for anything wrong in the file, with file, line and column.
    """
    text = read_text(path)
    return parse_spec(text, display_path(path))


def parse_spec(text: str, filename: str = "<spec>") -> Spec:
    """Validate spec text (see :func:`load_spec`)."""
    data, source = load_yaml(text, filename)
    if not isinstance(data, dict):
        raise source.error((), f"a spec is a mapping with 'input' and 'layers'; found {_kind(data)}")
    unknown = [k for k in data if k not in _SpecModel.fields()]
    if unknown:
        import difflib

        key = unknown[0]
        close = difflib.get_close_matches(str(key), list(_SpecModel.fields()), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise source.error(
            (key,), f"unknown top-level key {key!r}{hint}; expected " + ", ".join(_SpecModel.fields())
        )
    if _count_entries(data) > MAX_ENTRIES:
        raise source.error(
            ("layers",),
            f"the spec writes out more than {MAX_ENTRIES:,} layer entries (the limit of entries); "
            f"write repeated layers with repeat",
        )
    try:
        model = _SpecModel.validate(data)
    except ArgumentError as exc:
        _raise_validation(exc, source, ())
    return _Loader(model, source).spec()


def _count_entries(data: dict) -> int:
    """The layer entries written in ``data`` (layers, blocks, bodies and branches), counted
    before validating any of them."""
    lists = [data.get("layers")]
    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        lists += [b.get("layers") for b in blocks.values() if isinstance(b, dict)]
    count = 0
    while lists:
        items = lists.pop()
        if not isinstance(items, list):
            continue
        count += len(items)
        if count > MAX_ENTRIES:
            return count
        for item in items:
            if isinstance(item, dict) and len(item) == 1:
                args = next(iter(item.values()))
                if isinstance(args, dict):
                    lists += [args.get("body"), args.get("shortcut")]
                    branches = args.get("branches")
                    if isinstance(branches, list):
                        lists += branches
    return count


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), f"a {type(value).__name__}")


class _Loader:
    def __init__(self, model: _SpecModel, source: Source):
        self.model = model
        self.source = source
        self.symbols: dict[str, Symbol] = {}
        self.blocks: dict[str, Block] = {}
        self._count = 0  # entries written out, against MAX_ENTRIES
        self._kinds: frozenset[str] = frozenset()  # kind arguments of the block being loaded
        self._block_name: str | None = None  # the block being loaded
        # Entries whose kind is a block argument: (block, argument, raw item, path, names).
        self._kind_entries: list[tuple[str, str, Any, Path_, set[str]]] = []
        # Kinds passed to kind arguments: (block, argument) -> {kind, or ("arg", block, name)}.
        self._kinds_passed: dict[tuple[str, str], set] = {}
        # Blocks passed as kinds: (the block passing it, or None at top level; the block).
        self._block_refs: list[tuple[str | None, str]] = []

    def spec(self) -> Spec:
        m = self.model
        for name, value in m.symbols.items():
            self.symbols[name] = self._symbol(name, value)
        input_shape = self._input()
        # Blocks first (by name, so a block can use a block defined after it), then layers.
        self._block_names = set(m.blocks)
        for name in m.blocks:
            self._check_block_name(name)
        for name, block in m.blocks.items():
            self.blocks[name] = self._block(name, block)
        self._check_block_cycles()
        self._block_name, self._kinds = None, frozenset()
        layers = self._entries(m.layers, ("layers",), set(self.symbols))
        if not layers:
            raise self.source.error(("layers",), "the network has no layers")
        variants = self._variants()
        nesting = max(
            [_own_depth(layers)] + [level + self._depth[b] for b, level in _uses(layers, self.blocks).items()]
        )
        if nesting > MAX_NESTING:
            raise self.source.error(
                ("layers",),
                f"the network nests blocks and branches {nesting} levels deep "
                f"(at most {MAX_NESTING}, the limit of nesting depth)",
            )
        return Spec(
            name=m.name or Path(self.source.filename).stem,
            description=m.description,
            symbols=self.symbols,
            input=input_shape,
            blocks=self.blocks,
            layers=layers,
            freeze_until=m.freeze_until,
            source=self.source,
            variants=variants,
            warnings=self._unused_blocks(layers),
            structural=self._structural(layers, variants),
        )

    def _structural(self, layers: tuple[Entry, ...], variants: dict) -> frozenset[str]:
        """The symbols a repeat, a when or a name template reads, directly or through the
        arguments of the blocks they are passed to."""
        reads: dict[str | None, set[str]] = {None: set()}  # context (block or None) -> names
        passes: list[tuple[str | None, str, str, frozenset[str]]] = []  # ctx, block, arg, names
        todo = [(None, e) for e in layers]
        todo += [(name, e) for name, b in self.blocks.items() for e in b.layers]
        todo += [(p[1] if p[0] == "blocks" else None, e) for (p, _), e in variants.items()]
        while todo:
            ctx, e = todo.pop()
            names = reads.setdefault(ctx, set())
            for expr in (e.repeat, e.when, *(p for p in e.template or () if isinstance(p, Expr))):
                if expr is not None:
                    names |= expr.names
            for args in (e.block_args, e.first or {}):
                for arg, value in args.items():
                    exprs = value if isinstance(value, tuple) else (value,)
                    used = frozenset(n for x in exprs if isinstance(x, Expr) for n in x.names)
                    for block in {e.kind, e.first_block} & set(self.blocks):
                        passes.append((ctx, block, arg, used))
            todo += [(ctx, b) for branch in e.branches for b in branch]
        changed = True
        while changed:
            changed = False
            for name, block in self.blocks.items():  # a structural argument's default
                mine = reads.setdefault(name, set())
                for arg, default in block.args.items():
                    if arg in mine and isinstance(default, (Expr, tuple)):
                        exprs = default if isinstance(default, tuple) else (default,)
                        new = {n for x in exprs for n in x.names} - mine
                        if new:
                            mine |= new
                            changed = True
            for ctx, block, arg, used in passes:
                if arg in reads.get(block, ()) and not used <= reads[ctx]:
                    reads[ctx] |= used
                    changed = True
        return frozenset(n for names in reads.values() for n in names if n in self.symbols)

    def _unused_blocks(self, layers: tuple[Entry, ...]) -> tuple[tuple[Path_, str], ...]:
        used: set[str] = set()
        todo = list(_uses(layers, self.blocks)) + [b for ctx, b in self._block_refs if ctx is None]
        while todo:
            name = todo.pop()
            if name not in used:
                used.add(name)
                todo += list(_uses(self.blocks[name].layers, self.blocks))
                todo += [b for ctx, b in self._block_refs if ctx == name]
        return tuple(
            (b.path, f"block {name!r} is never used") for name, b in self.blocks.items() if name not in used
        )

    def _variants(self) -> dict[tuple[Path_, str], Entry]:
        """Validate every entry whose kind is a block argument as each kind that can reach it
        (passed directly, a default, or passed on from the enclosing block's argument)."""
        possible: dict[tuple[str, str], set[str]] = {}
        changed = True
        while changed:
            changed = False
            for key, values in self._kinds_passed.items():
                kinds = possible.setdefault(key, set())
                before = len(kinds)
                for v in values:
                    kinds |= possible.get(v[1:], set()) if isinstance(v, tuple) else {v}
                changed = changed or len(kinds) != before
        out: dict[tuple[Path_, str], Entry] = {}
        for block, arg, raw, path, names in self._kind_entries:
            self._block_name, self._kinds = block, self.blocks[block].kinds
            for kind in sorted(possible.get((block, arg), ())):
                out[(path, kind)] = self._entry(raw, path, names, as_kind=kind)
        return out

    # -- symbols and input -------------------------------------------------------------------

    def _symbol(self, name: str, value: Any) -> Symbol:
        path = ("symbols", name)
        if not _NAME.match(name) or keyword.iskeyword(name) or name in FUNCTIONS:
            raise self.source.error(path, f"{name!r} cannot be a symbol name (use letters, digits, _)")
        if name == INPUT:
            raise self.source.error(path, f"{INPUT!r} is reserved for the network input")
        if name == INDEX:
            raise self.source.error(path, f"{INDEX!r} is reserved for the index of a repetition")
        if isinstance(value, dict):
            try:
                spec = _SymbolModel.validate(value)
            except ArgumentError as exc:
                _raise_validation(exc, self.source, path)
        elif value is None or (isinstance(value, (int, float, str)) and not isinstance(value, bool)):
            spec = _SymbolModel.construct(default=value)
        else:
            raise self.source.error(
                path,
                f"a symbol is a default value or a mapping such as "
                f"{{default: 224, min: 32}}, found {_kind(value)}",
            )
        integer = spec.type == "integer"

        def number(key: str, raw: Any):
            if raw is None:
                return None
            p = (*path, key) if isinstance(value, dict) else path
            try:
                e = parse(raw)
            except ExpressionError as exc:
                raise self.source.error(p, str(exc)) from None
            try:
                v = e.constant
            except ExpressionError as exc:
                raise self.source.error(p, str(exc)) from None
            if v is None:
                raise self.source.error(p, f"{key} must be a number, found {e.text!r}")
            if integer and not isinstance(v, int):
                raise self.source.error(
                    p,
                    f"{key} = {e.text} is not an integer; declare `type: rational` for "
                    f"multipliers such as a width factor",
                )
            if v <= 0 and key != "min":
                raise self.source.error(p, f"{key} must be positive, found {e.text}")
            return v

        default, lo, hi = number("default", spec.default), number("min", spec.min), number("max", spec.max)
        if lo is not None and lo <= 0 and integer:
            raise self.source.error(
                (*path, "min"), f"min must be at least 1 (sizes are positive), found {lo}"
            )
        sym = Symbol(name, default, lo, hi, integer, spec.doc)
        if hi is not None and hi < sym.lower:
            raise self.source.error(path, f"max = {hi} is below min = {sym.lower}")
        if default is not None and not (sym.lower <= default and (hi is None or default <= hi)):
            raise self.source.error(
                path, f"default {default} is outside [{sym.lower}, {hi if hi is not None else 'inf'}]"
            )
        return sym

    def _input(self) -> tuple[Expr, ...]:
        shape = self.model.input
        if not shape:
            raise self.source.error(("input",), "the input shape is empty; write it as [N, C, H, W]")
        return tuple(self._expr(v, ("input", i), set(self.symbols)) for i, v in enumerate(shape))

    def _expr(self, raw: Any, path: Path_, names: set[str]) -> Expr:
        try:
            e = parse(raw)
        except ExpressionError as exc:
            raise self.source.error(path, str(exc)) from None
        self._check_names(e, path, names)
        return e

    def _check_names(self, e: Expr, path: Path_, names: set[str]) -> None:
        for n in sorted(e.names):
            if n not in names and n not in INPUT_DIMS:
                import difflib

                close = difflib.get_close_matches(n, sorted(names), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(sorted(names)) or "none are declared"
                what = (
                    f"{n!r} is not defined" if e.text == n else f"{e.text!r} uses {n!r}, which is not defined"
                )
                raise self.source.error(
                    path, f"{what}{hint}; names in scope: {known}. Declare symbols under 'symbols:'"
                )

    # -- blocks ------------------------------------------------------------------------------

    def blocks_kinds(self, block: str) -> set[str]:
        """The kind arguments of ``block``: used as an entry's kind, or passed on to a kind
        argument of a block it invokes (found from the raw definitions, before loading)."""
        if not hasattr(self, "_all_kinds"):
            raw = {n: (b.layers, set(b.args)) for n, b in self.model.blocks.items()}
            kinds = {n: _kind_uses(layers, args) for n, (layers, args) in raw.items()}
            changed = True
            while changed:
                changed = False
                for n, (layers, args) in raw.items():
                    for callee, passed in _invocations(layers, raw):
                        for arg, val in passed.items():
                            if arg in kinds[callee] and isinstance(val, str) and val in args - kinds[n]:
                                kinds[n].add(val)
                                changed = True
            self._all_kinds = kinds
        return self._all_kinds[block]

    def _check_block_name(self, name: str) -> None:
        path = ("blocks", name)
        if not _NAME.match(name):
            raise self.source.error(path, f"{name!r} cannot be a block name (use letters, digits, _)")
        if name in registry.REGISTRY or name in CONSTRUCTS:
            raise self.source.error(path, f"block {name!r} has the name of a built-in layer kind")

    def _block(self, name: str, model: _BlockModel) -> Block:
        path = ("blocks", name)
        kinds = self.blocks_kinds(name)
        self._block_name, self._kinds = None, frozenset()
        args: dict[str, Arg | None] = {}
        for arg, default in model.args.items():
            apath = (*path, "args", arg)
            if not _NAME.match(arg) or arg in META_KEYS or arg in FUNCTIONS or arg in (INDEX, INPUT):
                raise self.source.error(apath, f"{arg!r} cannot be an argument name")
            if arg in registry.REGISTRY:
                raise self.source.error(apath, f"argument {arg!r} has the name of a layer kind")
            if arg in self._block_names:
                raise self.source.error(
                    apath, f"argument {arg!r} has the name of a block; rename one of them"
                )
            if arg in kinds:
                if default is not None:
                    args[arg] = self._kind_value(name, arg, default, apath)
                else:
                    args[arg] = None
                continue
            # Defaults may use symbols and the arguments declared before them.
            args[arg] = None if default is None else self._arg(default, apath, set(self.symbols) | set(args))
        names = set(self.symbols) | {a for a in args if a not in kinds}
        self._block_name, self._kinds = name, frozenset(kinds)
        layers = self._entries(model.layers, (*path, "layers"), names)
        if not layers:
            raise self.source.error((*path, "layers"), f"block {name!r} has no layers")
        return Block(name, args, layers, path, frozenset(kinds))

    def _kind_value(self, block: str, arg: str, raw: Any, path: Path_) -> str:
        """A value passed to the kind argument ``arg`` of ``block``: a layer kind, or the name
        of a kind argument of the block being loaded (passed on)."""
        if isinstance(raw, str) and raw in self._kinds:
            self._kinds_passed.setdefault((block, arg), set()).add(("arg", self._block_name, raw))
            return raw
        if not isinstance(raw, str):
            raise self.source.error(
                path,
                f"{arg} is used as a layer kind in block {block!r}: expected the name of a layer "
                f"kind (relu, hardswish, ...), found {_kind(raw)}",
            )
        if raw not in registry.REGISTRY and raw not in self._block_names:
            known = sorted(registry.REGISTRY) + sorted(self._block_names)
            raise self.source.error(
                path,
                f"{arg} is used as a layer kind in block {block!r}: "
                + unknown_message("layer kind or block", raw, known),
                UnknownLayerError,
            )
        if raw in self._block_names:  # a block passed as a kind: used by the passer
            self._block_refs.append((self._block_name, raw))
        self._kinds_passed.setdefault((block, arg), set()).add(raw)
        return raw

    def _arg(self, raw: Any, path: Path_, names: set[str]) -> Expr | tuple[Expr, Expr]:
        """A block argument's value: an expression, or a pair ``[a, b]`` of them."""
        if isinstance(raw, list):
            if len(raw) != 2:
                raise self.source.error(
                    path, f"a block argument is one value or a pair [a, b], found {len(raw)} values"
                )
            return (self._expr(raw[0], (*path, 0), names), self._expr(raw[1], (*path, 1), names))
        return self._expr(raw, path, names)

    def _check_block_cycles(self) -> None:
        """Refuse blocks that use each other in a cycle (``first: {block: ...}`` included) and
        nesting deeper than ``MAX_NESTING`` levels, without recursion (a chain may be long)."""
        graph = {n: _uses(b.layers, self.blocks) for n, b in self.blocks.items()}
        depth: dict[str, int] = {}  # levels of nesting a block expands to, once known
        on_stack: dict[str, int] = {}  # block -> its index in `chain` while being visited
        for root in graph:
            if root in depth:
                continue
            chain = [root]
            todo = [iter(sorted(graph[root]))]
            on_stack[root] = 0
            while todo:
                step = next(todo[-1], None)
                if step is None:
                    name = chain.pop()
                    todo.pop()
                    del on_stack[name]
                    depth[name] = max(
                        [_own_depth(self.blocks[name].layers)]
                        + [level + depth[m] for m, level in graph[name].items()]
                    )
                    continue
                if step in on_stack:
                    cycle = " -> ".join([*chain[on_stack[step] :], step])
                    raise self.source.error(
                        self.blocks[step].path, f"blocks use each other in a cycle: {cycle}"
                    )
                if step in depth:
                    continue
                on_stack[step] = len(chain)
                chain.append(step)
                todo.append(iter(sorted(graph[step])))
        for name in self.blocks:
            if depth[name] > MAX_NESTING:
                raise self.source.error(
                    self.blocks[name].path,
                    f"block {name!r} nests blocks and branches {depth[name]} levels deep "
                    f"(at most {MAX_NESTING}, the limit of nesting depth)",
                )
        self._depth = depth

    # -- entries -----------------------------------------------------------------------------

    def _entries(self, raw: Any, path: Path_, names: set[str]) -> tuple[Entry, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.source.error(path, f"expected a list of layers, found {_kind(raw)}")
        return tuple(self._entry(item, (*path, i), names) for i, item in enumerate(raw))

    def _entry(self, raw: Any, path: Path_, names: set[str], as_kind: str | None = None) -> Entry:
        self._count += 1
        if self._count > MAX_ENTRIES:
            raise self.source.error(
                path,
                f"the spec writes out more than {MAX_ENTRIES:,} layer entries (the limit of "
                f"entries); write repeated layers with repeat",
            )
        if isinstance(raw, str):
            kind, args, apath = raw.strip(), {}, path
        elif isinstance(raw, dict) and len(raw) == 1:
            kind, args = next(iter(raw.items()))
            apath = (*path, kind)
            if args is None:
                args = {}
            if not isinstance(args, dict):
                raise self.source.error(
                    apath,
                    f"the arguments of {kind!r} must be a mapping such as "
                    f"{{out: 64, kernel: 3}}, found {_kind(args)}",
                )
        elif isinstance(raw, dict):
            keys = ", ".join(map(str, raw))
            raise self.source.error(
                path,
                f"a layer is written as `kind: {{arguments}}`, one kind per list item; "
                f"found the keys {keys}. Are the arguments indented under the kind?",
            )
        else:
            raise self.source.error(
                path, f"expected a layer (`relu` or `conv2d: {{...}}`), found {_kind(raw)}"
            )
        if not isinstance(kind, str) or not kind:
            raise self.source.error(path, "a layer kind must be a name")
        if as_kind is not None:
            kind = as_kind
        elif kind in self._kinds:
            # The kind is a block argument: validated as each kind passed (see _variants).
            self._kind_entries.append((self._block_name, kind, raw, path, names))
            return Entry(kind, path, kind_arg=True)
        args = dict(args)
        meta = self._meta(args, apath, names)
        names = meta.pop("names")
        if kind in CONSTRUCTS:
            return self._residual(kind, args, apath, names, meta)
        if kind in self._block_names:
            return self._invocation(kind, args, apath, names, meta)
        if kind not in registry.REGISTRY:
            known = sorted(registry.REGISTRY) + list(CONSTRUCTS) + sorted(self._block_names)
            raise self.source.error(path, unknown_message("layer kind", kind, known), UnknownLayerError)
        return self._leaf(kind, args, apath, names, meta)

    def _meta(self, args: dict, path: Path_, names: set[str]) -> dict[str, Any]:
        """Pop the keys every entry may carry; ``names`` in the result are the names the
        entry's arguments may use (with the repeat index ``i`` in a repeated entry)."""
        meta: dict[str, Any] = {}
        if "repeat" in args:
            meta["repeat"] = self._expr(args.pop("repeat"), (*path, "repeat"), names)
            names = names | {INDEX}
        meta["names"] = names
        if "name" in args:
            name = args.pop("name")
            if isinstance(name, str) and "{" in name:
                meta["template"] = self._template(name, (*path, "name"), names)
            elif (
                not isinstance(name, (str, int)) or isinstance(name, bool) or not _LAYER_NAME.match(str(name))
            ):
                raise self.source.error(
                    (*path, "name"), f"a layer name is letters, digits, '_', '.', '-'; found {name!r}"
                )
            if str(name) == INPUT:
                raise self.source.error((*path, "name"), f"{INPUT!r} is reserved for the input")
            meta["name"] = str(name)
        if "freeze" in args:
            freeze = args.pop("freeze")
            if not isinstance(freeze, bool):
                raise self.source.error((*path, "freeze"), f"freeze is true or false, found {freeze!r}")
            meta["freeze"] = freeze
        for key in ("from", "share"):
            if key in args:
                ref = args.pop(key)
                if not isinstance(ref, str):
                    raise self.source.error((*path, key), f"{key} names an earlier layer, found {_kind(ref)}")
                meta[key] = ref
        if "when" in args:
            meta["when"] = self._expr(args.pop("when"), (*path, "when"), names)
        if "first" in args:
            first = args.pop("first")
            if not isinstance(first, dict):
                raise self.source.error(
                    (*path, "first"),
                    f"first is a mapping of arguments for the first repetition, found {_kind(first)}",
                )
            meta["first"] = first
        return meta

    def _template(self, text: str, path: Path_, names: set[str]) -> tuple[str | Expr, ...]:
        """A name with ``{expressions}`` (``denselayer{i + 1}``): its literal parts and the
        expressions between braces, checked."""
        parts: list[str | Expr] = []
        end = 0
        for m in _TEMPLATE_PART.finditer(text):
            parts.append(text[end : m.start()])
            parts.append(self._expr(m.group(1), path, names))
            end = m.end()
        parts.append(text[end:])
        literal = "".join(p for p in parts if isinstance(p, str))
        if "{" in literal or "}" in literal or not re.fullmatch(r"[A-Za-z0-9_.\-]*", literal):
            raise self.source.error(
                path,
                f"a layer name is letters, digits, '_', '.', '-' and {{expressions}} such as "
                f"'block{{i + 1}}'; found {text!r}",
            )
        return tuple(p for p in parts if p != "")

    def _leaf(self, kind: str, args: dict, path: Path_, names: set[str], meta: dict) -> Entry:
        cls = registry.REGISTRY[kind]
        inputs: tuple[str, ...] = ()
        branches: tuple[tuple[Entry, ...], ...] = ()
        if cls.arity != 1:
            if "inputs" in args and "branches" in args:
                raise self.source.error(path, f"{kind} takes either 'inputs' or 'branches', not both")
            if "inputs" in args:
                refs = args.pop("inputs")
                if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
                    raise self.source.error(
                        (*path, "inputs"),
                        "inputs is a list of one or more layer names"
                        + (
                            " (one name: merged with the previous layer's output)"
                            if cls.min_inputs > 1
                            else ""
                        )
                        + f", found {refs!r}",
                    )
                inputs = tuple(refs)
            elif "branches" in args:
                branches = self._branches(args.pop("branches"), (*path, "branches"), names)
        if meta.get("first") is not None:
            raise self.source.error((*path, "first"), "'first' applies to repeated blocks")
        layer = self._validate_layer(cls, args, path, kind)
        for field_name, e in layer.expressions():
            self._check_names(e, (*path, field_name), names)
        if cls.arity != 1 and cls.min_inputs > 1 and not inputs and not branches:
            raise self.source.error(
                path,
                f"{kind} merges several tensors: give it `inputs: [a, b]` (names of earlier "
                f"layers) or `branches: [[...], [...]]` (layer lists applied to its input)",
            )
        return Entry(
            kind,
            path,
            layer=layer,
            name=meta.get("name"),
            template=meta.get("template"),
            freeze=meta.get("freeze", False),
            source_ref=meta.get("from"),
            inputs=inputs,
            branches=branches,
            repeat=meta.get("repeat"),
            when=meta.get("when"),
            share=meta.get("share"),
        )

    def _validate_layer(
        self, cls: type[registry.Layer], args: dict, path: Path_, kind: str
    ) -> registry.Layer:
        try:
            return cls.validate(args)
        except ArgumentError as exc:
            if exc.reason == "unknown":
                name = exc.loc[-1]
                known = [*cls.fields(), *_meta_for(cls)]
                import difflib

                close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.source.error(
                    (*path, name), f"{kind} has no argument {name!r}{hint} ({kind} takes: {', '.join(known)})"
                ) from None
            _raise_validation(exc, self.source, path)
            raise  # unreachable

    def _branches(self, raw: Any, path: Path_, names: set[str]) -> tuple[tuple[Entry, ...], ...]:
        if not isinstance(raw, list) or len(raw) < 2:
            raise self.source.error(
                path, f"branches is a list of two or more layer lists, found {_kind(raw)}"
            )
        out = []
        for i, branch in enumerate(raw):
            if branch is not None and not isinstance(branch, list):
                raise self.source.error(
                    (*path, i),
                    f"each branch is a list of layers ([] for the input itself), found {_kind(branch)}",
                )
            out.append(self._entries(branch, (*path, i), names))
        return tuple(out)

    def _residual(self, kind: str, args: dict, path: Path_, names: set[str], meta: dict) -> Entry:
        unknown = [k for k in args if k not in ("body", "shortcut")]
        if unknown:
            raise self.source.error(
                (*path, unknown[0]),
                f"residual has no argument {unknown[0]!r} "
                f"(it takes body, shortcut and {', '.join(META_KEYS)})",
            )
        if "body" not in args:
            raise self.source.error(
                path, "residual needs a 'body': the layers whose output is added to the shortcut"
            )
        body = self._entries(args["body"], (*path, "body"), names)
        if not body:
            raise self.source.error((*path, "body"), "residual body has no layers")
        shortcut = self._entries(args.get("shortcut"), (*path, "shortcut"), names)
        return Entry(
            kind,
            path,
            name=meta.get("name"),
            template=meta.get("template"),
            freeze=meta.get("freeze", False),
            source_ref=meta.get("from"),
            branches=(body, shortcut),
            repeat=meta.get("repeat"),
            when=meta.get("when"),
        )

    def _invocation(self, kind: str, args: dict, path: Path_, names: set[str], meta: dict) -> Entry:
        first = None
        first_block = None
        if meta.get("first") is not None:
            raw_first = dict(meta["first"])
            if "block" in raw_first:
                first_block = raw_first.pop("block")
                if not isinstance(first_block, str):
                    raise self.source.error(
                        (*path, "first", "block"),
                        f"first: block names the block of the first repetition, found {_kind(first_block)}",
                    )
                if first_block not in self._block_names:
                    raise self.source.error(
                        (*path, "first", "block"),
                        unknown_message("block", str(first_block), self._block_names),
                    )
                # The first repetition takes the entry's arguments, overridden by `first`.
                self._block_args(first_block, {**args, **raw_first}, path, names)
            first = self._block_args(first_block or kind, raw_first, (*path, "first"), names, partial=True)
        needs_all = first_block is None or meta.get("repeat") is not None
        block_args = self._block_args(kind, args, path, names, partial=not needs_all)
        if "share" in meta:
            raise self.source.error((*path, "share"), "share applies to a single layer, not a block")
        return Entry(
            kind,
            path,
            block_args=block_args,
            name=meta.get("name"),
            template=meta.get("template"),
            freeze=meta.get("freeze", False),
            source_ref=meta.get("from"),
            repeat=meta.get("repeat"),
            when=meta.get("when"),
            first=first,
            first_block=first_block,
        )

    def _block_args(self, kind: str, args: dict, path: Path_, names: set[str], partial: bool = False):
        m = self.model.blocks[kind]
        out = {}
        for key, raw in args.items():
            if key not in m.args:
                import difflib

                known = list(m.args)
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.source.error(
                    (*path, key),
                    f"block {kind!r} has no argument {key!r}{hint} (it takes: {', '.join(known) or 'none'})",
                )
            if key in self.blocks_kinds(kind):
                out[key] = self._kind_value(kind, key, raw, (*path, key))
            else:
                out[key] = self._arg(raw, (*path, key), names)
        if not partial:
            missing = [a for a, d in m.args.items() if d is None and a not in out]
            if missing:
                raise self.source.error(
                    path, f"block {kind!r} needs argument{'s' * (len(missing) > 1)} {', '.join(missing)}"
                )
        return out


def _raw_entries(items: Any):
    """``(kind, arguments)`` of every entry of the raw list ``items``, in branches and residual
    bodies too (``arguments`` is None for a bare ``- relu``), before anything is validated."""
    todo = [items]
    while todo:
        items = todo.pop()
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, str):
                yield item.strip(), None
            elif isinstance(item, dict) and len(item) == 1:
                kind, body = next(iter(item.items()))
                yield kind, body if isinstance(body, dict) else None
                if isinstance(body, dict):
                    todo += [body.get("body"), body.get("shortcut")]
                    if isinstance(body.get("branches"), list):
                        todo += body["branches"]


def _kind_uses(items: Any, args: set[str]) -> set[str]:
    """The arguments in ``args`` used as the kind of an entry of the raw list ``items``."""
    return {kind for kind, _ in _raw_entries(items) if kind in args}


def _invocations(items: Any, blocks: dict):
    """(block, raw arguments) of every block invocation with arguments in the raw list ``items``."""
    return ((kind, body) for kind, body in _raw_entries(items) if kind in blocks and body is not None)


def _uses(entries, blocks: dict) -> dict[str, int]:
    """The blocks ``entries`` invoke (``first: {block: ...}`` included), each with the levels of
    branch nesting above its deepest use."""
    out: dict[str, int] = {}
    todo = [(e, 1) for e in entries]
    while todo:
        e, level = todo.pop()
        for name in (e.kind, e.first_block):
            if name in blocks:
                out[name] = max(out.get(name, 0), level)
        todo.extend((b, level + 1) for branch in e.branches for b in branch)
    return out


def _own_depth(entries) -> int:
    """Levels of branch nesting of ``entries`` themselves (1 for a flat list)."""
    deepest = 0
    todo = [(e, 1) for e in entries]
    while todo:
        e, level = todo.pop()
        deepest = max(deepest, level)
        todo.extend((b, level + 1) for branch in e.branches for b in branch)
    return deepest


def _meta_for(cls: type[registry.Layer]) -> list[str]:
    extra = ["name", "freeze", "from", "repeat", "share", "when"]
    if cls.arity != 1:
        extra += ["inputs", "branches"]
    return extra
