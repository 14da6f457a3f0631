"""The non-dominated designs of a sweep (its Pareto front), found chunk by chunk.

Each point of a grid is a design. Objectives name totals (``params``, ``macs``, ...), which are
minimised, or swept symbols (``H``, ``alpha``), which are maximised, unless ``min:`` or ``max:``
says otherwise. A design is dominated when another valid design is as good in every objective
and better in one; the front is every valid design that is not (an invalid point, with or
without totals, is never on it). Designs with equal objectives are all kept.

The front of the points seen so far is kept (the rows' values included) and merged with each
chunk's, so a sweep of any size needs the memory of its front only. Values are compared
exactly (Python integers and fractions where 64 bits do not hold them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from .sweep import METRICS, Chunk, Points


@dataclass(frozen=True)
class Objective:
    name: str
    maximise: bool

    def __str__(self) -> str:
        return f"{'max' if self.maximise else 'min'}:{self.name}"


def parse_objectives(text: str, symbols: tuple[str, ...]) -> tuple[Objective, ...]:
    """``params,macs`` or ``max:params,min:macs,H``: at least two objectives, each a total or a
    swept symbol.

    Raises:
        UsageError: for an unknown name, a name given twice, or fewer than two.
    """
    out: list[Objective] = []
    for item in text.split(","):
        item = item.strip()
        way, sep, name = item.partition(":")
        if not sep:
            way, name = "", item
        if way not in ("", "min", "max"):
            raise UsageError(f"--pareto {item!r}: write NAME, min:NAME or max:NAME")
        if name not in METRICS and name not in symbols:
            known = ", ".join([*METRICS, *symbols])
            raise UsageError(f"--pareto: {name!r} is neither a total nor a swept symbol; known: {known}")
        if any(o.name == name for o in out):
            raise UsageError(f"--pareto names {name} twice")
        maximise = way == "max" or (way == "" and name in symbols)
        out.append(Objective(name, maximise))
    if len(out) < 2:
        raise UsageError("--pareto needs at least two objectives, e.g. --pareto params,macs")
    return tuple(out)


class Front:
    """The non-dominated valid points among the chunks given to :meth:`add`."""

    def __init__(self, objectives: tuple[Objective, ...], symbols: tuple[str, ...], scales: dict[str, int]):
        self.objectives, self.symbols = objectives, symbols
        self.scales = dict(scales or {})
        self.seen = 0
        self._rows: dict[str, np.ndarray] | None = None  # every column of the front's rows

    def add(self, chunk: Chunk) -> None:
        self.seen += len(chunk)
        keep = np.flatnonzero(chunk.valid)
        columns = {
            "#": np.arange(chunk.start, chunk.start + len(chunk), dtype=np.int64),
            **{f"p:{k}": chunk.points[k] for k in chunk.points if k not in chunk.scaled},
            **{f"t:{k}": v for k, v in chunk.totals.items()},
            **{f"s:{k}": v[0] for k, v in chunk.scaled.items()},
        }
        rows = {k: np.asarray(v)[keep] for k, v in columns.items()}
        if self._rows is not None:
            rows = {k: _concat(self._rows[k], rows[k]) for k in rows}
        chosen = _front(self._keys(rows))
        self._rows = {k: v[chosen] for k, v in rows.items()}

    def _keys(self, rows: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Each objective as a column to minimise."""
        out = []
        for o in self.objectives:
            # a rational symbol is compared by its integers K of K/D: the same order
            v = rows[f"t:{o.name}"] if o.name in METRICS else rows.get(f"s:{o.name}", rows.get(f"p:{o.name}"))
            out.append(-v if o.maximise else v)
        return out

    def chunk(self) -> Chunk | None:
        """The front's rows in grid order, as one chunk (None when no point was valid)."""
        if self._rows is None or not len(self._rows["#"]):
            return None
        order = np.argsort(self._rows["#"], kind="stable")
        r = {k: v[order] for k, v in self._rows.items()}

        def pick(prefix: str) -> dict[str, np.ndarray]:
            return {k[2:]: v for k, v in r.items() if k.startswith(prefix)}

        scaled = {k: (v, self.scales[k]) for k, v in pick("s:").items()}
        points = Points(self.symbols, pick("p:"), scaled)
        n = len(r["#"])
        return Chunk(
            int(r["#"][0]), points, scaled, pick("t:"), np.ones(n, dtype=bool), np.full(n, -1, dtype=np.int64)
        )


def _concat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype != b.dtype:
        return np.concatenate([a.astype(object), b.astype(object)])
    return np.concatenate([a, b])


def _front(keys: list[np.ndarray]) -> np.ndarray:
    """Indexes of the points no other point dominates (every key minimised)."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # Lexicographic order: a point that dominates another comes before it.
    order = np.lexsort(tuple(reversed([np.asarray(k) for k in keys])))
    ks = [np.asarray(k)[order] for k in keys]
    if len(ks) == 2:
        return np.sort(order[_front2(*ks)])
    kept: list[int] = []
    table: list[np.ndarray] = []
    for i in range(n):
        p = [k[i] for k in ks]
        if table:
            front = np.stack(table, axis=1)  # objectives x kept
            le = np.all(front <= np.array(p, dtype=front.dtype)[:, None], axis=0)
            lt = np.any(front < np.array(p, dtype=front.dtype)[:, None], axis=0)
            if np.any(le & lt):
                continue
        kept.append(i)
        table.append(np.array(p, dtype=object if any(k.dtype == object for k in ks) else np.int64))
    return np.sort(order[np.array(kept, dtype=np.int64)])


def _front2(f1: np.ndarray, f2: np.ndarray) -> np.ndarray:
    """Of points sorted by (f1, f2), the mask of those no other dominates: a point is dominated
    exactly when a point sorted before its first copy has an f2 at most its own."""
    n = len(f1)
    new = np.ones(n, dtype=bool)
    new[1:] = (f1[1:] != f1[:-1]) | (f2[1:] != f2[:-1])
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    running = np.minimum.accumulate(f2)
    ok_group = np.ones(len(starts), dtype=bool)
    later = starts > 0
    ok_group[later] = f2[starts[later]] < running[starts[later] - 1]
    return ok_group[group]


def describe(objectives: tuple[Objective, ...]) -> str:
    return ", ".join(f"{'largest' if o.maximise else 'least'} {o.name}" for o in objectives)


__all__ = ["Front", "Objective", "describe", "parse_objectives"]
