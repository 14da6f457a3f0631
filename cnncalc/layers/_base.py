"""The layer interface and the argument types layers are declared with.

A layer kind is one pydantic model (:mod:`cnncalc.layers._fields`): its fields are the spec
arguments (validated when the spec is loaded, as expressions that are evaluated later), and its
methods are the rules. The engine calls the rules on a *bound* copy of the layer, whose
expression fields have been evaluated in the scope of the spec (concrete ints, or sympy
expressions of the open symbols):

- ``checks(*xs)``: the conditions the inputs must meet (a kernel fits, groups divide channels);
- ``output_shape(*xs)``: the output shape;
- ``weights(*xs)``: the named tensors it learns or keeps (shape and role);
- ``macs(*xs, out=y)`` and ``flops(*xs, out=y)``: what it costs, by the formula in its
  docstring.

Unary layers write ``def output_shape(self, x)``; merge layers take several inputs. A kind whose
cost cannot be known (``cost_known = False``: the ``opaque`` layer an ONNX import writes for an
operator it cannot map) has a shape but no params, MACs or FLOPs: the engine records them as
``None``, never as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, NamedTuple, TypeAlias, get_args

from ..core import dims
from ..core.dims import Dim
from ..errors import CnncalcError, ExpressionError, RuleError, ShapeError
from ..lang.expr import Expr, evaluate, parse
from ._fields import ArgumentError, Model, Parse, evaluate_annotations

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from ..strategies import Case

Shape = tuple[Dim, ...]

#: Roles of a layer's tensors. ``buffer`` tensors (running statistics) are not parameters.
ROLES = ("weight", "bias", "norm", "buffer")


class Param(NamedTuple):
    """A tensor a layer owns: its shape, its role (weight, bias, norm or buffer), and how
    verification draws it (``normal``, or ``positive`` for variances)."""

    shape: Shape
    role: str
    init: str = "normal"


class Window(NamedTuple):
    """How the output positions along one spatial axis read their input.

    Output position ``o`` reads the input positions ``offset + o*stride`` to
    ``offset + o*stride + size - 1`` (a dilated kernel's whole extent, holes included).
    ``stride`` is a fraction when a layer upsamples; ``offset`` is negative in the padding.
    ``size=None`` means every output position reads the whole axis (global pooling, flatten).
    """

    size: Any
    stride: Any = 1
    offset: Any = 0


#: The window of a layer whose every output reads the whole input axis.
WHOLE = Window(None, None, None)


class Check(NamedTuple):
    """A condition on the inputs: ``value >= 0`` (``relation='nonneg'``) or ``value == 0``.

    ``describe`` says what the condition means, with the values in it: a string, or a function
    returning one (printing expressions costs time, and most checks pass unread).
    """

    value: Dim
    relation: str
    describe: str | Callable[[], str]

    @property
    def message(self) -> str:
        """What the condition means. A function that raises (a typo in a custom layer's
        message) gives a ShapeError saying so, with its file and line."""
        if isinstance(self.describe, str):
            return self.describe
        try:
            return str(self.describe())
        except (CnncalcError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # a custom layer's bug, told as one message
            from ._origin import failure

            code = getattr(self.describe, "__code__", None)
            said = failure("the function giving its message", exc, code.co_filename if code else None)
            raise RuleError(f"a check of the layer failed, and {said}") from exc


def at_least(lhs: Dim, rhs: Dim, message: str | Callable[[], str]) -> Check:
    """The check ``lhs >= rhs``."""
    return Check(dims.add(lhs, dims.mul(-1, rhs)), "nonneg", message)


def divides(divisor: Dim, value: Dim, message: str | Callable[[], str]) -> Check:
    """The check that ``divisor`` divides ``value``."""
    return Check(dims.mod(value, divisor), "zero", message)


# ---------------------------------------------------------------------------------------------
# Argument types. Each is an Expr (or a pair of them) at load time and a Dim once bound.


@dataclass(frozen=True)
class Arg:
    """How an expression argument is bound: its smallest allowed value and whether a pair
    (what reads it from the spec is the :class:`~cnncalc.layers.Parse` beside it)."""

    minimum: int = 1
    pair: bool = False
    sequence: bool = False  # a list of any length (a shape), its items named ``name[i]``


def _to_expr(value: Any) -> Expr:
    try:
        return parse(value)
    except ExpressionError as exc:
        raise ArgumentError(str(exc)) from None


def _to_pair(value: Any) -> tuple[Expr, Expr]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ArgumentError(f"expected one value or a pair [height, width], found {len(value)} values")
        return (_to_expr(value[0]), _to_expr(value[1]))
    e = _to_expr(value)
    return (e, e)


_EXPR_SCHEMA = {"anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string"}]}
_PAIR_SCHEMA = {
    "anyOf": [
        *_EXPR_SCHEMA["anyOf"],
        {"type": "array", "items": _EXPR_SCHEMA, "minItems": 2, "maxItems": 2},
    ]
}


def _to_list(value: Any) -> tuple[Expr, ...]:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ArgumentError("expected one value or a non-empty list of values")
        return tuple(_to_expr(v) for v in value)
    return (_to_expr(value),)


def _to_sequence(value: Any) -> tuple[Expr, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ArgumentError("expected a non-empty list of sizes, such as [1, 64, 56, 56]")
    return tuple(_to_expr(v) for v in value)


def _to_padding(value: Any) -> str | tuple[Expr, Expr]:
    if isinstance(value, str) and value.strip().lower() in ("same", "valid"):
        return value.strip().lower()
    return _to_pair(value)


_LIST_SCHEMA = {"anyOf": [*_EXPR_SCHEMA["anyOf"], {"type": "array", "items": _EXPR_SCHEMA, "minItems": 1}]}
_SIZES_SCHEMA = {"type": "array", "items": _EXPR_SCHEMA, "minItems": 1}
_PADDING_SCHEMA = {"anyOf": [{"enum": ["same", "valid"]}, *_PAIR_SCHEMA["anyOf"]]}

if TYPE_CHECKING:
    # What a type checker sees: the values the rules read on a bound layer, a Dim or a pair of
    # them (defaults may be written as plain ints). The definitions below are what a spec's
    # values are read with.
    Int: TypeAlias = Dim
    NonNegInt: TypeAlias = Dim
    Pair: TypeAlias = Any
    NonNegPair: TypeAlias = Any
    Padding: TypeAlias = Any
    IntList: TypeAlias = Any
    Sizes: TypeAlias = Any
else:
    #: A positive integer expression (channels, kernel size, stride...).
    Int = Annotated[Expr, Parse(_to_expr, _EXPR_SCHEMA), Arg(1)]
    #: A non-negative integer expression.
    NonNegInt = Annotated[Expr, Parse(_to_expr, _EXPR_SCHEMA), Arg(0)]
    #: A positive integer or a pair ``[height, width]``.
    Pair = Annotated[tuple[Expr, Expr], Parse(_to_pair, _PAIR_SCHEMA), Arg(1, pair=True)]
    #: A non-negative integer or a pair ``[height, width]``.
    NonNegPair = Annotated[tuple[Expr, Expr], Parse(_to_pair, _PAIR_SCHEMA), Arg(0, pair=True)]
    #: A positive integer or a non-empty list of them (a shape: ``96`` or ``[7, 7, 96]``).
    IntList = Annotated[tuple[Expr, ...], Parse(_to_list, _LIST_SCHEMA), Arg(1, pair=True)]
    #: A non-empty list of positive integer expressions (a shape written out).
    Sizes = Annotated[tuple[Expr, ...], Parse(_to_sequence, _SIZES_SCHEMA), Arg(1, sequence=True)]
    #: Padding: a non-negative integer, a pair, ``same`` (output = ceil(input / stride), the odd
    #: extra pixel at the bottom and right, as TensorFlow) or ``valid`` (no padding).
    Padding = Annotated[
        Literal["same", "valid"] | tuple[Expr, Expr], Parse(_to_padding, _PADDING_SCHEMA), Arg(0, pair=True)
    ]


# ---------------------------------------------------------------------------------------------


class Layer(Model):
    """Base of every layer kind. Subclasses are registered with ``@register``; their annotated
    attributes are the arguments (a pydantic model, built the first time the kind is used).
    A layer is frozen and refuses unknown arguments."""

    #: The tag written in spec files (``conv2d``).
    kind: ClassVar[str] = ""
    #: Prefix of generated names (``conv`` gives conv1, conv2, ...).
    prefix: ClassVar[str] = ""
    #: Number of inputs: 1, or None for merge layers taking two or more.
    arity: ClassVar[int | None] = 1
    #: Fewest inputs of a layer of arity None: 2 for a merge; 1 lets it also read one tensor
    #: (the previous layer's, or ``from:``), ``inputs:`` then listing one or more.
    min_inputs: ClassVar[int] = 2
    #: The smallest size the output may have along any axis: 1, or 0 for a kind whose output
    #: may be empty. The engine refuses any other size, and any size that is not a whole number.
    min_output_size: ClassVar[int] = 1
    #: False for a kind whose params, MACs and FLOPs are unknown (``opaque``): the engine
    #: records them as None, reports show them as unknown and totals name the layer.
    cost_known: ClassVar[bool] = True

    # -- binding -----------------------------------------------------------------------------

    def bind(self, scope: dict[str, dims.Value]) -> tuple[Layer, list[Check]]:
        """A copy with every expression argument evaluated in ``scope``, and the checks that
        the evaluated arguments are integers within their bounds (when that is not decided)."""
        values: dict[str, Any] = {}
        checks: list[Check] = []
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            arg = _arg_of(info)
            if arg is None or value is None or isinstance(value, str):
                values[name] = value
            elif arg.pair and value[0] is value[-1] and _names_pair(value[0], scope):
                # One name standing for a pair (a block argument `kernel: [1, 7]`), or a pair
                # taken from a list (`kernel: rows[0]`).
                pair = evaluate(value[0], scope, pairs=True)
                values[name] = tuple(
                    _bind_value(value[0], scope, f"{name}[{i}]", arg.minimum, checks, value=p)
                    for i, p in enumerate(pair)
                )
            elif arg.pair or arg.sequence:
                same = arg.pair and len(value) == 2 and value[0] == value[1]  # a square pair
                values[name] = tuple(
                    _bind_value(e, scope, name if same else f"{name}[{i}]", arg.minimum, checks)
                    for i, e in enumerate(value)
                )
            else:
                values[name] = _bind_value(value, scope, name, arg.minimum, checks)
        return type(self).model_construct(**values), checks

    def expressions(self) -> list[tuple[str, Expr]]:
        """Every expression argument, with its field path (for name checks at load time)."""
        out: list[tuple[str, Expr]] = []
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if _arg_of(info) is None or value is None or isinstance(value, str):
                continue
            if isinstance(value, tuple):
                out.extend((f"{name}", e) for e in value)
            elif value is not None:
                out.append((name, value))
        return out

    # -- rules (called on a bound copy) ------------------------------------------------------
    # Each takes the input shapes, one per input (``def output_shape(self, x)`` in a unary
    # layer); the cost rules also the output shape as the keyword ``out``. The base signatures
    # are written with ``Any`` so that a type checker accepts either form in a subclass.

    def checks(self, *xs: Any) -> list[Check]:
        """Conditions the inputs (each a :data:`Shape`) must satisfy. None by default."""
        return []

    def output_shape(self, *xs: Any) -> Shape:
        """The output shape of the input shapes."""
        raise NotImplementedError

    def weights(self, *xs: Any) -> dict[str, Param]:
        """Learnable tensors and buffers. None by default."""
        return {}

    def macs(self, *xs: Any, **out: Any) -> Dim:
        """Multiply-accumulates, called as ``macs(*xs, out=y)``. Zero by default: layers without
        products declare nothing."""
        return 0

    def flops(self, *xs: Any, **out: Any) -> Dim:
        """Floating-point operations, called as ``flops(*xs, out=y)``."""
        raise NotImplementedError

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any) -> int:
        """Run the reference kernel on concrete arrays: read ``xs`` (NumPy float32 arrays, one
        per input), write ``out`` (allocated with the predicted shape), return the
        multiply-accumulates the kernel counted, an ``int``. ``weights`` maps the names of
        :meth:`weights` to arrays of their shapes.

        Kernels compute the output shape with their own arithmetic and raise
        :class:`cnncalc.kernels.OutShapeError` when ``out`` disagrees. numba is imported here,
        never before.
        """
        raise NotImplementedError

    def to_onnx(self, g, *xs: Any, out: Any) -> None:
        """Write this layer as ONNX nodes through ``g`` (a :class:`cnncalc.onnx.export.Lowering`:
        ``g.inputs``, ``g.output``, ``g.weight(key)``, ``g.node(op, inputs, **attributes)``).

        Kinds that do not define it are refused by ``cnncalc export`` with their name.
        """
        raise NotImplementedError

    def lints(self, *xs: Any, **out: Any) -> list[str]:
        """Warnings about a valid but suspicious use (a pooling that does nothing, a linear
        layer on an axis of size 1), called as ``lints(*xs, out=y)``. None by default."""
        return []

    def workspace(self, *xs: Any, **out: Any) -> Dim:
        """Elements of scratch memory ``forward`` needs besides its inputs and output, called
        as ``workspace(*xs, out=y)``."""
        return 0

    @classmethod
    def examples(cls) -> SearchStrategy[Case]:
        """A hypothesis strategy of :class:`cnncalc.testing.Case`: valid configurations of this
        layer built by construction, for :func:`cnncalc.testing.check_layer`."""
        raise NotImplementedError(f"{cls.__name__} has no examples() strategy")

    def windows(self, *xs: Any) -> tuple[Window, Window] | None:
        """How outputs read the inputs' spatial axes (H, W): one :class:`Window` per axis, for
        receptive fields. ``None`` by default: each output position reads the same position of
        each input (elementwise layers, normalisation, merges, channel operations)."""
        return None

    def axis_order(self, *xs: Any) -> tuple[int, ...] | None:
        """For a layer that only reorders the axes of its input (``permute``): the input axis
        each output axis is, so that receptive fields follow the image axes wherever they go.
        ``None`` by default: the axes keep their places."""
        return None

    def category(self, *xs: Any) -> str:
        """The row this layer counts under in a breakdown (the kind, unless refined)."""
        return self.kind

    # -- helpers for rules -------------------------------------------------------------------

    def describe(self) -> str:
        """The bound arguments in one line (``out=64, kernel=(3, 3), stride=(1, 1)``)."""
        parts = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            parts.append(f"{name}={_show(value)}")
        return ", ".join(parts)


evaluate_annotations(Layer)


def _arg_of(info: Any) -> Arg | None:
    """The Arg marker of a field, also inside ``Optional[...]``."""
    found = next((m for m in info.metadata if isinstance(m, Arg)), None)
    if found is not None:
        return found
    for member in get_args(info.annotation):
        for m in getattr(member, "__metadata__", ()):
            if isinstance(m, Arg):
                return m
    return None


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        if len(value) == 2 and value[0] == value[1]:
            return _show(value[0])
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, float):
        return repr(value)
    return dims.fmt(value)


def _names_pair(e: Expr, scope: dict) -> bool:
    if e.tree[0] == "index":
        try:
            return isinstance(evaluate(e, scope, pairs=True), tuple)
        except ExpressionError:
            return False  # said again when the value is read
    return e.tree[0] == "name" and isinstance(scope.get(e.tree[1]), tuple)


def _bind_value(
    expr: Expr, scope: dict, field: str, minimum: int, checks: list[Check], value: Any = None
) -> Dim:
    if value is None:
        try:
            value = evaluate(expr, scope)
        except ExpressionError as exc:
            raise ShapeError(f"{field}: {exc}") from None
    integral = dims.is_integer_valued(value)
    if integral is False:
        raise ShapeError(
            f"{field} = {expr.text} = {dims.fmt(value)} is not an integer"
            if expr.text != dims.fmt(value)
            else f"{field} = {dims.fmt(value)} is not an integer"
        )
    if integral is None:
        raise ShapeError(f"{field} = {expr.text} is not always an integer; round it with floor() or ceil()")
    if dims.is_concrete(value):
        if value < minimum:
            shown = expr.text if expr.text == dims.fmt(value) else f"{expr.text} = {value}"
            raise ShapeError(f"{field} = {shown} must be at least {minimum}")
    else:
        checks.append(
            at_least(value, minimum, lambda: f"{field} = {dims.fmt(value)} must be at least {minimum}")
        )
    return value


def copy_checked(src, out) -> int:
    """Copy a NumPy-computed result into ``out``, whose shape must be the result's."""
    from ..kernels._checks import OutShapeError

    if src.shape != out.shape:
        raise OutShapeError("out", out.shape, src.shape)
    out[...] = src
    return 0


def numel(shape: Shape) -> Dim:
    """Number of elements of a shape."""
    return dims.prod(shape)


def same_dims(a, b) -> bool:
    """Whether two dimension lists are equal for every value of the symbols."""
    return len(a) == len(b) and all(dims.add(x, dims.mul(-1, y)) == 0 for x, y in zip(a, b, strict=True))


shape_text = dims.fmt_shape


def rank_error(layer: Layer, expected: str, x: Shape) -> ShapeError:
    """A ShapeError for an input of the wrong rank."""
    shown = dims.fmt_shape(x)
    return ShapeError(f"expects {expected}, got a rank-{len(x)} input {shown}")


def axis_index(axis: int, x: Shape) -> int:
    """``axis`` of the input ``x`` counted from 0 (negative ones count from the end), or a
    ShapeError when ``x`` has no such axis."""
    if not -len(x) <= axis < len(x):
        raise ShapeError(f"axis {axis} is out of range for the rank-{len(x)} input {dims.fmt_shape(x)}")
    return axis % len(x)


def broadcast(shapes: Sequence[Shape], what: str = "axis") -> tuple[Shape, list[Check]]:
    """The shape of ``shapes`` broadcast together by NumPy's rules (aligned from the last axis,
    the shorter ones read with leading 1s; on each axis the size that is not 1), and the checks
    that the sizes which are not 1 are equal (``what`` names an axis in their messages)."""
    rank = max(len(x) for x in shapes)
    padded = [(1,) * (rank - len(x)) + tuple(x) for x in shapes]
    out: list[dims.Dim] = []
    checks: list[Check] = []
    for axis in range(rank):
        sizes = [x[axis] for x in padded if not (dims.is_concrete(x[axis]) and x[axis] == 1)]
        out.append(sizes[0] if sizes else 1)
        checks += [
            Check(
                dims.add(s, dims.mul(-1, sizes[0])),
                "zero",
                lambda s=s, first=sizes[0], axis=axis: (
                    f"{what} {axis} must match or be 1: {dims.fmt(first)} vs {dims.fmt(s)}"
                ),
            )
            for s in sizes[1:]
        ]
    return tuple(out), checks


def broadcast_checks(what: str, shape: Shape, x: Shape) -> list[Check]:
    """The checks that a tensor of ``shape`` (``what``: "the constant", "the parameter")
    broadcasts to the input ``x`` by NumPy's rules: aligned from the last axis, each of its
    sizes 1 or the input's. A ShapeError when it has more axes than the input."""
    shape = tuple(shape)
    if len(shape) > len(x):
        raise ShapeError(f"{what} {dims.fmt_shape(shape)} has more axes than the input {dims.fmt_shape(x)}")
    out = []
    for k, (c, d) in enumerate(zip(reversed(shape), reversed(x), strict=False), 1):
        if dims.is_concrete(c) and c == 1:
            continue
        axis = len(x) - k
        out.append(
            Check(
                dims.add(c, dims.mul(-1, d)),
                "zero",
                lambda c=c, d=d, axis=axis: (
                    f"{what} {dims.fmt_shape(shape)} does not broadcast to the input "
                    f"{dims.fmt_shape(x)}: axis {axis} is {dims.fmt(c)}, not 1 or {dims.fmt(d)}"
                ),
            )
        )
    return out
