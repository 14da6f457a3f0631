"""The loader's rules for blocks (see :mod:`cnncalc.lang.loader`)."""

from __future__ import annotations

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
