"""Fitting a table to a width without ever cutting a number.

rich shrinks and folds columns when a table is wider than the console, which cuts numbers
(``102,764,`` for 102,764,544). Here every column declares how it may give way: numbers switch
to explicit units (``102.76 M``), names are shortened in the middle with ``…``, formulas wrap at
their spaces, and columns that still do not fit are dropped, lowest priority first. The caller
learns which columns were dropped, to say so under the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .text import shorten

#: Width of reports written to a pipe or file when ``COLUMNS`` is not set.
DEFAULT_WIDTH = 120
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
    # the same cells in explicit units, when they differ (or a function making them, called
    # only if units are used)
    units: list[str] | Callable[[], list[str]] | None = None
    footer: str = ""
    footer_units: str | None = None
    priority: int = 0
    kind: str = "number"
    justify: str = "right"
    style: str | None = None
    min_width: int = 1
    wrap_above: int = 24  # a formula column wraps only when its cells are wider than this
    one_line: bool = False  # a formula that stays on one line (a shape) while anything else gives

    def texts(self, in_units: bool) -> tuple[list[str], str]:
        if in_units and callable(self.units):
            self.units = self.units()
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


#: Where a piece longer than a line may break, besides spaces: after ``*``, ``/``, ``,``,
#: ``@`` and ``=``; :func:`wrap` breaks after a ``/`` only where no other place fits (``H/2``
#: stays whole when the column allows).
_BREAK_AFTER = re.compile(r"(?<=[*/,@=])")
_BREAK_FIRST = re.compile(r"(?<=[*,@=])")


def _words(line: str) -> list[str]:
    """The words of a line, an operator standing alone (``-`` in ``H - 12``) joined to the word
    after it, so that no line of a wrapped formula is an operator alone."""
    out: list[str] = []
    pending = ""
    for word in line.split(" "):
        if word in ("+", "-", "=") and not pending:
            pending = word
            continue
        out.append(f"{pending} {word}" if pending else word)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _longest_atom(text: str) -> int:
    """The longest run a formula or label keeps whole when its column is as narrow as it can
    be: broken at spaces (an operator kept with the word after it), and where
    :data:`_BREAK_AFTER` allows."""
    return max(
        (len(a) for line in text.split("\n") for p in _words(line) for a in _BREAK_AFTER.split(p)),
        default=0,
    )


def _natural(col: Column, in_units: bool) -> tuple[int, int, int]:
    """(natural, minimum, tight) width of a column (computed once per column and units)."""
    key = (id(col), in_units)
    if key not in _SIZES:
        _SIZES[key] = (col, _measure(col, in_units))
    return _SIZES[key][1]


#: Widths measured during one fit (keyed by column identity; cleared by :func:`fit`).
_SIZES: dict[tuple[int, bool], tuple[Column, tuple[int, int, int]]] = {}


def _measure(col: Column, in_units: bool) -> tuple[int, int, int]:
    """The natural width; the minimum (names shortened, formulas wrapped at their spaces); the
    tight width (formulas and headers broken at their operators too), the last resort before a
    main column is dropped."""
    cells, footer = col.texts(in_units)
    texts = [*cells, footer]
    widest = max((len(line) for t in texts for line in t.split("\n")), default=0)
    # A header a little wider than its cells stays on one line; a much wider one wraps.
    header = len(col.header) if len(col.header) <= widest + 3 else _longest_piece(col.header)
    natural = max(header, widest)
    tight_header = min(header, max(_longest_atom(col.header), widest))
    if col.kind == "name":
        minimum = min(natural, max(MIN_NAME, header, col.min_width))
        tight = minimum
    elif col.kind == "formula" and col.one_line:
        minimum = tight = natural
    elif col.kind == "formula":
        pieces = max(len(t) if _UNBREAKABLE.fullmatch(t) else _longest_piece(t) for t in texts)
        minimum = max(header, pieces, min(natural, col.wrap_above))
        atoms = max(len(t) if _UNBREAKABLE.fullmatch(t) else _longest_atom(t) for t in texts)
        tight = max(tight_header, atoms, col.min_width)
    else:
        minimum = natural
        tight = max(tight_header, widest)
    return natural, minimum, min(minimum, tight)


def fit(columns: list[Column], width: int, units: str = "auto") -> Layout:
    """Choose units, columns and widths so that the table is at most ``width`` wide.

    Args:
        columns: every column the table can show, in display order.
        width: the room available (a terminal's columns).
        units: ``raw`` (exact numbers), ``human`` (units) or ``auto`` (exact when the
            columns of priority up to :data:`CORE` fit exactly, else units).
    """
    _SIZES.clear()
    if units == "raw":
        choices = [False]
    elif units == "human":
        choices = [True]
    else:
        core = [c for c in columns if c.priority <= CORE]
        choices = [False] if _fits(core, width, False, True, True) else [True]
    in_units = choices[0]
    kept = list(columns)
    dropped: list[str] = []
    # Names stay whole while there are secondary columns to drop; then they shorten, then
    # formulas and headers break at their operators as well as at spaces, and only then do the
    # main columns go.
    for shorten_names, tight, floor in ((False, False, CORE + 1), (True, True, 1)):
        while not _fits(kept, width, in_units, shorten_names, tight):
            droppable = [c for c in kept if c.priority >= floor]
            if not droppable:
                break
            worst = max(droppable, key=lambda c: (c.priority, kept.index(c)))
            kept.remove(worst)
            dropped.append(worst.header.replace("\n", " "))
    if not _fits(kept, width, in_units, True, True):  # the last resort: shapes wrap too
        for c in kept:
            c.one_line = False
        _SIZES.clear()
    widths = _widths(kept, width, in_units, tight=not _fits(kept, width, in_units, True, False))
    _SIZES.clear()
    order = [c.header.replace("\n", " ") for c in columns]
    return Layout(kept, widths, in_units, sorted(dropped, key=order.index))


def _fits(
    columns: list[Column], width: int, in_units: bool, shorten_names: bool = True, tight: bool = False
) -> bool:
    sizes = [_natural(c, in_units) for c in columns]
    need = sum(
        n if (c.kind == "name" and not shorten_names) else t if tight else m
        for c, (n, m, t) in zip(columns, sizes, strict=True)
    )
    return need + GAP * (len(columns) - 1) <= width


def _widths(columns: list[Column], width: int, in_units: bool, tight: bool = False) -> list[int]:
    sizes = [_natural(c, in_units) for c in columns]
    widths = [t if tight else m for _, m, t in sizes]
    room = width - sum(widths) - GAP * (len(columns) - 1)
    # Give the room left to the columns that can use it, names first, then formulas.
    for kind in ("name", "formula", "number"):
        for i, c in enumerate(columns):
            if c.kind == kind and room > 0:
                extra = min(room, sizes[i][0] - widths[i])
                widths[i] += extra
                room -= extra
    return widths


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``, broken at spaces; a longer piece breaks at its
    last place :data:`_BREAK_AFTER` allows that fits (else it is folded)."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in _words(para) if len(para) > width else [para]:
            while len(word) > width:  # only for pieces wider than the column
                if line:
                    lines.append(line)
                    line = ""
                head = word[: width + 1]
                cut = max(
                    (m.start() for m in _BREAK_FIRST.finditer(head) if 0 < m.start() <= width), default=0
                )
                if not cut:
                    found = _BREAK_AFTER.finditer(head)
                    cut = max((m.start() for m in found if 0 < m.start() <= width), default=width)
                lines.append(word[:cut])
                word = word[cut:]
            if not line:
                line = word
            elif len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def output_width() -> int:
    """The columns to lay output out for: the terminal's when standard output is one, else
    ``$COLUMNS`` (20 to 10,000), else :data:`DEFAULT_WIDTH`."""
    import os
    import shutil
    import sys

    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and 20 <= int(columns) <= 10_000:
        return int(columns)
    return DEFAULT_WIDTH


def wrap_hanging(line: str, width: int, at_equals: bool = False) -> list[str]:
    """``line`` in lines of at most ``width``, broken at spaces, never inside a number (a piece
    longer than a line is folded); the lines after the first are indented to just after its
    label (``h: ``, ``MACs: ``). With ``at_equals``, breaks go before an ``=`` where possible:
    each step of a worked calculation stays whole."""
    if len(line) <= width:
        return [line]
    label, sep, _ = line.partition(": ")
    indent = len(label) + 2 if sep and len(label) + 2 <= min(12, width // 3) else 2
    room = max(width - indent, 1)
    steps = line.split(" = ") if at_equals else [line]
    pieces = [steps[0]]
    for step in steps[1:]:
        if len(pieces[-1]) + 3 + len(step) <= (width if len(pieces) == 1 else room):
            pieces[-1] += " = " + step
        else:
            pieces.append("= " + step)
    out: list[str] = []
    for piece in pieces:
        current = ""
        for word in piece.split(" "):
            if current and len(current) + 1 + len(word) <= (width if not out else room):
                current += " " + word
                continue
            if current:
                out.append(current)
            limit = width if not out else room
            while len(word) > limit:  # longer than a whole line: folded
                out.append(word[:limit])
                word = word[limit:]
                limit = room
            current = word
        out.append(current)
    return [out[0], *(" " * indent + rest for rest in out[1:])]


class FittedTable:
    """A table laid out by :func:`fit`, rendered line by line.

    It draws what rich's ``Table`` with ``box.SIMPLE_HEAD`` draws (a header, a rule, the rows,
    a footer), at the widths already chosen, in time linear in the cells: rich's own table
    measures and wraps every cell again, which costs seconds on thousands of rows.

    Args:
        layout: the fitted columns and widths.
        styles: one style (or None) per row.
        title: a line centred (or ``title_justify``) above the table.
        caption: text centred under it, wrapped to the table's width.
        show_footer: draw each column's footer under a blank line.
    """

    def __init__(
        self,
        layout: Layout,
        styles: list[str | None],
        *,
        title: str | None = None,
        caption: str | None = None,
        show_footer: bool = False,
        title_justify: str = "center",
    ):
        self.layout = layout
        self.styles = styles
        self.title = title
        self.caption = caption
        self.show_footer = show_footer
        self.title_justify = title_justify

    @property
    def width(self) -> int:
        return self.layout.width

    def _cell_lines(self, col: Column, text: str, width: int) -> list[str]:
        if col.kind == "name":
            return [shorten(line, width) for line in text.split("\n")]
        if col.kind == "formula" or "\n" in text:
            return wrap(text, width)
        return [text]

    def _row(self, cells: list[str], *, header: bool = False) -> list[list[str]]:
        """The lines of one row: per line, each column's text padded to its width."""
        columns, widths = self.layout.columns, self.layout.widths
        if (
            not header
            and not any("\n" in t for t in cells)
            and all(len(t) <= w or c.kind == "name" for c, w, t in zip(columns, widths, cells, strict=True))
        ):
            # One line (the common case): no wrapping to do.
            return [
                [
                    (t if len(t) <= w else shorten(t, w)).rjust(w)
                    if c.justify == "right"
                    else (t if len(t) <= w else shorten(t, w)).ljust(w)
                    for c, w, t in zip(columns, widths, cells, strict=True)
                ]
            ]
        blocks = []
        for col, w, text in zip(columns, widths, cells, strict=True):
            if header:
                lines = text.split("\n") if "\n" in text else wrap(text, w)
            else:
                lines = self._cell_lines(col, text, w)
            blocks.append(lines)
        height = max(len(b) for b in blocks)
        out = []
        for k in range(height):
            line = []
            for col, w, lines in zip(columns, widths, blocks, strict=True):
                # Headers sit on their last line, just above the rule; cells start at the top.
                j = k - (height - len(lines)) if header else k
                piece = lines[j] if 0 <= j < len(lines) else ""
                # a formula wrapped over several lines reads from the left, as text does
                right = col.justify == "right" and (header or len(lines) == 1 or col.kind != "formula")
                line.append(piece.rjust(w) if right else piece.ljust(w))
            out.append(line)
        return out

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style

        layout, width = self.layout, self.width
        gap = " " * GAP
        col_styles = [Style.parse(c.style) if c.style else None for c in layout.columns]

        combined: dict[Style | None, list[Style | None]] = {}

        def emit(pieces: list[str], row_style: Style | None = None):
            # Neighbouring pieces of one style go out as one segment (rich's cost is per segment).
            if row_style not in combined:
                combined[row_style] = [
                    row_style if st is None else st if row_style is None else st + row_style
                    for st in col_styles
                ]
            styles = combined[row_style]
            text, current = pieces[0], styles[0]
            for k in range(1, len(pieces)):
                if current != row_style:
                    yield Segment(text, current)
                    text, current = gap, row_style
                else:
                    text += gap
                if styles[k] != current:
                    yield Segment(text, current)
                    text, current = pieces[k], styles[k]
                else:
                    text += pieces[k]
            yield Segment(text, current)
            yield Segment.line()

        def centred(text: str, style: Style, justify: str):
            for line in wrap(text, max(width, 1)):
                pad = width - len(line)
                left = pad // 2 if justify == "center" else 0
                yield Segment(" " * left + line + " " * (pad - left), style)
                yield Segment.line()

        if self.title:
            yield from centred(self.title, Style(italic=True), self.title_justify)
        bold = Style(bold=True)
        columns = layout.columns
        for line in self._row([c.header for c in columns], header=True):
            yield from emit(line, bold)
        yield Segment("─" * width)
        yield Segment.line()
        texts = [c.texts(layout.in_units)[0] for c in columns]
        parsed: dict[str | None, Style | None] = {None: None}
        for i, style in enumerate(self.styles):
            if style not in parsed:
                parsed[style] = Style.parse(style)
            for line in self._row([t[i] for t in texts]):
                yield from emit(line, parsed[style])
        if self.show_footer:
            yield Segment(" " * width)
            yield Segment.line()
            footers = [c.texts(layout.in_units)[1] for c in columns]
            for line in self._row(footers):
                yield from emit(line, bold)
        if self.caption:
            yield from centred(self.caption, Style(dim=True), "center")

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(self.width, self.width)
