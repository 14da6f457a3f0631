"""The model's input read into the spec's input and symbols.

A dynamic axis (a ``dim_param``, or no size at all) becomes a symbol; ``--symbols`` makes fixed
axes symbols too, their sizes the defaults. Each distinct ``dim_param`` is one symbol, and two
that are spelt differently stay two symbols even when cleaning them up for a spec would make
them equal (``h-w`` and ``h_w``): tying axes that the model keeps independent would be a wrong
model. A symbol's default and description come back from the metadata ``cnncalc export``
writes (``cnncalc.symbols``).
"""

from __future__ import annotations

import json
import keyword
import re

from ..errors import UsageError
from ..lang.model import INPUT
from .reading import ModelError, safe_repr

#: Names the symbols ``--symbols`` may use for the axes of an (N, C, H, W) input.
AXES = {"N": 0, "C": 1, "H": 2, "W": 3}
#: The metadata key under which ``cnncalc export`` records the symbols' defaults.
SYMBOLS_KEY = "cnncalc.symbols"

_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def read_input(reader, symbols: str | None) -> None:
    graph = reader.graph
    inputs = [i for i in graph.graph.input if i.name not in graph.initializers]
    if len(inputs) != 1:
        names = ", ".join(safe_repr(i.name)[1:-1] for i in inputs[:5]) or "none"
        raise ModelError(f"{reader.source}: a spec has one input; the model has {len(inputs)} ({names})")
    (x,) = inputs
    if not x.type.HasField("tensor_type") or not x.type.tensor_type.HasField("shape"):
        raise ModelError(f"{reader.source}: the input {safe_repr(x.name)} has no tensor shape")
    raw = list(x.type.tensor_type.shape.dim)
    if not raw:
        raise ModelError(
            f"{reader.source}: the input {safe_repr(x.name)} is a scalar; a spec's input is a tensor"
        )
    if len(raw) > 8:
        raise ModelError(f"{reader.source}: the input {safe_repr(x.name)} has {len(raw)} axes (at most 8)")
    wanted = parse_symbols(symbols, len(raw))
    recorded = _recorded(reader.model)
    out: list[str | int] = []
    taken = {INPUT, *wanted.values()}
    dynamic: list[tuple[int, str]] = []  # (axis, dim_param) of axes without a size
    for axis, d in enumerate(raw):
        given = wanted.get(axis)
        if d.HasField("dim_value"):
            reader.graph.check_dims([d.dim_value], f"the input {safe_repr(x.name)}")
            if d.dim_value == 0:
                raise ModelError(f"{reader.source}: the input {safe_repr(x.name)} has a dimension 0")
            if given:
                _symbol(reader, given, d.dim_value)
                reader.fixed_symbols[axis] = given
                out.append(given)
            else:
                out.append(int(d.dim_value))
        else:
            out.append(given or "")
            if given:
                _symbol(reader, given, None)
                if d.dim_param:
                    reader.dim_params.setdefault(d.dim_param, given)
            else:
                dynamic.append((axis, d.dim_param))
    for axis, param in dynamic:
        if param and param in reader.dim_params:  # one dim_param on two axes: one symbol
            out[axis] = reader.dim_params[param]
            continue
        name = _fresh(symbol_name(param, axis, len(raw)), taken)
        taken.add(name)
        default, doc = recorded.get(param, (None, ""))
        _symbol(reader, name, default)
        if doc:
            reader.symbol_docs[name] = doc
        if param:
            reader.dim_params[param] = name
        out[axis] = name
    reader.start(x.name, out)


def _recorded(model) -> dict[str, tuple[int | None, str]]:
    """dim_param -> (default, doc) from ``cnncalc export``'s metadata, when it is well formed."""
    raw = next((p.value for p in model.metadata_props if p.key == SYMBOLS_KEY), None)
    if raw is None or len(raw) > 100_000:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    out = {}
    if isinstance(data, dict):
        for name, info in data.items():
            if not isinstance(info, dict):
                continue
            default = info.get("default")
            doc = info.get("doc", "")
            ok = isinstance(default, int) and not isinstance(default, bool) and 0 < default < 2**31
            out[str(name)] = (default if ok else None, doc if isinstance(doc, str) else "")
    return out


def _fresh(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    k = 2
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _symbol(reader, name: str, default: int | None) -> None:
    if name in reader.symbols:
        raise UsageError(f"--symbols: {name} names two input dimensions")
    reader.symbols[name] = default


def parse_symbols(text: str | None, rank: int) -> dict[int, str]:
    """``"N,H,W"`` or ``"B:0,S:2"`` -> {axis: name}."""
    if not text:
        return {}
    if len(text) > 1000:
        raise UsageError("--symbols: longer than 1000 characters")
    out: dict[int, str] = {}
    for item in text.split(","):
        name, colon, axis = item.strip().partition(":")
        shown = safe_repr(item.strip(), 40)
        if not _SYMBOL.match(name) or name == INPUT or len(name) > 100:
            raise UsageError(f"--symbols: {shown} is not a symbol name")
        if colon:
            axis = axis.strip()
            if not axis.isascii() or not axis.isdigit():
                raise UsageError(f"--symbols: {shown}: the axis after ':' is a number")
            if len(axis) > 3:
                raise UsageError(f"--symbols: {shown}: axis {axis[:10]}... of a rank-{rank} input")
            index = int(axis)
        elif name in AXES and rank == 4:
            index = AXES[name]
        else:
            raise UsageError(
                f"--symbols: {name!r}: N, C, H and W name the axes of an (N, C, H, W) input; "
                f"write NAME:AXIS for others (the input has rank {rank})"
            )
        if not 0 <= index < rank:
            raise UsageError(f"--symbols: axis {index} of a rank-{rank} input")
        if index in out:
            raise UsageError(f"--symbols: two names for axis {index}")
        out[index] = name
    return out


def symbol_name(dim_param: str, axis: int, rank: int) -> str:
    from ..lang.expr import FUNCTIONS

    if re.fullmatch(r"(s|unk__)\d+", dim_param or ""):
        dim_param = ""  # torch's and onnx's names for an unnamed size: named after the axis
    name = re.sub(r"[^A-Za-z0-9_]", "_", dim_param or "")[:60]
    if not name or not _SYMBOL.match(name) or name in FUNCTIONS or name == INPUT or set(name) == {"_"}:
        name = ("N", "C", "H", "W")[axis] if rank == 4 else f"D{axis}"
    return f"{name}_" if keyword.iskeyword(name) else name
