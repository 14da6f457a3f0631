"""The validity domain of each symbol: its smallest and largest values, and exact downsampling.

For each symbol, with every other symbol at its value (given, else its default; left open, with
its declared bounds, when it has neither):

- ``min``: the smallest value for which every layer produces at least one element and every
  other check holds. The conditions the symbolic analysis finds give the candidate; the
  analysis at that value (which must pass) and at the value below (which must fail) confirm it.
- ``max``: the declared maximum, or the tightest upper bound a layer imposes (None: unbounded).
- ``conditions``: the divisibility under which no downsampling layer drops a pixel: each
  layer with an integer stride ``s > 1`` maps a size ``n`` to exactly ``n / s`` (``H % 32 == 0``
  for ResNet-50). Found by evaluating the layers' sizes over one period of the symbol (the
  product of the strides: sizes shift by a whole number at each layer when the symbol moves by
  a period), not by guessing. Layers that drop pixels whatever the value (a 3x3 pool of stride
  2 without padding) are listed apart.
- ``receptive_field``: the most input the last feature map sees per position, per axis, through
  its spatial path. The last feature map is the last layer whose size follows the input's (as
  ``solve --shape`` picks it), a global branch inside the network (squeeze-and-excitation, a
  pooled ASPP branch) notwithstanding: such a branch gives every position the whole input as
  a vector, which the field marks (``context``) rather than counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import dims
from ..core.engine import Analysis, analyze, resolve_symbols
from ..errors import ShapeError, SpecError
from ..lang.model import Spec
from .exact import compile_formulas
from .receptive import AxisField, last_feature_map, located, receptive_fields
from .sweep import _text, open_analysis, symbol_bound

#: Largest period of exact downsampling examined (a product of strides beyond it is not).
MAX_PERIOD = 1 << 12


@dataclass(frozen=True)
class SymbolBounds:
    name: str
    value: Any  # the value in force, None when open
    min: Any
    max: Any  # None: unbounded
    min_layer: str | None  # the layer whose check sets the minimum
    exact: str | None  # the divisibility for exact downsampling ("H % 32 == 0"), None if none
    exact_layers: tuple[str, ...]  # the downsampling layers it concerns
    inexact_layers: tuple[str, ...]  # downsampling layers that drop pixels for every value
    conditions: tuple[str, ...]  # every condition of the analysis with only this symbol open


@dataclass(frozen=True)
class Bounds:
    name: str
    symbols: tuple[SymbolBounds, ...]
    field_layer: str | None
    field: tuple[AxisField, AxisField] | None


def bounds(spec: Spec, values: dict[str, Any] | None = None) -> Bounds:
    """The validity domain of every symbol of ``spec`` (see the module's docstring)."""
    values = dict(values or {})
    resolved = resolve_symbols(spec, values)
    # One analysis with every symbol not given open: each axis's checks involve its own symbol,
    # so the bound on each comes out as if the others were fixed; the minimum is then confirmed
    # at the others' values.
    a = open_analysis(spec, values, tuple(n for n in spec.symbols if n not in values))
    out = []
    for name, sym in spec.symbols.items():
        # A symbol given a value is opened on its own, the others at their values.
        # A symbol that decides the number of layers is never open (its row gives its bounds).
        opened = name in values and name not in spec.structural
        own = open_analysis(spec, values, (name,)) if opened else a
        out.append(_symbol_bounds(spec, values, own, name, sym, resolved[name]))
    field_layer, field = _last_field(spec, values, a)
    return Bounds(spec.name, tuple(out), field_layer, field)


def _last_field(spec: Spec, values: dict, a: Analysis) -> tuple[str | None, Any]:
    """The last feature map (the last layer whose size follows an input size, as ``solve
    --shape`` picks it) and its local receptive field at the symbols' values."""
    idx = last_feature_map(a)
    if idx is None:  # the input sizes are given: open them to see which layers follow them
        spatial = {n for e in spec.input[2:] for n in e.names if n not in spec.structural}
        try:
            probe = open_analysis(spec, {k: v for k, v in values.items() if k not in spatial}, tuple(spatial))
        except (ShapeError, SpecError):
            return None, None
        idx, a = last_feature_map(probe), probe
    if idx is None:
        return None, None
    name = a.layers[idx].name
    try:
        concrete = analyze(spec, values)
    except (ShapeError, SpecError):
        return None, None
    fields = {f.name: f.axes for f in receptive_fields(concrete, local=True)}
    if name not in fields or any(ax.whole for ax in fields[name]):
        return None, None
    return name, fields[name]


def _symbol_bounds(spec: Spec, values: dict, a: Analysis, name: str, sym, value) -> SymbolBounds:
    lo, hi, lo_layer = sym.lower, sym.max, None
    for c in a.constraints:
        found = symbol_bound(c.condition)
        if found is None or found[0] != name:
            continue
        if found[1] == ">=":
            lo, lo_layer = max(lo, found[2]), c.layer
        else:
            hi = found[2] if hi is None else min(hi, found[2])
    lo = dims.canon(lo)
    hi = dims.canon(hi) if hi is not None else None
    if sym.integer and a.symbols[name] is None:
        lo = _confirm_min(spec, values, name, lo, sym.lower, hi)
    exact, exact_layers, inexact = (None, (), ())
    if sym.integer:
        exact, exact_layers, inexact = _exact_downsampling(a, name, lo)
    return SymbolBounds(
        name=name,
        value=value,
        min=lo,
        max=hi,
        min_layer=lo_layer,
        exact=exact,
        exact_layers=exact_layers,
        inexact_layers=inexact,
        conditions=tuple(c.condition for c in a.constraints if re.search(rf"\b{name}\b", c.condition)),
    )


def _valid_at(spec: Spec, values: dict, name: str, v: Any) -> bool:
    try:
        analyze(spec, {**values, name: _text(v)})
    except (ShapeError, SpecError):
        return False
    return True


def _confirm_min(spec: Spec, values: dict, name: str, lo, declared, hi, tries: int = 64):
    """The smallest valid value near ``lo``: from it up while it fails (residue conditions may push
    it higher), then down while the value below passes (a bound found by the conditions is tight
    when it does not)."""
    v = int(lo)
    for _ in range(tries):
        if hi is not None and v > hi:
            break
        if _valid_at(spec, values, name, v):
            # ... and the value below must fail (the conditions' bound is then tight).
            while v - 1 >= declared and _valid_at(spec, values, name, v - 1) and tries > 0:
                v, tries = v - 1, tries - 1
            return v
        v += 1
    return int(lo)


def _downsampling(a: Analysis) -> list[tuple[str, int, Any, Any, int]]:
    """(layer, axis, input size, output size, stride) of every layer with an integer stride > 1."""
    out = []
    for r in a.layers:
        if len(r.input_shapes[0]) != 4 or len(r.output_shape) != 4:
            continue
        try:
            windows = r.layer.windows(*r.input_shapes)
        except ShapeError as exc:  # a custom layer's windows() (cnncalc.layers._guard)
            raise located(a, r, exc) from None
        if windows is None:
            continue
        for axis, w in enumerate(windows):
            s = w.stride
            if w.size is not None and isinstance(s, int) and s > 1:
                out.append((r.name, axis, r.input_shapes[0][2 + axis], r.output_shape[2 + axis], s))
    return out


def _exact_downsampling(a: Analysis, name: str, lo) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """The residues of ``name`` for which every downsampling layer whose sizes depend on it maps
    ``n`` to ``n / stride``."""
    entries = [e for e in _downsampling(a) if {str(s) for s in dims.free_symbols(e[2])} == {name}]
    if not entries:
        return None, (), ()
    period = 1
    for *_, s in entries:
        period *= s
        if period > MAX_PERIOD:
            return None, (), ()
    formulas = {}
    for i, (_, _, n, m, s) in enumerate(entries):
        formulas[f"rem{i}"] = dims.mod(n, s)
        formulas[f"gap{i}"] = dims.add(dims.mul(m, s), dims.mul(-1, n))
    start = int(lo)
    xs = np.arange(start, start + 2 * period, dtype=np.int64)
    got = compile_formulas(formulas, (name,))({name: xs})
    ok_each = [(got[f"rem{i}"] == 0) & (got[f"gap{i}"] == 0) for i in range(len(entries))]
    never = tuple(dict.fromkeys(e[0] for e, ok in zip(entries, ok_each, strict=True) if not ok.any()))
    keep = [ok for e, ok in zip(entries, ok_each, strict=True) if ok.any()]
    layers = tuple(dict.fromkeys(e[0] for e, ok in zip(entries, ok_each, strict=True) if ok.any()))
    if not keep:
        return None, (), never
    ok = np.logical_and.reduce(keep)
    first, second = ok[:period], ok[period:]
    if not np.array_equal(first, second):  # not periodic after all: say nothing
        return None, layers, never
    residues = sorted({int(x) % period for x, good in zip(xs[:period], first, strict=True) if good})
    if not residues or len(residues) == period:
        return None, layers, never
    return _residue_text(name, period, residues), layers, never


def _residue_text(name: str, period: int, residues: list[int]) -> str:
    """The smallest period describing the residues, written as a condition."""
    for p in sorted(d for d in range(1, period + 1) if period % d == 0):
        reduced = sorted({r % p for r in residues})
        if len(reduced) * (period // p) == len(residues):
            period, residues = p, reduced
            break
    if len(residues) == 1:
        return f"{name} % {period} == {residues[0]}"
    return f"{name} % {period} in {{{', '.join(map(str, residues))}}}"


__all__ = ["Bounds", "SymbolBounds", "bounds"]
