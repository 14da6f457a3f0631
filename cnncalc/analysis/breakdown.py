"""Where the cost of a network goes: totals per layer category.

A category is a layer kind, refined for convolutions by kernel size and grouping (``conv2d
1x1``, ``conv2d 3x3 depthwise``), so that a network can be counted the way papers count it.
Parameters are split into weights, biases and normalisation parameters, because papers differ
in which of them they count (MobileNet's Table 2 counts weights only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import dims
from ..dims import Dim
from ..engine import Analysis
from .ratios import ratio


@dataclass(frozen=True)
class Share:
    """Totals of one category."""

    category: str
    layers: int
    macs: Dim
    flops: Dim
    weights: Dim
    biases: Dim
    norm: Dim

    @property
    def params(self) -> Dim:
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
                macs=dims.add(*(m.macs for m in layers)),
                flops=dims.add(*(m.flops for m in layers)),
                weights=dims.add(*(r["weight"] for r in roles)),
                biases=dims.add(*(r["bias"] for r in roles)),
                norm=dims.add(*(r["norm"] for r in roles)),
            )
        )

    def key(row: Share):
        concrete = isinstance(row.macs, int) and isinstance(row.params, int)
        return (0, -row.macs, -row.params) if concrete else (1, 0, 0)

    return tuple(sorted(rows, key=key))


def total_weights(rows: tuple[Share, ...]) -> Dim:
    """The weights of all categories (the denominator of the weight shares)."""
    return dims.add(*(r.weights for r in rows)) if rows else 0


def share(part: Dim, whole: Dim) -> Any:
    """``part / whole``: a Fraction when both are concrete, a formula when symbols are open,
    None when ``whole`` is zero."""
    return ratio(part, whole)
