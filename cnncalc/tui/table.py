"""The layer table: a scrolling grid of plain text that renders only the rows in view.

A spec of a thousand layers is redrawn on every keystroke, so the table keeps its rows as
strings, sizes its columns with one pass over them, and draws a line only when it is visible.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = 2
#: Columns hidden, in this order, when the table is narrower than its columns (the last
#: column, of verification marks, only while it is empty). Then the gap between columns
#: narrows to one space; the name, output shape, params and MACs are never hidden nor cut.
DROP_ORDER = ("kind", "#")
NARROW_GAP = 1


class LayerTable(ScrollView, can_focus=True):
    """Rows of text cells under a fixed header, one highlighted row (the cursor)."""

    BINDINGS: ClassVar = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]
    COMPONENT_CLASSES: ClassVar = {
        "layer-table--header",
        "layer-table--cursor",
        "layer-table--group",
        "layer-table--odd",
        "layer-table--good",
        "layer-table--bad",
    }
    DEFAULT_CSS = """
    LayerTable { background: $surface; }
    LayerTable > .layer-table--header { text-style: bold; color: $text; background: $panel; }
    LayerTable > .layer-table--cursor { background: $accent 35%; }
    LayerTable:focus > .layer-table--cursor { background: $accent 70%; }
    LayerTable > .layer-table--group { text-style: bold; }
    LayerTable > .layer-table--odd { background: $surface-lighten-1; }
    LayerTable > .layer-table--good { color: $success; }
    LayerTable > .layer-table--bad { color: $error; text-style: bold; }
    """

    cursor_row: reactive[int] = reactive(0, init=False)

    class RowHighlighted(Message):
        """The cursor moved to ``row``."""

        def __init__(self, table: LayerTable, row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> LayerTable:
            return self.table

    def __init__(self, columns: tuple[str, ...], right: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns = columns
        self.right = set(right)
        self.rows: list[tuple[str, ...]] = []
        self.kinds: list[str] = []  # per row: "" or "group"
        self.marks: dict[int, bool] = {}  # row -> verified ok (the last column)
        self.widths = [cell_len(c) for c in columns]
        self.gap = GAP
        self._layout_key: tuple | None = None
        self._layout: tuple[list[int], int] = ([], GAP)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def cell(self, row: int, column: str) -> str:
        """The text of a cell (``column`` by its header)."""
        return self.rows[row][self.columns.index(column)]

    def set_rows(self, rows: list[tuple[str, ...]], kinds: list[str], marks: dict[int, bool]) -> None:
        """Replace every row; the cursor stays where it was, within the new rows. When only some
        rows differ (an edit of one layer), only their lines are drawn again."""
        old = (self.rows, self.kinds, self.marks, self.widths)
        self.rows, self.kinds, self.marks = rows, kinds, marks
        self._layout_key = None
        widths = [cell_len(c) for c in self.columns]
        for row in rows:
            for i, text in enumerate(row):
                n = len(text)
                if n > widths[i]:
                    widths[i] = n
        self.widths = widths
        self._resize_virtual()

        if self.cursor_row >= len(rows):
            self.cursor_row = max(0, len(rows) - 1)
        if (old[1], old[2], old[3]) == (kinds, marks, widths) and len(old[0]) == len(rows):
            for index, (before, after) in enumerate(zip(old[0], rows, strict=True)):
                if before != after:
                    self.refresh_lines(index + 1)  # row i is virtual line i + 1, under the header
            self.refresh(Region(0, 0, self.size.width, 1))  # the header, which does not scroll
        else:
            self.refresh()

    def _resize_virtual(self) -> None:
        shown = self._shown()
        self.virtual_size = Size(sum(self.widths[i] + self.gap for i in shown), len(self.rows) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._resize_virtual()
        self.call_after_refresh(self._scroll_to_cursor)  # the selected row stays in view

    # -- drawing -------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            style = self.get_component_rich_style("layer-table--header")
            return self._line(self.columns, style, {}).crop_extend(scroll_x, scroll_x + width, style)
        index = scroll_y + y - 1
        base = self.rich_style
        if index >= len(self.rows):
            return Strip.blank(width, base)
        style = base
        if index % 2:
            style += self.get_component_rich_style("layer-table--odd")
        if self.kinds[index] == "group":
            style += self.get_component_rich_style("layer-table--group")
        if index == self.cursor_row:
            style += self.get_component_rich_style("layer-table--cursor")
        if self.has_class("stale"):
            style += Style(dim=True)
        last = {}
        if index in self.marks:
            name = "layer-table--good" if self.marks[index] else "layer-table--bad"
            last = {len(self.columns) - 1: self.get_component_rich_style(name, partial=True)}
        return self._line(self.rows[index], style, last).crop_extend(scroll_x, scroll_x + width, style)

    def _shown(self) -> list[int]:
        """The columns drawn (and :attr:`gap` set): all of them when they fit the widget, else
        without the empty last column and those of :data:`DROP_ORDER`, dropped in turn until
        they fit, then with :data:`NARROW_GAP` between them (numbers are never cut; what still
        does not fit scrolls). Worked out once per rows and width (every line drawn asks)."""
        width = self.scrollable_content_region.width  # without the scrollbars
        key = (id(self.rows), width, tuple(self.widths), bool(self.marks))
        if self._layout_key != key:
            self._layout_key = key
            self._layout = (self._fit(width), self.gap)
        shown, self.gap = self._layout
        return shown

    def _fit(self, width: int) -> list[int]:
        shown = list(range(len(self.columns)))
        self.gap = GAP

        def fits() -> bool:
            return sum(self.widths[i] + self.gap for i in shown) <= width

        last = len(self.columns) - 1
        if not fits() and not self.marks and not any(row[last] for row in self.rows):
            shown.remove(last)
        for name in DROP_ORDER:
            if fits():
                break
            if name in self.columns:
                shown.remove(self.columns.index(name))
        if not fits():
            self.gap = NARROW_GAP
        return shown

    def _line(self, cells: tuple[str, ...], style: Style, extra: dict[int, Style]) -> Strip:
        segments = []
        left = self.scroll_offset.x
        right = left + self.scrollable_content_region.width
        x = 0
        shown = self._shown()
        gap = self.gap
        lead = max(1, gap // 2)  # one space before the first column, as between columns
        for i in shown:
            text, w = cells[i], self.widths[i]
            padded = text.rjust(w) if self.columns[i] in self.right else text.ljust(w)
            start, x = x, x + w + gap
            if start + lead < left or start + lead + w > right:
                padded = " " * w  # a column the view cuts is left blank: never half a number
            segments.append(
                Segment(
                    " " * lead + padded + " " * (gap - lead),
                    style + extra[i] if i in extra else style,
                )
            )
        return Strip(segments)

    # -- the cursor ----------------------------------------------------------------------------

    def watch_cursor_row(self, row: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.RowHighlighted(self, row))

    def _scroll_to_cursor(self) -> None:
        view = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + view:
            self.scroll_to(y=self.cursor_row - view + 1, animate=False)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (clamped to the rows)."""
        if self.rows:
            self.cursor_row = max(0, min(len(self.rows) - 1, row))

    def action_move(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step * max(1, self.size.height - 2))

    def action_jump(self, row: int) -> None:
        self.move_cursor(row if row >= 0 else len(self.rows) - 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor(self.scroll_offset.y + event.y - 1)
