"""Declared fields (cnncalc.fields): what each annotation accepts and refuses, with the message
and the place; defaults, freezing, equality, annotations read on first use, and the schema."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import pytest

from cnncalc.lang.fields import MISSING, ArgumentError, Declared, Parse, Range, json_schema


def _even(value: Any) -> int:
    if not isinstance(value, int) or value % 2:
        raise ValueError(f"expected an even number, found {value!r}")
    return value


class Inner(Declared):
    size: int
    label: str = "x"


class Record(Declared):
    """One field of every kind the module reads."""

    flag: bool = False
    count: int = 3
    ratio: float = 0.5
    title: str = ""
    mode: Literal["row", "batch"] = "row"
    maybe: int | None = None
    value: int | float | str | None = None
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
    _private: int = 7


def _fails(data: Any, cls: type[Declared] = Record) -> ArgumentError:
    with pytest.raises(ArgumentError) as info:
        cls.validate(data)
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
    r = Record.validate(
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
    assert r.inner == Inner.validate({"size": 9, "label": "x"})
    assert (r.even, r.positive, r.unit, r.below, r.anything) == (4, 1e-12, 1.0, 9, {"x": [1]})
    assert type(r.ratio) is float and type(r.unit) is float


def test_the_edges_of_ranges():
    assert Record.validate({"unit": 0}).unit == 0.0  # ge=0 takes 0
    assert Record.validate({"unit": 1}).unit == 1.0  # le=1 takes 1
    assert Record.validate({"below": 9}).below == 9
    assert _fails({"below": 10}).loc == ("below",)


def test_an_unknown_key_is_reported_before_a_missing_one_with_the_known_keys():
    class Two(Declared):
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
    assert Two.validate({"kernel": 3}) == Two(kernel=3, stride=1)


def test_nothing_given_takes_every_default_and_a_non_mapping_is_refused():
    r = Record.validate(None)
    assert (r.flag, r.count, r.ratio, r.mode, r.items, r.inner) == (False, 3, 0.5, "row", (), None)
    error = _fails([1, 2], Record)
    assert error.loc == () and error.message == "expected a mapping of arguments, found a list"


def test_class_variables_and_private_names_are_not_fields():
    assert "kind" not in Record.fields() and "_private" not in Record.fields()
    assert Record.kind == "not a field"
    assert _fails({"kind": "x"}, Record).reason == "unknown"


def test_records_are_frozen_and_compare_by_value():
    a, b = Record(count=1, items=[1, 2]), Record(count=1, items=(1, 2))
    assert a == b and hash(a) == hash(b)
    assert a != Record(count=2)
    assert a != Inner(size=1)
    with pytest.raises(AttributeError, match="frozen"):
        a.count = 2
    with pytest.raises(AttributeError, match="frozen"):
        del a.count
    assert repr(Inner(size=4)) == "Inner(size=4, label='x')"
    # Records holding dicts and lists hash too.
    assert hash(Record(table={"a": 1}, names=["n"])) == hash(Record(table={"a": 1}, names=["n"]))


def test_construct_checks_nothing_and_fills_defaults():
    r = Record.construct(count="not checked")
    assert r.count == "not checked" and r.ratio == 0.5 and r.mode == "row"


def test_defaults_are_read_like_given_values():
    class Defaults(Declared):
        items: tuple[int, ...] = [1, 2]  # written as a list, stored as a tuple

    assert Defaults().items == (1, 2)
    field = Defaults.fields()["items"]
    assert field.default == (1, 2) and field.written == [1, 2] and not field.required

    class BadDefault(Declared):
        flag: bool = "yes"

    with pytest.raises(TypeError, match=r"BadDefault\.flag: expected true or false, found 'yes'"):
        BadDefault.fields()


def test_a_subclass_adds_fields_and_overrides_defaults():
    class Base(Declared):
        a: int
        b: int = 1

    class Child(Base):
        b: int = 5
        c: str = "c"

    assert list(Child.fields()) == ["a", "b", "c"]
    assert Child(a=0).b == 5 and Base(a=0).b == 1
    assert Child.fields()["a"].default is MISSING


def _shadowed(value: Any) -> int:
    return 42


class Shadowing(Declared):
    """A method named like the module-level function its annotation names."""

    x: Annotated[int, Parse(_shadowed)] = 0

    def _shadowed(self) -> None:  # not what the annotation means
        raise AssertionError


def test_annotations_read_module_names_before_class_names():
    assert Shadowing.validate({"x": "anything"}).x == 42


def test_an_annotation_that_cannot_be_read_names_the_field():
    class Unknown(Declared):
        x: NotDefinedAnywhere  # noqa: F821

    with pytest.raises(TypeError, match=r"Unknown\.x: .*NotDefinedAnywhere"):
        Unknown.fields()

    class Unsupported(Declared):
        x: set[int]

    with pytest.raises(TypeError, match=r"Unsupported\.x: cannot read arguments of type set\[int\]"):
        Unsupported.fields()


class Gt:  # as annotated_types.Gt
    gt = 0


class FieldLike:  # as a pydantic FieldInfo, whose constraints are in .metadata
    metadata = (type("Le", (), {"le": 1})(),)


class Foreign(Declared):
    a: Annotated[float, Gt()] = 1.0
    b: Annotated[float, FieldLike()] = 0.0


def test_range_markers_of_other_libraries_are_read_by_their_attributes():
    assert _fails({"a": 0}, Foreign).message == "must be greater than 0, found 0"
    assert _fails({"b": 2}, Foreign).message == "must be at most 1, found 2"
    assert Foreign.validate({"a": 0.1, "b": 1}).b == 1.0


def test_json_schema():
    schema = json_schema(Record)
    props = schema["properties"]
    assert schema["additionalProperties"] is False and "required" not in schema
    assert props["flag"] == {"type": "boolean", "default": False}
    assert props["mode"] == {"type": "string", "enum": ["row", "batch"], "default": "row"}
    assert props["maybe"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert props["inner"] == {"anyOf": [{"type": "object"}, {"type": "null"}], "default": None}
    assert props["value"]["type"] == ["integer", "number", "string", "null"]
    assert props["items"] == {"type": "array", "items": {"type": "integer"}, "default": []}
    assert props["even"] == {"type": "integer", "multipleOf": 2, "default": 0}
    assert props["positive"] == {"type": "number", "exclusiveMinimum": 0, "default": 1.0}
    assert props["unit"] == {"type": "number", "minimum": 0, "maximum": 1, "default": 0.0}
    assert props["below"] == {"type": "integer", "exclusiveMaximum": 10, "default": 0}
    assert json_schema(Inner)["required"] == ["size"]


def test_pydantic_field_bounds_are_read_when_pydantic_is_installed():
    pydantic = pytest.importorskip("pydantic")

    # Annotations given as objects, not text (a module without `from __future__ import annotations`).
    annotations = {"eps": Annotated[float, pydantic.Field(gt=0)]}
    WithPydantic = type("WithPydantic", (Declared,), {"__annotations__": annotations, "eps": 1e-5})

    assert _fails({"eps": 0}, WithPydantic).message == "must be greater than 0, found 0"
    assert WithPydantic.validate({"eps": 0.5}).eps == 0.5
