"""The layer registry: every layer kind, keyed by the tag written in spec files.

Each module in this package without a leading underscore defines one layer kind (or a family of
tiny ones, such as the activations) and registers it with :func:`register`. :data:`KIND_MODULES`
names the kinds each module defines, so that a module is imported only when a spec (or anything
else) first asks for one of its kinds: ``REGISTRY[kind]`` and :func:`get` import it; ``kind in
REGISTRY`` and the list of kinds need no import; :func:`all_kinds` imports them all.

Adding a layer kind is adding its module and its line in :data:`KIND_MODULES` (the tests check
that the table says what the modules register). A module missing from the table is imported
with the package, as every module once was: its kinds work, only without the saving. Custom
layers register the same way from their own module.
"""

from __future__ import annotations

import importlib

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
    all_kinds,
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
    "all_kinds",
    "at_least",
    "copy_checked",
    "divides",
    "get",
    "numel",
    "register",
]


#: Each module of this package that defines layer kinds, and the kinds it registers, in the
#: order they are listed.
KIND_MODULES: dict[str, tuple[str, ...]] = {
    "activation": (
        "relu",
        "relu6",
        "leaky_relu",
        "sigmoid",
        "tanh",
        "hardsigmoid",
        "hardswish",
        "silu",
        "gelu",
        "softmax",
        "dropout",
        "stochastic_depth",
        "identity",
    ),
    "add_constant": ("add_constant",),
    "axes": ("mean", "permute"),
    "channels": ("chunk", "channel_shuffle"),
    "class_token": ("class_token",),
    "conv2d": ("conv2d",),
    "conv_transpose2d": ("conv_transpose2d",),
    "flatten": ("flatten",),
    "layer_norm": ("layer_norm", "layer_norm2d"),
    "layer_scale": ("layer_scale",),
    "linear": ("linear",),
    "matmul": ("matmul",),
    "merge": ("add", "concat", "multiply"),
    "norm": ("batch_norm2d", "local_response_norm"),
    "opaque": ("opaque",),
    "pool2d": ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "global_avg_pool2d"),
    "position_embedding": ("position_embedding",),
    "resample": ("upsample", "zero_pad2d"),
    "reshape": ("reshape",),
    "scale": ("scale",),
    "select": ("select",),
    "separable": ("depthwise_conv2d", "separable_conv2d"),
    "slice": ("slice",),
}


def kind_modules() -> list[str]:
    """The modules of this package that define layer kinds: those without a leading underscore."""
    import pkgutil

    return [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]


def _expect_builtin() -> None:
    for module, kinds in KIND_MODULES.items():
        REGISTRY.expect(module, kinds)
    for module in kind_modules():
        if module not in KIND_MODULES:
            importlib.import_module(f"{__name__}.{module}")


_expect_builtin()

#: The kinds cnncalc itself defines (the registry also holds the plugins loaded since).
BUILTIN_KINDS: frozenset[str] = frozenset(REGISTRY)
