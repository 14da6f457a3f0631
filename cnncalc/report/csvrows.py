"""Rows of exact numbers as CSV text, fast: a sweep writes millions of them.

Each column is an integer array (int64, or Python integers with None for an empty cell), a
ratio (two int64 arrays, numerator and denominator, written ``3/4``, or ``3`` when the
denominator is 1), a boolean array (``true``/``false``), one text for every row, or a choice
among a few texts (an index into them for each row, -1 for an empty cell). Large int64 columns
are written by a compiled loop (numba, imported only for chunks of :data:`COMPILED_FROM` rows
or more: importing it costs more than a few thousand rows take in Python); anything else
(Python integers beyond 64 bits, Fractions) by Python's own formatting. Both write the same
text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Rows from which the compiled writer is used.
COMPILED_FROM = 20_000

INT, RATIO, BOOL, TEXT, OPTIONAL, CHOICE = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Column:
    kind: int
    data: Any  # int64 array; (numerators, denominators); bool array; or a str


def integers(values: np.ndarray, present: np.ndarray | None = None) -> Column:
    """Integers; an empty cell where ``present`` is False, and where a value is None (in an
    object array)."""
    if present is not None and not present.all():
        if values.dtype != object:
            return Column(OPTIONAL, (values, present))
        values = np.where(present, values, None)
    if values.dtype == object:
        present = np.not_equal(values, None)
        if not present.all():
            try:  # int64 with a mask of the cells written, for the compiled writer
                ints = np.zeros(len(values), dtype=np.int64)
                ints[present] = values[present].astype(np.int64)
            except OverflowError:
                return Column(INT, values)
            return Column(OPTIONAL, (ints, present))
    return Column(INT, values)


def choices(index: np.ndarray, texts: tuple[str, ...]) -> Column:
    """``texts[index[i]]`` at row ``i``, empty where the index is -1; each text is written as
    it is (quoted beforehand when it needs to be)."""
    return Column(CHOICE, (index, texts))


def ratios(numerators: np.ndarray, denominator: int) -> Column:
    """``numerators / denominator`` in lowest terms."""
    g = np.gcd(numerators, np.int64(denominator))
    return Column(RATIO, (numerators // g, np.int64(denominator) // g))


def booleans(values: np.ndarray) -> Column:
    return Column(BOOL, values)


def text(value: str) -> Column:
    return Column(TEXT, value)


def rows(columns: list[Column], n: int, *, borrowed: bool = False) -> bytes | memoryview:
    """``n`` CSV lines of ``columns`` (comma separated, each line ending in a newline).

    Args:
        borrowed: the compiled writer's lines are returned as a view of its scratch buffer,
            not copied: valid until the next call (to be written out at once).
    """
    numeric = all(c.kind == TEXT or _int64(c) for c in columns)
    if numeric and n >= COMPILED_FROM:
        written = _compiled(columns, n)
        return memoryview(written) if borrowed else written.tobytes()
    return _python(columns, n)


def _int64(c: Column) -> bool:
    arrays = c.data if c.kind in (RATIO, OPTIONAL) else c.data[:1] if c.kind == CHOICE else (c.data,)
    return all(np.asarray(a).dtype.kind in "iub" for a in arrays)


def _python(columns: list[Column], n: int) -> bytes:
    cells = []
    for c in columns:
        if c.kind == TEXT:
            cells.append([c.data] * n)
        elif c.kind == BOOL:
            cells.append(["true" if v else "false" for v in c.data])
        elif c.kind == OPTIONAL:
            ints, present = c.data
            cells.append([str(int(v)) if p else "" for v, p in zip(ints, present, strict=True)])
        elif c.kind == CHOICE:
            index, texts = c.data
            cells.append([texts[k] if k >= 0 else "" for k in index.tolist()])
        elif c.kind == RATIO:
            num, den = np.broadcast_arrays(*c.data)
            cells.append(
                [str(int(a)) if int(b) == 1 else f"{int(a)}/{int(b)}" for a, b in zip(num, den, strict=True)]
            )
        else:
            cells.append(
                [
                    ""
                    if v is None
                    else str(int(v))
                    if not _is_fraction(v)
                    else f"{v.numerator}/{v.denominator}"
                    for v in c.data
                ]
            )
    return "".join(",".join(row) + "\n" for row in zip(*cells, strict=True)).encode()


def _is_fraction(v) -> bool:
    return hasattr(v, "denominator") and v.denominator != 1


def _compiled(columns: list[Column], n: int) -> np.ndarray:
    """The same text as :func:`_python` (in the scratch buffer), from one compiled loop over
    the rows."""
    ints, kinds, sources, pieces = [], [], [], [b""]
    choices: list[bytes] = []
    width = 0
    for c in columns:
        if c.kind == TEXT:
            pieces[-1] += c.data.encode() + b","
            continue
        kinds.append(c.kind)
        sources.append(len(ints))
        if c.kind in (RATIO, OPTIONAL):
            ints += [np.broadcast_to(a, (n,)) for a in c.data]
            width += 41 if c.kind == RATIO else 20
        elif c.kind == CHOICE:  # the index into every choice column's texts, one table
            index, texts = c.data
            ints.append(np.where(index >= 0, index + len(choices), -1))
            choices += [t.encode() for t in texts]
            width += max((len(t) for t in choices), default=0)
        else:
            ints.append(np.broadcast_to(c.data, (n,)))
            width += 20
        pieces.append(b",")
    pieces[-1] = pieces[-1][:-1] + b"\n" if pieces[-1].endswith(b",") else pieces[-1] + b"\n"
    table = np.ascontiguousarray(np.stack(ints).astype(np.int64)) if ints else np.zeros((0, n), np.int64)
    texts = np.frombuffer(b"".join(pieces), dtype=np.uint8)
    ends = np.cumsum([0, *(len(p) for p in pieces)]).astype(np.int64)
    chosen = np.frombuffer(b"".join(choices) or b" ", dtype=np.uint8)
    chosen_ends = np.cumsum([0, *(len(t) for t in choices)]).astype(np.int64)
    out = _buffer(n * (width + len(texts)))
    used = _writer()(
        table,
        np.array(kinds, np.int64),
        np.array(sources, np.int64),
        texts,
        ends,
        chosen,
        chosen_ends,
        _PAIRS,
        out,
    )
    return out[:used]


_WRITER = None
_BUFFER = np.empty(0, dtype=np.uint8)
#: The two digits of 0 to 99, as bytes.
_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8)


def _buffer(size: int) -> np.ndarray:
    """A scratch buffer of at least ``size`` bytes, kept between chunks (allocating tens of
    megabytes a chunk costs the system more time than the writing)."""
    global _BUFFER
    if _BUFFER.size < size:
        _BUFFER = np.empty(size, dtype=np.uint8)
    return _BUFFER


def _writer():
    global _WRITER
    if _WRITER is None:
        from ..kernels._jit import njit

        _WRITER = njit(_write_rows)
    return _WRITER


def _write_rows(
    table, kinds, sources, texts, ends, chosen, chosen_ends, pairs, out
):  # pragma: no cover - compiled
    n = table.shape[1]
    fields = kinds.shape[0]
    digits = np.empty(24, np.uint8)
    pos = 0
    for i in range(n):
        for f in range(fields + 1):
            for j in range(ends[f], ends[f + 1]):
                out[pos] = texts[j]
                pos += 1
            if f == fields:
                break
            kind = kinds[f]
            v = table[sources[f], i]
            if kind == 2:
                # byte by byte: a tuple assigned to a slice takes numba seconds more to compile
                if v != 0:  # true
                    out[pos] = 116
                    out[pos + 1] = 114
                    out[pos + 2] = 117
                    out[pos + 3] = 101
                    pos += 4
                else:  # false
                    out[pos] = 102
                    out[pos + 1] = 97
                    out[pos + 2] = 108
                    out[pos + 3] = 115
                    out[pos + 4] = 101
                    pos += 5
                continue
            if kind == 5:  # a choice: its text, or nothing
                if v >= 0:
                    for j in range(chosen_ends[v], chosen_ends[v + 1]):
                        out[pos] = chosen[j]
                        pos += 1
                continue
            if kind == 4 and table[sources[f] + 1, i] == 0:  # an empty cell
                continue
            for part in range(2 if kind == 1 else 1):
                if part == 1:
                    v = table[sources[f] + 1, i]
                    if v == 1:
                        break
                    out[pos] = 47  # '/'
                    pos += 1
                if v < 0:
                    out[pos] = 45  # '-'
                    pos += 1
                    v = -v
                m = 0  # digits written backwards, two at a time
                while v >= 100:
                    q = v // 100
                    r = 2 * (v - q * 100)
                    digits[m] = pairs[r + 1]
                    digits[m + 1] = pairs[r]
                    m += 2
                    v = q
                if v >= 10:
                    digits[m] = pairs[2 * v + 1]
                    digits[m + 1] = pairs[2 * v]
                    m += 2
                else:
                    digits[m] = 48 + v
                    m += 1
                for k in range(m - 1, -1, -1):
                    out[pos] = digits[k]
                    pos += 1
    return pos
