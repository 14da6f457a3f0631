"""Shape arithmetic, evaluated symbolically.

PyTorch's exporters compute the arguments of some layers from the shapes of tensors: a flatten's
target ``[N, C*H'*W']``, a channel shuffle's ``[N, g, C/g, H', W']``, a resize's output size
``[N, C, H, W]``. The nodes doing it (``Shape``, ``Gather``, ``Slice``, ``Squeeze``,
``Unsqueeze``, ``Concat``, ``Add``, ``Sub``, ``Mul``, ``Div``, ``Mod``, ``Cast``, ``Floor``,
``Ceil``, ``Reshape``, ``Identity``, ``Range`` and friends) are not layers: each is evaluated
here into a :class:`Value`, a small tensor whose elements are exact integers or expressions of
the input's symbols (``floor((H - 7)/8)``), and the layer they configure reads the value.

A value is exact or absent: an operator outside this list, a shape that is not known, or an
element that is not an integer (a float scale is kept as an exact fraction) leaves the node
unevaluated, and the layer reading it says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..core import dims
from .graph import MAX_VALUE_ELEMENTS, Unmappable

#: Operators evaluated when all their inputs are values.
EVALUATED = frozenset(
    {
        "Shape", "Size", "Gather", "Slice", "Squeeze", "Unsqueeze", "Concat", "Add", "Sub", "Mul",
        "Div", "Mod", "Neg", "Cast", "Floor", "Ceil", "Reshape", "Identity", "Constant", "Range",
        "ConstantOfShape", "Max", "Min", "Abs", "Sqrt", "Flatten", "Expand", "Equal", "Where",
        "Not", "Less", "Greater", "Tile", "ReduceProd", "ReduceSum", "CastLike", "Pow", "Transpose",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Value:
    """A small tensor known element by element: ``shape`` (ints) and ``items`` (row-major;
    ints, fractions or expressions); ``integer`` is the element type's kind."""

    shape: tuple[int, ...]
    items: tuple[Any, ...]
    integer: bool = True

    def scalar(self) -> Any:
        if len(self.items) != 1:
            raise Unmappable(f"a value of shape {list(self.shape)} where one number is expected")
        return self.items[0]


def from_array(array) -> Value:
    import numpy as np

    a = np.asarray(array)
    if a.size > MAX_VALUE_ELEMENTS:
        raise Unmappable(f"a constant of {a.size:,} values where a size is expected")
    integer = a.dtype.kind in "iub"
    if integer:
        items = tuple(int(v) for v in a.ravel())
    elif a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise Unmappable("a constant that is not finite where a size is expected")
        items = tuple(_fraction(float(v)) for v in a.ravel())
    else:
        raise Unmappable(f"a constant of type {a.dtype} where a size is expected")
    return Value(tuple(int(d) for d in a.shape), items, integer)


def _fraction(v: float) -> Any:
    f = Fraction(v)
    return int(f) if f.denominator == 1 else f


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _check(shape: tuple[int, ...]) -> tuple[int, ...]:
    if any(d < 0 for d in shape) or _size(shape) > MAX_VALUE_ELEMENTS:
        raise Unmappable(f"a computed size of shape {list(shape)}, larger than shape arithmetic")
    return shape


def _ints(v: Value, what: str) -> list[int]:
    out = []
    for x in v.items:
        if not isinstance(x, int):
            raise Unmappable(f"{what} is {dims.fmt(x)}, not a fixed integer")
        out.append(x)
    return out


def evaluate(op: str, attrs: dict, args: list[Value | None], shape_of) -> Value:
    """The value of one node of shape arithmetic.

    ``args`` are its inputs' values (None for an absent optional input); ``shape_of(i)`` is the
    shape of input ``i`` as dims (for ``Shape``), or raises :class:`Unmappable`.
    """
    fn = _OPS.get(op)
    if fn is None:
        raise Unmappable(f"{op} is not shape arithmetic")
    return fn(attrs, args, shape_of)


_OPS: dict[str, Any] = {}


def _op(*names):
    def register(fn):
        for n in names:
            _OPS[n] = fn
        return fn

    return register


@_op("Shape")
def _shape(a, args, shape_of):
    shape = shape_of(0)
    rank = len(shape)
    start, end = int(a.get("start", 0)), a.get("end")
    start = _clamp(start, rank)
    stop = rank if end is None else _clamp(int(end), rank)
    items = tuple(shape[start:stop])
    return Value((len(items),), items)


@_op("Size")
def _size_op(a, args, shape_of):
    return Value((), (dims.prod(shape_of(0)),))


def _clamp(i: int, rank: int) -> int:
    if i < 0:
        i += rank
    return min(max(i, 0), rank)


@_op("Identity", "CastLike")
def _identity(a, args, shape_of):
    return args[0]


@_op("Cast")
def _cast(a, args, shape_of):
    v = args[0]
    to = int(a.get("to", 7))
    integer = to in (2, 3, 4, 5, 6, 7, 9, 12, 13)  # the integer and bool element types
    if integer and not v.integer:
        items = tuple(_trunc(x) for x in v.items)
        return Value(v.shape, items, True)
    return Value(v.shape, v.items, integer)


def _trunc(x):
    if isinstance(x, Fraction):
        return int(x)  # toward zero
    if isinstance(x, int):
        return x
    return dims.floor(x)  # sizes are positive: truncation is the floor


@_op("Squeeze")
def _squeeze(a, args, shape_of):
    v = args[0]
    axes = a.get("axes")
    if axes is None and len(args) > 1 and args[1] is not None:
        axes = _ints(args[1], "the axes")
    rank = len(v.shape)
    if axes is None:
        shape = tuple(d for d in v.shape if d != 1)
    else:
        drop = {int(x) % max(rank, 1) for x in axes}
        shape = tuple(d for i, d in enumerate(v.shape) if i not in drop)
    return Value(shape, v.items, v.integer)


@_op("Unsqueeze")
def _unsqueeze(a, args, shape_of):
    v = args[0]
    axes = a.get("axes")
    if axes is None:
        axes = _ints(args[1], "the axes")
    rank = len(v.shape) + len(axes)
    shape = list(v.shape)
    for x in sorted(int(x) % rank for x in axes):
        shape.insert(x, 1)
    return Value(_check(tuple(shape)), v.items, v.integer)


@_op("Flatten")
def _flatten(a, args, shape_of):
    v = args[0]
    axis = int(a.get("axis", 1)) % (len(v.shape) + 1) if v.shape else 0
    return Value((_size(v.shape[:axis]), _size(v.shape[axis:])), v.items, v.integer)


@_op("Reshape")
def _reshape(a, args, shape_of):
    v, target = args[0], _ints(args[1], "the target shape")
    n = len(v.items)
    shape = [v.shape[i] if t == 0 and not a.get("allowzero", 0) else t for i, t in enumerate(target)]
    if shape.count(-1) > 1:
        raise Unmappable(f"a reshape to {target}")
    if -1 in shape:
        known = _size(d for d in shape if d != -1)
        if known == 0 or n % known:
            raise Unmappable(f"a reshape of {n} values to {target}")
        shape[shape.index(-1)] = n // known
    if _size(shape) != n:
        raise Unmappable(f"a reshape of {n} values to {target}")
    return Value(tuple(shape), v.items, v.integer)


@_op("Expand")
def _expand(a, args, shape_of):
    v, target = args[0], _ints(args[1], "the target shape")
    out_shape = _broadcast_shapes(v.shape, tuple(target))
    return _broadcast_to(v, out_shape)


@_op("Tile")
def _tile(a, args, shape_of):
    v, reps = args[0], _ints(args[1], "the repeats")
    if len(v.shape) != 1 or len(reps) != 1:
        raise Unmappable("a tile of more than one axis")
    return Value(_check((v.shape[0] * reps[0],)), v.items * reps[0], v.integer)


@_op("Concat")
def _concat(a, args, shape_of):
    axis = int(a.get("axis", 0))
    parts = [v for v in args if v is not None]
    if any(len(v.shape) != 1 for v in parts) or axis not in (0, -1):
        raise Unmappable("a concatenation of values that are not lists")
    items = tuple(x for v in parts for x in v.items)
    return Value(_check((len(items),)), items, all(v.integer for v in parts))


@_op("Gather")
def _gather(a, args, shape_of):
    v, index = args[0], args[1]
    axis = int(a.get("axis", 0))
    if len(v.shape) != 1 or axis not in (0, -1):
        raise Unmappable("a gather from a value that is not a list")
    n = v.shape[0]
    picked = []
    for i in _ints(index, "the index"):
        if not -n <= i < n:
            raise Unmappable(f"index {i} of a list of {n}")
        picked.append(v.items[i % n])
    return Value(index.shape, tuple(picked), v.integer)


@_op("Slice")
def _slice(a, args, shape_of):
    v = args[0]
    if len(v.shape) != 1:
        return _slice_nd(a, args)
    if "starts" in a:  # opset < 10
        starts, ends, axes, steps = list(a["starts"]), list(a["ends"]), a.get("axes"), None
    else:
        starts, ends = _ints(args[1], "the start"), _ints(args[2], "the end")
        axes = _ints(args[3], "the axes") if len(args) > 3 and args[3] is not None else None
        steps = _ints(args[4], "the steps") if len(args) > 4 and args[4] is not None else None
    if axes is not None and [int(x) % 1 for x in axes] != [0] * len(axes):
        raise Unmappable("a slice along another axis")
    if len(starts) != 1:
        raise Unmappable("a slice along several axes of a list")
    step = steps[0] if steps else 1
    if step == 0:
        raise Unmappable("a slice of step 0")
    n = v.shape[0]
    start, end = _slice_bound(starts[0], n, step), _slice_bound(ends[0], n, step)
    items = tuple(v.items[start:end:step]) if not (step < 0 and end < 0) else tuple(v.items[start::step])
    return Value((len(items),), items, v.integer)


def _slice_nd(a, args):
    """A slice of a table of sizes (the legacy exporter's pads, [-1, 2] reversed), by NumPy."""
    import numpy as np

    v = args[0]
    if "starts" in a or len(v.items) > 4096:
        raise Unmappable("a slice of a value that is not a list")
    starts, ends = _ints(args[1], "the start"), _ints(args[2], "the end")
    axes = _ints(args[3], "the axes") if len(args) > 3 and args[3] is not None else list(range(len(starts)))
    steps = _ints(args[4], "the steps") if len(args) > 4 and args[4] is not None else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps) or 0 in steps:
        raise Unmappable("a slice of a table with mismatched bounds")
    table = np.array(v.items, dtype=object).reshape(v.shape)
    index = [slice(None)] * table.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        axis = int(axis) % table.ndim
        n = table.shape[axis]
        lo, hi = _slice_bound(start, n, step), _slice_bound(end, n, step)
        index[axis] = slice(lo, None if step < 0 and hi < 0 else hi, step)
    out = table[tuple(index)]
    return Value(_check(tuple(out.shape)), tuple(out.ravel()), v.integer)


@_op("Transpose")
def _transpose(a, args, shape_of):
    import numpy as np

    v = args[0]
    if len(v.items) > 4096:
        raise Unmappable("a transpose of a large value")
    table = np.array(v.items, dtype=object).reshape(v.shape)
    perm = a.get("perm")
    out = table.transpose(None if perm is None else [int(p) for p in perm])
    return Value(tuple(out.shape), tuple(out.ravel()), v.integer)


def _slice_bound(i: int, n: int, step: int) -> int:
    if i < 0:
        i += n
    if step > 0:
        return min(max(i, 0), n)
    return min(max(i, -1), n - 1)


@_op("Range")
def _range(a, args, shape_of):
    start, limit, delta = (_ints(v, "a bound of the range")[0] for v in args[:3])
    if delta == 0:
        raise Unmappable("a range of step 0")
    items = tuple(range(start, limit, delta))
    return Value(_check((len(items),)), items, True)


@_op("ConstantOfShape")
def _constant_of_shape(a, args, shape_of):
    shape = tuple(_ints(args[0], "the shape"))
    _check(shape)
    fill: Any = 0
    integer = False
    value = a.get("value")
    if value is not None:
        from onnx import numpy_helper

        arr = from_array(numpy_helper.to_array(value))
        fill, integer = arr.items[0], arr.integer
    return Value(shape, (fill,) * _size(shape), integer)


def _broadcast_shapes(x: tuple[int, ...], y: tuple[int, ...]) -> tuple[int, ...]:
    rank = max(len(x), len(y))
    x = (1,) * (rank - len(x)) + x
    y = (1,) * (rank - len(y)) + y
    out = []
    for a, b in zip(x, y, strict=True):
        if a != b and 1 not in (a, b):
            raise Unmappable(f"shapes {list(x)} and {list(y)} that do not broadcast")
        out.append(max(a, b))
    return _check(tuple(out))


def _broadcast_to(v: Value, shape: tuple[int, ...]) -> Value:
    if v.shape == shape:
        return v
    import numpy as np

    index = np.arange(len(v.items)).reshape(v.shape) if v.items else np.zeros(v.shape, dtype=int)
    picked = np.broadcast_to(index, shape).ravel()
    return Value(shape, tuple(v.items[int(i)] for i in picked), v.integer)


def _binary(fn):
    def run(a, args, shape_of):
        x, y = args[0], args[1]
        shape = _broadcast_shapes(x.shape, y.shape)
        x, y = _broadcast_to(x, shape), _broadcast_to(y, shape)
        integer = x.integer and y.integer
        return Value(shape, tuple(fn(p, q, integer) for p, q in zip(x.items, y.items, strict=True)), integer)

    return run


def _div(p, q, integer):
    if isinstance(q, int) and q == 0:
        raise Unmappable("a division by zero")
    if integer:
        if isinstance(p, int) and isinstance(q, int):
            return abs(p) // abs(q) * (1 if (p >= 0) == (q >= 0) else -1)  # C's truncation
        return dims.floordiv(p, q)  # sizes: truncation is the floor for what is not negative
    return _exact(dims.div(p, q))


def _mod(p, q, integer):
    if isinstance(q, int) and q == 0:
        raise Unmappable("a remainder of a division by zero")
    return dims.mod(p, q)


def _exact(v):
    if isinstance(v, Fraction) and v.denominator == 1:
        return int(v)
    return v


_OPS["Add"] = _binary(lambda p, q, i: dims.add(p, q))
_OPS["Sub"] = _binary(lambda p, q, i: dims.add(p, dims.mul(-1, q)))
_OPS["Mul"] = _binary(lambda p, q, i: _exact(dims.mul(p, q)))
_OPS["Div"] = _binary(_div)
_OPS["Mod"] = _binary(_mod)
_OPS["Max"] = _binary(lambda p, q, i: dims.dmax(p, q))
_OPS["Pow"] = _binary(lambda p, q, i: _power(p, q))
_OPS["Min"] = _binary(lambda p, q, i: dims.dmin(p, q))


def _power(p, q):
    """``p ** q`` of numbers (attention's scale, head_dim ** -0.5, as the legacy exporter
    computes it), exact: a Fraction, or sympy's exact root. A power of a size that depends on
    the input's is not followed."""
    if not isinstance(p, (int, Fraction)) or not isinstance(q, (int, Fraction)):
        raise Unmappable("a power of a size that depends on the input's size")
    q = Fraction(q)
    if abs(q.numerator) > 64 or q.denominator > 64:
        raise Unmappable(f"a power {p} ** {q} (exponents of sizes are small)")
    if q.denominator == 1:
        if p == 0 and q < 0:
            raise Unmappable("a power of 0 with a negative exponent")
        return Fraction(p) ** int(q)
    if p < 0:
        raise Unmappable(f"a power {p} ** {q}")
    return _exact(dims.sp().Pow(dims.to_sympy(Fraction(p)), dims.to_sympy(q)))


def _unary(fn, integer=None):
    def run(a, args, shape_of):
        v = args[0]
        return Value(v.shape, tuple(fn(x) for x in v.items), v.integer if integer is None else integer)

    return run


_OPS["Neg"] = _unary(lambda x: dims.mul(-1, x))
_OPS["Abs"] = _unary(lambda x: abs(x) if isinstance(x, (int, Fraction)) else _unknown("abs"))
_OPS["Floor"] = _unary(lambda x: _exact(dims.floor(x)))
_OPS["Ceil"] = _unary(lambda x: _exact(dims.ceil(x)))


@_op("Sqrt")
def _sqrt(a, args, shape_of):
    """The square root of a number (attention's scale 1/sqrt(d), which the legacy exporter
    computes from the size of the heads): exact, a Fraction when the number is the square of
    one, else sympy's exact root. A root of a size that is not known is not followed."""
    v = args[0]
    return Value(v.shape, tuple(_root(x) for x in v.items), False)


def _root(x):
    if not isinstance(x, (int, Fraction)):
        if getattr(x, "free_symbols", True) or not x.is_nonnegative:
            raise Unmappable("a square root of a size that depends on the input's size")
        return dims.sp().sqrt(x)  # a root of a root: 1/sqrt(sqrt(d))
    if x < 0:
        raise Unmappable(f"a square root of {x}")
    q = Fraction(x)
    p, r = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if p * p == q.numerator and r * r == q.denominator:
        return Fraction(p, r)
    return dims.sp().sqrt(dims.to_sympy(q))


def _unknown(what: str):
    raise Unmappable(f"{what} of a symbolic size")


def _reduce(fn):
    def run(a, args, shape_of):
        v = args[0]
        if len(v.shape) != 1 or (len(args) > 1 and args[1] is not None) or a.get("axes"):
            raise Unmappable("a reduction of a value that is not a list")
        shape = (1,) if a.get("keepdims", 1) else ()
        return Value(shape, (fn(list(v.items)),), v.integer)

    return run


_OPS["ReduceProd"] = _reduce(dims.prod)
_OPS["ReduceSum"] = _reduce(lambda xs: dims.add(*xs))


def _compare(fn):
    def run(a, args, shape_of):
        x, y = args[0], args[1]
        shape = _broadcast_shapes(x.shape, y.shape)
        x, y = _broadcast_to(x, shape), _broadcast_to(y, shape)
        out = []
        for p, q in zip(x.items, y.items, strict=True):
            d = dims.add(p, dims.mul(-1, q))
            if not dims.is_concrete(d):
                raise Unmappable(f"a comparison of {dims.fmt(p)} and {dims.fmt(q)} that depends on the input")
            out.append(int(fn(d)))
        return Value(shape, tuple(out), True)

    return run


_OPS["Equal"] = _compare(lambda d: d == 0)
_OPS["Less"] = _compare(lambda d: d < 0)
_OPS["Greater"] = _compare(lambda d: d > 0)
_OPS["Not"] = _unary(lambda x: int(not x) if isinstance(x, int) else _unknown("not"), integer=True)


@_op("Where")
def _where(a, args, shape_of):
    c, x, y = args
    shape = _broadcast_shapes(_broadcast_shapes(c.shape, x.shape), y.shape)
    c, x, y = (_broadcast_to(v, shape) for v in (c, x, y))
    items = tuple(p if k else q for k, p, q in zip(_ints(c, "a condition"), x.items, y.items, strict=True))
    return Value(shape, items, x.integer and y.integer)
