"""References to tensors in a spec: ``from:``, ``inputs:``, ``share:`` and block arguments that
name a tensor. A reference is a name (``layer1``, ``layer3.2.conv1``), a name template
(``dense{j}``), or, in ``inputs:``, a list of names built over a range
(``"dense{j} for j in range(i)"``)."""

from __future__ import annotations

import re
from typing import Any

from .expr import INPUT_AXES, Expr, is_reference
from .model import _LAYER_NAME, _NAME, _TEMPLATE_PART, INPUT, Ref
from .refnames import split_reference

#: ``TEMPLATE for VAR in range(ARGS)``.
_GENERATOR = re.compile(r"^(?P<template>.+?)\s+for\s+(?P<var>[A-Za-z_]\w*)\s+in\s+range\((?P<args>.*)\)\s*$")


def split_args(text: str) -> list[str]:
    """The arguments of a call, split at the commas outside parentheses and brackets."""
    out, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:k])
            start = k + 1
    out.append(text[start:])
    return [a.strip() for a in out]


def read_ref(raw: Any, parse_expr, *, generator: bool) -> Ref:
    """A reference as written. ``parse_expr(text, extra_names)`` checks an expression;
    ``generator`` allows the ``... for j in range(...)`` form.

    Raises:
        ValueError: with the message, when it is not a reference.
    """
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise ValueError(f"a reference is a layer's name, found {_what(raw)}")
    text = str(raw).strip()
    var, bounds, extra = None, (), frozenset()
    m = _GENERATOR.match(text) if " for " in f" {text} " else None
    if m is not None:
        if not generator:
            raise ValueError(f"{text!r} names several layers; only inputs: takes a list built with for")
        var = m.group("var")
        args = split_args(m.group("args"))
        if not 1 <= len(args) <= 2 or not all(args):
            raise ValueError(f"in {text!r}: range() takes 1 or 2 arguments (range(n) or range(a, b))")
        bounds = tuple(parse_expr(a, frozenset()) for a in args)
        extra = frozenset({var})
        body = m.group("template").strip()
    elif re.search(r"\sfor\s", text):
        raise ValueError(
            f'cannot read {text!r} as a list of names; write it as "NAME{{j}} for j in range(n)" '
            f"(or range(a, b))"
        )
    else:
        body = text
    parts: list[str | Expr] = []
    end = 0
    for t in _TEMPLATE_PART.finditer(body):
        parts.append(body[end : t.start()])
        parts.append(parse_expr(t.group(1), extra))
        end = t.end()
    parts.append(body[end:])
    literal = "".join(p for p in parts if isinstance(p, str))
    if "{" in literal or "}" in literal or not re.fullmatch(r"[A-Za-z0-9_.\-]+|", literal):
        raise ValueError(
            f"a reference is a layer's name (letters, digits, '_', '.', '-') with {{expressions}} "
            f"such as 'dense{{j}}'; found {text!r}"
        )
    parts = [p for p in parts if p != ""]
    if not parts:
        raise ValueError("a reference is a layer's name, found an empty text")
    if var is not None and not any(isinstance(p, Expr) and var in p.names for p in parts):
        raise ValueError(f"in {text!r}: the name does not use {var} (write {{{var}}} in it)")
    if len(parts) == 1 and isinstance(parts[0], str) and not _LAYER_NAME.match(parts[0]):
        raise ValueError(f"a reference is a layer's name (letters, digits, '_', '.', '-'); found {text!r}")
    return Ref(text, tuple(parts), var, bounds)


def _what(raw: Any) -> str:
    if raw is None:
        return "nothing"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "a mapping"
    return repr(raw)


def ref_names(ref: Ref) -> set[str]:
    """The names a reference's expressions read (its own range variable apart)."""
    out = {n for p in ref.parts if isinstance(p, Expr) for n in p.names}
    out |= {n for b in ref.bounds for n in b.names}
    return out - ({ref.var} if ref.var else set())


# -- arguments that name tensors, found from the raw definitions ---------------------------------


def _strings(value: Any):
    """Every string in a raw value (mappings, lists, scalars)."""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            todo += list(v.values())
        elif isinstance(v, list):
            todo += v


_DOTTED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\.(" + "|".join(INPUT_AXES) + r")\b")


def tensor_uses(
    items: Any, args: set[str], raw_entries, *, references: bool = True, dotted: bool = True
) -> set[str]:
    """The arguments in ``args`` that the raw layer list ``items`` uses as tensors: in
    ``from:``, ``inputs:`` or ``share:`` (``references``), or as ``arg.C`` in an expression
    (``dotted``)."""
    out: set[str] = set()
    for _kind, body in raw_entries(items):
        if body is None:
            continue
        if references:
            for key in ("from", "share"):
                if isinstance(body.get(key), str) and body[key].strip() in args:
                    out.add(body[key].strip())
            inputs = body.get("inputs")
            if isinstance(inputs, list):
                out |= {r.strip() for r in inputs if isinstance(r, str) and r.strip() in args}
        if dotted:
            for text in _strings({k: v for k, v in body.items() if k not in ("from", "share", "inputs")}):
                out |= {m.group(1) for m in _DOTTED.finditer(text) if m.group(1) in args}
    return out


def number_reads(items: Any, args: dict[str, Any], names: set[str], raw_entries, blocks) -> set[str]:
    """The names in ``names`` (arguments of a block whose raw layers are ``items`` and whose
    raw arguments are ``args``) that the block reads as numbers: in an expression or a name
    template anywhere but where the name stands alone as a reference (``from: x``, an item
    ``x`` of ``inputs:``, ``share: x``, a layer's own ``name: x``, or ``x`` passed whole to a
    block, which may take it as a tensor)."""
    words = {n: re.compile(r"(?<![\w.])" + re.escape(n) + r"\b(?!\.)") for n in names}
    texts: list[str] = [v for v in _strings(list(args.values()))]
    for kind, body in raw_entries(items):
        if body is None:
            continue
        whole = kind in blocks
        for key, value in body.items():
            if key in ("body", "shortcut", "branches"):
                continue  # their entries are visited apart
            values = value if key == "inputs" and isinstance(value, list) else [value]
            for v in _strings(values):
                if v.strip() in names and (key in ("from", "share", "inputs", "name") or whole):
                    continue
                texts.append(v)
    return {n for n, word in words.items() if any(word.search(t) for t in texts)}


def reads_of(exprs) -> tuple[frozenset[str], frozenset[str]]:
    """The tensors' dimensions ``exprs`` read (``input.*`` apart), and the axes of ``input``."""
    reads, axes = set(), set()
    for e in exprs:
        if e is None:
            continue
        for n in e.names:
            if not is_reference(n):
                continue
            base, axis = split_reference(n)
            if base == INPUT:
                axes.add(axis)
            else:
                reads.add(n)
    return frozenset(reads), frozenset(axes)


def is_name(text: str) -> bool:
    return bool(_NAME.match(text))
