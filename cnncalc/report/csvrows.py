"""Rows of exact numbers as CSV text, fast: a sweep writes millions of them.

Each column is an integer array (int64), a ratio (two int64 arrays, numerator and denominator,
written ``3/4``, or ``3`` when the denominator is 1), a boolean array (``true``/``false``) or
one text for every row. Large int64 columns are written by a compiled loop (numba, imported
only for chunks of :data:`COMPILED_FROM` rows or more: importing it costs more than a few
thousand rows take in Python); anything else (Python integers beyond 64 bits, Fractions) by
Python's own formatting. Both write the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Rows from which the compiled writer is used.
COMPILED_FROM = 20_000

INT, RATIO, BOOL, TEXT = 0, 1, 2, 3


@dataclass(frozen=True)
class Column:
    kind: int
    data: Any  # int64 array; (numerators, denominators); bool array; or a str


def integers(values: np.ndarray) -> Column:
    return Column(INT, values)


def ratios(numerators: np.ndarray, denominator: int) -> Column:
    """``numerators / denominator`` in lowest terms."""
    g = np.gcd(numerators, np.int64(denominator))
    return Column(RATIO, (numerators // g, np.int64(denominator) // g))


def booleans(values: np.ndarray) -> Column:
    return Column(BOOL, values)


def text(value: str) -> Column:
    return Column(TEXT, value)


def rows(columns: list[Column], n: int) -> bytes:
    """``n`` CSV lines of ``columns`` (comma separated, each line ending in a newline)."""
    numeric = all(c.kind == TEXT or _int64(c) for c in columns)
    if numeric and n >= COMPILED_FROM:
        return _compiled(columns, n)
    return _python(columns, n)


def _int64(c: Column) -> bool:
    arrays = c.data if c.kind == RATIO else (c.data,)
    return all(np.asarray(a).dtype.kind in "iub" for a in arrays)


def _python(columns: list[Column], n: int) -> bytes:
    cells = []
    for c in columns:
        if c.kind == TEXT:
            cells.append([c.data] * n)
        elif c.kind == BOOL:
            cells.append(["true" if v else "false" for v in c.data])
        elif c.kind == RATIO:
            num, den = np.broadcast_arrays(*c.data)
            cells.append(
                [str(int(a)) if int(b) == 1 else f"{int(a)}/{int(b)}" for a, b in zip(num, den, strict=True)]
            )
        else:
            cells.append(
                [str(int(v)) if not _is_fraction(v) else f"{v.numerator}/{v.denominator}" for v in c.data]
            )
    return "".join(",".join(row) + "\n" for row in zip(*cells, strict=True)).encode()


def _is_fraction(v) -> bool:
    return hasattr(v, "denominator") and v.denominator != 1


def _compiled(columns: list[Column], n: int) -> bytes:
    """The same text as :func:`_python`, from one compiled loop over the rows."""
    ints, kinds, sources, pieces = [], [], [], [b""]
    width = 0
    for c in columns:
        if c.kind == TEXT:
            pieces[-1] += c.data.encode() + b","
            continue
        kinds.append(c.kind)
        sources.append(len(ints))
        if c.kind == RATIO:
            ints += [np.broadcast_to(a, (n,)) for a in c.data]
            width += 41
        else:
            ints.append(np.broadcast_to(c.data, (n,)))
            width += 20
        pieces.append(b",")
    pieces[-1] = pieces[-1][:-1] + b"\n" if pieces[-1].endswith(b",") else pieces[-1] + b"\n"
    table = np.ascontiguousarray(np.stack(ints).astype(np.int64)) if ints else np.zeros((0, n), np.int64)
    texts = np.frombuffer(b"".join(pieces), dtype=np.uint8)
    ends = np.cumsum([0, *(len(p) for p in pieces)]).astype(np.int64)
    out = _buffer(n * (width + len(texts)))
    used = _writer()(table, np.array(kinds, np.int64), np.array(sources, np.int64), texts, ends, _PAIRS, out)
    return out[:used].tobytes()


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


def _write_rows(table, kinds, sources, texts, ends, pairs, out):  # pragma: no cover - compiled
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
                if v != 0:  # true
                    out[pos : pos + 4] = (116, 114, 117, 101)
                    pos += 4
                else:  # false
                    out[pos : pos + 5] = (102, 97, 108, 115, 101)
                    pos += 5
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
