"""Where the cost of a network goes: totals per layer category.

A category is a layer kind, refined for convolutions by kernel size and grouping (``conv2d
1x1``, ``conv2d 3x3 depthwise``), so that a network can be counted the way papers count it.
Parameters are split into weights, biases and normalisation parameters, because papers differ
in which of them they count (MobileNet's Table 2 counts weights only).

The layers whose cost is unknown (``opaque``) form their own category, whose counts are None;
the shares of the other categories are then shares of the known totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core import dims
from ..core.dims import Dim
from ..core.engine import Analysis
from .ratios import ratio


@dataclass(frozen=True)
class Share:
    """Totals of one category (the counts are None when a layer's in it are unknown)."""

    category: str
    layers: int
    macs: Dim | None
    flops: Dim | None
    weights: Dim | None
    biases: Dim | None
    norm: Dim | None

    @property
    def params(self) -> Dim | None:
        if self.weights is None or self.biases is None or self.norm is None:
            return None
        return dims.add(self.weights, self.biases, self.norm)


def breakdown(a: Analysis) -> tuple[Share, ...]:
    """One :class:`Share` per category, largest MACs first (then by params)."""
    members: dict[str, list] = {}
    for r in a.layers:
        members.setdefault(r.category, []).append(r)
    rows = []
    for category, layers in members.items():
        roles = [m.params_by_role() for m in layers]
        rows.append(
            Share(
                category=category,
                layers=len(layers),
                macs=_sum(m.macs for m in layers),
                flops=_sum(m.flops for m in layers),
                weights=_sum(r["weight"] for r in roles),
                biases=_sum(r["bias"] for r in roles),
                norm=_sum(r["norm"] for r in roles),
            )
        )

    def key(row: Share):
        concrete = isinstance(row.macs, int) and isinstance(row.params, int)
        return (0, -row.macs, -row.params) if concrete else (1, 0, 0)

    return tuple(sorted(rows, key=key))


def _sum(values) -> Dim | None:
    """The sum, or None when a value is unknown."""
    values = list(values)
    return None if any(v is None for v in values) else dims.add(*values)


def total_weights(rows: tuple[Share, ...]) -> Dim:
    """The known weights of all categories (the denominator of the weight shares)."""
    known = [r.weights for r in rows if r.weights is not None]
    return dims.add(*known) if known else 0


def share(part: Dim | None, whole: Dim) -> Any:
    """``part / whole``: a Fraction when both are concrete, a formula when symbols are open,
    None when ``whole`` is zero or ``part`` unknown."""
    return None if part is None else ratio(part, whole)
