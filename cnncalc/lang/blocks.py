"""The loader's rules for blocks (see :mod:`cnncalc.lang.loader`)."""

from __future__ import annotations

import re
from typing import Any

from .. import layers as registry
from ..errors import UnknownLayerError, unknown_message
from .expr import FUNCTIONS, Expr
from .model import (
    _NAME,
    CONSTRUCTS,
    INDEX,
    INPUT,
    MAX_NESTING,
    META_KEYS,
    Arg,
    Block,
    Entry,
    Ref,
    _BlockModel,
    _kind,
)
from .source import Path_


class BlockRules:
    """The loader's rules for blocks: definitions, arguments, kinds passed as arguments, cycles,
    and the symbols that decide how the network expands."""

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
            refs = (e.source_ref, e.share, *e.inputs)
            for expr in (
                e.repeat,
                e.when,
                e.table,
                *(p for p in e.template or () if isinstance(p, Expr)),
                *(x for r in refs if r is not None for x in _exprs_of(r)),
            ):
                if expr is not None:
                    names |= expr.names
            for args in (e.block_args, e.first or {}):
                for arg, value in args.items():
                    used = frozenset(n for x in _exprs_of(value) for n in x.names)
                    for block in {e.kind, e.first_block} & set(self.blocks):
                        passes.append((ctx, block, arg, used))
                    if isinstance(value, Ref):  # a reference's template decides which tensor
                        names |= used
            todo += [(ctx, b) for branch in e.branches for b in branch]
        changed = True
        while changed:
            changed = False
            for name, block in self.blocks.items():  # a structural argument's default
                mine = reads.setdefault(name, set())
                for arg, default in block.args.items():
                    if (arg in mine or isinstance(default, Ref)) and default is not None:
                        new = {n for x in _exprs_of(default) for n in x.names} - mine
                        if new:
                            mine |= new
                            changed = True
            for ctx, block, arg, used in passes:
                if arg in reads.get(block, ()) and not used <= reads[ctx]:
                    reads[ctx] |= used
                    changed = True
        return self._structural_symbols(reads)

    def _structural_symbols(self, reads: dict) -> frozenset[str]:
        """The symbols of this spec that the names read in ``reads`` (by context: None for the
        top level, else a block) depend on: directly, through a derived default or a list, or,
        in a used spec's block, through the values given to that spec's symbols."""
        modules = self.shared.modules
        wanted: dict[str, set[str]] = {}  # module prefix -> names read
        for ctx, names in reads.items():
            module = "" if ctx is None else self.blocks[ctx].module
            wanted.setdefault(module, set()).update(names)
        out: set[str] = set()
        # Deepest modules first: what they need of their symbols is read from their parent.
        for prefix in sorted(wanted, key=lambda p: -p.count(".")):
            names = wanted[prefix]
            symbols, lists = (
                (self.symbols, self.lists) if not prefix else (modules[prefix].symbols, modules[prefix].lists)
            )
            closed, todo = set(), list(names)
            while todo:
                n = todo.pop()
                if n in closed:
                    continue
                closed.add(n)
                if n in symbols and symbols[n].derived is not None:
                    todo += list(symbols[n].derived.names)
                if n in lists:
                    todo += [x for e in _exprs_of(lists[n][1]) for x in e.names]
            if not prefix:
                out |= {n for n in closed if n in symbols}
                continue
            module = modules[prefix]
            for n in closed & set(module.given):
                wanted.setdefault(module.parent, set()).update(module.given[n].names)
        return frozenset(out)

    def _unused_blocks(self, layers: tuple[Entry, ...]) -> tuple[tuple[Path_, str], ...]:
        """A warning for each block of this file that nothing uses (a used spec's are free)."""
        used: set[str] = set()
        todo = list(_uses(layers, self.blocks)) + [b for ctx, b in self._block_refs if ctx is None]
        while todo:
            name = todo.pop()
            if name not in used:
                used.add(name)
                todo += list(_uses(self.blocks[name].layers, self.blocks))
                todo += [b for ctx, b in self._block_refs if ctx == name]
        return tuple(
            (b.path, f"block {name!r} is never used")
            for name, b in self.blocks.items()
            if name not in used and self.shared.loaders.get(name) is self
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
        for loader, block, arg, raw, path, names in self._kind_entries:
            b = self.blocks[block]
            loader._block_name, loader._kinds, loader._tensors = block, b.kinds, b.tensors
            for kind in sorted(possible.get((block, arg), ())):
                out[(path, kind)] = loader._entry(raw, path, names, as_kind=kind)
        return out

    def _written(self, block: str) -> str:
        """A block's name as this file writes it (``unit``, or ``lib.unit`` for a used one)."""
        return next((n for n, q in self._block_names.items() if q == block), block)

    def _raw_block(self, block: str):
        """The loader of a block's file, and the block's raw definition."""
        loader = self.shared.loaders[block]
        return loader, loader.model.blocks[block[len(loader.prefix) :]]

    def _arg_uses(self, find) -> dict[str, set[str]]:
        """For each block of this file, its arguments that ``find(layers, args)`` finds used,
        or that it passes on to such an argument of a block it invokes (of this file, or of a
        used one, whose own are found by its loader)."""
        raw = {self.prefix + n: (b.layers, set(b.args)) for n, b in self.model.blocks.items()}
        found = {n: find(layers, args, n) for n, (layers, args) in raw.items()}
        changed = True
        while changed:
            changed = False
            for n, (layers, args) in raw.items():
                for kind, passed in _raw_entries(layers):
                    callee = self._block_names.get(kind)
                    if callee is None or passed is None:
                        continue
                    theirs = found[callee] if callee in found else self._callee_uses(callee, find)
                    for arg, val in passed.items():
                        if arg in theirs and isinstance(val, str) and val.strip() in args - found[n]:
                            found[n].add(val.strip())
                            changed = True
        return found

    def _callee_uses(self, block: str, find) -> set[str]:
        loader = self.shared.loaders[block]
        return loader.blocks_tensors(block) if find == self._tensor_find else loader.blocks_kinds(block)

    def blocks_kinds(self, block: str) -> set[str]:
        """The kind arguments of ``block`` (qualified): used as an entry's kind, or passed on to
        a kind argument of a block it invokes (found from the raw definitions, before loading).
        An argument with a block's name used as an entry's kind is the block unless its values
        are kinds (see :meth:`_kind_find`)."""
        if not hasattr(self, "_all_kinds"):
            self._all_kinds = self._arg_uses(self._kind_find)
        return self._all_kinds[block]

    def blocks_tensors(self, block: str) -> set[str]:
        """The arguments of ``block`` (qualified) that name a tensor."""
        if not hasattr(self, "_all_tensors"):
            self._all_tensors = self._arg_uses(self._tensor_find)
        return self._all_tensors[block]

    def _tensor_find(self, layers: Any, args: set[str], block: str) -> set[str]:
        """The arguments used as tensors. One that a reference names (``from: x``, ``inputs:
        [x]``, ``share: x``) but that the block reads as a number, or that takes a number, is a
        number, as in the releases before arguments could name tensors: the reference names
        the layer (a warning says to rename the argument)."""
        from .refs import number_reads, tensor_uses

        used = tensor_uses(layers, args, _raw_entries)
        # ``arg.C`` was not in the language before: such an argument names a tensor
        referenced = used - tensor_uses(layers, args, _raw_entries, references=False)
        if not referenced:
            return used
        raw_name = block[len(self.prefix) :]
        raw_args = self.model.blocks[raw_name].args
        read = number_reads(layers, raw_args, referenced, _raw_entries, self._block_names)
        for arg in sorted(referenced):
            default = raw_args.get(arg)
            values = ([default] if default is not None else []) + self._passed_values(block, arg)
            if arg not in read and not any(v is not None and not isinstance(v, str) for v in values):
                continue
            if not self._may_name_a_layer(arg):
                continue  # the spec never loaded before: the argument names a tensor
            used.discard(arg)
            self.shared.warnings.append(
                (
                    self._p("blocks", raw_name, "args", arg),
                    f"argument {arg!r} of block {raw_name!r} is a number, and a reference in "
                    f"{raw_name!r} has its name: that reference names a layer {arg!r}, as before "
                    f"block arguments could name tensors; rename the argument (such as {arg}_n) "
                    f"to keep the two apart",
                )
            )
        return used

    def _kind_find(self, layers: Any, args: set[str], block: str) -> set[str]:
        """The arguments used as an entry's kind. One that has a block's name is a kind only
        when its default, or every value passed to it, names a kind: else the entry invokes the
        block (a warning says to rename the argument), and with nothing to tell, it is refused
        as ambiguous."""
        used = _kind_uses(layers, args)
        raw_name = block[len(self.prefix) :]
        for arg in sorted(used & set(self._block_names)):
            default = self.model.blocks[raw_name].args.get(arg)
            values = [default] if default is not None else self._passed_values(block, arg)
            kinds = [
                isinstance(v, str) and (v in registry.REGISTRY or v in self._block_names) for v in values
            ]
            apath = self._p("blocks", raw_name, "args", arg)
            if values and all(kinds):
                self.shared.warnings.append(
                    (
                        apath,
                        f"argument {arg!r} of block {raw_name!r} has the name of a block: `- {arg}` in "
                        f"{raw_name!r} is the kind passed to it, not block {arg!r}; rename the argument "
                        f"(such as {arg}_kind) to keep the two apart",
                    )
                )
                continue
            if not values or any(kinds):
                raise self.source.error(
                    apath,
                    f"argument {arg!r} of block {raw_name!r} has the name of a block and is used as "
                    f"a layer kind (`- {arg}`): it is not clear whether that entry is block {arg!r} "
                    f"or the kind passed to the argument; rename the argument",
                )
            used.discard(arg)
            self.shared.warnings.append(
                (
                    apath,
                    f"argument {arg!r} of block {raw_name!r} has the name of a block: `- {arg}` in "
                    f"{raw_name!r} invokes block {arg!r}, and {arg} in expressions is the argument; "
                    f"rename the argument (such as use_{arg}) to keep the two apart",
                )
            )
        return used

    def _may_name_a_layer(self, name: str) -> bool:
        """Whether a layer of this file may have ``name``: one is given it, or it has the form
        of a generated one (``conv1``, ``relu6_2``)."""
        return bool(_GENERATED.match(name)) or name in self._given_names()

    def _given_names(self) -> set[str]:
        """The names written in ``name:`` in this file (templates apart)."""
        if not hasattr(self, "_names_given"):
            lists = [self.model.layers] + [b.layers for b in self.model.blocks.values()]
            self._names_given = {
                str(body["name"]).strip()
                for items in lists
                for _kind, body in _raw_entries(items)
                if isinstance(body, dict) and "name" in body and "{" not in str(body["name"])
            }
        return self._names_given

    def _passed_values(self, block: str, arg: str) -> list:
        """The values passed to ``arg`` of ``block`` by the invocations written in this file."""
        lists = [self.model.layers] + [b.layers for b in self.model.blocks.values()]
        out = []
        for items in lists:
            for kind, body in _raw_entries(items):
                if self._block_names.get(kind) == block and body is not None:
                    for mapping in (body, body.get("first") if isinstance(body.get("first"), dict) else {}):
                        if arg in mapping:
                            out.append(mapping[arg])
        return out

    def _check_block_name(self, name: str) -> None:
        path = self._p("blocks", name)
        if not _NAME.match(name):
            raise self.source.error(path, f"{name!r} cannot be a block name (use letters, digits, _)")
        if name in registry.REGISTRY or name in CONSTRUCTS:
            raise self.source.error(path, f"block {name!r} has the name of a built-in layer kind")

    def _block(self, name: str, model: _BlockModel) -> Block:
        path = self._p("blocks", name)
        qualified = self.prefix + name
        kinds = self.blocks_kinds(qualified)
        tensors = self.blocks_tensors(qualified) - kinds
        self._block_name, self._kinds, self._tensors = None, frozenset(), frozenset()
        args: dict[str, Arg | None] = {}
        scope = set(self.symbols) | set(self.lists)
        for arg, default in model.args.items():
            apath = (*path, "args", arg)
            if not _NAME.match(arg) or arg in META_KEYS or arg in FUNCTIONS or arg in (INDEX, INPUT):
                raise self.source.error(apath, f"{arg!r} cannot be an argument name")
            if arg in registry.REGISTRY:
                raise self.source.error(apath, f"argument {arg!r} has the name of a layer kind")
            if default is None:
                args[arg] = None
            elif arg in kinds:
                args[arg] = self._kind_value(qualified, arg, default, apath)
            elif arg in tensors:
                self._tensors = frozenset(a for a in args if a in tensors)
                args[arg] = self._ref(default, apath, scope | {a for a in args if a not in kinds | tensors})
            else:
                # Defaults may use symbols and the arguments declared before them.
                self._tensors = frozenset(a for a in args if a in tensors)
                args[arg] = self._arg(default, apath, scope | {a for a in args if a not in kinds | tensors})
        names = scope | {a for a in args if a not in kinds and a not in tensors}
        self._block_name, self._kinds, self._tensors = qualified, frozenset(kinds), frozenset(tensors)
        layers = self._entries(model.layers, (*path, "layers"), names)
        if not layers:
            raise self.source.error((*path, "layers"), f"block {name!r} has no layers")
        module = self.prefix
        return Block(qualified, args, layers, path, frozenset(kinds), frozenset(tensors), module)

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
            raw = str(raw)
            raise self.source.error(
                path,
                f"{arg} is used as a layer kind in block {block!r}: "
                + unknown_message("layer kind or block", raw, known),
                UnknownLayerError,
            )
        if raw in self._block_names:  # a block passed as a kind: used by the passer
            raw = self._block_names[raw]
            self._block_refs.append((self._block_name, raw))
        self._kinds_passed.setdefault((block, arg), set()).add(raw)
        return raw

    def _check_block_cycles(self) -> None:
        """Refuse blocks that use each other in a cycle (``first: {block: ...}`` included) and
        nesting deeper than ``MAX_NESTING`` levels, without recursion (a chain may be long)."""
        own = [q for q in self._block_names.values() if self.shared.loaders.get(q) is self]
        graph = {n: _uses(self.blocks[n].layers, self.blocks) for n in own}
        depth: dict[str, int] = dict(self.shared.depth)  # levels of nesting, once known
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
        for name in own:
            if depth[name] > MAX_NESTING:
                raise self.source.error(
                    self.blocks[name].path,
                    f"block {name!r} nests blocks and branches {depth[name]} levels deep "
                    f"(at most {MAX_NESTING}, the limit of nesting depth)",
                )
        self.shared.depth.update(depth)

    def _block_args(self, kind: str, args: dict, path: Path_, names: set[str], partial: bool = False):
        owner, m = self._raw_block(kind)
        out = {}
        for key, raw in args.items():
            if key not in m.args:
                import difflib

                known = list(m.args)
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.source.error(
                    (*path, key),
                    f"block {self._written(kind)!r} has no argument {key!r}{hint} "
                    f"(it takes: {', '.join(known) or 'none'})",
                )
            if key in owner.blocks_kinds(kind):
                out[key] = self._kind_value(kind, key, raw, (*path, key))
            elif key in owner.blocks_tensors(kind):
                out[key] = self._ref(raw, (*path, key), names)
            else:
                out[key] = self._arg(raw, (*path, key), names)
        if not partial:
            missing = [a for a, d in m.args.items() if d is None and a not in out]
            if missing:
                raise self.source.error(
                    path,
                    f"block {self._written(kind)!r} needs argument{'s' * (len(missing) > 1)} "
                    f"{', '.join(missing)}",
                )
        return out


#: The form of a generated layer name: a kind's short name and a counter (``conv1``, ``relu6_2``).
_GENERATED = re.compile(r"^[A-Za-z_]\w*\d$")


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


def _exprs_of(value: Any):
    """The expressions in a block argument's value, a list, or a reference."""
    if isinstance(value, Expr):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _exprs_of(item)
    elif isinstance(value, Ref):
        yield from (p for p in value.parts if isinstance(p, Expr))
        yield from value.bounds
