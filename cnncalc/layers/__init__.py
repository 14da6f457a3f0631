"""The layer registry: every layer kind, keyed by the tag written in spec files.

Each module in this package defines one layer kind (or a family of tiny ones, such as the
activations) and registers it with :func:`register`. Importing the package imports every module,
so adding a layer kind is adding a module. Custom layers register the same way from their own
module.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from ..errors import UnknownLayerError
from ._base import (
    WHOLE,
    Check,
    Int,
    Layer,
    NonNegInt,
    NonNegPair,
    Padding,
    Pair,
    Param,
    Shape,
    Window,
    at_least,
    copy_checked,
    divides,
    numel,
)

__all__ = [
    "REGISTRY",
    "WHOLE",
    "Check",
    "Int",
    "Layer",
    "NonNegInt",
    "NonNegPair",
    "Padding",
    "Pair",
    "Param",
    "Shape",
    "Window",
    "at_least",
    "copy_checked",
    "divides",
    "get",
    "numel",
    "register",
]

REGISTRY: dict[str, type[Layer]] = {}

_TAG = re.compile(r"^[a-z][a-z0-9_]*$")


def register(cls: type[Layer]) -> type[Layer]:
    """Class decorator adding a layer kind to the registry, checked eagerly.

    Raises:
        TypeError: if the class is not a Layer, its tag is malformed or taken, it lacks a
            docstring stating its formulas, or it does not implement its rules.
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"@register expects a Layer subclass, got {cls!r}")
    kind = cls.kind
    if not _TAG.match(kind or ""):
        raise TypeError(f"{cls.__name__}.kind must be a snake_case tag, got {kind!r}")
    if kind in REGISTRY and REGISTRY[kind] is not cls:
        raise TypeError(f"layer kind {kind!r} is already registered by {REGISTRY[kind].__name__}")
    doc = cls.__doc__ or ""
    if "MACs" not in doc or "FLOPs" not in doc:
        raise TypeError(f"{cls.__name__} must state its MACs and FLOPs in its docstring")
    for rule in ("output_shape", "flops"):
        if getattr(cls, rule) is getattr(Layer, rule):
            raise TypeError(f"{cls.__name__} must implement {rule}()")
    if not cls.prefix:
        cls.prefix = kind
    REGISTRY[kind] = cls
    return cls


def get(kind: str) -> type[Layer]:
    """The layer class registered under ``kind``.

    Raises:
        UnknownLayerError: naming the closest known kinds.
    """
    try:
        return REGISTRY[kind]
    except KeyError:
        raise UnknownLayerError(unknown_message("layer kind", kind, REGISTRY)) from None


def unknown_message(what: str, name: str, known) -> str:
    """``unknown layer kind 'conv2' (did you mean 'conv2d'?); known: ...``."""
    import difflib

    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return f"unknown {what} {name!r}{hint}; known: {', '.join(sorted(known))}"


def _import_builtin() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_import_builtin()
