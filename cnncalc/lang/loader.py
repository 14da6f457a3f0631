"""The loader: a spec's validated top level read into a :class:`~cnncalc.lang.model.Spec`, with
every entry's arguments checked and every name resolved (file, line and column in each error)."""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any

from .. import layers as registry
from ..errors import ExpressionError, UnknownLayerError, unknown_message
from ..layers._fields import ArgumentError
from .blocks import BlockRules, _own_depth, _uses
from .budget import read_budgets
from .expr import FUNCTIONS, Expr, parse
from .model import (
    _LAYER_NAME,
    _NAME,
    _TEMPLATE_PART,
    CONSTRUCTS,
    INDEX,
    INPUT,
    INPUT_DIMS,
    MAX_ENTRIES,
    MAX_NESTING,
    META_KEYS,
    Block,
    Entry,
    Spec,
    Symbol,
    _kind,
    _raise_validation,
    _SpecModel,
    _SymbolModel,
)
from .source import Path_, Source


class Loader(BlockRules):
    """Reads a validated top-level structure into a :class:`Spec`, entry by entry."""

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
            budgets=read_budgets(m.budget, self.source, self.symbols),
        )

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
                spec = _SymbolModel.read(value)
            except ArgumentError as exc:
                _raise_validation(exc, self.source, path)
        elif value is None or (isinstance(value, (int, float, str)) and not isinstance(value, bool)):
            spec = _SymbolModel.model_construct(default=value)
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
                raise self.source.error(p, exc) from None
            try:
                v = e.constant
            except ExpressionError as exc:
                raise self.source.error(p, exc) from None
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
            raise self.source.error(path, exc) from None
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

    def _arg(self, raw: Any, path: Path_, names: set[str]) -> Expr | tuple[Expr, Expr]:
        """A block argument's value: an expression, or a pair ``[a, b]`` of them."""
        if isinstance(raw, list):
            if len(raw) != 2:
                raise self.source.error(
                    path, f"a block argument is one value or a pair [a, b], found {len(raw)} values"
                )
            return (self._expr(raw[0], (*path, 0), names), self._expr(raw[1], (*path, 1), names))
        return self._expr(raw, path, names)

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
            return cls.read(args)
        except ArgumentError as exc:
            if exc.reason == "unknown":
                name = exc.loc[-1]
                known = [*cls.model_fields, *_meta_for(cls)]
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


def _meta_for(cls: type[registry.Layer]) -> list[str]:
    extra = ["name", "freeze", "from", "repeat", "share", "when"]
    if cls.arity != 1:
        extra += ["inputs", "branches"]
    return extra
