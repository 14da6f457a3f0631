"""The loader: a spec's validated top level read into a :class:`~cnncalc.lang.model.Spec`, with
every entry's arguments checked and every name resolved (file, line and column in each error)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .. import layers as registry
from ..errors import ExpressionError, UnknownLayerError, unknown_message
from ..layers._fields import ArgumentError
from .blocks import BlockRules, _own_depth, _uses
from .budget import read_budgets
from .expr import INPUT_AXES, Expr, is_reference, parse
from .model import (
    _LAYER_NAME,
    _NAME,
    _TEMPLATE_PART,
    CONSTRUCTS,
    COUNT,
    FORMAT_VERSION,
    HERE,
    INDEX,
    INPUT,
    INPUT_DIMS,
    MAX_ENTRIES,
    MAX_NESTING,
    META_KEYS,
    NETWORK,
    ROW,
    Block,
    Entry,
    Module,
    Ref,
    Spec,
    Symbol,
    _kind,
    _raise_validation,
    _SpecModel,
)
from .refnames import split_reference
from .refs import read_ref, reads_of
from .source import FileKey, Path_, Source, load_yaml, read_text
from .symbols import declare, read_list
from .uses import Files, find_used, shown


class _Shared:
    """What the loaders of a spec and of the specs it uses fill together (blocks and kinds by
    their qualified names, the count of entries)."""

    def __init__(self, files: Files):
        self.files = files
        self.count = 0
        self.blocks: dict[str, Block] = {}
        self.kind_entries: list = []  # (loader, block, argument, raw item, path, names)
        self.kinds_passed: dict[tuple[str, str], set] = {}
        self.block_refs: list[tuple[str | None, str]] = []
        self.loaders: dict[str, Loader] = {}  # qualified block name -> the loader of its file
        self.modules: dict[str, Module] = {}
        self.depth: dict[str, int] = {}
        self.warnings: list[tuple[Path_, str]] = []
        self.declared: dict[str, Path_] = {}


class Loader(BlockRules):
    """Reads a validated top-level structure into a :class:`Spec`, entry by entry."""

    def __init__(
        self,
        model: _SpecModel,
        source: Source,
        *,
        origin: Path | None = None,
        root: Path | None = None,
        prefix: str = "",
        base: Path_ = (),
        shared: _Shared | None = None,
    ):
        self.model = model
        self.source = source
        self.origin = origin  # the file read, for the specs it uses (None: text)
        self.root = root if root is not None else (origin.parent.resolve() if origin else None)
        self.prefix = prefix  # of this file's block names among the spec's ("" for the spec's own)
        self.base = base  # of this file's paths: () for the spec's own, (FileKey,) for a used one
        self.shared = shared if shared is not None else _Shared(Files(origin))
        self.symbols: dict[str, Symbol] = {}
        self.lists: dict[str, tuple[Path_, tuple]] = {}
        self.blocks = self.shared.blocks
        self._kinds: frozenset[str] = frozenset()  # kind arguments of the block being loaded
        self._tensors: frozenset[str] = frozenset()  # tensor arguments of the block being loaded
        self._block_name: str | None = None  # the block being loaded (qualified)
        # Entries whose kind is a block argument, kinds passed to kind arguments, blocks passed as
        # kinds: shared with the loaders of used specs (see _Shared).
        self._kind_entries = self.shared.kind_entries
        self._kinds_passed = self.shared.kinds_passed
        self._block_refs = self.shared.block_refs
        self._block_names: dict[str, str] = {}  # a name as written here -> qualified name

    def _p(self, *parts) -> Path_:
        """A path in this file."""
        return (*self.base, *parts)

    def spec(self) -> Spec:
        m = self.model
        layers, input_shape = self.load()
        variants = self._variants()
        nesting = max(
            [_own_depth(layers)]
            + [level + self.shared.depth[b] for b, level in _uses(layers, self.blocks).items()]
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
            warnings=(*self.shared.warnings, *self._unused_blocks(layers)),
            structural=self._structural(layers, variants),
            lists=self.lists,
            modules=self.shared.modules,
            declared=self.shared.declared,
            version=m.cnncalc,
            budgets=read_budgets(m.budget, self.source, self.symbols),
        )

    def load(self) -> tuple[tuple[Entry, ...], tuple[Expr, ...]]:
        """Read this file: its symbols, the specs it uses, its blocks and its layers."""
        m = self.model
        if m.cnncalc is not None and m.cnncalc != FORMAT_VERSION:
            newer = m.cnncalc > FORMAT_VERSION
            raise self.source.error(
                self._p("cnncalc"),
                f"this spec is written for version {m.cnncalc} of the spec format; this cnncalc "
                f"reads version {FORMAT_VERSION}"
                + ("; a newer cnncalc reads it" if newer else " (the first version is 1)"),
            )
        for name, value in m.symbols.items():
            declared = declare(name, value, self.source, self.base, self.symbols, self.lists)
            if isinstance(declared, Symbol):
                self.symbols[name] = declared
            else:
                self.lists[name] = declared
        input_shape = self._input()
        for alias, use in m.use.items():
            self._use(alias, use)
        # Blocks first (by name, so a block can use a block defined after it), then layers.
        for name in m.blocks:
            self._check_block_name(name)
            self._block_names[name] = self.prefix + name
            self.shared.loaders[self.prefix + name] = self
        for name, block in m.blocks.items():
            self.blocks[self.prefix + name] = self._block(name, block)
        self._check_block_cycles()
        self._block_name, self._kinds, self._tensors = None, frozenset(), frozenset()
        layers = self._entries(m.layers, self._p("layers"), self._scope_names())
        if not layers:
            raise self.source.error(self._p("layers"), "the network has no layers")
        return layers, input_shape

    def _scope_names(self) -> set[str]:
        return set(self.symbols) | set(self.lists)

    # -- the specs this one uses -------------------------------------------------------------

    def _use(self, alias: str, use: Any) -> None:
        path = self._p("use", alias)
        if not _NAME.match(alias):
            raise self.source.error(path, f"{alias!r} cannot name a used spec (use letters, digits, _)")
        target, _ = find_used(use.spec, self.origin, self.root, self.source, (*path, "spec"))
        files = self.shared.files
        files.enter(target, use.spec, self.source, (*path, "spec"))
        filename = shown(target)
        source = Source(filename)
        key = FileKey(filename, source)
        data, loaded = load_yaml(read_text(target), filename)
        source.marks.update(loaded.marks)
        if not isinstance(data, dict):
            raise source.error((), f"a spec is a mapping with 'input' and 'layers'; found {_kind(data)}")
        try:
            model = _SpecModel.read(data)
        except ArgumentError as exc:
            _raise_validation(exc, source, ())
        prefix = f"{self.prefix}{alias}."
        child = Loader(
            model, source, origin=target, root=self.root, prefix=prefix, base=(key,), shared=self.shared
        )
        child.load()
        files.leave()
        given, given_lists = {}, {}
        for name, raw in use.symbols.items():
            spath = (*path, "symbols", name)
            if name in child.lists:
                if not isinstance(raw, list):
                    raise self.source.error(
                        spath, f"{name!r} is a list in {filename}; give it a list ({name}: [...])"
                    )
                given_lists[name] = (spath, read_list(raw, self.source, spath, self._scope_names()))
                continue
            if name not in child.symbols:
                known = ", ".join([*child.symbols, *child.lists]) or "none"
                raise self.source.error(
                    spath, f"{name!r} is not declared in {filename} (its symbols: {known})"
                )
            if raw is None or isinstance(raw, list):
                raise self.source.error(
                    spath, f"{name!r} is a number in {filename}; give it a number or an expression"
                )
            given[name] = self._expr(raw, spath, self._scope_names())
        self.shared.modules[prefix] = Module(
            prefix, self.prefix, child.symbols, child.lists, given, path, given_lists
        )
        for name, qualified in child._block_names.items():
            self._block_names[f"{alias}.{name}"] = qualified

    # -- symbols and input -------------------------------------------------------------------

    def _input(self) -> tuple[Expr, ...]:
        shape = self.model.input
        if not shape:
            raise self.source.error(self._p("input"), "the input shape is empty; write it as [N, C, H, W]")
        return tuple(self._expr(v, self._p("input", i), set(self.symbols)) for i, v in enumerate(shape))

    def _expr(self, raw: Any, path: Path_, names: set[str]) -> Expr:
        try:
            e = parse(raw)
        except ExpressionError as exc:
            raise self.source.error(path, exc) from None
        self._check_names(e, path, names)
        return e

    def _check_names(self, e: Expr, path: Path_, names: set[str]) -> None:
        for n in sorted(e.names):
            if is_reference(n):
                self._check_reference(e, n, path, names)
                continue
            if n in self._tensors:
                raise self.source.error(
                    path,
                    f"{n!r} names a tensor (an argument of block {self._raw_name()!r} used in from:, "
                    f"inputs: or as {n}.C); its dimensions are {n}.N, {n}.C, {n}.H and {n}.W",
                )
            if n not in names and n not in INPUT_DIMS:
                import difflib

                close = difflib.get_close_matches(n, sorted(names), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(sorted(names)) or "none are declared"
                what = (
                    f"{n!r} is not defined" if e.text == n else f"{e.text!r} uses {n!r}, which is not defined"
                )
                if n in self._given_names():
                    raise self.source.error(
                        path,
                        f"{what} as a number: {n!r} is a layer; its dimensions are {n}.N, {n}.C, "
                        f"{n}.H and {n}.W, and a block takes it through an argument used in from:, "
                        f"inputs: or as arg.C",
                    )
                raise self.source.error(
                    path, f"{what}{hint}; names in scope: {known}. Declare symbols under 'symbols:'"
                )

    def _check_reference(self, e: Expr, n: str, path: Path_, names: set[str]) -> None:
        """``here.C``, ``input.C``, ``arg.C`` for a tensor argument, or ``layer.C`` for a layer
        (found when the network is expanded); not a symbol's or a number argument's."""
        base, _ = split_reference(n)
        if base in (INPUT, HERE, NETWORK) or base in self._tensors:
            return
        if base in names or base in self._kinds:
            what = "a layer kind" if base in self._kinds else "a number"
            raise self.source.error(
                path,
                f"in {e.text!r}: {base!r} is {what}, not a tensor; {n} reads the dimension of a "
                f"tensor: here.C (arriving here), input.C (the block's or the network's input) or "
                f"a layer's, such as layer1.C",
            )

    def _raw_name(self) -> str:
        name = self._block_name or ""
        return name[len(self.prefix) :] if name.startswith(self.prefix) else name

    # -- blocks ------------------------------------------------------------------------------

    def _arg(self, raw: Any, path: Path_, names: set[str]) -> Expr | tuple:
        """A block argument's value: an expression, or a list of them (a pair ``[a, b]``,
        rows)."""
        if isinstance(raw, list):
            from .symbols import read_list

            items = read_list(raw, self.source, path, names | INPUT_DIMS | _here_dims())
            for k, e in _flat(items):
                self._check_names(e, (*path, *k), names)
            return items
        return self._expr(raw, path, names)

    def _ref(self, raw: Any, path: Path_, names: set[str], *, generator: bool = False) -> Ref:
        """A reference to a tensor, its expressions checked against ``names``."""

        def parse_expr(text: str, extra: frozenset[str]) -> Expr:
            return self._expr(text, path, names | extra)

        try:
            return read_ref(raw, parse_expr, generator=generator)
        except ValueError as exc:
            raise self.source.error(path, str(exc)) from None

    # -- entries -----------------------------------------------------------------------------

    def _entries(self, raw: Any, path: Path_, names: set[str]) -> tuple[Entry, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.source.error(path, f"expected a list of layers, found {_kind(raw)}")
        return tuple(self._entry(item, (*path, i), names) for i, item in enumerate(raw))

    def _entry(self, raw: Any, path: Path_, names: set[str], as_kind: str | None = None) -> Entry:
        self.shared.count += 1
        if self.shared.count > MAX_ENTRIES:
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
            self._kind_entries.append((self, self._block_name, kind, raw, path, names))
            return Entry(kind, path, kind_arg=True)
        args = dict(args)
        meta = self._meta(args, apath, names)
        names = meta.pop("names")
        if kind in CONSTRUCTS:
            entry = self._residual(kind, args, apath, names, meta)
        elif kind in self._block_names:
            entry = self._invocation(self._block_names[kind], args, apath, names, meta)
        elif kind not in registry.REGISTRY:
            known = sorted(registry.REGISTRY) + list(CONSTRUCTS) + sorted(self._block_names)
            raise self.source.error(path, unknown_message("layer kind", kind, known), UnknownLayerError)
        else:
            entry = self._leaf(kind, args, apath, names, meta)
        return self._with_reads(entry)

    def _with_reads(self, entry: Entry) -> Entry:
        """The entry with the tensors' dimensions its own expressions read."""
        from dataclasses import replace

        exprs: list[Expr] = [entry.repeat, entry.when, entry.table]
        exprs += [p for p in entry.template or () if isinstance(p, Expr)]
        if entry.layer is not None:
            exprs += [e for _, e in entry.layer.expressions()]
        for args in (entry.block_args, entry.first or {}):
            for value in args.values():
                exprs += [e for _, e in _flat(value)] if isinstance(value, tuple) else [value]
        for ref in (entry.source_ref, entry.share, *entry.inputs):
            if ref is not None:
                exprs += [p for p in ref.parts if isinstance(p, Expr)] + list(ref.bounds)
        reads, axes = reads_of(e for e in exprs if isinstance(e, Expr))
        if not reads and not axes:
            return entry
        return replace(entry, reads=reads, input_axes=axes)

    def _meta(self, args: dict, path: Path_, names: set[str]) -> dict[str, Any]:
        """Pop the keys every entry may carry; ``names`` in the result are the names the
        entry's arguments may use (with the repeat index ``i`` in a repeated entry)."""
        meta: dict[str, Any] = {}
        if "for" in args:
            meta["table"], meta["fields"] = self._for(args.pop("for"), (*path, "for"), names)
            names = names | set(meta["fields"]) | {INDEX, ROW, COUNT}
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
            if "template" not in meta:
                self.shared.declared.setdefault(str(name), path)
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
                meta[key] = self._ref(ref, (*path, key), names)
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

    def _for(self, raw: Any, path: Path_, names: set[str]) -> tuple[Expr, tuple[str, ...]]:
        """``for: "t, c, n, s in settings"``: the table and the names its rows' fields take."""
        text = raw.strip() if isinstance(raw, str) else ""
        head, sep, table = text.partition(" in ")
        fields = tuple(f.strip() for f in head.split(","))
        if not sep or not all(_NAME.match(f) for f in fields):
            raise self.source.error(
                path,
                f'for: repeats an entry over the rows of a table, written as "t, c, n, s in '
                f'settings" (a name for each field, then the table); found {raw!r}',
            )
        taken = [f for f in (*fields, ROW, COUNT) if f in names or f in (INDEX, INPUT, HERE)]
        taken += [f for f in fields if f in (ROW, COUNT)]
        if len(set(fields)) != len(fields):
            raise self.source.error(path, f"for: names a field twice in {text!r}")
        if taken:
            what = "a symbol or an argument" if taken[0] in names else "reserved"
            which = "a field" if taken[0] in fields else "the row's index" if taken[0] == ROW else "the count"
            raise self.source.error(
                path,
                f"for: binds {taken[0]!r} ({which} here), which is {what} in scope; rename one of them",
            )
        return self._expr(table.strip(), path, names), fields

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
                if isinstance(refs, str) and refs.strip() in self._tensors:
                    refs = [refs]
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
                inputs = tuple(
                    self._ref(r, (*path, "inputs", k), names, generator=True) for k, r in enumerate(refs)
                )
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
            table=meta.get("table"),
            fields=meta.get("fields", ()),
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
            table=meta.get("table"),
            fields=meta.get("fields", ()),
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
                first_block = self._block_names[first_block]
                # The first repetition takes the entry's arguments, overridden by `first`.
                self._block_args(first_block, {**args, **raw_first}, path, names)
            first = self._block_args(first_block or kind, raw_first, (*path, "first"), names, partial=True)
        needs_all = first_block is None or meta.get("repeat") is not None or "table" in meta
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
            table=meta.get("table"),
            fields=meta.get("fields", ()),
        )


def _meta_for(cls: type[registry.Layer]) -> list[str]:
    extra = ["name", "freeze", "from", "repeat", "for", "share", "when"]
    if cls.arity != 1:
        extra += ["inputs", "branches"]
    return extra


def _flat(value: tuple, at: tuple = ()):
    """(position, expression) of every expression in a list (nested lists included)."""
    for k, item in enumerate(value):
        if isinstance(item, tuple):
            yield from _flat(item, (*at, k))
        else:
            yield (*at, k), item


def _here_dims() -> frozenset[str]:
    return frozenset(f"{HERE}.{axis}" for axis in INPUT_AXES)
