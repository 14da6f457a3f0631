"""The layer registry: every layer kind, keyed by the tag written in spec files.

Each module in this package defines one layer kind (or a family of tiny ones, such as the
activations) and registers it with :func:`register`. Importing the package imports every module,
so adding a layer kind is adding a module. Custom layers register the same way from their own
module.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..kernels import OutShapeError
from ._base import (
    WHOLE,
    Check,
    Int,
    IntList,
    Layer,
    NonNegInt,
    NonNegPair,
    Padding,
    Pair,
    Param,
    Shape,
    Sizes,
    Window,
    at_least,
    copy_checked,
    divides,
    numel,
)
from ._fields import ArgumentError, Parse, Range
from ._registry import (
    REGISTRY,
    REQUIRED_RULES,
    RESERVED_ARGUMENTS,
    RESERVED_KINDS,
    get,
    register,
)

__all__ = [
    "BUILTIN_KINDS",
    "REGISTRY",
    "REQUIRED_RULES",
    "RESERVED_ARGUMENTS",
    "RESERVED_KINDS",
    "WHOLE",
    "ArgumentError",
    "Check",
    "Int",
    "IntList",
    "Layer",
    "NonNegInt",
    "NonNegPair",
    "OutShapeError",
    "Padding",
    "Pair",
    "Param",
    "Parse",
    "Range",
    "Shape",
    "Sizes",
    "Window",
    "at_least",
    "copy_checked",
    "divides",
    "get",
    "numel",
    "register",
]


def _import_builtin() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_import_builtin()

#: The kinds cnncalc itself defines (the registry also holds the plugins loaded since).
BUILTIN_KINDS: frozenset[str] = frozenset(REGISTRY)
