"""Declared arguments (pydantic models built on cnncalc.layers._fields.Model): what each
annotation accepts and refuses, with the message and the place; defaults, freezing, equality,
plain class attributes, the markers of other libraries, and the schema."""

from __future__ import annotations

import warnings
from typing import Annotated, Any, ClassVar, Literal

import annotated_types
import pydantic
import pytest

from cnncalc.layers._fields import ArgumentError, Model, Parse, Range


def _even(value: Any) -> int:
    if not isinstance(value, int) or value % 2:
        raise ValueError(f"expected an even number, found {value!r}")
    return value


def _value(value: Any) -> Any:
    if value is None or (isinstance(value, (int, float, str)) and not isinstance(value, bool)):
        return value
    raise ArgumentError(
        "expected a number or an expression, found " + ("true" if value is True else "a list")
    )


class Inner(Model):
    size: int
    label: str = "x"


class Record(Model):
    """One field of every kind a layer or a spec declares."""

    flag: bool = False
    count: int = 3
    ratio: float = 0.5
    title: str = ""
    mode: Literal["row", "batch"] = "row"
    maybe: int | None = None
    value: Annotated[Any, Parse(_value)] = None
    items: tuple[int, ...] = ()
    names: list[str] = []  # noqa: RUF012 (never changed)
    table: dict[str, int] = {}  # noqa: RUF012 (never changed)
    inner: Inner | None = None
    even: Annotated[int, Parse(_even, {"type": "integer", "multipleOf": 2})] = 0
    positive: Annotated[float, Range(gt=0)] = 1.0
    unit: Annotated[float, Range(ge=0, le=1)] = 0.0
    below: Annotated[int, Range(lt=10)] = 0
    anything: Any = None
    kind: ClassVar[str] = "not a field"
    SCALE = 2  # a plain class attribute, as custom layers write their constants
    _private = 7


def _fails(data: Any, cls: type[Model] = Record) -> ArgumentError:
    with pytest.raises(ArgumentError) as info:
        cls.read(data)
    return info.value


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ({"flag": "maybe"}, ("flag",), "expected true or false, found 'maybe'"),
        ({"flag": 1}, ("flag",), "expected true or false, found 1"),
        ({"count": True}, ("count",), "expected an integer, found true"),
        ({"count": 2.5}, ("count",), "expected an integer, found 2.5"),
        ({"count": "3"}, ("count",), "expected an integer, found '3'"),
        ({"ratio": "half"}, ("ratio",), "expected a number, found 'half'"),
        ({"ratio": False}, ("ratio",), "expected a number, found false"),
        ({"ratio": "1e400"}, ("ratio",), "expected a finite number, found '1e400'"),
        ({"ratio": "nan"}, ("ratio",), "expected a finite number, found 'nan'"),
        ({"ratio": 10**400}, ("ratio",), "expected a finite number, found"),
        ({"title": 3}, ("title",), "expected text, found 3"),
        ({"mode": "rows"}, ("mode",), "expected 'row' or 'batch', found 'rows'"),
        ({"maybe": "x"}, ("maybe",), "expected an integer, found 'x'"),
        ({"value": [1]}, ("value",), "expected a number or an expression, found a list"),
        ({"value": True}, ("value",), "expected a number or an expression, found true"),
        ({"value": 1.5, "flag": 2}, ("flag",), "expected true or false, found 2"),
        ({"items": 3}, ("items",), "expected a list, found 3"),
        ({"items": [1, "b"]}, ("items", 1), "expected an integer, found 'b'"),
        ({"names": ["a", 2]}, ("names", 1), "expected text, found 2"),
        ({"table": [1]}, ("table",), "expected a mapping, found a list"),
        ({"table": {"a": 1, "b": "two"}}, ("table", "b"), "expected an integer, found 'two'"),
        ({"table": {3: 1}}, ("table", 3), "expected a name, found 3"),
        ({"inner": {"label": "y"}}, ("inner", "size"), "missing required argument 'size'"),
        ({"inner": {"size": 1, "sise": 2}}, ("inner", "sise"), "unknown argument 'sise'"),
        ({"inner": 5}, ("inner",), "expected a mapping of arguments, found 5"),
        ({"even": 3}, ("even",), "expected an even number, found 3"),
        ({"positive": 0}, ("positive",), "must be greater than 0, found 0"),
        ({"positive": -1e-9}, ("positive",), "must be greater than 0, found -1e-09"),
        ({"unit": -0.1}, ("unit",), "must be at least 0, found -0.1"),
        ({"unit": 1.5}, ("unit",), "must be at most 1, found 1.5"),
        ({"below": 10}, ("below",), "must be less than 10, found 10"),
    ],
)
def test_a_value_that_does_not_fit_is_refused_where_it_is(data, loc, message):
    error = _fails(data)
    assert error.loc == loc
    assert error.message.startswith(message), error.message
    assert error.reason in ("value", "missing", "unknown")


def test_values_that_fit_are_read():
    r = Record.read(
        {
            "flag": True,
            "count": -4,
            "ratio": "1e-5",  # YAML 1.1 reads an exponent without a dot as text
            "mode": "batch",
            "maybe": 2,
            "value": "2*H",
            "items": [1, 2],
            "names": ["a"],
            "table": {"a": 1},
            "inner": {"size": 9},
            "even": 4,
            "positive": 1e-12,
            "unit": 1,
            "below": 9,
            "anything": {"x": [1]},
        }
    )
    assert (r.flag, r.count, r.ratio, r.mode, r.maybe, r.value) == (True, -4, 0.00001, "batch", 2, "2*H")
    assert r.items == (1, 2) and type(r.items) is tuple
    assert r.names == ["a"] and r.table == {"a": 1}
    assert r.inner == Inner.read({"size": 9, "label": "x"})
    assert (r.even, r.positive, r.unit, r.below, r.anything) == (4, 1e-12, 1.0, 9, {"x": [1]})
    assert type(r.ratio) is float and type(r.unit) is float


def test_the_edges_of_ranges():
    assert Record.read({"unit": 0}).unit == 0.0  # ge=0 takes 0
    assert Record.read({"unit": 1}).unit == 1.0  # le=1 takes 1
    assert Record.read({"below": 9}).below == 9
    assert _fails({"below": 10}).loc == ("below",)


def test_an_unknown_key_is_reported_before_a_missing_one_with_the_known_keys():
    class Two(Model):
        kernel: int
        stride: int = 1

    error = _fails({"kernal": 3}, Two)
    assert (error.reason, error.loc, error.known) == ("unknown", ("kernal",), ("kernel", "stride"))
    error = _fails({"stride": 2}, Two)
    assert (error.reason, error.loc, error.message) == (
        "missing",
        ("kernel",),
        "missing required argument 'kernel'",
    )
    assert Two.read({"kernel": 3}) == Two(kernel=3, stride=1)
    # In a nested model, the known keys are that model's.
    assert _fails({"inner": {"size": 1, "sise": 2}}).known == ("size", "label")


def test_nothing_given_takes_every_default_and_a_non_mapping_is_refused():
    r = Record.read(None)
    assert (r.flag, r.count, r.ratio, r.mode, r.items, r.inner) == (False, 3, 0.5, "row", (), None)
    error = _fails([1, 2], Record)
    assert error.loc == () and error.message == "expected a mapping of arguments, found a list"
    assert _fails({3: 1}).message == "expected an argument name, found 3"


def test_class_variables_plain_attributes_and_private_names_are_not_fields():
    assert set(Record.model_fields).isdisjoint({"kind", "SCALE", "_private"})
    assert (Record.kind, Record.SCALE, Record._private) == ("not a field", 2, 7)
    assert _fails({"kind": "x"}, Record).reason == "unknown"
    assert _fails({"SCALE": 3}, Record).reason == "unknown"


def test_records_are_frozen_and_compare_by_value():
    a, b = Record(count=1, items=(1, 2)), Record.read({"count": 1, "items": [1, 2]})
    assert a == b and hash(Inner(size=1)) == hash(Inner.read({"size": 1}))
    assert a != Record(count=2)
    assert a != Inner(size=1)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        a.count = 2
    assert repr(Inner(size=4)) == "Inner(size=4, label='x')"


def test_construct_checks_nothing_and_fills_defaults_read_as_values():
    r = Record.model_construct(count="not checked")
    assert r.count == "not checked" and r.ratio == 0.5 and r.mode == "row"
    assert r.items == () and type(r.items) is tuple


def test_a_layer_constructed_in_part_equals_the_one_read():
    from cnncalc.layers import REGISTRY

    conv = REGISTRY["conv2d"]
    read = conv.read({"out": 4, "kernel": 3})
    built = conv.model_construct(out=read.out, kernel=read.kernel)
    assert built == read and hash(built) == hash(read)
    assert built.stride == read.stride and len(built.stride) == 2  # the pair, not the 1 written


def test_defaults_are_read_like_given_values():
    class Defaults(Model):
        items: tuple[int, ...] = [1, 2]  # written as a list, stored as a tuple

    assert Defaults().items == (1, 2)

    class BadDefault(Model):
        flag: bool = "yes"

    assert _fails({}, BadDefault).message == "expected true or false, found 'yes'"


def test_a_subclass_adds_fields_and_overrides_defaults():
    class Base(Model):
        a: int
        b: int = 1

    class Child(Base):
        b: int = 5
        c: str = "c"

    assert list(Child.model_fields) == ["a", "b", "c"]
    assert Child(a=0).b == 5 and Base(a=0).b == 1
    assert Child.model_fields["a"].is_required()


def test_markers_of_other_libraries_bound_numbers_too():
    class Foreign(Model):
        a: Annotated[float, annotated_types.Gt(0)] = 1.0
        b: Annotated[float, pydantic.Field(le=1)] = 0.0

    assert _fails({"a": 0}, Foreign).message == "must be greater than 0, found 0"
    assert _fails({"b": 2}, Foreign).message == "must be at most 1, found 2"
    assert Foreign.read({"a": 0.1, "b": 1}).b == 1.0


def test_huge_numbers_are_described_without_converting_them_to_text():
    error = _fails({"title": 10**5000})
    assert error.message == "expected text, found a number of more than 4,300 digits"


def test_json_schema():
    schema = Record.model_json_schema()
    props = schema["properties"]
    assert schema["additionalProperties"] is False and "required" not in schema
    assert props["flag"] == {"type": "boolean", "default": False, "title": "Flag"}
    assert props["mode"]["enum"] == ["row", "batch"] and props["mode"]["default"] == "row"
    assert props["even"] == {"type": "integer", "multipleOf": 2, "default": 0, "title": "Even"}
    assert props["positive"]["exclusiveMinimum"] == 0
    assert (props["unit"]["minimum"], props["unit"]["maximum"]) == (0, 1)
    assert props["below"]["exclusiveMaximum"] == 10
    assert Inner.model_json_schema()["required"] == ["size"]


def test_the_old_module_still_reads_with_a_warning_naming_the_new_spelling():
    import importlib
    import sys

    sys.modules.pop("cnncalc.fields", None)
    with pytest.warns(DeprecationWarning, match=r"from cnncalc.layers import ArgumentError, Parse, Range"):
        old = importlib.import_module("cnncalc.fields")
    assert (old.Range, old.Parse, old.ArgumentError) == (Range, Parse, ArgumentError)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from cnncalc.layers import ArgumentError as New  # the new spelling warns of nothing

    assert New is ArgumentError
