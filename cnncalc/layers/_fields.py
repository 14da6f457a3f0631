"""Declared arguments: a layer kind, and each fixed part of a spec (a symbol, a block, the spec
itself), is a pydantic model whose annotated attributes are what it accepts.

This module holds what those models share:

- :class:`Model`, their base: frozen, unknown keys refused, values never coerced (``"3"`` is not
  an integer, ``1`` is not ``true``), schemas built the first time a kind is used (so a spec
  pays only for the kinds it uses). YAML's own spellings are read as their annotation means
  them: a list for a ``tuple``, a numeric string such as ``1e-5`` (which YAML 1.1 reads as text)
  for a ``float``.
- the markers argument types are declared with: :class:`Parse` (the value is read by a
  function) and :func:`Range` (bounds on a number); pydantic's own markers (``Field(gt=0)``,
  ``annotated_types.Gt(0)``) work too;
- :func:`problem`: the first error of a pydantic ``ValidationError``, as an
  :class:`ArgumentError` in plain words (``expected an integer, found '3'``) with the place of
  the value; the spec loader adds the file, line and column.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import core_schema

from ..errors import shorten


class ArgumentError(ValueError):
    """A value that does not fit its field.

    ``loc`` is the path of the value inside the validated mapping (empty for the mapping
    itself); ``reason`` is ``"unknown"`` (a key no field has; ``known`` lists the fields),
    ``"missing"`` (a required field not given) or ``"value"``. A :class:`Parse` function may
    raise it (or a plain ``ValueError``) with its own message.
    """

    def __init__(self, message: str, loc: tuple = (), reason: str = "value", known: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.reason = reason
        self.known = known

    def within(self, key: Any) -> ArgumentError:
        """The same error, one level deeper: at ``key`` of the enclosing mapping."""
        return ArgumentError(self.message, (key, *self.loc), self.reason, self.known)


class Parse:
    """Annotation marker: the value is read by ``function``, which returns what is stored or
    raises :class:`ArgumentError` or ``ValueError`` with the message; ``schema`` is the JSON
    Schema of what it accepts::

        axes: Annotated[tuple[int, ...], Parse(read_axes, {"type": "array"})]
    """

    __slots__ = ("function", "schema")

    def __init__(self, function: Callable[[Any], Any], schema: dict | None = None):
        self.function = function
        self.schema = schema or {}

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.function)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        return dict(self.schema)


def Range(*, gt: Any = None, ge: Any = None, lt: Any = None, le: Any = None) -> annotated_types.Interval:
    """Annotation marker: bounds on a number, ``Annotated[float, Range(gt=0)]`` (``gt``, ``ge``,
    ``lt``, ``le``)."""
    return annotated_types.Interval(gt=gt, ge=ge, lt=lt, le=le)


def describe(value: Any) -> str:
    """What a value is, in a message: ``a mapping``, ``a list``, ``nothing``, or the value itself
    when it is short (``'maybe'``, ``1.5``, ``true``)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return shorten(repr(value))
        except ValueError:  # more digits than Python converts to text
            return "a number of more than 4,300 digits"
    if isinstance(value, str):
        return shorten(repr(value)) if value.strip() else "an empty string"
    return {dict: "a mapping", list: "a list", tuple: "a list"}.get(type(value), f"a {type(value).__name__}")


#: Values of these types written in a model's class body without an annotation are class
#: attributes, not fields (a custom layer's constants, as in any Python class).
_PLAIN = (int, float, complex, str, bytes, bool, tuple, frozenset, list, dict, set, type(None))


class Model(BaseModel):
    """Base of the layer kinds and of the spec's fixed parts (see the module's documentation)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        defer_build=True,
        arbitrary_types_allowed=True,
        validate_default=True,
        allow_inf_nan=False,
        protected_namespaces=(),
        ignored_types=_PLAIN,
    )

    #: For each field, how YAML's spelling of its values is read (filled for each class).
    _yaml_readers: ClassVar[dict[str, Callable[[Any], Any]]] = {}
    #: The defaults as given values are read (on the first partial construction).
    _defaults_read: ClassVar[dict[str, Any] | None] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        readers = {}
        for name, info in cls.model_fields.items():
            reader = _yaml_reader(info.annotation)
            if reader is not None:
                readers[name] = reader
                if isinstance(info.default, (list, str, int)):  # a default is read as a value is
                    info.default = reader(info.default)
        cls._yaml_readers = readers

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        readers = cls._yaml_readers
        if not readers or not readers.keys() & data.keys():
            return data
        return {k: readers[k](v) if k in readers else v for k, v in data.items()}

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Any:
        """An instance from values already read (a bound copy of a layer): nothing is checked;
        fields not given take their defaults, read as a given value is (``stride`` of a
        convolution is then the pair it always is, never the ``1`` the class writes)."""
        missing = cls.model_fields.keys() - values.keys()
        if missing:
            defaults = cls._read_defaults()
            values = {**{k: defaults[k] for k in missing if k in defaults}, **values}
        return super().model_construct(_fields_set, **values)

    @classmethod
    def _read_defaults(cls) -> dict[str, Any]:
        cached = cls.__dict__.get("_defaults_read")
        if cached is None:
            from pydantic import TypeAdapter

            cached = {}
            for name, info in cls.model_fields.items():
                if not info.is_required():
                    adapter = TypeAdapter(info.rebuild_annotation())
                    cached[name] = adapter.validate_python(cls._yaml_readers.get(name, _same)(info.default))
            cls._defaults_read = cached
        return cached

    @classmethod
    def read(cls, data: Any) -> Any:
        """An instance from a mapping of argument values (``None`` for no arguments).

        Raises:
            ArgumentError: for an unknown key, a missing argument or a value that does not fit;
                an unknown key is reported first (a misspelt argument also leaves one missing).
        """
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ArgumentError(f"expected a mapping of arguments, found {describe(data)}")
        bad = [k for k in data if not isinstance(k, str)]
        if bad:
            raise ArgumentError(f"expected an argument name, found {describe(bad[0])}", (bad[0],))
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise problem(exc, cls) from None


def evaluate_annotations(cls: type) -> None:
    """Replace the annotations ``cls`` itself writes as text (in a module under ``from
    __future__ import annotations``) by what they evaluate to.

    pydantic evaluates the annotations of every base of a model again each time a subclass is
    created: those of the bases every layer kind shares (:class:`Model`, ``Layer``), evaluated
    once, make creating each kind's class about a third cheaper."""
    cls.__annotations__ = inspect.get_annotations(cls, eval_str=True)


evaluate_annotations(Model)


def _same(value: Any) -> Any:
    return value


def _yaml_reader(annotation: Any) -> Callable[[Any], Any] | None:
    """How YAML's spelling of a value of ``annotation`` is read, where it differs: a list for a
    tuple, a numeric string for a float (optional ones too)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType) and type(None) in args and len(args) == 2:
        inner = _yaml_reader(next(a for a in args if a is not type(None)))
        return None if inner is None else (lambda v: v if v is None else inner(v))
    if origin is Annotated:
        if any(isinstance(m, Parse) for m in annotation.__metadata__):
            return None
        return _yaml_reader(args[0])
    if annotation is float:
        return _float_text
    if origin is tuple:
        return lambda v: tuple(v) if isinstance(v, list) else v
    return None


def _float_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            number = float(value.strip())  # YAML 1.1 reads 1e-5 (no dot) as text
        except ValueError:
            return value
        return number if math.isfinite(number) else value  # refused as not finite, as written
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            return math.inf  # refused as not finite, not as a wrong type
    return value


# ---------------------------------------------------------------------------------------------
# pydantic's errors in plain words.

_EXPECTED = {
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping of arguments",
    "model_attributes_type": "a mapping of arguments",
    "dataclass_type": "a mapping of arguments",
    "none_required": "nothing",
}
_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def problem(exc: ValidationError, cls: type[BaseModel]) -> ArgumentError:
    """The first error of ``exc`` (an unknown key before anything else), in plain words."""
    errors = exc.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    kind, value, ctx = first["type"], first.get("input"), first.get("ctx") or {}
    loc = tuple(part for part in first["loc"] if part != "[key]")
    if first["loc"] and first["loc"][-1] == "[key]":
        return ArgumentError(f"expected a name, found {describe(loc[-1])}", loc)
    if kind == "extra_forbidden":
        return ArgumentError(f"unknown argument {loc[-1]!r}", loc, "unknown", _known(cls, loc[:-1]))
    if kind == "missing":
        return ArgumentError(f"missing required argument {loc[-1]!r}", loc, "missing")
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        error = ctx["error"]
        if isinstance(error, ArgumentError):
            return ArgumentError(error.message, (*loc, *error.loc), error.reason, error.known)
        return ArgumentError(str(error), loc)
    if kind == "literal_error":
        return ArgumentError(f"expected {ctx['expected']}, found {describe(value)}", loc)
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return ArgumentError(f"must be {words} {_number(ctx[key])}, found {describe(value)}", loc)
    if kind == "float_type" and isinstance(value, str) and _non_finite(value):
        kind = "finite_number"
    if kind in _EXPECTED:
        return ArgumentError(f"expected {_EXPECTED[kind]}, found {describe(value)}", loc)
    return ArgumentError(f"{first['msg'][:1].lower()}{first['msg'][1:]}, found {describe(value)}", loc)


def _non_finite(text: str) -> bool:
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return False


def _number(bound: Any) -> str:
    return str(int(bound)) if isinstance(bound, float) and bound.is_integer() else str(bound)


def _known(cls: type[BaseModel], loc: tuple) -> tuple[str, ...]:
    """The fields of the model at ``loc`` inside ``cls`` (the one an unknown key was given to)."""
    model: Any = cls
    for part in loc:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return ()
        model = _model_in(info.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return tuple(model.model_fields)
    return ()


def _model_in(annotation: Any) -> Any:
    """The model a field's annotation holds (directly, optionally, or as a mapping's values)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in reversed(typing.get_args(annotation)):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
