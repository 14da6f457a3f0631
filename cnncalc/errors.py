"""The errors cnncalc raises for mistakes a user can make, and the record each one carries.

A :class:`Diagnostic` says what is wrong (``message``), where (``file``, ``line``, ``column``,
and ``where`` inside the file: a spec path such as ``layers[3].conv2d.kernel`` or a layer), and
what to do (``hint``). The loader, the engine, the importers and the commands make them; every
front end shows the same fields: the command line prints them on one line and exits with
status 2, the terminal UI puts the message at its line, and the Python API raises the error,
whose attributes are the fields. Any other exception is a bug.

Words that belong to one front end (``--set``) are not written by the engine: a value the user
gave is recorded as ``binding`` (``H=abc``), and a hint that asks for a symbol's value holds
``{how}`` where the front end says how (``with --set``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

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


@dataclass(frozen=True)
class Diagnostic:
    """One thing to tell the user: what, where, and what to do about it.

    Attributes:
        message: what is wrong, with the values involved.
        code: what kind of problem (``spec``, ``spec.unknown-kind``, ``shape``, ``usage``, ...),
            stable for scripts and editors.
        severity: ``error``, or ``warning`` for something valid but probably not meant.
        file, line, column: where it is written (1-based, as editors count), when known.
        where: the place inside the file: a spec path or a layer (``layer 'conv2' (conv2d)``).
        hint: what to do, when the message does not say it; ``{how}`` in it stands for the
            front end's way of giving a symbol a value (`` with --set``), ``{set}`` for what
            comes before values written ``H=160`` (``--set ``).
        binding: a symbol's value as the user gave it (``H=abc``), when that value is wrong.
    """

    message: str
    code: str = "error"
    severity: Literal["error", "warning"] = "error"
    file: str | None = None
    line: int | None = None
    column: int | None = None
    where: str = ""
    hint: str = ""
    binding: str = ""

    @property
    def location(self) -> str:
        """``file:line:column`` (or what of it is known; empty when nothing is)."""
        if self.file is None:
            return ""
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def render(self, *, setting: str = "", how: str = "") -> str:
        """The diagnostic as one line.

        Args:
            setting: how the front end gives a symbol a value, shown before ``binding``
                (``--set `` on the command line).
            how: what replaces ``{how}`` in the hint (`` with --set`` on the command line).
        """
        parts = [p for p in (self.location, self.where) if p]
        if self.binding:
            parts.append(f"{setting}{self.binding}")
        text = ": ".join([*parts, self.message])
        if self.hint:
            text += "; " + self.hint.replace("{how}", how).replace("{set}", setting)
        return text

    def __str__(self) -> str:
        return self.render()

    def located(self, **fields: Any) -> Diagnostic:
        """The same diagnostic with location fields filled in where they were empty."""
        return replace(self, **{k: v for k, v in fields.items() if getattr(self, k) in (None, "")})


class CnncalcError(Exception):
    """Root of every error caused by the user's input. Its fields are its :class:`Diagnostic`'s
    (``file``, ``line``, ``column``, ``message``, ``hint``, ``code``, ``where``).

    Raised with a message (``ShapeError("kernel 5 is larger than the input 3")``), keyword
    fields, or a diagnostic.
    """

    #: The ``code`` of a diagnostic made from a plain message.
    code_prefix = "error"

    def __init__(self, message: str | Diagnostic = "", **fields: Any):
        if isinstance(message, Diagnostic):
            diagnostic = message
        else:
            fields.setdefault("code", self.code_prefix)
            diagnostic = Diagnostic(str(message), **fields)
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic

    def __getattr__(self, name: str) -> Any:
        if name in Diagnostic.__dataclass_fields__:
            return getattr(self.__dict__["diagnostic"], name)
        raise AttributeError(name)

    def __reduce__(self):
        return (type(self), (self.diagnostic,))


class SpecError(CnncalcError):
    """The spec file is not valid: YAML, structure, types, expressions or references."""

    code_prefix = "spec"


class UnknownLayerError(SpecError):
    """A layer kind or block that is neither built in nor defined in the spec."""

    code_prefix = "spec.unknown-kind"


class ExpressionError(SpecError):
    """An expression is outside the whitelist, or cannot be evaluated."""

    code_prefix = "spec.expression"


class ShapeError(CnncalcError):
    """A layer cannot be applied to the shape it receives (kernel larger than input, ...)."""

    code_prefix = "shape"


class SizeError(ShapeError):
    """A layer's shape rule gives a size no tensor can have (a fraction, a float, 0 or less),
    for an input its checks did not refuse: a mistake in the layer's rules, named with the axis."""


class RuleError(ShapeError):
    """A rule of a custom layer kind raised, or returned what the engine cannot use; the message
    names the rule, what it was computing, and the line of the plugin's file."""


class VerificationError(CnncalcError):
    """Verification by execution cannot run (memory budget, ...)."""

    code_prefix = "verify"


class UsageError(CnncalcError):
    """A value given to a command or a function is wrong (an unknown symbol, a symbol's value
    out of its bounds, a missing file, ...)."""

    code_prefix = "usage"


class LayerDefinitionError(CnncalcError, TypeError):
    """A layer class breaks the contract of :func:`cnncalc.layers.register` (no docstring
    formulas, a missing rule, a malformed or taken tag); the message names the class and the
    rule. Also a ``TypeError``: the class, not a value, is wrong."""

    code_prefix = "layer-definition"


class PluginError(CnncalcError):
    """A ``--plugin`` module or an installed ``cnncalc.layers`` entry point cannot be loaded."""

    code_prefix = "plugin"
