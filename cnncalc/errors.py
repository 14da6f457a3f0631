"""The errors cnncalc raises for mistakes a user can make.

Every message starts with where the mistake is (``file:line:column`` and the spec path, or the
layer), then says what was expected and what was found. The command line prints the message
alone and exits with status 2; any other exception is a bug.
"""

from __future__ import annotations


class CnncalcError(Exception):
    """Root of every error caused by the user's input."""


class SpecError(CnncalcError):
    """The spec file is not valid: YAML, structure, types, expressions or references."""


class UnknownLayerError(SpecError):
    """A layer kind or block that is neither built in nor defined in the spec."""


class ExpressionError(SpecError):
    """An expression is outside the whitelist, or cannot be evaluated."""


class ShapeError(CnncalcError):
    """A layer cannot be applied to the shape it receives (kernel larger than input, ...)."""


class VerificationError(CnncalcError):
    """Verification by execution cannot run (memory budget, ...)."""


class UsageError(CnncalcError):
    """A command-line argument is wrong (unknown symbol in --set, missing file, ...)."""


class LayerDefinitionError(CnncalcError, TypeError):
    """A layer class breaks the contract of :func:`cnncalc.layers.register` (no docstring
    formulas, a missing rule, a malformed or taken tag); the message names the class and the
    rule. Also a ``TypeError``: the class, not a value, is wrong."""


class PluginError(CnncalcError):
    """A ``--plugin`` module or an installed ``cnncalc.layers`` entry point cannot be loaded."""
