"""Derived symbols, lists and tables: values written as arithmetic, refusals located."""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze, resolve_symbols
from cnncalc.errors import CnncalcError, SpecError, UsageError
from cnncalc.lang.spec import parse_spec

HEAD = "input: [1, 3, 32, 32]\n"


def run(text: str, values=None, **kw):
    return analyze(parse_spec(text, "net.yaml"), values, **kw)


# -- derived symbols -----------------------------------------------------------------------------

DERIVED = """
symbols:
  alpha: {default: 0.75, type: rational}
  C1: {default: "make_divisible(32*alpha, 8)", doc: the stem's width}
  C2: "2*C1"
input: [1, 3, 32, 32]
layers:
  - conv2d: {out: C1, kernel: 3, padding: 1, bias: false}
  - conv2d: {out: C2, kernel: 1, bias: false}
"""


def test_a_default_may_be_an_expression_of_the_symbols_above_it():
    a = run(DERIVED)
    # make_divisible(24, 8) = 24; C2 = 48
    assert (a.symbols["C1"], a.symbols["C2"]) == (24, 48)
    assert a.totals.params == 3 * 24 * 9 + 24 * 48


def test_a_derived_value_follows_the_symbols_it_reads_and_set_overrides_it():
    assert run(DERIVED, {"alpha": "0.5"}).symbols["C1"] == 16  # make_divisible(16, 8)
    # alpha = 0.3: 9.6 rounds to 8, less than 90% of 9.6, so 16
    assert run(DERIVED, {"alpha": "0.3"}).symbols["C1"] == 16
    a = run(DERIVED, {"C1": 40})
    assert (a.symbols["C1"], a.symbols["C2"]) == (40, 80)


def test_a_derived_symbol_is_a_formula_of_the_open_ones():
    spec = parse_spec(DERIVED.replace('"make_divisible(32*alpha, 8)"', '"32*alpha"'), "net.yaml")
    values = resolve_symbols(spec, symbolic=True)
    assert values["alpha"] is None
    assert str(values["C1"]) == "32*alpha"


@pytest.mark.parametrize(
    ("symbols", "match"),
    [
        (
            '  C1: "2*C2"\n  C2: 4\n',
            r"net.yaml:2:7: symbols.C1: the default of C1 reads 'C2', which is not declared above it",
        ),
        ('  C1: "2*i"\n', r"the default of C1 cannot read 'i': it is the index of a repetition"),
        ('  C1: "here.C"\n', r"the default of C1 cannot read a tensor's dimension \(here.C\)"),
    ],
)
def test_a_derived_default_reads_only_symbols_above_it(symbols, match):
    with pytest.raises(SpecError, match=match):
        parse_spec("symbols:\n" + symbols + HEAD + "layers: [relu]\n", "net.yaml")


def test_a_derived_value_that_breaks_its_symbols_rules_is_located_at_its_default():
    text = "symbols:\n  a: {default: 0.3, type: rational}\n  C: {default: '32*a', max: 20}\n" + HEAD
    text += "layers: [relu]\n"
    with pytest.raises(SpecError) as info:
        run(text)
    assert str(info.value) == (
        "net.yaml:3:16: symbols.C.default: C = 32*a = 48/5 (with a = 3/10) is not an integer; "
        "round it (floor, ceil, make_divisible), or declare `type: rational`"
    )
    with pytest.raises(SpecError, match=r"C = 32\*a = 32 \(with a = 1\) is outside \[1, 20\]"):
        run(text, {"a": 1})


# -- lists ---------------------------------------------------------------------------------------


def test_a_list_symbol_is_indexed_counted_and_summed():
    text = "symbols:\n  widths: [8, 16, 24]\n" + HEAD
    text += "layers:\n  - conv2d: {out: 'widths[1] + len(widths) + sum(widths)', kernel: 1}\n"
    a = run(text)
    assert a.output_shape == (1, 16 + 3 + 48, 32, 32)
    assert "widths" not in a.symbols  # a list is not a symbol the command line sets


def test_lists_may_hold_pairs_and_rows_and_negative_indices_count_from_the_end():
    text = "symbols:\n  rows: [[1, 7], [7, 1], [3, 3]]\n" + HEAD
    text += "layers:\n  - conv2d: {out: 'rows[-1][0]', kernel: 'rows[0]', padding: [0, 3]}\n"
    assert run(text).output_shape == (1, 3, 32, 32)  # a 1x7 kernel padded 0, 3


def test_a_block_argument_may_be_a_list():
    text = (
        HEAD
        + """blocks:
  stack:
    args: {widths: null}
    layers:
      - conv2d: {out: "widths[i]", kernel: 1, repeat: "len(widths)"}
layers:
  - stack: {widths: [4, 8, 12]}
"""
    )
    a = run(text)
    assert [r.output_shape[1] for r in a.layers] == [4, 8, 12]
    assert a.totals.params == (3 * 4 + 4) + (4 * 8 + 8) + (8 * 12 + 12)


@pytest.mark.parametrize(
    ("out", "match"),
    [
        ("widths[3]", r"index 3 is out of range for widths, a list of 3 values \(indices 0 to 2\)"),
        ("widths[-4]", r"index -4 is out of range"),
        ("widths", r"widths is a list of 3 values; index it \(widths\[0\]\)"),
        ("widths[0][1]", r"widths\[0\] is 8, not a list"),
        ("widths[1/2]", r"an index is a known integer, found 1/2"),
        ("widths[1:2]", r"slices are not allowed"),
    ],
)
def test_indexing_mistakes_are_located(out, match):
    text = "symbols:\n  widths: [8, 16, 24]\n" + HEAD + f"layers:\n  - conv2d: {{out: '{out}', kernel: 1}}\n"
    with pytest.raises(CnncalcError, match=match) as info:
        run(text)
    # refused when the layer is bound (at its entry), or when read (at the value)
    column = 19 if "slices" in match else 13
    assert (info.value.file, info.value.line, info.value.column) == ("net.yaml", 5, column)


def test_a_list_cannot_be_set_on_the_command_line():
    with pytest.raises(UsageError, match=r"widths is a list in net\.yaml"):
        run("symbols:\n  widths: [8]\n" + HEAD + "layers: [relu]\n", {"widths": 3})


# -- tables --------------------------------------------------------------------------------------

TABLE = """
symbols:
  settings:     # t, c, n, s
    - [1, 8, 1, 1]
    - [2, 16, 2, 2]
    - [3, 24, 3, 1]
input: [1, 4, 32, 32]
blocks:
  unit:
    args: {t: null, out: null, stride: 1}
    layers:
      - conv2d: {out: "t*input.C", kernel: 1, name: expand}
      - conv2d: {out: out, kernel: 3, stride: stride, padding: 1, name: project}
layers:
  - unit: {for: "t, c, n, s in settings", repeat: n, t: t, out: c, first: {stride: s},
           name: "stage{row}.{i}"}
  - conv2d: {out: 2, kernel: 1, for: "t, c, n, s in settings", name: "head{count}"}
"""


def test_an_entry_repeats_over_the_rows_of_a_table_binding_its_fields():
    a = run(TABLE)
    names = [r.name for r in a.layers]
    assert names[:4] == ["stage0.0.expand", "stage0.0.project", "stage1.0.expand", "stage1.0.project"]
    assert [n for n in names if n.endswith("project")] == [
        "stage0.0.project",
        "stage1.0.project",
        "stage1.1.project",
        "stage2.0.project",
        "stage2.1.project",
        "stage2.2.project",
    ]
    shapes = {r.name: r.output_shape for r in a.layers}
    # the first repetition of each row strides by s: 32 -> 32 -> 16 -> 16 -> 16
    assert shapes["stage1.0.project"] == (1, 16, 16, 16)
    assert shapes["stage1.1.expand"] == (1, 32, 16, 16)  # t = 2 times 16 channels
    assert shapes["stage2.2.project"] == (1, 24, 16, 16)
    assert names[-3:] == ["head0", "head1", "head2"]


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ('{for: "t, c in settings"}', r"row 0 of settings has 4 values; for: binds 2 \(t, c\)"),
        ('{for: "t, c, n, s, x in settings"}', r"row 0 of settings has 4 values; for: binds 5"),
        ('{for: "t c n s settings"}', r"for: repeats an entry over the rows of a table"),
        ('{for: "t, t, n, s in settings"}', r"for: names a field twice"),
        ('{for: "row, c, n, s in settings"}', r"for: binds 'row' \(a field here\), which is reserved"),
        ('{for: "i, c, n, s in settings"}', r"for: binds 'i' \(a field here\), which is reserved"),
        ('{for: "t, c, n, s in settings[0]"}', r"row 0 of settings\[0\] has the value 1"),
        ('{for: "t, c, n, s in nothing"}', r"'nothing' is not defined"),
    ],
)
def test_table_mistakes_are_located_at_for(entry, match):
    text = (
        TABLE.split("layers:\n  - unit")[0] + f"layers:\n  - conv2d: {{out: 2, kernel: 1, {entry[1:-1]}}}\n"
    )
    with pytest.raises(SpecError, match=match) as info:
        run(text)
    assert info.value.line is not None


def test_a_table_is_bounded_by_the_expansion_limits():
    rows = "\n".join("    - [1]" for _ in range(5000))
    text = f"symbols:\n  rows:\n{rows}\n" + HEAD
    text += "layers:\n  - relu: {for: 'x in rows', repeat: 5}\n"
    with pytest.raises(SpecError, match="the network expands to more than 20000 layers"):
        run(text)
