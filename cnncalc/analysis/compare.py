"""Comparing designs: totals against a baseline, ratios, and where each spends its cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.dims import Dim
from ..core.engine import Analysis
from .breakdown import breakdown
from .ratios import ratio

#: The totals a comparison sets side by side, in order.
METRICS = ("params", "trainable_params", "macs", "flops", "activations")
#: The totals that leave out the layers whose cost is unknown (the others count every layer).
COSTS = ("params", "trainable_params", "macs", "flops")


@dataclass(frozen=True)
class CategoryRow:
    """One category's MACs and params in every design (0 where a design has none)."""

    category: str
    macs: tuple[Dim, ...]
    params: tuple[Dim, ...]


@dataclass(frozen=True)
class Comparison:
    """Designs side by side, the first being the baseline."""

    designs: tuple[Analysis, ...]
    labels: tuple[str, ...]  # how each design was named on the command line
    # per design, metric -> design / baseline: int, Fraction, sympy expression, or None (baseline
    # 0, or a cost left unknown in the design or the baseline: an opaque layer)
    ratios: tuple[dict[str, Any], ...]
    categories: tuple[CategoryRow, ...]

    @property
    def baseline(self) -> Analysis:
        return self.designs[0]


def compare(designs: list[Analysis] | tuple[Analysis, ...], labels=None) -> Comparison:
    """Totals of every design relative to the first, and their breakdowns aligned by category.

    Args:
        designs: two or more analyses; the first is the baseline.
        labels: a name for each design (defaults to the specs' names).
    """
    designs = tuple(designs)
    labels = tuple(labels) if labels is not None else tuple(a.name for a in designs)
    base = designs[0]

    def known(d: Analysis, m: str) -> bool:
        return m not in COSTS or (d.totals.complete and base.totals.complete)

    ratios = tuple(
        {m: ratio(getattr(d.totals, m), getattr(base.totals, m)) if known(d, m) else None for m in METRICS}
        for d in designs
    )
    per_design = [{r.category: r for r in breakdown(d)} for d in designs]
    order: list[str] = []
    for rows in per_design:
        order += [c for c in rows if c not in order]
    categories = tuple(
        CategoryRow(
            c,
            tuple(rows[c].macs if c in rows else 0 for rows in per_design),
            tuple(rows[c].params if c in rows else 0 for rows in per_design),
        )
        for c in order
    )
    return Comparison(designs, labels, ratios, categories)
