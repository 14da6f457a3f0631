"""What a loaded spec is made of: the records the loader builds (:class:`Spec` and its parts),
the names the format reserves, its limits, and the fixed structure of the file's top level."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Annotated, Any, Literal

from .. import layers as registry
from ..layers._fields import ArgumentError, Model, Parse, describe
from .expr import INPUT_AXES, Expr
from .source import Path_, Source

#: Keys every entry may carry besides its arguments.
META_KEYS = ("name", "freeze", "from", "repeat", "first", "share", "when", "for")
#: Structural entries that are not layers.
CONSTRUCTS = ("residual",)
#: The name of the network's (or a block's) input in references.
INPUT = "input"
#: The dimensions of the input expressions may read (``input.C``): always in scope.
INPUT_DIMS = frozenset(f"{INPUT}.{axis}" for axis in INPUT_AXES)
#: The index of a repetition (0, 1, ...) in the expressions and the name of a repeated entry.
INDEX = "i"
#: In an entry repeated over a table (``for:``): the index of the row, and how many times the
#: entry was applied before (over every row and repetition).
ROW = "row"
COUNT = "count"
#: The tensor arriving at an entry, in expressions (``here.C``).
HERE = "here"
#: The network's input, from anywhere (``network.H``; ``input`` is a block's own input).
NETWORK = "network"
#: The version of the spec format this release reads (``cnncalc: 1`` at the top of a spec).
FORMAT_VERSION = 1
#: Most spec files one spec may use, counted with the files they use (``use:``).
MAX_USED_FILES = 64
#: Most entries a spec may write out (in layers, blocks and branches together): a network of
#: more layers than the expansion allows is written with ``repeat``.
MAX_ENTRIES = 20_000
#: Deepest nesting of blocks inside blocks and of branches inside branches, counted together
#: (real networks nest a few levels; expansion recurses once per level).
MAX_NESTING = 100

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LAYER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
#: A ``{expression}`` in a name template (``denselayer{i + 1}``).
_TEMPLATE_PART = re.compile(r"\{([^{}]*)\}")


# ---------------------------------------------------------------------------------------------
# What a loaded spec is made of.


@dataclass(frozen=True)
class Symbol:
    """A declared symbol: its default value (None if it has none), bounds and kind.

    A derived symbol's default is an expression of the symbols declared before it
    (``derived``; ``default`` is then None): its value follows theirs unless given.
    """

    name: str
    default: int | Fraction | None
    min: int | Fraction | None
    max: int | Fraction | None
    integer: bool
    doc: str = ""
    derived: Expr | None = None
    path: Path_ = ()

    @property
    def lower(self) -> int | Fraction:
        """The smallest allowed value (1 for integers unless a minimum says otherwise)."""
        if self.min is not None:
            return self.min
        return 1 if self.integer else 0


@dataclass(frozen=True)
class Ref:
    """A reference to a tensor in ``from:``, ``inputs:``, ``share:`` or a block argument: a
    name, a name template (``dense{j}``: literal parts and expressions), or a list of names
    built over a range (``"dense{j} for j in range(i)"``: ``var`` and the range's bounds)."""

    text: str
    parts: tuple[str | Expr, ...]
    var: str | None = None
    bounds: tuple[Expr, ...] = ()

    @property
    def plain(self) -> str | None:
        """The name when the reference is one literal name, else None."""
        if self.var is None and len(self.parts) == 1 and isinstance(self.parts[0], str):
            return self.parts[0]
        return None


#: A list written in a spec (a symbol or a block argument): numbers or expressions, and lists
#: of them (pairs, rows).
ListValue = tuple


@dataclass(frozen=True)
class Entry:
    """One item of a ``layers`` list, validated but not expanded."""

    kind: str
    path: Path_
    layer: registry.Layer | None = None  # a leaf layer, validated
    block_args: dict[str, Arg] = field(default_factory=dict)  # a block invocation
    name: str | None = None
    template: tuple[str | Expr, ...] | None = None  # a name with {expressions}: its parts
    freeze: bool = False
    source_ref: Ref | None = None  # `from:`
    inputs: tuple[Ref, ...] = ()  # `inputs:` of a merge layer
    branches: tuple[tuple[Entry, ...], ...] = ()  # `branches:` of a merge layer, or residual
    repeat: Expr | None = None
    when: Expr | None = None  # the entry exists only when this is not 0
    first: dict[str, Arg] | None = None  # argument overrides for the first repetition
    first_block: str | None = None  # a different block for the first repetition
    share: Ref | None = None
    kind_arg: bool = False  # `kind` is a block argument naming the layer kind
    table: Expr | None = None  # `for: t, c in table`: the table, its rows bound to `fields`
    fields: tuple[str, ...] = ()
    #: The tensors' dimensions the entry's expressions read (``here.C``, ``layer1.H``; the
    #: network's or block's ``input.*`` apart)
    reads: frozenset[str] = frozenset()
    #: The axes of ``input`` the entry's own expressions read (for the top-level lint)
    input_axes: frozenset[str] = frozenset()


#: A block argument's value: an expression, a list of them (a pair, rows), (for an argument
#: used as an entry's kind) the name of a layer kind, or (for an argument naming a tensor) a
#: reference.
Arg = Expr | tuple | str | Ref


@dataclass(frozen=True)
class Block:
    """A reusable block: named arguments (None = required) and its layers.

    ``kinds`` are the arguments used as the kind of an entry (``act: relu`` then ``- act``).
    """

    name: str
    args: dict[str, Arg | None]
    layers: tuple[Entry, ...]
    path: Path_
    kinds: frozenset[str] = frozenset()
    #: The arguments that name a tensor (used in ``from:``, ``inputs:``, ``share:`` or as
    #: ``arg.C``)
    tensors: frozenset[str] = frozenset()
    #: The spec the block is written in: "" for this one, else the prefix of a used spec
    #: (``backbone.``), whose symbols the block reads
    module: str = ""


@dataclass(frozen=True)
class Module:
    """A spec whose blocks this one uses (``use:``): its blocks are named ``prefix + name``,
    its symbols take the values given under ``symbols:`` (expressions of the using spec's
    symbols), else their defaults."""

    prefix: str
    parent: str  # the module of the spec that uses it ("" for this one)
    symbols: dict[str, Symbol]
    lists: dict[str, tuple[Path_, ListValue]]
    given: dict[str, Expr]
    path: Path_
    #: Lists of the used spec given under ``symbols:`` (expressions of the using spec's symbols).
    given_lists: dict[str, tuple[Path_, ListValue]] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    """A loaded, validated spec file."""

    name: str
    description: str
    symbols: dict[str, Symbol]
    input: tuple[Expr, ...]
    blocks: dict[str, Block]
    layers: tuple[Entry, ...]
    freeze_until: str | None
    source: Source
    #: The leaf entries whose kind is a block argument, validated for each kind passed:
    #: (entry path, kind) -> the entry as that kind.
    variants: dict[tuple[Path_, str], Entry] = field(default_factory=dict)
    #: Valid but suspicious things found while loading (a block never used): (path, message).
    warnings: tuple[tuple[Path_, str], ...] = ()
    #: The symbols that decide how the network expands (read by a repeat, a when or a name,
    #: directly or through block arguments): they need values, so they are never left open.
    structural: frozenset[str] = frozenset()
    #: Symbols whose value is a list (a table), by name: where declared and the list
    lists: dict[str, tuple[Path_, ListValue]] = field(default_factory=dict)
    #: The specs whose blocks this one uses, by prefix
    modules: dict[str, Module] = field(default_factory=dict)
    #: Literal layer names written anywhere, with where (to say that a reference names a
    #: layer defined below it)
    declared: dict[str, Path_] = field(default_factory=dict)
    #: The format version the spec declares (``cnncalc: 1``), or None
    version: int | None = None
    #: The limits of the ``budget:`` section (:mod:`cnncalc.lang.budget`), checked by ``check``.
    budgets: tuple = ()

    @property
    def filename(self) -> str:
        return self.source.filename


# ---------------------------------------------------------------------------------------------
# The parts with a fixed structure.


def _value(value: Any) -> Any:
    if value is None or (isinstance(value, (int, float, str)) and not isinstance(value, bool)):
        return value
    raise ArgumentError(f"expected a number or an expression, found {describe(value)}")


def _block_arg(value: Any) -> Any:
    if isinstance(value, list):
        return value
    return _value(value)


def _version(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ArgumentError(f"the format version is a whole number (cnncalc: 1), found {describe(value)}")
    return value


_NUMBER = {"type": ["number", "string"]}
#: A number, an expression, or nothing.
_Value = Annotated[Any, Parse(_value, {"anyOf": [_NUMBER, {"type": "null"}]})]
#: A block argument's default: a number, an expression, a list (a pair), or nothing (required).
_BlockArg = Annotated[Any, Parse(_block_arg, {"anyOf": [_NUMBER, {"type": "array"}, {"type": "null"}]})]


class _SymbolModel(Model):
    default: _BlockArg = None
    min: _Value = None
    max: _Value = None
    type: Literal["integer", "rational"] = "integer"
    doc: str = ""


class _BlockModel(Model):
    args: dict[str, _BlockArg] = {}  # noqa: RUF012 (never changed)
    layers: list[Any]
    doc: str = ""


class _UseModel(Model):
    spec: str
    symbols: dict[str, _BlockArg] = {}  # noqa: RUF012 (never changed)
    doc: str = ""


class _SpecModel(Model):
    cnncalc: Annotated[Any, Parse(_version, {"type": "integer"})] = None
    name: str = ""
    description: str = ""
    symbols: dict[str, Any] = {}  # noqa: RUF012 (never changed)
    input: list[Any]
    use: dict[str, _UseModel] = {}  # noqa: RUF012 (never changed)
    blocks: dict[str, _BlockModel] = {}  # noqa: RUF012 (never changed)
    layers: list[Any]
    freeze_until: str | None = None
    budget: Any = None  # read by cnncalc.lang.budget


def _raise_validation(exc: ArgumentError, source: Source, base: Path_) -> None:
    """Turn an ArgumentError into a located SpecError (with a did-you-mean for an unknown key)."""
    path = (*base, *exc.loc)
    if exc.reason == "unknown":
        import difflib

        name = exc.loc[-1]
        close = difflib.get_close_matches(str(name), list(exc.known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = f" (expected: {', '.join(exc.known)})" if exc.known else ""
        raise source.error(path[:-1], f"unknown argument {name!r}{hint}{listed}")
    if exc.reason == "missing":
        if len(path) == 1:
            example = {"input": "input: [N, 3, H, W]", "layers": "layers: [...]"}.get(path[-1], "")
            raise source.error((), f"a spec needs {path[-1]!r}" + (f" ({example})" if example else ""))
        raise source.error(path[:-1], exc.message)
    raise source.error(path, exc.message)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), f"a {type(value).__name__}")
