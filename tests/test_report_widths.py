"""The terminal report never cuts a number: every bundled spec at widths from 40 to 200.

Each rendered layer row is read back: every number on it must be one of that layer's values,
written whole (``102,764,544``) or in explicit units that parse back to it within their rounding
(``102.76 M``, ``3.06 MiB``). A cut number (``102,764,`` or ``15,470,264,3``) matches nothing.
"""

from __future__ import annotations

import io
import re

import pytest

from cnncalc.analysis.groups import rows_at_depth
from cnncalc.analysis.receptive import receptive_fields
from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec
from cnncalc.report import View, render
from cnncalc.report.text import shape_text

from .helpers import SPECS, all_specs

WIDTHS = (40, 60, 80, 100, 120, 200)
UNITS = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
NUMBER = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?: (KiB|MiB|GiB|B|k|M|G|T)(?![\w]))?")


def _concrete_specs():
    out = []
    for path in all_specs():
        a = analyze(load_spec(path))
        if a.concrete:
            out.append(path)
    return out


CONCRETE = _concrete_specs()


def _lines(a, width, **view) -> list[str]:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    console.print(render(a, View(width=width, **view)))
    return console.file.getvalue().splitlines()


def _matches(token: str, unit: str | None, value: int) -> bool:
    """Whether the text ``token [unit]`` is ``value``, exactly or within its rounding."""
    if unit is None or unit == "B":
        if not re.fullmatch(r"\d{1,3}(,\d{3})*|\d+", token):
            return False  # a malformed grouping is a cut number
        return int(token.replace(",", "")) == value
    scale = UNITS[unit]
    decimals = len(token.split(".")[1]) if "." in token else 0
    return abs(float(token) * scale - value) <= (0.5 * 10**-decimals + 1e-9) * scale


def _check_numbers(line: str, values: set[int], where: str) -> None:
    for m in NUMBER.finditer(line):
        token, unit = m.group(1), m.group(2)
        assert any(_matches(token, unit, v) for v in values), f"{where}: {m.group(0)!r} in {line!r}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", CONCRETE, ids=lambda p: str(p.relative_to(SPECS)))
def test_no_number_is_cut(path, width):
    a = analyze(load_spec(path))
    lines = _lines(a, width)
    assert max(len(line) for line in lines) <= width
    rule = next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"})
    rows = rows_at_depth(a, None)
    fields = {f.name: f.axes for f in receptive_fields(a)}
    has_index = any(line.split()[:1] == ["#"] for line in lines[:rule])
    for row, line in zip(rows, lines[rule + 1 : rule + 1 + len(rows)], strict=True):
        if row.header:
            assert len(line.split()) == 1, line  # a heading carries no numbers
            continue
        r = row.layer
        text = line.replace(shape_text(r.output_shape), " ")
        # The name: whole, or shortened in the middle with an ellipsis.
        local = r.name.rsplit(".", 1)[-1] if "." in r.name else r.name
        cells = re.split(r"\s{2,}", text.strip())
        first = cells[1 if has_index else 0].split(" (")[0]
        if "…" in first:
            head, tail = first.split("…")
            assert local.startswith(head) and local.endswith(tail), (first, local)
        else:
            assert first.startswith(local) or local.startswith(first), (first, local)
        del cells[1 if has_index else 0]
        text = "   ".join(cells)
        b = 4  # float32
        values = {
            row.index + 1,
            r.params,
            r.macs,
            r.flops,
        } | {
            _prod(r.output_shape),
            _prod(r.output_shape) * b,
            (r.params + r.buffers) * b,
        }
        for ax in fields[r.name]:  # the receptive field column
            values |= {ax.size, *(ax.size_range or ())}
        _check_numbers(text, values, r.name)
    # The totals row: each number is one of the totals.
    total = next(line for line in lines[rule:] if line.lstrip(" 0123456789-").startswith("total"))
    t = a.totals
    totals = {t.params, t.macs, t.flops, t.activations, t.activations * 4, (t.params + t.buffers) * 4}
    _check_numbers(total.replace(shape_text(a.output_shape), " ").replace("total", " "), totals, "total")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", CONCRETE, ids=lambda p: str(p.relative_to(SPECS)))
def test_no_number_in_the_totals_panel_is_cut(path, width):
    """Every number in the totals panel is one of the totals, whole (with its reading in units
    on the same line): read back against the analysis's own totals and the memory figures
    computed here from the shapes (bytes = elements x 4 at float32)."""
    a = analyze(load_spec(path))
    lines = _lines(a, width)
    top = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    t = a.totals
    elements = sum(_prod(r.output_shape) for r in a.layers)
    inputs = _prod(a.input_shape)
    values = {
        t.params,
        t.trainable_params,
        t.frozen_params,
        t.buffers,
        t.macs,
        t.flops,
        inputs * 4,
        (t.params + t.buffers) * 4,
        elements * 4,
        (inputs + t.params + t.buffers + elements) * 4,
    }
    # The peak and the training figures have rules of their own (tested in test_memory and
    # test_training); here they only have to read back to themselves, whole.
    from cnncalc.analysis.lifetimes import lifetimes
    from cnncalc.analysis.training import training

    step = training(a, "float32", "adam")
    values |= {lifetimes(a, "float32").peak_bytes, step.total_bytes, step.step_flops}
    for line in lines[top + 1 :]:
        body = line.strip("│ ")
        if body.startswith(("Sizes at", "Valid when", "+ ?")) or line.startswith("╰"):
            break  # prose follows
        if body.endswith(":"):
            continue  # a label whose value is on the lines under it
        label, _, value = body.rpartition(":") if ":" in body else ("", "", body)
        _check_numbers(value, values, f"{path.name} at {width}, {label or 'value'}")
        # A reading in units is never split from its number: "(24.50" alone is a cut.
        assert value.count("(") == value.count(")"), line


def _prod(shape) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def test_vgg16_at_80_columns_keeps_the_totals_whole():
    a = analyze(load_spec(SPECS / "vgg16.yaml"))
    text = "\n".join(_lines(a, 80))
    # Exact where the main columns fit, with the dropped columns named under the table.
    assert "138,357,544" in text and "15,470,264,320" in text
    assert "102,764,544" in text  # fc6's params, whole
    assert "Not shown at 80 columns:" in text and "--wide" in text


def test_narrow_tables_switch_to_units_and_say_what_is_missing():
    a = analyze(load_spec(SPECS / "vgg16.yaml"))
    lines = _lines(a, 40)
    text = "\n".join(lines)
    assert "15.47 G" in text  # the MACs total in units: 15,470,264,320
    assert "Not shown at 40 columns:" in text
    assert max(len(line) for line in lines) <= 40


def test_units_raw_and_human():
    a = analyze(load_spec(SPECS / "vgg16.yaml"))
    raw = "\n".join(_lines(a, 200, units="raw"))
    human = "\n".join(_lines(a, 200, units="human"))
    assert "102,764,544" in raw
    fc6 = next(line for line in human.splitlines() if " fc6 " in line)
    assert "102.76 M" in fc6 and "102,764,544" not in fc6
    # The totals panel gives both readings whatever the units.
    assert "Params:" in human and "138,357,544 (138.36 M)" in human


def test_panels_are_never_wider_than_their_table():
    a = analyze(load_spec(SPECS / "resnet50.yaml"))
    for width in (60, 120, 200):
        lines = _lines(a, width)
        # A table's rule under its header spans its width.
        table_width = max(len(line.rstrip()) for line in lines if set(line.strip()) == {"─"})
        panel = [line for line in lines if line.startswith(("╭", "╰", "│"))]
        assert panel and max(len(line) for line in panel) <= max(table_width, 40), width


def test_wide_shows_every_column_exactly():
    a = analyze(load_spec(SPECS / "resnet50.yaml"))
    from rich.console import Console

    console = Console(file=io.StringIO(), width=10**4, color_system=None)
    console.print(render(a, View(width=80, wide=True)))
    text = console.file.getvalue()
    header = next(line for line in text.splitlines() if "output shape" in line)
    for column in ("#", "kind", "params", "MACs", "FLOPs", "out bytes"):
        assert column in header
    assert "Not shown" not in text
    assert "4,089,184,256" in text


def test_open_symbols_give_formulas_never_blank_shares():
    a = analyze(load_spec(SPECS / "examples" / "standard_3x3.yaml"))
    text = "\n".join(_lines(a, 120))
    assert "4608*M*N" in text
    conv = next(line for line in text.splitlines() if line.startswith("conv2d 3x3"))
    assert "100.00%" in conv  # a share of the whole that the symbols cancel from


def test_trainable_is_empty_for_layers_without_parameters(run_cli):
    code, out, _ = run_cli("analyze", "lenet5", "-f", "csv")
    assert code == 0
    import csv

    rows = {r["name"]: r["trainable"] for r in csv.DictReader(io.StringIO(out))}
    assert rows["conv1"] == "true" and rows["tanh1"] == "" and rows["flatten1"] == ""


def test_the_command_line_report_imports_no_heavy_module():
    """A concrete report (table, JSON, compare) runs on integers: no sympy, numba or textual."""
    import subprocess
    import sys

    code = (
        "import io, sys, contextlib\n"
        "from cnncalc.cli import main\n"
        "for argv in (['analyze', 'resnet50'], ['analyze', 'resnet50', '--depth', '1'],\n"
        "             ['analyze', 'vgg16', '-f', 'json'], ['compare', 'resnet18', 'resnet50']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(argv) == 0\n"
        "heavy = {'sympy', 'numba', 'textual', 'hypothesis'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_docs_state_the_order_columns_are_dropped_in():
    """The order is documented; the table follows the document (a column added to the table
    without it fails here)."""
    from pathlib import Path

    from cnncalc.report.table import DROP_ORDER

    readme = (Path(__file__).resolve().parent.parent / "docs" / "reference" / "reports.md").read_text()
    sentence = readme.split("**Columns that do not fit are dropped**, in this order:")[1].split("(`layer`")[0]
    assert tuple(re.findall(r"`([^`]+)`", sentence)) == DROP_ORDER


# -- 80 columns, formulas ----------------------------------------------------------------------


def _symbolic_80(run_cli, *args):
    code, out, err = run_cli("analyze", "lenet5", "--symbolic", "--width", "80", *args)
    assert code == 0, err
    return out


def test_symbolic_lenet5_at_80_columns_keeps_every_formula(run_cli):
    import json

    out = _symbolic_80(run_cli)
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "see --format json" not in out and "…" not in out
    header = next(line for line in out.splitlines() if line.startswith("layer"))
    assert header.split() == ["layer", "output", "shape", "params", "MACs"]
    data = json.loads(run_cli("analyze", "lenet5", "--symbolic", "-f", "json")[1])
    # every shape on one line of the table, as the JSON writes it
    lines = out.splitlines()
    for layer in data["layers"]:
        shape = "[" + ", ".join(str(d) for d in layer["output_shape"]) + "]"
        assert any(line.startswith(layer["name"]) and shape in line for line in lines), shape
    # every total in the panel, whole: its lines joined give the JSON's formula
    panel = [line.strip("│ ").strip() for line in lines if line.startswith("│")]
    for label, key in (("MACs:", "macs"), ("FLOPs:", "flops"), ("Params:", "params")):
        start = panel.index(label) + 1
        end = next(i for i in range(start, len(panel)) if panel[i].endswith(":") or not panel[i])
        assert " ".join(panel[start:end]) == data["totals"][key], label


def test_depth_0_prints_the_totals_only(run_cli):
    out = _symbolic_80(run_cli, "--depth", "0")
    assert "by category" not in out and "conv1" not in out and "output shape" not in out
    assert out.lstrip().startswith("╭─ totals")
    assert all(len(line) <= 80 for line in out.splitlines())


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet", "convnext", "googlenet"])
def test_category_names_are_whole_at_80_columns(run_cli, name):
    from cnncalc.analysis.breakdown import breakdown

    code, out, err = run_cli("analyze", name, "--width", "80")
    assert code == 0, err
    section = out[out.index("by category") :]
    words = " ".join(section.split())
    for row in breakdown(analyze(load_spec(SPECS / f"{name}.yaml"))):
        assert row.category in words, row.category  # whole, perhaps over two lines
    assert "…" not in section


def test_compare_labels_are_whole_at_80_columns(run_cli):
    designs = ("resnet50", "resnet50@H=160,W=160", "mobilenet_v2")
    code, out, err = run_cli("compare", *designs, "--width", "80")
    assert code == 0, err
    assert "…" not in out and all(len(line) <= 80 for line in out.splitlines())
    words = " ".join(out.split())
    for label in ("params", "MACs", "FLOPs", *designs):
        assert label in words, label
    # the metric's name whole, over two lines of its cell (never "train…params")
    assert re.search(r"^trainable +25,557,032 .*\nparams ", out, re.M), out


@pytest.mark.parametrize("name", ["lenet5", "mobilenet_v2", "unet"])
def test_a_wrapped_formula_is_the_whole_formula(name):
    from cnncalc.core import dims
    from cnncalc.report.layout import _longest_atom, wrap

    a = analyze(load_spec(SPECS / f"{name}.yaml"), symbolic=True)
    formulas = {dims.fmt(v) for r in a.layers for v in (r.macs, r.params, r.flops) if v is not None}
    formulas |= {shape_text(r.output_shape) for r in a.layers} | {dims.fmt(a.totals.macs)}
    for text in sorted(formulas, key=len)[-40:]:  # the longest
        for width in (_longest_atom(text), 10, 16, 24):
            pieces = wrap(text, max(width, _longest_atom(text)))
            assert all(len(p) <= max(width, _longest_atom(text)) for p in pieces), (text, pieces)
            assert "".join(pieces).replace(" ", "") == text.replace(" ", ""), (text, pieces)
            assert not any(p.strip() in ("+", "-", "*", "/") for p in pieces), pieces
