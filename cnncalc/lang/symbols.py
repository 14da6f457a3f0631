"""A spec's symbols: declared (a number, an expression of the symbols above it, or a list),
and bound (the values given, else the defaults, derived ones computed from the others)."""

from __future__ import annotations

import keyword
from typing import Any

from ..core import dims
from ..errors import ExpressionError, SpecError
from ..layers._fields import ArgumentError
from .expr import FUNCTIONS, Expr, evaluate, is_reference, parse
from .model import (
    _NAME,
    COUNT,
    INDEX,
    INPUT,
    ROW,
    ListValue,
    Symbol,
    _kind,
    _raise_validation,
    _SymbolModel,
)
from .source import Path_, Source

#: Most values in one list (a table of stage settings has a few dozen).
MAX_LIST = 10_000


def declare(name: str, value: Any, source: Source, base: Path_, earlier: dict, lists: dict) -> Any:
    """The symbol ``name`` declared as ``value``: a :class:`Symbol`, or a list (returned as
    ``(path, ListValue)``). ``earlier`` and ``lists`` are the symbols and lists declared above,
    which a derived default may read."""
    path = (*base, "symbols", name)
    if not _NAME.match(name) or keyword.iskeyword(name) or name in FUNCTIONS:
        raise source.error(path, f"{name!r} cannot be a symbol name (use letters, digits, _)")
    if name == INPUT:
        raise source.error(path, f"{INPUT!r} is reserved for the network input")
    if name == INDEX:
        raise source.error(path, f"{INDEX!r} is reserved for the index of a repetition")
    if isinstance(value, dict):
        try:
            spec = _SymbolModel.read(value)
        except ArgumentError as exc:
            _raise_validation(exc, source, path)
        dpath = (*path, "default")
    elif (
        value is None
        or isinstance(value, list)
        or (isinstance(value, (int, float, str)) and not isinstance(value, bool))
    ):
        spec = _SymbolModel.model_construct(default=value)
        dpath = path
    else:
        raise source.error(
            path,
            f"a symbol is a default value, a list or a mapping such as {{default: 224, min: 32}}, "
            f"found {_kind(value)}",
        )
    names = set(earlier) | set(lists)
    if isinstance(spec.default, list):
        if isinstance(value, dict) and (spec.min is not None or spec.max is not None):
            raise source.error(path, "a list symbol has no bounds (min, max)")
        return (dpath, read_list(spec.default, source, dpath, names))
    integer = spec.type == "integer"

    def number(key: str, raw: Any):
        if raw is None:
            return None
        p = (*path, key) if isinstance(value, dict) else path
        try:
            e = parse(raw)
            v = e.constant
        except ExpressionError as exc:
            raise source.error(p, exc) from None
        if v is None:
            raise source.error(p, f"{key} must be a number, found {e.text!r}")
        if integer and not isinstance(v, int):
            raise source.error(
                p,
                f"{key} = {e.text} is not an integer; declare `type: rational` for "
                f"multipliers such as a width factor",
            )
        if v <= 0 and key != "min":
            raise source.error(p, f"{key} must be positive, found {e.text}")
        return v

    derived = None
    try:
        default_expr = None if spec.default is None else parse(spec.default)
    except ExpressionError as exc:
        raise source.error(dpath, exc) from None
    if default_expr is not None and default_expr.names:
        derived = default_expr
        check_names(derived, source, dpath, names, f"the default of {name}")
        default = None
    else:
        default = number("default", spec.default)
    lo, hi = number("min", spec.min), number("max", spec.max)
    if lo is not None and lo <= 0 and integer:
        raise source.error((*path, "min"), f"min must be at least 1 (sizes are positive), found {lo}")
    sym = Symbol(name, default, lo, hi, integer, spec.doc, derived, dpath)
    if hi is not None and hi < sym.lower:
        raise source.error(path, f"max = {hi} is below min = {sym.lower}")
    if default is not None and not (sym.lower <= default and (hi is None or default <= hi)):
        raise source.error(
            path, f"default {default} is outside [{sym.lower}, {hi if hi is not None else 'inf'}]"
        )
    return sym


def check_names(e: Expr, source: Source, path: Path_, names: set[str], what: str) -> None:
    """Refuse a name in ``e`` that is not in ``names`` (symbols and lists declared above)."""
    for n in sorted(e.names):
        if is_reference(n):
            raise source.error(
                path, f"{what} cannot read a tensor's dimension ({n}); it is known before any layer"
            )
        if n not in names:
            if n in (INDEX, ROW, COUNT):
                raise source.error(path, f"{what} cannot read {n!r}: it is the index of a repetition")
            known = ", ".join(sorted(names)) or "none"
            raise source.error(
                path,
                f"{what} reads {n!r}, which is not declared above it; a default may use the "
                f"symbols declared before it (above it: {known})",
            )


def read_list(raw: list, source: Source, path: Path_, names: set[str], depth: int = 0) -> ListValue:
    """A list written in a spec: numbers or expressions (of ``names``), and lists of them."""
    if not raw:
        raise source.error(path, "a list needs at least one value")
    if len(raw) > MAX_LIST:
        raise source.error(path, f"a list has at most {MAX_LIST:,} values, found {len(raw):,}")
    if depth > 3:
        raise source.error(path, "lists nest at most 4 levels (a table of rows of pairs)")
    out = []
    for k, item in enumerate(raw):
        if isinstance(item, list):
            out.append(read_list(item, source, (*path, k), names, depth + 1))
            continue
        try:
            e = parse(item)
        except ExpressionError as exc:
            raise source.error((*path, k), exc) from None
        for n in e.names:
            if n not in names:
                known = ", ".join(sorted(names)) or "none"
                raise source.error(
                    (*path, k), f"{e.text!r} reads {n!r}, which is not declared above it (above it: {known})"
                )
        out.append(e)
    return tuple(out)


def list_value(value: ListValue, scope: dict, source: Source, path: Path_) -> tuple:
    """A list's values in ``scope``."""
    out = []
    for k, item in enumerate(value):
        if isinstance(item, tuple):
            out.append(list_value(item, scope, source, (*path, k)))
            continue
        try:
            out.append(evaluate(item, scope))
        except ExpressionError as exc:
            raise source.error((*path, k), exc) from None
    return tuple(out)


def derived_value(sym: Symbol, scope: dict, source: Source) -> Any:
    """The value of a derived symbol in ``scope`` (the symbols above it bound, open ones as
    sympy symbols), checked against its kind and bounds when it is known.

    Raises:
        SpecError: located at the default, when it cannot be computed or breaks a rule.
    """
    try:
        value = evaluate(sym.derived, scope)
    except ExpressionError as exc:
        raise source.error(sym.path, exc) from None
    if isinstance(value, tuple):
        raise source.error(sym.path, f"the default of {sym.name} is a list; index it ({sym.derived.text}[0])")
    if not dims.is_concrete(value):
        return value
    inputs = ", ".join(
        f"{n} = {dims.fmt(scope[n])}"
        for n in sorted(sym.derived.names)
        if not isinstance(scope.get(n), tuple)
    )
    shown = f"{sym.name} = {sym.derived.text} = {dims.fmt(value)}" + (f" (with {inputs})" if inputs else "")
    if sym.integer and not isinstance(value, int):
        raise source.error(
            sym.path,
            SpecError(
                f"{shown} is not an integer",
                hint="round it (floor, ceil, make_divisible), or declare `type: rational`",
            ),
        )
    if value < sym.lower or (sym.max is not None and value > sym.max):
        hi = dims.fmt(sym.max) if sym.max is not None else "inf"
        raise source.error(sym.path, f"{shown} is outside [{dims.fmt(sym.lower)}, {hi}]")
    return value


def bind(
    symbols: dict[str, Symbol], lists: dict, given: dict[str, Any], structural, symbolic: bool, source: Source
) -> dict[str, Any]:
    """Every symbol's value: given, else its default, else (with ``symbolic``, or without a
    default) None for open; a derived default is computed from the symbols above it (an
    expression of the open ones). ``given`` holds checked values."""
    out: dict[str, Any] = {}
    scope: dict[str, Any] = {}
    for name, sym in symbols.items():
        if name in given:
            value = given[name]
        elif sym.derived is not None:
            for n, (path, lst) in lists.items():
                if n in sym.derived.names and n not in scope:
                    scope[n] = list_value(lst, scope, source, path)
            value = derived_value(sym, scope, source)
        elif sym.default is not None and (not symbolic or name in structural):
            value = sym.default
        else:
            value = None
        out[name] = value
        scope[name] = value if value is not None else dims.symbol(name, integer=sym.integer)
    return out
