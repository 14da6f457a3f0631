"""The rules of a custom layer kind, guarded: a mistake in them is one message, never a traceback.

:func:`~cnncalc.layers.register` wraps each rule a custom kind defines (``checks``,
``output_shape``, ``weights``, ``macs``, ``flops``, ``windows``, ...). An exception inside one
(a ``NameError``, a ``TypeError`` from ``int()`` on a symbol, a recursion without end) becomes a
:class:`RuleError` saying which rule failed, what it was computing, the exception and the line
of the plugin's file where it happened; what the rule returns is checked for the type the
engine needs (``checks`` a list of ``Check``, ``windows`` two ``cnncalc.layers.Window``,
``weights`` named ``Param``\\ s of a known role, counts an int or a formula). The engine adds the
layer's name and the spec's file, line and column, as for any error of a layer.

cnncalc's own kinds are not wrapped: a failure in them is a bug, and keeps its traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..errors import CnncalcError, RuleError, clean_message
from ._origin import failure

#: The rules a custom kind may define, and what each computes (as messages say it).
RULES = {
    "checks": "the conditions on its inputs",
    "output_shape": "the output shape",
    "weights": "its tensors",
    "macs": "the MAC count",
    "flops": "the FLOP count",
    "workspace": "its scratch memory",
    "windows": "the input windows its outputs read, for receptive fields",
    "axis_order": "the order of its output axes",
    "category": "its breakdown category",
    "lints": "its warnings",
}


def guard(cls: type) -> None:
    """Wrap every rule ``cls`` itself defines (idempotent)."""
    for rule in RULES:
        fn = cls.__dict__.get(rule)
        if fn is None or not callable(fn) or getattr(fn, "__cnncalc_guarded__", False):
            continue
        setattr(cls, rule, _guarded(rule, fn))


def _guarded(rule: str, fn: Callable) -> Callable:
    code = getattr(fn, "__code__", None)
    defined = f"{code.co_filename}:{code.co_firstlineno}" if code else ""
    what = f"its rule {rule}() ({RULES[rule]})"

    @functools.wraps(fn)
    def call(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(self, *args, **kwargs)
        except (CnncalcError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # a plugin's bug, told as one message
            raise RuleError(failure(what, exc, code.co_filename if code else None)) from exc
        return _checked(rule, result, what, defined, self)

    call.__cnncalc_guarded__ = True  # type: ignore[attr-defined]
    return call


def _checked(rule: str, result: Any, what: str, defined: str, layer: Any) -> Any:
    """``result`` in the form the engine uses, or a RuleError saying what was expected."""
    check = _CHECKS.get(rule)
    if check is None or (result is None and not getattr(layer, "cost_known", True)):
        return result
    problem, value = check(result)
    if problem:
        at = f" (defined at {defined})" if defined else ""
        raise RuleError(f"{what} returned {_found(result)}: {problem}{at}")
    return value


def _found(v: Any) -> str:
    text = clean_message(repr(v))
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(v).__name__})"


def _checks(v: Any) -> tuple[str | None, Any]:
    from ._base import Check

    if not isinstance(v, (list, tuple)):
        return "it must return a list of checks built with at_least(...) or divides(...)", v
    for item in v:
        if not isinstance(item, Check):
            return (
                f"each check must be built with at_least(lhs, rhs, message) or divides(divisor, "
                f"value, message), found {_found(item)} (a comparison such as `a >= b` is a bool, "
                "not a check)",
                v,
            )
    return None, list(v)


def _shape(v: Any) -> tuple[str | None, Any]:
    if isinstance(v, list):
        return None, tuple(v)
    return None, v  # the engine names what is wrong with the sizes themselves


def _weights(v: Any) -> tuple[str | None, Any]:
    from ._base import ROLES, Param

    if not isinstance(v, dict):
        return "it must return a dict mapping names to Param(shape, role)", v
    for key, p in v.items():
        if not isinstance(key, str):
            return f"the names of tensors are strings, found {_found(key)}", v
        if not isinstance(p, Param):
            return f"{key!r} must be a Param(shape, role), found {_found(p)}", v
        if p.role not in ROLES:
            return f"{key!r} has the role {p.role!r}; a role is one of {', '.join(ROLES)}", v
        if not isinstance(p.shape, (tuple, list)):
            return f"{key!r} has the shape {_found(p.shape)}; a shape is a tuple of sizes", v
    return None, v


def _count(v: Any) -> tuple[str | None, Any]:
    from fractions import Fraction

    if (
        v is None
        or isinstance(v, (bool, float, Fraction))
        or not (isinstance(v, int) or hasattr(v, "free_symbols"))
    ):
        hint = (
            "; divide with dims.floordiv or dims.ceildiv, not /" if isinstance(v, (float, Fraction)) else ""
        )
        return f"a count is an int, or a formula built with cnncalc.dims{hint}", v
    if isinstance(v, int) and v < 0:
        return "a count is never negative", v
    return None, v


def _windows(v: Any) -> tuple[str | None, Any]:
    from ._base import Window

    if v is None:
        return None, v
    if not isinstance(v, (tuple, list)) or len(v) != 2:
        return "it must return None or one cnncalc.layers.Window per spatial axis: (height, width)", v
    for w in v:
        if not isinstance(w, Window):
            extra = ""
            if type(w).__module__.startswith("cnncalc.") and hasattr(w, "kernel"):
                extra = (
                    " (cnncalc.testing's geometry, which examples() draws, not the rule's Window: "
                    "import Window from cnncalc.layers)"
                )
            return f"each axis is a cnncalc.layers.Window(size, stride, offset), found {_found(w)}{extra}", v
    return None, tuple(v)


_CHECKS: dict[str, Callable[[Any], tuple[str | None, Any]]] = {
    "checks": _checks,
    "output_shape": _shape,
    "weights": _weights,
    "macs": _count,
    "flops": _count,
    "workspace": _count,
    "windows": _windows,
}
