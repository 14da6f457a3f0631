"""The calculator screen: one convolution or pooling, its arithmetic, and its output values."""

from __future__ import annotations

from argparse import Namespace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static, TextArea
from textual.worker import get_current_worker

from ..errors import CnncalcError

FIELDS = (
    ("size", "input n or HxW", "28x31"),
    ("kernel", "kernel f", "5"),
    ("padding", "padding p", "2"),
    ("stride", "stride s", "3"),
    ("dilation", "dilation", "1"),
    ("channels", "channels", "1"),
    ("filters", "filters", "1"),
)
OPERATIONS = [("convolution", "conv"), ("max pooling", "max"), ("average pooling", "avg")]

#: The course's example: a 6x6 image and the vertical edge filter.
EXAMPLE_IMAGE = """\
3 0 1 2 7 4
1 5 8 9 3 1
2 7 2 5 1 3
0 1 3 1 7 8
4 2 1 6 2 8
2 4 5 2 3 9"""
EXAMPLE_FILTER = """\
1 0 -1
1 0 -1
1 0 -1"""


class CalculatorScreen(Screen):
    """Output size with the formula and its numbers, params, MACs; matrices through the kernel."""

    BINDINGS: ClassVar = [
        Binding("escape,f8", "close", "Back"),
        Binding("f9", "example", "Course example"),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="calc"):
            with VerticalScroll(id="calc-form"):
                with Grid(id="calc-fields"):
                    for key, label, value in FIELDS:
                        yield Label(label)
                        yield Input(value=value, id=f"calc-{key}", compact=True)
                    yield Label("operation")
                    yield Select(OPERATIONS, value="conv", allow_blank=False, id="calc-op", compact=True)
                yield Checkbox("ceil mode (pooling)", id="calc-ceil", compact=True)
                yield Checkbox("bias", value=True, id="calc-bias", compact=True)
                yield Label(
                    "padding: a number, HxW, same or valid. Matrices: rows of numbers, or "
                    "nested lists; they give the sizes. f9: the course's example.",
                    classes="hint",
                )
            with VerticalScroll(id="calc-out"):
                yield Static(id="calc-result")
                with Horizontal(id="calc-matrices"):
                    with Vertical():
                        yield Label("input matrix")
                        yield TextArea(id="calc-input", soft_wrap=False)
                    with Vertical():
                        yield Label("filter")
                        yield TextArea(id="calc-filter", soft_wrap=False)
                yield Static(id="calc-values")
        yield Footer()

    def on_mount(self) -> None:
        self.recalculate()

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    def recalculate(self) -> None:
        """Recompute from the form (the kernel run happens in a worker)."""
        self._calculate(self._form())

    def _form(self) -> tuple[Namespace, str, str]:
        def value(key: str) -> str:
            return self.query_one(f"#calc-{key}", Input).value.strip()

        op = self.query_one("#calc-op", Select).value
        args = Namespace(
            size=value("size") or None,
            kernel=value("kernel") or None,
            padding=value("padding") or "0",
            stride=value("stride") or None,
            dilation=value("dilation") or "1",
            channels=value("channels") or None,
            filters=value("filters") or None,
            ceil_mode=self.query_one("#calc-ceil", Checkbox).value,
            no_bias=not self.query_one("#calc-bias", Checkbox).value,
            pool=None if op == "conv" else op,
            input=None,
            filter=None,
        )
        return (
            args,
            self.query_one("#calc-input", TextArea).text,
            self.query_one("#calc-filter", TextArea).text,
        )

    @work(thread=True, exclusive=True, group="calculator")
    def _calculate(self, form: tuple[Namespace, str, str]) -> None:
        """The arithmetic, and the values when matrices are given (numba may compile first)."""
        from ..analysis.calc import apply, matrix_text, parse_matrix
        from ..cli.conv import calculation_from_args
        from ..report.conv import summary_lines

        args, image_text, filter_text = form
        worker = get_current_worker()
        try:
            image = parse_matrix(image_text, "input matrix") if image_text.strip() else None
            filt = parse_matrix(filter_text, "filter") if filter_text.strip() and args.pool is None else None
            # Matrices typed in give the sizes; the fields they replace are ignored.
            if image is not None:
                args.size = args.channels = None
            if filt is not None:
                args.kernel = args.filters = None
            calc, image, filt = calculation_from_args(args, image, filt)
            summary = _summary(summary_lines(calc))
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._show, summary, None)
            if image is not None and (filt is not None or args.pool):
                running = Text("running the reference kernel (compiled on first use)…", style="dim")
                self.app.call_from_thread(self._show_values, running)
                values = "\n".join(matrix_text(apply(calc, image, filt)))
                note = Text(f"output values, {calc.size_text}\n", style="bold") + Text(values)
            elif image is not None:
                note = Text("type a filter to compute the output values", style="dim")
            else:
                note = Text("type an input matrix (and a filter) for the output values", style="dim")
        except CnncalcError as exc:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._show, None, Text(str(exc), style="bold red"))
            return
        except Exception as exc:  # a bug: shown, never fatal to the editor behind this screen
            note = Text(f"internal error: {type(exc).__name__}: {exc}", style="bold red")
            if not worker.is_cancelled:
                self.app.call_from_thread(self._show, None, note)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_values, note)

    def _show(self, summary: Text | None, error: Text | None) -> None:
        result = self.query_one("#calc-result", Static)
        result.update(summary if summary is not None else error)
        result.set_class(error is not None, "failed")
        if error is not None:
            self.query_one("#calc-values", Static).update("")

    def _show_values(self, values: Text) -> None:
        self.query_one("#calc-values", Static).update(values)

    def action_example(self) -> None:
        """Fill in the course's 6x6 image and vertical edge filter."""
        self.query_one("#calc-size", Input).value = ""
        self.query_one("#calc-kernel", Input).value = ""
        self.query_one("#calc-padding", Input).value = "0"
        self.query_one("#calc-stride", Input).value = "1"
        self.query_one("#calc-op", Select).value = "conv"
        self.query_one("#calc-input", TextArea).text = EXAMPLE_IMAGE
        self.query_one("#calc-filter", TextArea).text = EXAMPLE_FILTER

    def action_close(self) -> None:
        self.app.pop_screen()


def _summary(lines: list[str]) -> Text:
    text = Text()
    text.append(lines[0] + "\n", style="bold green")
    for line in lines[1:]:
        label, sep, rest = line.partition(": ")
        text.append(label + sep, style="bold")
        text.append(rest + "\n")
    return text
