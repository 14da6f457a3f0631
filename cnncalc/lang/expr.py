"""Spec expressions: a whitelist parser and an exact evaluator.

A layer argument may be a number or a string such as ``"4*width"``, ``"ceil(32*alpha)"`` or
``"H//2"``. The text is parsed with :func:`ast.parse` (which only builds a syntax tree) and
every node is checked against a whitelist: numbers, names, ``+ - * / // % **``, parentheses,
comparisons (``< <= > >= == !=``, chained as in Python), ``and or not``, the conditional
``a if c else b``, the input's dimensions ``input.N input.C input.H input.W`` and the functions
``min max floor ceil round make_divisible`` (``ceiling``, ``Min``, ``Max`` and ``Mod`` are
accepted too, so that expressions cnncalc prints can be pasted back). Nothing in a spec is ever
executed: evaluation walks the checked tree with exact integer and rational arithmetic, and
builds sympy expressions only for symbols left open.

A comparison is 1 when it holds and 0 when it does not; ``and``, ``or`` and ``not`` give 1 or 0
too. When open symbols leave a condition undecided, the value is piecewise
(``(64 if H >= 32 else 32)``): exact for every value of the symbols, never a guess.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..core import dims
from ..errors import ExpressionError
from .conditional import MAX_CONDITIONAL_SIZE, conditional
from .literals import (
    MAX_MAGNITUDE,
    _check_magnitude,
    _check_number_spelling,
    _exact_float,
    _float,
    _number_text,
    _short,
    _shown,
)
from .refnames import (
    DOT,
    INPUT_AXES,
    INPUT_NAME,
    Tensor,
    as_list,
    is_reference,
    item,
    mask,
    reference,
    tree_text,
)
from .surd import Surd, root

#: Longest expression text accepted.
MAX_LENGTH = 500
#: Largest exponent accepted in ``a ** b``.
MAX_EXPONENT = 64

FUNCTIONS = {
    "min": "min",
    "Min": "min",
    "max": "max",
    "Max": "max",
    "floor": "floor",
    "ceil": "ceil",
    "ceiling": "ceil",
    "Mod": "mod",
    "round": "round",
    "make_divisible": "make_divisible",
}
_ARITY = {"min": None, "max": None, "floor": 1, "ceil": 1, "mod": 2, "round": 1}
_ARITY.update({"make_divisible": (2, 3), "len": 1, "sum": 1})
#: Functions of a list. Their names stay free for symbols and arguments (specs written before
#: they existed may use them), so they are functions only where called.
LIST_FUNCTIONS = {"len": "len", "sum": "sum"}
_CALLABLE = "min, max, floor, ceil, round, make_divisible, len, sum"


_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}

_BINOPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}

_NODE_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "an assignment",
    ast.Starred: "a starred argument",
    ast.Await: "await",
}


@dataclass(frozen=True)
class Expr:
    """A checked expression: its text, its tree and the names it uses."""

    text: str
    tree: Any  # nested tuples, see _convert
    names: frozenset[str]

    @property
    def constant(self) -> int | Fraction | None:
        """The value when the expression uses no names (``3/4``, ``2**5``), else None.

        Raises:
            ExpressionError: if that value cannot be computed (a division by zero).
        """
        if self.names:
            return None
        value = evaluate(self, {})
        return value if dims.is_concrete(value) else None

    def __str__(self) -> str:
        return self.text


def parse(value: Any) -> Expr:
    """Check a YAML value (int, float or string) and return it as an :class:`Expr`.

    Raises:
        ExpressionError: with a message saying what is not allowed (no location; callers add it).
    """
    if isinstance(value, bool):
        raise ExpressionError(f"expected a number or an expression, found {str(value).lower()}")
    if isinstance(value, int):
        _check_magnitude(value)
        return Expr(str(value), ("num", value), frozenset())
    if isinstance(value, float):
        number = _float(value)
        return Expr(_number_text(number), ("num", number), frozenset())
    if isinstance(value, Fraction):  # from Python code: exact already
        number = dims.canon(value)
        _check_magnitude(number)
        return Expr(_number_text(number), ("num", number), frozenset())
    if not isinstance(value, str):
        kind = {list: "a list", dict: "a mapping", type(None): "nothing"}.get(type(value))
        raise ExpressionError(f"expected a number or an expression, found {kind or type(value).__name__}")
    text = value.strip()
    if not text:
        raise ExpressionError("expected a number or an expression, found an empty string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long (at most {MAX_LENGTH})")
    _check_number_spelling(text)
    masked = mask(text)
    try:
        tree = ast.parse(masked, mode="eval")
    except SyntaxError as exc:
        col = f" at character {exc.offset}" if exc.offset else ""
        hint = ""
        if re.fullmatch(r"\s*\d+\s*[xX]\s*\d+\s*", text):
            a, b = re.split(r"[xX]", text)
            hint = f" (write a pair as [{a.strip()}, {b.strip()}])"
        raise ExpressionError(f"cannot parse expression {text!r}{col}: {exc.msg}{hint}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"cannot parse expression {text!r}: {exc}") from None
    names: set[str] = set()
    try:
        converted = _convert(tree.body, masked, names, depth=0)
    except ExpressionError as exc:
        if masked == text:
            raise
        from dataclasses import replace

        d = exc.diagnostic
        raise ExpressionError(replace(d, message=d.message.replace(DOT, "."))) from None
    return Expr(text, converted, frozenset(names))


def _convert(node: ast.AST, text: str, names: set[str], depth: int) -> tuple:
    if depth > 50:
        raise ExpressionError(f"expression {text!r} is nested too deeply")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"in {text!r}: only numbers are allowed as constants, found {node.value!r}")
        if isinstance(node.value, float):
            return ("num", _exact_float(node, text))
        _check_magnitude(node.value)
        return ("num", node.value)
    if isinstance(node, ast.Name) and DOT in node.id:
        found = reference(node.id, _shown(text.replace(DOT, ".")), FUNCTIONS)
        names.add(found[1])
        return found
    if isinstance(node, ast.Name):
        if node.id == INPUT_NAME:
            raise ExpressionError(
                f"in {_shown(text)}: 'input' is a tensor; its dimensions are input.N, input.C, "
                f"input.H and input.W"
            )
        if node.id in FUNCTIONS:
            raise ExpressionError(f"in {text!r}: '{node.id}' is a function; call it as {node.id}(...)")
        names.add(node.id)
        return ("name", node.id)
    if isinstance(node, ast.Attribute):
        base = node.value
        if isinstance(base, ast.Name) and base.id == INPUT_NAME and node.attr in INPUT_AXES:
            name = f"{INPUT_NAME}.{node.attr}"
            names.add(name)
            return ("name", name)
        if isinstance(base, ast.Name) and base.id == INPUT_NAME:
            raise ExpressionError(
                f"in {_shown(text)}: the input has no dimension {node.attr!r}; "
                f"write input.N, input.C, input.H or input.W"
            )
    if isinstance(node, ast.Subscript):
        if isinstance(node.slice, ast.Slice):
            raise ExpressionError(f"in {_shown(text)}: slices are not allowed; index one value (a[i])")
        base = _convert(node.value, text, names, depth + 1)
        if base[0] not in ("name", "index") or is_reference(base[1] if base[0] == "name" else ""):
            raise ExpressionError(f"in {_shown(text)}: only a list can be indexed (widths[i])")
        return ("index", base, _convert(node.slice, text, names, depth + 1))
    if isinstance(node, ast.Compare):
        ops = []
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ExpressionError(
                    f"in {_shown(text)}: {type(op).__name__} is not allowed; comparisons are < <= > >= == !="
                )
            ops.append(_COMPARE[type(op)])
        operands = [_convert(x, text, names, depth + 1) for x in (node.left, *node.comparators)]
        return ("cmp", tuple(ops), tuple(operands))
    if isinstance(node, ast.BoolOp):
        tag = "and" if isinstance(node.op, ast.And) else "or"
        return (tag, *(_convert(v, text, names, depth + 1) for v in node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ("not", _convert(node.operand, text, names, depth + 1))
    if isinstance(node, ast.IfExp):
        return (
            "if",
            _convert(node.test, text, names, depth + 1),
            _convert(node.body, text, names, depth + 1),
            _convert(node.orelse, text, names, depth + 1),
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _convert(node.operand, text, names, depth + 1)
        return ("neg", inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return (
            "bin",
            _BINOPS[type(node.op)],
            _convert(node.left, text, names, depth + 1),
            _convert(node.right, text, names, depth + 1),
        )
    if isinstance(node, ast.Call):
        fname = node.func.id if isinstance(node.func, ast.Name) else None
        if fname not in FUNCTIONS and fname not in LIST_FUNCTIONS:
            shown = fname or ast.get_source_segment(text, node.func) or "?"
            raise ExpressionError(
                f"in {text!r}: function '{shown}' is not allowed; expressions may call only {_CALLABLE}"
            )
        if node.keywords:
            raise ExpressionError(f"in {text!r}: {fname}() takes no keyword arguments")
        fn = FUNCTIONS.get(fname) or LIST_FUNCTIONS[fname]
        arity = _ARITY[fn]
        if isinstance(arity, tuple) and not arity[0] <= len(node.args) <= arity[1]:
            raise ExpressionError(
                f"in {text!r}: {fname}() takes {arity[0]} or {arity[1]} arguments, found {len(node.args)}"
            )
        if isinstance(arity, int) and len(node.args) != arity:
            raise ExpressionError(
                f"in {text!r}: {fname}() takes {arity} argument{'s' * (arity > 1)}, found {len(node.args)}"
            )
        if arity is None and len(node.args) < 1:
            raise ExpressionError(f"in {text!r}: {fname}() needs at least one argument")
        args = tuple(_convert(a, text, names, depth + 1) for a in node.args)
        if fn in ("len", "sum") and args[0][0] not in ("name", "index"):
            raise ExpressionError(f"in {_shown(text)}: {fname}() takes a list (len(widths))")
        return ("call", fn, *args)
    what = _NODE_NAMES.get(type(node))
    if what is None and isinstance(node, (ast.UnaryOp, ast.BinOp)):
        what = f"the operator {type(node.op).__name__}"
    if what is None:
        what = type(node).__name__
    raise ExpressionError(
        f"in {text!r}: {what} is not allowed; expressions may use numbers, names, "
        f"+ - * / // % **, parentheses, comparisons, and/or/not, a if c else b, lists indexed "
        f"(a[i]), a tensor's dimensions (here.C, input.H, layer1.W) and {_CALLABLE}"
    )


def evaluate(expr: Expr, scope: dict[str, Any], *, pairs: bool = False) -> Any:
    """The exact value of ``expr`` with names taken from ``scope``.

    A name may stand for a pair (a block argument ``kernel: [1, 7]``): with ``pairs`` an
    expression that is only that name gives the pair; in arithmetic a pair is an error.

    Raises:
        ExpressionError: for an unknown name, a division by zero, a huge power or value.
    """
    if pairs and expr.tree[0] == "name" and isinstance(scope.get(expr.tree[1]), tuple):
        return scope[expr.tree[1]]
    if pairs and expr.tree[0] == "index":
        value = _item(expr.tree, expr, scope)
        if isinstance(value, tuple):
            return value
    value = _eval(expr.tree, expr, scope)
    return value.to_sympy() if isinstance(value, Surd) else value


def _eval(t: tuple, expr: Expr, scope: dict[str, Any]) -> dims.Value:
    tag = t[0]
    if tag == "num":
        return t[1]
    if tag == "name":
        return _lookup(t[1], expr, scope)
    if tag == "neg":
        inner = _eval(t[1], expr, scope)
        if isinstance(inner, Surd):
            return inner.times(Fraction(-1))
        return _bounded(dims.mul(-1, inner), expr)
    if tag == "call":
        return _call(t, expr, scope)
    if tag == "index":
        value = _item(t, expr, scope)
        if isinstance(value, tuple):
            raise ExpressionError(
                f"in {_shown(expr.text)}: {tree_text(t)} is a list of {len(value)} values; "
                f"index it ({tree_text(t)}[0]) or pass it whole to a pair argument"
            )
        return value
    if tag == "cmp":
        return dims.from_truth(_compare(t, expr, scope))
    if tag in ("and", "or", "not"):
        return dims.from_truth(_truth(t, expr, scope))
    if tag == "if":
        cond = _truth(t[1], expr, scope)
        if cond is True:
            return _eval(t[2], expr, scope)
        if cond is False:
            return _eval(t[3], expr, scope)
        return _conditional(cond, _eval(t[2], expr, scope), _eval(t[3], expr, scope), expr)
    _, op, left, right = t
    return _binop(op, _eval(left, expr, scope), _eval(right, expr, scope), expr)


def _conditional(cond: Any, a: Any, b: Any, expr: Expr) -> dims.Value:
    """``a if cond else b`` for an undecided ``cond``: one flat conditional of the symbol when
    every condition in it is a threshold of one integer symbol (``v + 1 if H > 3 else v``,
    ``v`` itself a conditional, stays one list of ranges of H instead of doubling); else the
    conditional as written, refused when it grows too large to handle."""
    a, b = (v.to_sympy() if isinstance(v, Surd) else v for v in (a, b))
    value, size = conditional(cond, a, b)
    if size > MAX_CONDITIONAL_SIZE:
        open_ = ", ".join(sorted(str(x) for x in dims.free_symbols(value)))
        raise ExpressionError(
            f"in {_shown(expr.text)}: with {open_} left open this conditional grows to more than "
            f"{MAX_CONDITIONAL_SIZE:,} operations (conditionals of conditionals, passed through "
            f"blocks, double it at each level); give {open_} a value with --set"
        )
    return _bounded(value, expr)


def _lookup(name: str, expr: Expr, scope: dict[str, Any]) -> dims.Value:
    try:
        value = scope[name]
    except KeyError:
        if name.startswith(INPUT_NAME + "."):
            raise ExpressionError(
                f"in {_shown(expr.text)}: {name} is not defined: the input here has fewer than "
                f"{INPUT_AXES[name.split('.')[1]] + 1} dimensions"
            ) from None
        known = ", ".join(sorted(n for n in scope if not n.startswith(INPUT_NAME + "."))) or "none"
        raise ExpressionError(f"in {expr.text!r}: unknown name '{name}' (names in scope: {known})") from None
    if isinstance(value, tuple) and (len(value) != 2 or any(isinstance(v, tuple) for v in value)):
        raise ExpressionError(
            f"in {_shown(expr.text)}: {name} is a list of {len(value)} value{'s' * (len(value) != 1)}; "
            f"index it ({name}[0]), count it (len({name})) or pass it whole to an argument"
        )
    if isinstance(value, tuple):
        shown = dims.fmt_shape(value)
        raise ExpressionError(
            f"in {_shown(expr.text)}: {name} is the pair {shown}; a pair can only be passed whole "
            f"to a pair argument (kernel: {name})"
        )
    if isinstance(value, str):
        raise ExpressionError(f"in {_shown(expr.text)}: {name} names a layer kind ({value}), not a number")
    if isinstance(value, Tensor):
        raise ExpressionError(
            f"in {_shown(expr.text)}: {name} names a tensor ({value.node}), not a number; its "
            f"dimensions are {name}.N, {name}.C, {name}.H and {name}.W"
        )
    return value


def _list(t: tuple, expr: Expr, scope: dict[str, Any]) -> tuple:
    return as_list(
        t, _shown(expr.text), scope, lambda n: _eval(n, expr, scope), lambda n: _lookup(n, expr, scope)
    )


def _item(t: tuple, expr: Expr, scope: dict[str, Any]) -> Any:
    return item(
        t, _shown(expr.text), scope, lambda n: _eval(n, expr, scope), lambda n: _lookup(n, expr, scope)
    )


def _call(t: tuple, expr: Expr, scope: dict[str, Any]) -> dims.Value:
    fn = t[1]
    if fn == "len":
        return len(_list(t[2], expr, scope))
    if fn == "sum":
        total: Any = 0
        for v in _list(t[2], expr, scope):
            if isinstance(v, tuple):
                raise ExpressionError(f"in {_shown(expr.text)}: sum() adds numbers, not rows")
            total = _binop("+", total, v, expr)
        return total
    args = [_eval(a, expr, scope) for a in t[2:]]
    if any(isinstance(a, Surd) for a in args):
        if fn in ("floor", "ceil", "round") and isinstance(args[0], Surd):
            x = args[0]
            return (
                x.floor() if fn == "floor" else x.ceil() if fn == "ceil" else x.plus(Fraction(1, 2)).floor()
            )
        if fn in ("min", "max") and all(isinstance(a, (Surd, int, Fraction)) for a in args):
            pick = min if fn == "min" else max
            return pick(args, key=_Order)
        args = [a.to_sympy() if isinstance(a, Surd) else a for a in args]
    if fn == "mod":
        return _binop("%", args[0], args[1], expr)
    if fn == "round":
        if not dims.is_concrete(args[0]) and not dims.free_symbols(args[0]):
            # an irrational number (a root): never a half, so the nearest integer is floor(x + 1/2)
            return dims.floor(dims.add(args[0], Fraction(1, 2)))
        if not dims.is_concrete(args[0]):
            open_ = ", ".join(sorted(str(s) for s in dims.free_symbols(args[0])))
            raise ExpressionError(
                f"in {_shown(expr.text)}: round() needs a known value, but {open_} has none",
                hint="give it one{how} (or use floor(x + 1/2))",
            )
        return round(Fraction(args[0]))  # halves to even, as Python, NumPy and torch round
    if fn == "make_divisible":
        divisor = args[1]
        if not isinstance(divisor, int) or divisor < 1:
            raise ExpressionError(
                f"in {_shown(expr.text)}: make_divisible's divisor must be a known positive "
                f"integer, found {dims.fmt(divisor)}"
            )
        return _bounded(dims.make_divisible(args[0], divisor, *args[2:]), expr)
    f = {"min": dims.dmin, "max": dims.dmax, "floor": dims.floor, "ceil": dims.ceil}[fn]
    return _bounded(f(*args), expr)


def _compare(t: tuple, expr: Expr, scope: dict[str, Any]) -> Any:
    """A chained comparison: True, False, or a sympy condition."""
    _, ops, operands = t
    result: Any = True
    left = _eval(operands[0], expr, scope)
    for op, node in zip(ops, operands[1:], strict=True):
        right = _eval(node, expr, scope)
        result = dims.both(result, _relation(op, left, right))
        if result is False:
            return False
        left = right
    return result


def _relation(op: str, a: Any, b: Any) -> Any:
    if not (isinstance(a, Surd) or isinstance(b, Surd)):
        return dims.compare(op, a, b)
    if isinstance(a, Surd) and isinstance(b, Surd):
        return dims.compare(op, a.to_sympy(), b.to_sympy())
    if not all(isinstance(v, (Surd, int, Fraction)) for v in (a, b)):
        a, b = (v.to_sympy() if isinstance(v, Surd) else v for v in (a, b))
        return dims.compare(op, a, b)
    # a root of a known number is irrational: never equal to a rational
    less = _less(a, b)
    return {"<": less, "<=": less, ">": not less, ">=": not less, "==": False, "!=": True}[op]


def _truth(t: tuple, expr: Expr, scope: dict[str, Any]) -> Any:
    """Whether ``t`` holds (not 0): True, False, or a sympy condition. ``and`` and ``or``
    stop at the first operand that decides them, as in Python."""
    tag = t[0]
    if tag == "cmp":
        return _compare(t, expr, scope)
    if tag == "not":
        return dims.negate(_truth(t[1], expr, scope))
    if tag in ("and", "or"):
        combine = dims.both if tag == "and" else dims.either
        decided = tag == "or"  # the value that ends the chain
        result: Any = not decided
        for operand in t[1:]:
            result = combine(result, _truth(operand, expr, scope))
            if result is decided:
                return decided
        return result
    value = _eval(t, expr, scope)
    return True if isinstance(value, Surd) else dims.truth(value)


class _Order:
    """Sort key of known numbers and roots, exact."""

    def __init__(self, v: Any):
        self.v = v

    def __lt__(self, other: _Order) -> bool:
        return _less(self.v, other.v)


def _less(a: Any, b: Any) -> bool:
    if isinstance(a, Surd) and isinstance(b, Surd):
        return bool(dims.compare("<", a.to_sympy(), b.to_sympy()))
    if isinstance(a, Surd):
        return not a.exceeds(Fraction(b))
    if isinstance(b, Surd):
        return b.exceeds(Fraction(a))
    return a < b


def _surd_binop(op: str, a: Any, b: Any) -> Any:
    """``a op b`` with a root and a known number, or None when it needs sympy."""
    if isinstance(a, Surd) and dims.is_concrete(b):
        q = Fraction(b)
        if op == "+":
            return a.plus(q)
        if op == "-":
            return a.plus(-q)
        if op == "*":
            return a.times(q)
        if op in ("/", "//") and q != 0:
            quotient = a.times(1 / q)
            return quotient.floor() if op == "//" else quotient
    if dims.is_concrete(a) and isinstance(b, Surd):
        q = Fraction(a)
        if op == "+":
            return b.plus(q)
        if op == "-":
            return b.times(Fraction(-1)).plus(q)
        if op == "*":
            return b.times(q)
    return None


def _binop(op: str, a: dims.Value, b: dims.Value, expr: Expr) -> dims.Value:
    if isinstance(a, Surd) or isinstance(b, Surd):
        done = _surd_binop(op, a, b)
        if done is not None:
            return done
        a = a.to_sympy() if isinstance(a, Surd) else a
        b = b.to_sympy() if isinstance(b, Surd) else b
    if op == "+":
        return _bounded(dims.add(a, b), expr)
    if op == "-":
        return _bounded(dims.add(a, dims.mul(-1, b)), expr)
    if op == "*":
        return _bounded(dims.mul(a, b), expr)
    if op == "**":
        if isinstance(b, Fraction) and dims.is_concrete(a) and a > 0:
            return _root(a, b, expr)
        if not isinstance(b, int):
            raise ExpressionError(
                f"in {expr.text!r}: exponents must be integer constants (or fractions of a known "
                f"positive number), found {dims.fmt(b)}"
            )
        if abs(b) > MAX_EXPONENT:
            raise ExpressionError(
                f"in {expr.text!r}: exponent {_short(b)} is too large (at most {MAX_EXPONENT})"
            )
        if dims.is_concrete(a):
            if a == 0 and b < 0:
                raise ExpressionError(f"in {_shown(expr.text)}: division by zero (0 to a negative power)")
            f = Fraction(a)
            bits = max(abs(f.numerator).bit_length(), f.denominator.bit_length())
            if f != 0 and abs(b) * (bits - 1) > 340:  # 2**340 > 10**100
                raise ExpressionError(f"in {_shown(expr.text)}: the power is too large (limit 10**100)")
            return _bounded(dims.canon(f**b), expr)
        return _bounded(dims.canon(dims.to_sympy(a) ** b), expr)
    # Division-like operators: the divisor must be known to be non-zero.
    if dims.is_concrete(b):
        if b == 0:
            raise ExpressionError(f"in {expr.text!r}: division by zero")
    elif b.is_zero is not False:
        raise ExpressionError(
            f"in {expr.text!r}: the divisor {dims.fmt(b)} could be zero; "
            f"divide only by expressions that are always non-zero"
        )
    if op == "/":
        return _bounded(dims.div(a, b), expr)
    if op == "//":
        return _bounded(dims.floordiv(a, b), expr)
    return _bounded(dims.mod(a, b), expr)


def _root(a: int | Fraction, b: Fraction, expr: Expr) -> dims.Value:
    """``a ** b`` for a known positive ``a`` and a fractional ``b``: exact, an algebraic
    number when it is not rational (``(9/4)**(1/2)`` is 3/2, ``2**(1/2)`` stays a root)."""
    if abs(b) > MAX_EXPONENT or b.denominator > MAX_EXPONENT:
        raise ExpressionError(f"in {_shown(expr.text)}: the exponent {dims.fmt(b)} is too large")
    f = Fraction(a)
    bits = max(abs(f.numerator).bit_length(), f.denominator.bit_length())
    if abs(b) * (bits - 1) > 340:
        raise ExpressionError(f"in {_shown(expr.text)}: the power is too large (limit 10**100)")
    value = root(f, b)
    if isinstance(value, Surd):
        if value.exceeds(Fraction(MAX_MAGNITUDE)):  # a root of a positive number: positive
            raise ExpressionError(f"in {_shown(expr.text)}: the power is too large (limit 10**100)")
        return value
    return _bounded(value, expr)


def _bounded(v: dims.Value, expr: Expr) -> dims.Value:
    if dims.is_concrete(v):
        if abs(v) > MAX_MAGNITUDE:
            raise ExpressionError(
                f"in {_shown(expr.text)}: the value {_short(v)} is too large (limit 10**100)"
            )
        if isinstance(v, Fraction) and v.denominator > MAX_MAGNITUDE:
            raise ExpressionError(
                f"in {_shown(expr.text)}: the value {_short(v)} is a fraction too fine to be a size "
                f"(denominator above 10**100)"
            )
        return v
    terms, degree = dims.expanded_terms(v), dims.degree(v)
    if terms > dims.MAX_TERMS or degree > dims.MAX_DEGREE:
        size = "more than 10**12" if terms >= 10**12 else f"{terms:,}"
        raise ExpressionError(
            f"in {_shown(expr.text)}: with the symbols left open this is a polynomial of degree "
            f"{degree} with {size} term{'s' * (terms != 1)} (at most degree {dims.MAX_DEGREE} and "
            f"{dims.MAX_TERMS} terms)",
            hint="give the symbols values{how}, or simplify the expression",
        )
    return v
