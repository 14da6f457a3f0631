"""A spec's ``budget:`` section: limits on its totals, at one or several input sizes.

Written either as one mapping, checked at the spec's default sizes::

    budget: {params: 26M, macs: 4.1G}

or as a list of them, each at its own sizes (``at``) and, optionally, over a range of sizes
(``open``: the symbols left open, over their declared range or the one given)::

    budget:
      - {params: 26M, macs: 4.1G}                        # at the defaults
      - {at: {H: 320, W: 320}, macs: 8.5G}
      - {open: {H: [32, 224], W: [32, 224]}, macs: 4.1G}  # for every size in that range

A limit is a whole number, written plainly (``4100000000``, ``4.1e9``) or in the units the
reports print (``4.1G``: k, M, G, T are powers of 1000); a limit in bytes may also be written
in powers of 1024 (``512MiB``). ``4.1G`` is exactly 4,100,000,000: limits are compared exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..errors import ExpressionError
from .expr import parse
from .source import Path_, Source

#: What a budget may limit: totals counted in elements or operations, and sizes in bytes.
METRICS = {
    "params": "learnable parameters",
    "macs": "multiply-accumulates",
    "flops": "floating-point operations",
    "activations": "elements of every layer output, summed",
    "peak_bytes": "the inference peak of activation memory, in bytes",
}
#: The keys of a budget entry besides its limits.
ENTRY_KEYS = ("at", "open")
#: Units of a count (and of bytes): powers of 1000, as the reports print them.
COUNT_UNITS = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
#: Units of a size in bytes besides those: powers of 1024.
BYTE_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
#: Most digits a limit may have (a larger one is a mistake, and would be slow to compare).
MAX_DIGITS = 40

_AMOUNT = re.compile(r"(\d+)(?:\.(\d+))?(?:[eE]\+?(\d{1,2}))?\s*([A-Za-z]*)")


@dataclass(frozen=True)
class Budget:
    """Limits on totals at one set of symbol values.

    ``at`` gives symbols values (the others keep theirs); ``open`` leaves symbols open, each
    over ``(low, high)`` (None: its declared bound), and the limits must then hold for every
    value in that range.
    """

    limits: dict[str, int]
    at: dict[str, int | Fraction] = field(default_factory=dict)
    open: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    where: str = ""  # file:line:column of the entry, or "command line"
    path: Path_ = ()
    #: file:line:column of each limit (its own line in the spec)
    wheres: dict[str, str] = field(default_factory=dict)

    def where_of(self, metric: str) -> str:
        return self.wheres.get(metric, self.where)


def parse_amount(text: Any, metric: str) -> int:
    """``"4.1G"`` -> 4100000000; ``"512MiB"`` -> 536870912 (for a metric in bytes).

    Raises:
        ValueError: with the reason, for anything but a whole number at least 0.
    """
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        raise ValueError("expected a number such as 4.1G or 26M")
    if isinstance(text, float):
        text = repr(text)
    raw = str(text).strip()
    m = _AMOUNT.fullmatch(raw)
    if not m or len(raw) > 60:
        raise ValueError(f"expected a number such as 4.1G, 26M or 4100000000, found {raw!r}")
    whole, decimals, exponent, unit = m.groups()
    units = {**COUNT_UNITS, **(BYTE_UNITS if metric.endswith("_bytes") else {})}
    if unit not in units:
        known = "k, M, G, T (powers of 1000)" + (
            "; KiB, MiB, GiB, TiB (powers of 1024)" if metric.endswith("_bytes") else ""
        )
        raise ValueError(f"{unit!r} is not a unit of {metric}; write {known}")
    value = Fraction(int(whole + (decimals or "")), 10 ** len(decimals or ""))
    value *= 10 ** int(exponent or 0) * units[unit]
    if value.denominator != 1:
        raise ValueError(f"{raw} is not a whole number of {metric} ({float(value):g})")
    if len(str(value.numerator)) > MAX_DIGITS:
        raise ValueError(f"{raw} has more than {MAX_DIGITS} digits")
    return value.numerator


def read_budgets(raw: Any, source: Source, symbols: dict) -> tuple[Budget, ...]:
    """The budgets of a spec's ``budget:`` section (``raw``: its YAML value), validated.

    Raises:
        SpecError: located at the entry or value that is wrong.
    """
    if raw is None:
        return ()
    entries = raw if isinstance(raw, list) else [raw]
    base: Path_ = ("budget",)
    out = []
    for i, entry in enumerate(entries):
        path = (*base, i) if isinstance(raw, list) else base
        if not isinstance(entry, dict):
            raise source.error(path, "a budget is a mapping such as {params: 26M, macs: 4.1G}")
        limits: dict[str, int] = {}
        for key, value in entry.items():
            if key in ENTRY_KEYS:
                continue
            if key not in METRICS:
                import difflib

                close = difflib.get_close_matches(str(key), [*METRICS, *ENTRY_KEYS], n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise source.error(
                    path, f"unknown budget {key!r}{hint} (expected: {', '.join([*METRICS, *ENTRY_KEYS])})"
                )
            try:
                limits[key] = parse_amount(value, key)
            except ValueError as exc:
                raise source.error((*path, key), str(exc)) from None
        if not limits:
            raise source.error(path, f"a budget limits at least one of {', '.join(METRICS)}")
        at = _values(entry.get("at"), (*path, "at"), source, symbols)
        opened = _open(entry.get("open"), (*path, "open"), source, symbols)
        both = sorted(set(at) & set(opened))
        if both:
            raise source.error(path, f"{both[0]} is both given a value (at) and left open (open)")
        wheres = {m: source.where((*path, m)) for m in limits}
        out.append(Budget(limits, at, opened, source.where(path), path, wheres))
    return tuple(out)


def _number(raw: Any, path: Path_, source: Source) -> int | Fraction:
    try:
        v = parse(raw).constant
    except ExpressionError as exc:
        raise source.error(path, str(exc)) from None
    if v is None:
        raise source.error(path, f"expected a number, found {raw!r}")
    return v


def _symbol(name: Any, path: Path_, source: Source, symbols: dict) -> str:
    if name not in symbols:
        known = ", ".join(symbols) or "none are declared"
        raise source.error(path, f"{name!r} is not a declared symbol (symbols: {known})")
    return name


def _values(raw: Any, path: Path_, source: Source, symbols: dict) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise source.error(path, "at: gives symbols values, as a mapping such as {H: 320, W: 320}")
    return {_symbol(k, path, source, symbols): _number(v, (*path, k), source) for k, v in raw.items()}


def _open(raw: Any, path: Path_, source: Source, symbols: dict) -> dict:
    """``[H, W]`` (their declared ranges) or ``{H: [32, 224], W: null}``."""
    if raw is None:
        return {}
    if isinstance(raw, list):
        raw = dict.fromkeys(raw)
    if not isinstance(raw, dict):
        raise source.error(path, "open: lists symbols ([H, W]) or gives their ranges ({H: [32, 224]})")
    out = {}
    for name, span in raw.items():
        _symbol(name, path, source, symbols)
        if span is None:
            out[name] = (None, None)
            continue
        if not isinstance(span, list) or len(span) != 2:
            raise source.error((*path, name), "a range is [low, high], such as [32, 224]")
        low, high = (_number(v, (*path, name, j), source) for j, v in enumerate(span))
        if high < low:
            raise source.error((*path, name), f"the range [{low}, {high}] is empty")
        out[name] = (low, high)
    return out


def json_schema() -> dict:
    """The JSON Schema of the ``budget:`` section, for ``cnncalc schema``."""
    amount = {"type": ["integer", "string"], "description": "a whole number: 4100000000, 4.1G, 512MiB"}
    number = {"type": ["number", "string"]}
    entry = {
        "type": "object",
        "properties": {
            **{m: {**amount, "description": f"at most this many: {d}"} for m, d in METRICS.items()},
            "at": {"type": "object", "additionalProperties": number},
            "open": {
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {
                        "type": "object",
                        "additionalProperties": {
                            "anyOf": [
                                {"type": "array", "items": number, "minItems": 2, "maxItems": 2},
                                {"type": "null"},
                            ]
                        },
                    },
                ]
            },
        },
        "additionalProperties": False,
    }
    return {"anyOf": [entry, {"type": "array", "items": entry}]}
