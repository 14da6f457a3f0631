"""Subtotals by block: every dotted name prefix that holds layers, and the rows at a depth.

Layer names say where a layer sits: ``layer1.0.conv1`` is in the block instance ``layer1.0``,
itself one repetition of ``layer1``. A :class:`Group` is such a prefix with the sums of the
layers under it, the way torchinfo's ``depth`` or fvcore's ``max_depth`` fold a model's modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import dims
from ..core.dims import Dim
from ..core.engine import Analysis, LayerResult, known_sum
from ..layers import Shape


@dataclass(frozen=True)
class Group:
    """A block instance (or any dotted prefix of layer names) with its subtotals."""

    path: str  # ``layer1.0``
    depth: int  # 1 for a top-level entry, 2 one level deeper, ...
    first: int  # index in ``Analysis.layers`` of its first layer
    last: int  # ... and of its last layer (whose output is the group's output)
    layers: int  # number of layers under it
    output_shape: Shape
    params: Dim
    trainable_params: Dim
    buffers: Dim
    macs: Dim
    flops: Dim
    activations: Dim  # elements of the outputs of the layers under it
    # layers under it whose cost is unknown: the cost subtotals above leave them out
    unknown_cost: tuple[str, ...] = ()


def depth_of(name: str) -> int:
    """1 for ``fc``, 3 for ``layer1.0.conv1``."""
    return name.count(".") + 1


def groups(a: Analysis) -> tuple[Group, ...]:
    """Every group of ``a``, ordered by first appearance (a parent before its children)."""
    members: dict[str, list[int]] = {}
    for i, r in enumerate(a.layers):
        parts = r.name.split(".")
        for k in range(1, len(parts)):
            members.setdefault(".".join(parts[:k]), []).append(i)
    out = [_group(a.layers, path, idx) for path, idx in members.items()]
    return tuple(sorted(out, key=lambda g: (g.first, g.depth)))


def _group(layers: tuple[LayerResult, ...], path: str, idx: list[int]) -> Group:
    rs = [layers[i] for i in idx]
    total = known_sum
    return Group(
        path=path,
        depth=depth_of(path),
        first=idx[0],
        last=idx[-1],
        layers=len(idx),
        output_shape=rs[-1].output_shape,
        params=total([r.params for r in rs]),
        trainable_params=total([r.params for r in rs if r.trainable]),
        buffers=total([r.buffers for r in rs]),
        macs=total([r.macs for r in rs]),
        flops=total([r.flops for r in rs]),
        activations=total([dims.prod(r.output_shape) for r in rs]),
        unknown_cost=tuple(r.name for r in rs if not r.cost_known),
    )


@dataclass(frozen=True)
class Row:
    """One row of a report at a given depth: a layer, or a group folded into one row.

    ``index`` is the layer's position in ``Analysis.layers`` (None for a group), ``level`` how
    deep it sits (1 = top level) and ``header`` marks a group shown as a heading above its
    layers rather than in their place.
    """

    name: str
    level: int
    layer: LayerResult | None = None
    group: Group | None = None
    index: int | None = None
    header: bool = False


def rows_at_depth(a: Analysis, depth: int | None = None, all_groups=None) -> list[Row]:
    """The rows of a report that shows ``a`` down to ``depth``.

    ``depth=None`` lists every layer, each group as a heading above its layers; ``depth=0``
    lists nothing (totals only); ``depth=d`` folds every group at level ``d`` into one row.
    """
    if depth == 0:
        return []
    by_path = {g.path: g for g in (all_groups if all_groups is not None else groups(a))}
    rows: list[Row] = []
    open_headers: list[str] = []  # the chain of headings above the current layer
    shown: set[str] = set()
    for i, r in enumerate(a.layers):
        parts = r.name.split(".")
        prefixes = []
        for k in range(1, len(parts)):
            p = ".".join(parts[:k])
            if p in by_path:
                prefixes.append(p)
        if depth is not None and len(parts) > depth:
            path = ".".join(parts[:depth])
            if path in by_path and path in shown:
                continue
            if path in by_path:
                shown.add(path)
                rows.append(Row(path, depth, group=by_path[path]))
                continue
        if depth is None:
            # Headings for the groups this layer opens (a group reopened after a jump repeats).
            keep = 0
            while keep < min(len(open_headers), len(prefixes)) and open_headers[keep] == prefixes[keep]:
                keep += 1
            for p in prefixes[keep:]:
                rows.append(Row(p, depth_of(p), group=by_path[p], header=True))
            open_headers = prefixes
        rows.append(Row(r.name, depth_of(r.name), layer=r, index=i))
    return rows
