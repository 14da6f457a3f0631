"""The errors cnncalc raises for mistakes a user can make.

Every message starts with where the mistake is (``file:line:column`` and the spec path, or the
layer), then says what was expected and what was found. The command line prints the message
alone and exits with status 2; any other exception is a bug.
"""

from __future__ import annotations

import re

#: Messages show at most this many characters of a value the user wrote (a path, a name, a
#: number of 100,000 digits): its beginning, then how long it was.
MAX_SHOWN_CHARS = 60
#: Runs of digits longer than this are shortened in messages.
MAX_SHOWN_DIGITS = 30

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_DIGITS = re.compile(rf"\d{{{MAX_SHOWN_DIGITS + 1},}}")


def escape_controls(text: str) -> str:
    """``text`` with control characters (terminal escapes, bidirectional overrides) written as
    ``\\x1b`` or ``\\u202e``, so that no message can drive the terminal."""
    return _CONTROL.sub(_escaped, text)


def _escaped(m: re.Match) -> str:
    c = m.group()
    return repr(c)[1:-1] if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def shorten(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """A value the user wrote, as a message shows it: control characters escaped, and cut to
    ``limit`` characters with its length said (``123456789012...(100000 characters)``)."""
    text = escape_controls(text).replace("\n", "\\n").replace("\t", "\\t")
    if len(text) <= limit:
        return text
    return f"{text[: min(limit - 12, MAX_SHOWN_DIGITS - 6)]}...({len(text):,} characters)"


def shorten_numbers(text: str) -> str:
    """``text`` with every run of more than ``MAX_SHOWN_DIGITS`` digits shortened."""
    return _DIGITS.sub(lambda m: f"{m.group()[:12]}...({len(m.group()):,} digits)", text)


#: Words (runs without spaces) longer than this are shortened in messages.
MAX_SHOWN_WORD = 240
_LONG_WORD = re.compile(rf"\S{{{MAX_SHOWN_WORD + 1},}}")


def clean_message(text: str) -> str:
    """A message made safe to print on one line: control characters (newlines too) escaped,
    long numbers and words shortened."""
    text = shorten_numbers(escape_controls(text)).replace("\n", "\\n").replace("\t", "\\t")
    return _LONG_WORD.sub(lambda m: f"{m.group()[:100]}...({len(m.group()):,} characters)", text)


def unknown_message(what: str, name: str, known) -> str:
    """``unknown layer kind 'conv2' (did you mean 'conv2d'?); known: ...``."""
    import difflib

    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    text = f"unknown {what} {name!r}{hint}; known: {', '.join(sorted(known))}"
    if what == "layer kind" and not close:
        text += "; a custom layer kind is loaded with --plugin MODULE (docs/custom-layers.md)"
    return text


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


class SizeError(ShapeError):
    """A layer's shape rule gives a size no tensor can have (a fraction, a float, 0 or less),
    for an input its checks did not refuse: a mistake in the layer's rules, named with the axis."""


class RuleError(ShapeError):
    """A rule of a custom layer kind raised, or returned what the engine cannot use; the message
    names the rule, what it was computing, and the line of the plugin's file."""


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
