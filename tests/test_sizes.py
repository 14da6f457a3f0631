"""The engine refuses sizes no tensor can have, for every kind, and states the condition when
symbols are open."""

from __future__ import annotations

import pytest

from cnncalc.core import dims
from cnncalc.core.engine import analyze
from cnncalc.errors import ShapeError, SizeError
from cnncalc.lang.spec import parse_spec
from cnncalc.layers import REGISTRY, Int, Layer, register


def _halving(kind: str, rule, **attrs):
    """A custom kind whose output height is ``rule(self, H)``, no checks."""
    namespace = {
        "__doc__": "Rows by a rule under test. MACs: 0. FLOPs: 0.",
        "__module__": __name__,
        "__annotations__": {"k": Int},
        "kind": kind,
        "output_shape": lambda self, x: (x[0], x[1], rule(self, x[2]), x[3]),
        "flops": lambda self, x, *, out: 0,
        "forward": lambda self, xs, weights, out: 0,
        **attrs,
    }
    return register(type(kind.title().replace("_", ""), (Layer,), namespace))


@pytest.fixture
def kind():
    made: list[str] = []

    def make(name, rule, **attrs):
        made.append(name)
        return _halving(name, rule, **attrs)

    yield make
    for name in made:
        REGISTRY.pop(name, None)


def _spec(kind: str, height="H: 7", k: int = 2):
    return parse_spec(
        f"symbols: {{{height}}}\ninput: [1, 3, H, 5]\nlayers:\n  - {kind}: {{k: {k}}}\n", "net.yaml"
    )


@pytest.mark.parametrize(
    ("rule", "shown"),
    [
        (
            lambda self, h: dims.div(h, self.k),
            "the output shape [1, 3, 7/2, 5] is impossible: axis 2 (the height) is 7/2, not a whole "
            "number: the shape rule must round (dims.floordiv or dims.ceildiv), or the layer must declare "
            "a check that refuses the input [1, 3, 7, 5] (divides, at_least)",
        ),
        (
            lambda self, h: h / self.k,
            "the output shape [1, 3, 3.5, 5] is impossible: axis 2 (the height) is 3.5, a float (a "
            "division with /): divide with dims.floordiv or dims.ceildiv, or with dims.div where a check "
            "(divides) makes the division exact",
        ),
        (
            lambda self, h: dims.add(h, -7),
            "the output shape [1, 3, 0, 5] is impossible: axis 2 (the height) is 0, below 1: the layer "
            "must declare a check that refuses the input [1, 3, 7, 5] (at_least, divides), so that every "
            "size of its output is at least 1",
        ),
        (
            lambda self, h: dims.add(h, -9),
            "the output shape [1, 3, -2, 5] is impossible: axis 2 (the height) is -2, below 1",
        ),
        (
            lambda self, h: "7",
            "the output shape [1, 3, '7', 5] is impossible: axis 2 (the height) is '7' (str), not a size",
        ),
    ],
    ids=["fraction", "float", "zero", "negative", "text"],
)
def test_an_impossible_size_is_refused_with_the_layer_and_the_axis(kind, rule, shown):
    kind("test_rows", rule)
    with pytest.raises(SizeError) as err:
        analyze(_spec("test_rows"))
    assert str(err.value).startswith(f"net.yaml:4:16: layer 'test_rows1' (test_rows): {shown}")


def test_the_command_line_never_exits_0_on_an_impossible_size(kind, tmp_path, run_cli):
    kind("test_rows", lambda self, h: dims.add(h, -9))
    (tmp_path / "net.yaml").write_text(
        "symbols: {H: 7}\ninput: [1, 3, H, 5]\nlayers:\n  - test_rows: {k: 1}\n"
    )
    for command in ("analyze", "verify"):
        code, out, err = run_cli(command, str(tmp_path / "net.yaml"))
        assert code == 2 and out == "" and "is impossible: axis 2 (the height) is -2" in err


def test_under_open_symbols_a_whole_size_becomes_a_condition(kind):
    kind("test_rows", lambda self, h: dims.div(h, self.k))
    a = analyze(_spec("test_rows", height="H: {default: 8}"), symbolic=True)
    assert a.layers[0].output_shape[2] == dims.div(dims.symbol("H"), 2)
    # H/2 rows: H even, and at least 2 for one row.
    assert [c.condition for c in a.constraints] == ["H >= 2", "H % 2 == 0"]
    assert a.constraints[1].reason == "axis 2 (the height) of the output, H/2, must be a whole number"
    assert a.constraints[0].reason == "axis 2 (the height) of the output, H/2, must be at least 1"
    assert analyze(_spec("test_rows", height="H: 8")).layers[0].output_shape == (1, 3, 4, 5)


def test_under_open_symbols_a_size_of_at_least_1_becomes_a_condition(kind):
    kind("test_rows", lambda self, h: dims.add(h, -4))
    a = analyze(_spec("test_rows", height="H: {default: 8}"), symbolic=True)
    assert [c.condition for c in a.constraints] == ["H >= 5"]
    with pytest.raises(
        ShapeError, match=r"of the output, H - 4, must be at least 1: this needs H >= 5, but H <= 4"
    ):
        analyze(_spec("test_rows", height="H: {default: 3, max: 4}"), symbolic=True)


def test_a_size_no_symbol_value_makes_whole_is_refused(kind):
    kind("test_rows", lambda self, h: dims.add(h, dims.div(1, 2)))
    with pytest.raises(SizeError, match=r"axis 2 \(the height\) is H \+ 1/2, not a whole number"):
        analyze(_spec("test_rows", height="H: {default: 8}"), symbolic=True)


def test_a_kind_may_allow_empty_outputs(kind):
    kind("test_rows", lambda self, h: dims.add(h, -7), min_output_size=0)
    assert analyze(_spec("test_rows")).layers[0].output_shape == (1, 3, 0, 5)
    with pytest.raises(SizeError, match=r"axis 2 \(the height\) is -1, below 0"):
        analyze(_spec("test_rows", height="H: 6"))


def test_a_remembered_layer_states_its_size_conditions_again(kind):
    """The editor's memo returns a layer's results without running its rules: the conditions
    on its sizes are still those of the analysis (each analysis records its own)."""
    from cnncalc.core.memo import Memo

    kind("test_rows", lambda self, h: dims.div(h, self.k))
    spec = _spec("test_rows", height="H: {default: 8}")
    memo = Memo()
    first = analyze(spec, symbolic=True, memo=memo)
    again = analyze(spec, symbolic=True, memo=memo)
    assert memo.hits >= 1
    assert [c.condition for c in again.constraints] == [c.condition for c in first.constraints]
    assert [c.condition for c in again.constraints] == ["H >= 2", "H % 2 == 0"]
