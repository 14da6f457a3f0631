"""Where the cost of a network goes: totals per layer category.

A category is a layer kind, refined for convolutions by kernel size and grouping (``conv2d
1x1``, ``conv2d 3x3 depthwise``), so that a network can be counted the way papers count it.
Parameters are split into weights, biases and normalisation parameters, because papers differ
in which of them they count (MobileNet's Table 2 counts weights only).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import dims
from .dims import Dim
from .engine import Analysis


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
    groups: dict[str, list] = {}
    for r in a.layers:
        groups.setdefault(r.category, []).append(r)
    rows = []
    for category, members in groups.items():
        roles = [m.params_by_role() for m in members]
        rows.append(
            Share(
                category=category,
                layers=len(members),
                macs=dims.add(*(m.macs for m in members)),
                flops=dims.add(*(m.flops for m in members)),
                weights=dims.add(*(r["weight"] for r in roles)),
                biases=dims.add(*(r["bias"] for r in roles)),
                norm=dims.add(*(r["norm"] for r in roles)),
            )
        )

    def key(row: Share):
        concrete = isinstance(row.macs, int) and isinstance(row.params, int)
        return (0, -row.macs, -row.params) if concrete else (1, 0, 0)

    return tuple(sorted(rows, key=key))


def share(part: Dim, whole: Dim) -> Fraction | None:
    """``part / whole`` when both are concrete and ``whole`` is not zero, else None."""
    if isinstance(part, int) and isinstance(whole, int) and whole:
        return Fraction(part, whole)
    return None


def percent(part: Dim, whole: Dim) -> str:
    """``94.86%``, or an empty string when it cannot be computed."""
    f = share(part, whole)
    return "" if f is None else f"{float(f) * 100:.2f}%"


def as_json(a: Analysis) -> list[dict[str, Any]]:
    """The breakdown for the JSON report (shares as fractions of 1, null when symbolic)."""
    from .report import json_value

    rows = breakdown(a)
    total_weights = dims.add(*(r.weights for r in rows)) if rows else 0

    def frac(part, whole):
        f = share(part, whole)
        return None if f is None else round(float(f), 6)

    return [
        {
            "category": r.category,
            "layers": r.layers,
            "macs": json_value(r.macs),
            "macs_share": frac(r.macs, a.totals.macs),
            "flops": json_value(r.flops),
            "params": json_value(r.params),
            "params_share": frac(r.params, a.totals.params),
            "weights": json_value(r.weights),
            "weights_share": frac(r.weights, total_weights),
            "biases": json_value(r.biases),
            "norm": json_value(r.norm),
        }
        for r in rows
    ]
