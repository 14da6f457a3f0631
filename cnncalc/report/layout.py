"""Fitting a table to a width without ever cutting a number.

rich shrinks and folds columns when a table is wider than the console, which cuts numbers
(``102,764,`` for 102,764,544). Here every column declares how it may give way: numbers switch
to explicit units (``102.76 M``), names are shortened in the middle with ``…``, formulas wrap at
their spaces, and columns that still do not fit are dropped, lowest priority first. The caller
learns which columns were dropped, to say so under the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import shorten

#: rich's cell padding and separator between two columns (box.SIMPLE_HEAD, no outer edge).
GAP = 3
#: In ``auto`` units, numbers are exact when the columns of at most this priority fit so.
CORE = 2
#: Names are never shortened below this many characters (or their full length).
MIN_NAME = 10


@dataclass
class Column:
    """A column's cells, exactly and in units, and how it gives way.

    ``priority`` 0 is never dropped; higher numbers are dropped first. ``kind`` is ``number``
    (fixed width, exact or in units), ``name`` (shortened in the middle) or ``formula``
    (wraps at spaces; its width is at least its longest unbreakable piece).
    """

    header: str
    cells: list[str]
    units: list[str] | None = None  # the same cells in explicit units, when they differ
    footer: str = ""
    footer_units: str | None = None
    priority: int = 0
    kind: str = "number"
    justify: str = "right"
    style: str | None = None
    min_width: int = 1
    wrap_above: int = 24  # a formula column wraps only when its cells are wider than this

    def texts(self, in_units: bool) -> tuple[list[str], str]:
        if in_units and self.units is not None:
            return self.units, self.footer_units if self.footer_units is not None else self.footer
        return self.cells, self.footer


@dataclass
class Layout:
    """The outcome of fitting: the columns kept, their widths, and what gave way."""

    columns: list[Column]
    widths: list[int]
    in_units: bool
    dropped: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return sum(self.widths) + GAP * (len(self.widths) - 1) if self.widths else 0


#: A number, exact or in units, that must stay on one line (``10.99 M``, ``3.06 MiB``).
_UNBREAKABLE = re.compile(r"-?[\d,.]+(e\d+)?( [kMGT]| [KMGT]i?B| B)?%?")


def _longest_piece(text: str) -> int:
    return max((len(p) for line in text.split("\n") for p in line.split(" ")), default=0)


def _natural(col: Column, in_units: bool) -> tuple[int, int]:
    """(natural, minimum) width of a column."""
    cells, footer = col.texts(in_units)
    texts = [*cells, footer]
    widest = max((len(line) for t in texts for line in t.split("\n")), default=0)
    # A header a little wider than its cells stays on one line; a much wider one wraps.
    header = len(col.header) if len(col.header) <= widest + 3 else _longest_piece(col.header)
    natural = max(header, widest)
    if col.kind == "name":
        minimum = min(natural, max(MIN_NAME, header, col.min_width))
    elif col.kind == "formula":
        pieces = max(len(t) if _UNBREAKABLE.fullmatch(t) else _longest_piece(t) for t in texts)
        minimum = max(header, pieces, min(natural, col.wrap_above))
    else:
        minimum = natural
    return natural, minimum


def fit(columns: list[Column], width: int, units: str = "auto") -> Layout:
    """Choose units, columns and widths so that the table is at most ``width`` wide.

    Args:
        columns: every column the table can show, in display order.
        width: the room available (a terminal's columns).
        units: ``raw`` (exact numbers), ``human`` (units) or ``auto`` (exact when the
            columns of priority up to :data:`CORE` fit exactly, else units).
    """
    if units == "raw":
        choices = [False]
    elif units == "human":
        choices = [True]
    else:
        core = [c for c in columns if c.priority <= CORE]
        choices = [False] if _fits(core, width, False) else [True]
    in_units = choices[0]
    kept = list(columns)
    dropped: list[str] = []
    # Names stay whole while there are secondary columns to drop; then they shorten, and
    # only then do the main columns go.
    for shorten_names, floor in ((False, CORE + 1), (True, 1)):
        while not _fits(kept, width, in_units, shorten_names):
            droppable = [c for c in kept if c.priority >= floor]
            if not droppable:
                break
            worst = max(droppable, key=lambda c: (c.priority, kept.index(c)))
            kept.remove(worst)
            dropped.append(worst.header.replace("\n", " "))
    widths = _widths(kept, width, in_units)
    return Layout(kept, widths, in_units, dropped[::-1])


def _fits(columns: list[Column], width: int, in_units: bool, shorten_names: bool = True) -> bool:
    sizes = [_natural(c, in_units) for c in columns]
    need = sum(
        n if (c.kind == "name" and not shorten_names) else m for c, (n, m) in zip(columns, sizes, strict=True)
    )
    return need + GAP * (len(columns) - 1) <= width


def _widths(columns: list[Column], width: int, in_units: bool) -> list[int]:
    sizes = [_natural(c, in_units) for c in columns]
    widths = [m for _, m in sizes]
    room = width - sum(widths) - GAP * (len(columns) - 1)
    # Give the room left to the columns that can use it, names first, then formulas.
    for kind in ("name", "formula"):
        for i, c in enumerate(columns):
            if c.kind == kind and room > 0:
                extra = min(room, sizes[i][0] - widths[i])
                widths[i] += extra
                room -= extra
    return widths


def render(layout: Layout, **table_options):
    """A rich Table of the layout (cells shortened or wrapped to their widths)."""
    from rich import box
    from rich.table import Table

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        footer_style="bold",
        **table_options,
    )
    columns = layout.columns
    texts = []
    for col, w in zip(columns, layout.widths, strict=True):
        cells, footer = col.texts(layout.in_units)
        header = col.header if len(col.header) <= w else col.header.replace(" ", "\n")
        if col.kind == "name":
            cells = [shorten(c, w) for c in cells]
            footer = shorten(footer, w)
        wrap = col.kind == "formula"
        table.add_column(
            header,
            footer=footer,
            justify=col.justify,
            style=col.style,
            width=w,
            no_wrap=not wrap,
            overflow="fold" if wrap else "ellipsis",
        )
        texts.append(cells)
    return table, texts


def add_rows(table, texts: list[list[str]], styles: list[str | None]) -> None:
    """Add the rows column by column lists describe (``styles`` per row)."""
    for i, style in enumerate(styles):
        table.add_row(*(col[i] for col in texts), style=style)
