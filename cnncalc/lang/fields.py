"""Declared fields: a class lists its arguments as annotated attributes, and a mapping read from
a spec is checked against them.

A layer kind (and each fixed part of a spec: a symbol, a block, the spec itself) is a subclass
of :class:`Declared`::

    class Conv2d(Layer):
        out: Int
        kernel: Pair
        stride: Pair = 1
        bias: bool = True

An annotation says what a value may be; a default makes the argument optional. Nothing is built
when the class is defined: the annotations are read the first time a kind is validated, so a
spec pays only for the kinds it uses, and importing a registry of many kinds costs no more than
defining their classes. Instances are frozen and compare by their values.

What an annotation accepts (:func:`field_parser`):

- ``bool``: ``true`` or ``false``; ``int``: an integer (not a boolean); ``float``: a number, or a
  numeric string (YAML reads ``1e-5`` as text), finite; ``str``: text;
- ``Literal["a", "b"]``: one of those values; ``X | None``: nothing, or an ``X``; a union of plain
  types: any of them; ``tuple[int, ...]`` and ``list[X]``: a list of them; ``dict[str, X]``: a
  mapping of names to them; another :class:`Declared` class: a mapping it validates; ``Any``:
  anything;
- ``Annotated[X, marker, ...]`` with :class:`Parse` (the value is read by a function instead of
  by ``X``) and :class:`Range` (``gt``, ``ge``, ``lt``, ``le`` bounds on the value). Markers
  with ``gt``/``ge``/``lt``/``le`` attributes, or a ``metadata`` list of them, are read as ranges
  too (``annotated_types.Gt(0)``).

A value that does not fit raises :class:`ArgumentError`, whose ``loc`` says where in the mapping
it is; the spec loader adds the file, line and column.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from ..errors import shorten

#: The default of a required field.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


class ArgumentError(ValueError):
    """A value that does not fit its field.

    ``loc`` is the path of the value inside the validated mapping (empty for the mapping
    itself); ``reason`` is ``"unknown"`` (a key no field has; ``known`` lists the fields),
    ``"missing"`` (a required field not given) or ``"value"``.
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
    """Annotation marker: read the value with ``function`` (which returns the stored value or
    raises ArgumentError or ValueError with the message), described by the JSON ``schema``."""

    __slots__ = ("function", "schema")

    def __init__(self, function: Callable[[Any], Any], schema: dict | None = None):
        self.function = function
        self.schema = schema or {}


class Range:
    """Annotation marker: bounds on a number (``Range(gt=0)``, ``Range(ge=0, lt=1)``)."""

    __slots__ = ("ge", "gt", "le", "lt")

    def __init__(self, *, gt: Any = None, ge: Any = None, lt: Any = None, le: Any = None):
        self.gt, self.ge, self.lt, self.le = gt, ge, lt, le


_BOUNDS = (
    ("gt", lambda v, b: v > b, "greater than", "exclusiveMinimum"),
    ("ge", lambda v, b: v >= b, "at least", "minimum"),
    ("lt", lambda v, b: v < b, "less than", "exclusiveMaximum"),
    ("le", lambda v, b: v <= b, "at most", "maximum"),
)


def describe(value: Any) -> str:
    """What a value is, in a message: ``a mapping``, ``a list``, ``nothing``, or the value itself
    when it is short (``'maybe'``, ``1.5``, ``true``)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return shorten(repr(value))
    if isinstance(value, str):
        return shorten(repr(value)) if value.strip() else "an empty string"
    return {dict: "a mapping", list: "a list", tuple: "a list"}.get(type(value), f"a {type(value).__name__}")


# ---------------------------------------------------------------------------------------------
# Parsers: one function per annotation, built once per field.

Parser = Callable[[Any], Any]


def field_parser(annotation: Any) -> tuple[Parser, dict[str, Any]]:
    """The function that reads a value of ``annotation``, and its JSON schema.

    Raises:
        TypeError: for an annotation this module cannot read (the message names it).
    """
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _annotated(args[0], annotation.__metadata__)
    if annotation is Any:
        return (lambda v: v), {}
    if annotation is bool:
        return _bool, {"type": "boolean"}
    if annotation is int:
        return _int, {"type": "integer"}
    if annotation is float:
        return _float, {"type": "number"}
    if annotation is str:
        return _str, {"type": "string"}
    if origin is Literal:
        schema = {"type": "string"} if all(isinstance(a, str) for a in args) else {}
        return _literal(args), {**schema, "enum": list(args)}
    if origin in (Union, types.UnionType):
        return _union(args)
    if origin in (tuple, list) and (origin is list or (len(args) == 2 and args[1] is Ellipsis)):
        item, item_schema = field_parser(args[0]) if args else ((lambda v: v), {})
        schema = {"type": "array", "items": item_schema} if item_schema else {"type": "array"}
        return _sequence(item, origin), schema
    if origin is dict:
        value, value_schema = field_parser(args[1]) if args else ((lambda v: v), {})
        return _mapping(value), {"type": "object", "additionalProperties": value_schema or True}
    if annotation in (list, dict):
        return field_parser(annotation[Any, Any] if annotation is dict else annotation[Any])
    if isinstance(annotation, type) and issubclass(annotation, Declared):
        return annotation.validate, {"type": "object"}
    raise TypeError(f"cannot read arguments of type {annotation!r}")


def _annotated(base: Any, metadata: tuple) -> tuple[Parser, dict[str, Any]]:
    parse, schema = None, None
    bounds: list[tuple[str, Any]] = []
    for marker in metadata:
        if isinstance(marker, Parse):
            parse, schema = marker.function, dict(marker.schema)
            continue
        for m in (marker, *getattr(marker, "metadata", ())):
            bounds += [(k, getattr(m, k)) for k, *_ in _BOUNDS if getattr(m, k, None) is not None]
    if parse is None:
        parse, schema = field_parser(base)
    assert schema is not None
    if not bounds:
        return parse, schema
    schema = dict(schema)
    checks = []
    for key, bound in bounds:
        test, words, json_key = next((t, w, j) for k, t, w, j in _BOUNDS if k == key)
        schema[json_key] = bound
        checks.append((test, bound, words))

    def bounded(raw: Any) -> Any:
        value = parse(raw)
        for test, bound, words in checks:
            if not test(value, bound):
                raise ArgumentError(f"must be {words} {bound}, found {describe(raw)}")
        return value

    return bounded, schema


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ArgumentError(f"expected true or false, found {describe(value)}")


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ArgumentError(f"expected an integer, found {describe(value)}")


def _float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    elif isinstance(value, str):
        try:
            number = float(value.strip())  # YAML 1.1 reads 1e-5 (no dot) as text
        except ValueError:
            raise ArgumentError(f"expected a number, found {describe(value)}") from None
    else:
        raise ArgumentError(f"expected a number, found {describe(value)}")
    if not math.isfinite(number):
        raise ArgumentError(f"expected a finite number, found {describe(value)}")
    return number


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ArgumentError(f"expected text, found {describe(value)}")


def _literal(choices: tuple) -> Parser:
    shown = (
        " or ".join(repr(c) for c in choices)
        if len(choices) < 3
        else (", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}")
    )

    def literal(value: Any) -> Any:
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value in choices:
            return value
        raise ArgumentError(f"expected {shown}, found {describe(value)}")

    return literal


_PLAIN = {bool: "true or false", int: "an integer", float: "a number", str: "text", list: "a list"}


def _union(members: tuple) -> tuple[Parser, dict[str, Any]]:
    optional = type(None) in members
    rest = tuple(m for m in members if m is not type(None))
    if len(rest) == 1:
        inner, schema = field_parser(rest[0])
        if not optional:
            return inner, schema
        members = schema["anyOf"] if list(schema) == ["anyOf"] else [schema]
        return (lambda v: None if v is None else inner(v)), {"anyOf": [*members, {"type": "null"}]}
    if not all(m in _PLAIN for m in rest):
        raise TypeError(f"cannot read arguments of type {' | '.join(map(repr, members))}")
    numeric = {int, float, str} <= set(rest)
    what = "a number or an expression" if numeric else " or ".join(_PLAIN[m] for m in rest)
    accepted = tuple(rest) + ((type(None),) if optional else ())

    def union(value: Any) -> Any:
        if isinstance(value, accepted) and not (isinstance(value, bool) and bool not in rest):
            return value
        raise ArgumentError(f"expected {what}, found {describe(value)}")

    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}
    kinds = [names[m] for m in rest] + (["null"] if optional else [])
    return union, {"type": kinds}


def _sequence(item: Parser, origin: type) -> Parser:
    def sequence(value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise ArgumentError(f"expected a list, found {describe(value)}")
        out = []
        for i, v in enumerate(value):
            try:
                out.append(item(v))
            except ArgumentError as exc:
                raise exc.within(i) from None
        return origin(out)

    return sequence


def _mapping(value_parser: Parser) -> Parser:
    def mapping(value: Any) -> dict:
        if not isinstance(value, Mapping):
            raise ArgumentError(f"expected a mapping, found {describe(value)}")
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ArgumentError(f"expected a name, found {describe(k)}", (k,))
            try:
                out[k] = value_parser(v)
            except ArgumentError as exc:
                raise exc.within(k) from None
        return out

    return mapping


# ---------------------------------------------------------------------------------------------


class Field:
    """One declared argument: its name, annotation, default (:data:`MISSING` when required),
    the function reading its values and its JSON schema."""

    __slots__ = ("annotation", "default", "name", "parse", "schema", "written")

    def __init__(self, name: str, annotation: Any, default: Any):
        self.name = name
        self.annotation = annotation
        self.written = default  # as the class writes it (the schema shows it)
        self.parse, self.schema = field_parser(annotation)
        # Defaults are read like given values, once.
        self.default = default if default is MISSING else self.parse(default)

    @property
    def required(self) -> bool:
        return self.default is MISSING

    @property
    def metadata(self) -> tuple:
        """The markers of an ``Annotated`` annotation (empty otherwise)."""
        return getattr(self.annotation, "__metadata__", ())

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.annotation!r}, default={self.default!r})"


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        head = annotation.split("[", 1)[0].strip()
        return head in ("ClassVar", "typing.ClassVar")
    return annotation is ClassVar or get_origin(annotation) is ClassVar


class Declared:
    """A frozen record of declared fields (see the module's documentation)."""

    #: Field names in declaration order, base classes' first (set for each subclass).
    _names: ClassVar[tuple[str, ...]] = ()
    #: Where each field is declared: name -> (class, annotation as written, default).
    _declared: ClassVar[dict[str, tuple[type, Any, Any]]] = {}
    #: The fields, once read (:meth:`fields`).
    _fields: ClassVar[dict[str, Field] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = dict(cls._declared)
        # The class's own annotations, as written (text under `from __future__ import annotations`).
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
            if name.startswith("_") or _is_classvar(annotation):
                continue
            declared[name] = (cls, annotation, cls.__dict__.get(name, MISSING))
        cls._declared = declared
        cls._names = tuple(declared)
        cls._fields = None  # read on first use

    @classmethod
    def fields(cls) -> dict[str, Field]:
        """The fields, read from the annotations on first use.

        Raises:
            TypeError: for an annotation that cannot be resolved or read (naming the field).
        """
        fields = cls.__dict__.get("_fields")
        if fields is None:
            fields = {}
            for name, (owner, annotation, default) in cls._declared.items():
                try:
                    resolved = _resolve(owner, annotation)
                    fields[name] = Field(name, resolved, default)
                except (NameError, TypeError, SyntaxError, ArgumentError) as exc:
                    raise TypeError(f"{cls.__name__}.{name}: {exc}") from None
            cls._fields = fields
        return fields

    @classmethod
    def validate(cls, data: Any) -> Any:
        """An instance from a mapping of argument values.

        Raises:
            ArgumentError: for an unknown key, a missing argument or a value that does not fit;
                an unknown key is reported first (a misspelt argument also leaves one missing).
        """
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ArgumentError(f"expected a mapping of arguments, found {describe(data)}")
        fields = cls.fields()
        for key in data:
            if key not in fields:
                raise ArgumentError(f"unknown argument {key!r}", (key,), "unknown", tuple(fields))
        values = {}
        for name, f in fields.items():
            if name in data:
                try:
                    values[name] = f.parse(data[name])
                except ArgumentError as exc:
                    raise exc.within(name) from None
                except ValueError as exc:  # a Parse function's own message
                    raise ArgumentError(str(exc), (name,)) from None
            elif f.default is MISSING:
                raise ArgumentError(f"missing required argument {name!r}", (name,), "missing")
            else:
                values[name] = f.default
        return cls.construct(**values)

    @classmethod
    def construct(cls, **values: Any) -> Any:
        """An instance from values already read (bound copies of a layer): nothing is checked;
        fields not given take their defaults."""
        self = object.__new__(cls)
        d = self.__dict__
        for name in cls._names:
            if name in values:
                d[name] = values[name]
            else:
                d[name] = cls.fields()[name].default
        return self

    def __init__(self, **data: Any) -> None:
        self.__dict__.update(type(self).validate(data).__dict__)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *(_hashable(self.__dict__[n]) for n in self._names)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={self.__dict__[n]!r}' for n in self._names)})"


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _resolve(owner: type, annotation: Any) -> Any:
    """An annotation written as text (``from __future__ import annotations``) resolved in the
    namespace of the module and class that declare it."""
    if not isinstance(annotation, str):
        return annotation
    import sys

    module = sys.modules.get(owner.__module__)
    holder = types.SimpleNamespace(__annotations__={"value": annotation})
    # The module's names first, then the class's (as typing.get_type_hints reads a class): a
    # method of the class never hides a module-level function an annotation names.
    return typing.get_type_hints(
        holder, globalns=dict(vars(owner)), localns=vars(module) if module else {}, include_extras=True
    )["value"]


def json_schema(cls: type[Declared]) -> dict[str, Any]:
    """The JSON schema of a mapping ``cls`` validates: its properties (with defaults that JSON
    can write) and the required ones; unknown keys are refused."""
    props: dict[str, Any] = {}
    for name, f in cls.fields().items():
        schema = dict(f.schema)
        default = _jsonable(f.written)
        if default is not MISSING:
            schema["default"] = default
        props[name] = schema
    out: dict[str, Any] = {"type": "object", "properties": props}
    required = [n for n, f in cls.fields().items() if f.required]
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    return out


def _jsonable(value: Any) -> Any:
    """``value`` as JSON writes it, or MISSING when it cannot be written (an expression object,
    an infinite float)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else MISSING
    if isinstance(value, (list, tuple)):
        items = [_jsonable(v) for v in value]
        return MISSING if any(v is MISSING for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _jsonable(v) for k, v in value.items()}
        return MISSING if any(v is MISSING for v in items.values()) else items
    return MISSING
