"""Reading a spec file: YAML into plain data, remembering where every value was written.

``load_yaml`` returns the document as plain dicts, lists and scalars together with a
:class:`Source` that maps each path inside the document (a tuple of keys and indices) to the
line and column it came from, so that every later error can point at the text.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import CnncalcError, Diagnostic, SpecError, shorten

Path_ = tuple[str | int, ...]

#: Spec files (and standard input) larger than this are refused: at most this many bytes, plus
#: one to notice, are ever read, whatever size the file claims (devices and pipes claim 0).
MAX_SPEC_BYTES = 2_000_000
#: Deeper nesting than this is refused (real specs nest a few levels).
MAX_DEPTH = 100
#: Longest number written in a spec (a value is at most 10**100 anyway).
MAX_NUMBER_CHARS = 120
#: Paths longer than this are shown by their two ends in messages.
MAX_SHOWN_PATH = 200
#: The name of standard input in messages; ``-`` as a path reads it.
STDIN = "<stdin>"


@dataclass(frozen=True)
class Mark:
    """A position in a spec file, 1-based like editors show it."""

    line: int
    column: int


class FileKey(str):
    """The first part of a path into another spec file (one whose blocks this spec uses): the
    path's rest is located in that file's :class:`Source`."""

    source: Source

    def __new__(cls, text: str, source: Source) -> FileKey:
        key = super().__new__(cls, text)
        key.source = source
        return key


@dataclass
class Source:
    """Where each value of a loaded document was written. A path that starts with a
    :class:`FileKey` is in that key's file."""

    filename: str
    marks: dict[Path_, Mark] = field(default_factory=dict)

    def _owner(self, path: Path_) -> tuple[Source, Path_]:
        """The source a path is in, and the path inside it."""
        source = self
        while path and isinstance(path[0], FileKey):
            source, path = path[0].source, path[1:]
        return source, tuple(path)

    def mark(self, path: Path_) -> Mark | None:
        """The position of ``path``, or of its nearest enclosing value."""
        owner, path = self._owner(path)
        if owner is not self:
            return owner.mark(path)
        while True:
            if path in self.marks:
                return self.marks[path]
            if not path:
                return None
            path = path[:-1]

    def where(self, path: Path_ = ()) -> str:
        """``file:line:column`` for ``path`` (or just the file name)."""
        owner, path = self._owner(path)
        mark = owner.mark(path)
        if mark is None:
            return owner.filename
        return f"{owner.filename}:{mark.line}:{mark.column}"

    def diagnostic(self, path: Path_, message: str | CnncalcError, code: str = "spec") -> Diagnostic:
        """A diagnostic located at ``path``: from a message, or from an error raised by what
        read the value there (its hint and code kept)."""
        owner, path = self._owner(path)
        mark = owner.mark(path)
        fields = {
            "file": owner.filename,
            "line": mark.line if mark else None,
            "column": mark.column if mark else None,
            "where": format_path(path),
        }
        if isinstance(message, CnncalcError):
            return message.diagnostic.located(**fields)
        return Diagnostic(message, code=code, **fields)

    def error(
        self, path: Path_, message: str | CnncalcError, cls: type[CnncalcError] = SpecError
    ) -> SpecError:
        """A ready-to-raise error located at ``path`` (see :meth:`diagnostic`)."""
        return cls(self.diagnostic(path, message, cls.code_prefix))


def format_path(path: Path_) -> str:
    """``("layers", 3, "conv2d", "kernel")`` -> ``layers[3].conv2d.kernel``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def exists(path: str | Path, kind: str = "any") -> bool:
    """Whether ``path`` names a file (``kind="file"``), a folder (``"dir"``) or either: False for
    a name the system refuses to look up (too long, a folder that cannot be searched), where
    ``Path.exists`` raises."""
    try:
        p = Path(path)
        return p.is_file() if kind == "file" else p.is_dir() if kind == "dir" else p.exists()
    except (OSError, ValueError):  # ENAMETOOLONG, EACCES; a NUL character
        return False


def display_path(path: str | Path) -> str:
    """A path as messages show it: ``<stdin>`` for ``-``, control characters escaped, and a
    path of thousands of characters shortened."""
    text = str(path)
    if text == "-":
        return STDIN
    text = shorten(text, limit=10 * len(text) + 16)  # control characters escaped, nothing cut
    if len(text) <= MAX_SHOWN_PATH:
        return text
    half = MAX_SHOWN_PATH // 2
    return f"{text[:half]}...({len(text):,} characters)...{text[-half:]}"


def read_limited(path: str | Path, limit: int = MAX_SPEC_BYTES) -> bytes | None:
    """The bytes of a file, or None when it holds more than ``limit``: a regular file is then
    not read at all, anything else (``/dev/zero``, an endless pipe) only to just past the limit.
    It is opened without waiting, so that a named pipe nobody writes to reads as empty instead
    of blocking for ever.

    Raises:
        OSError: as opening and reading do.
    """
    import fcntl
    import os
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    return None if len(data) > limit else data


def read_text(path: str | Path) -> str:
    """The text of a spec file (``-``: standard input), or a :class:`SpecError` saying why it
    cannot be read.

    At most ``MAX_SPEC_BYTES + 1`` bytes are read, whatever size the file reports, so that
    ``/dev/zero``, ``/dev/urandom`` or an endless pipe are refused quickly.
    """
    p = display_path(path)
    try:
        if str(path) == "-":
            stream = sys.stdin.buffer if sys.stdin is not None else None
            if stream is None:
                raise SpecError("standard input is closed", code="spec.file", file=STDIN)
            data = stream.read(MAX_SPEC_BYTES + 1)
            data = None if len(data) > MAX_SPEC_BYTES else data
        else:
            data = read_limited(path)
    except FileNotFoundError:
        raise SpecError("no such file", code="spec.file", file=p) from None
    except IsADirectoryError:
        raise SpecError("is a directory, expected a spec file (.yaml)", code="spec.file", file=p) from None
    except OSError as exc:
        raise SpecError(f"cannot be read ({exc.strerror or exc})", code="spec.file", file=p) from None
    if data is None:
        raise SpecError(
            f"larger than the limit of {MAX_SPEC_BYTES:,} bytes for a spec (a spec is a page of text)",
            code="spec.file",
            file=p,
        )
    if b"\x00" in data:
        raise SpecError("is a binary file, expected a YAML spec", code="spec.file", file=p)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"is not UTF-8 text (byte {exc.start} cannot be decoded), expected a YAML spec",
            code="spec.file",
            file=p,
        ) from None


def load_yaml(text: str, filename: str) -> tuple[Any, Source]:
    """Parse YAML text into plain data and the positions of its values.

    Only plain YAML is accepted: mappings with string keys, sequences and scalars. Tags that
    construct Python objects, anchors that would repeat a subtree, and duplicate keys are errors.
    """
    import yaml

    source = Source(filename)
    try:
        loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        loader = loader_cls(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        where = {"line": mark.line + 1, "column": mark.column + 1} if mark else {}
        raise SpecError(f"invalid YAML: {problem}", code="spec.yaml", file=filename, **where) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", code="spec.yaml", file=filename) from None
    except RecursionError:
        raise SpecError(
            f"the document is nested more than {MAX_DEPTH} levels deep", code="spec.yaml", file=filename
        ) from None
    if node is None:
        raise SpecError("the file is empty; a spec needs at least 'input' and 'layers'", file=filename)
    builder = _Builder(source, yaml.SafeLoader(""))
    return builder.build(node, ()), source


_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
}


_NODE_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}

# Control characters (tab and newline are text), bidirectional overrides, line separators.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_DECIMAL = re.compile(r"([-+]?)([0-9][0-9_]*)?(?:\.([0-9_]*))?(?:[eE]([-+]?[0-9]+))?")


def read_number(text: str) -> int | float | str:
    """A number as its text says, not as YAML 1.1 reads it.

    Decimal integers are ints. A decimal with a fraction is a float when the float's shortest
    decimal form (which expressions read) is the written value, else the text itself, which
    expressions then read exactly (so that ``8.0000000000000000001`` is not 8). Spellings that
    YAML 1.1 reinterprets are refused with the way to write them: a leading zero (octal),
    ``0b``/``0x``/``0o`` prefixes, ``1:20`` (base 60), and infinities or NaN.

    Raises:
        ValueError: with a message saying how to write the number.
    """
    if text.isdigit() and (len(text) == 1 or text[0] != "0") and len(text) <= MAX_NUMBER_CHARS:
        return int(text)  # the common case, quickly
    shown = shorten(text)
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(
            f"the number {shown} is longer than {MAX_NUMBER_CHARS} characters, the limit for a "
            f"number in a spec (values are at most 10**100)"
        )
    body = text.lstrip("+-")
    if ":" in text:
        raise ValueError(
            f"{shown} is read by YAML 1.1 as a base-60 number; write the number in decimal, "
            f"or quote it ('{shown}') if it is text"
        )
    if body[:2].lower() in ("0b", "0x", "0o"):
        base = {"0b": "binary", "0x": "hexadecimal", "0o": "octal"}[body[:2].lower()]
        try:
            value = f": {int(text.replace('_', ''), 0)}"
        except ValueError:
            value = ""
        raise ValueError(f"{shown} is a {base} literal; write the number in decimal{value}")
    if body.lower() in (".inf", ".nan"):
        raise ValueError(f"expected a finite number, found {shown}")
    m = _DECIMAL.fullmatch(text)
    if m is None or "__" in text or text.endswith("_"):
        raise ValueError(f"cannot read {shown} as a number; write it in decimal, such as 64 or 0.5")
    sign, whole, frac, exp = m.groups()
    whole = (whole or "").replace("_", "")
    if len(whole) > 1 and whole[0] == "0" and frac is None:
        decimal = sign + (whole.lstrip("0") or "0")
        octal = f" (or {sign}{int(whole, 8)} if octal was meant)" if set(whole) <= set("01234567") else ""
        raise ValueError(
            f"{shown} has a leading zero, which YAML 1.1 may read as octal; write {decimal}{octal}"
        )
    if frac is None and exp is None:
        return int(sign + whole)
    if exp is not None and abs(int(exp)) > 2 * MAX_NUMBER_CHARS:
        raise ValueError(f"the number {shown} is out of range (values in specs are at most 10**100)")
    exact = Fraction(f"{sign}{whole or '0'}.{(frac or '').replace('_', '') or '0'}e{exp or 0}")
    as_float = float(exact)
    if math.isfinite(as_float) and Fraction(repr(as_float)) == exact:
        return as_float
    return f"{sign}{whole or '0'}.{(frac or '').replace('_', '') or '0'}" + (f"e{exp}" if exp else "")


class _Builder:
    """Turns a composed YAML node tree into plain data, recording marks."""

    def __init__(self, source: Source, constructor: Any):
        self.source = source
        self.constructor = constructor
        self.seen: set[int] = set()

    def build(self, node: Any, path: Path_) -> Any:
        import yaml

        source, seen = self.source, self.seen
        source.marks[path] = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        if id(node) in seen:
            raise source.error(path, "YAML aliases (*name) are not supported in specs; use a block")
        seen.add(id(node))
        if len(path) > MAX_DEPTH:
            raise source.error(path, f"the document is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _NODE_TAGS:
            raise source.error(path, f"YAML tag {node.tag!r} is not allowed in specs")
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise source.error(path, "YAML merge keys (<<) are not supported in specs")
                if not isinstance(key_node, yaml.ScalarNode):
                    raise source.error(path, "mapping keys must be plain names")
                key = key_node.value
                kpath = (*path, key)
                if id(value_node) in seen:
                    source.marks[kpath] = Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    raise source.error(kpath, "YAML aliases (*name) are not supported in specs; use a block")
                if key in out:
                    source.marks[kpath] = Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    raise source.error(kpath, f"duplicate key '{key}'")
                out[key] = self.build(value_node, kpath)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: Any, path: Path_) -> Any:
        import yaml

        if node.tag not in _SCALAR_TAGS:
            raise self.source.error(path, f"YAML tag {node.tag!r} is not allowed in specs")
        bad = _CONTROL_CHARS.search(node.value)
        if bad:
            raise self.source.error(
                path,
                f"the text {shorten(node.value)!s} holds the control character "
                f"U+{ord(bad.group()):04X}; specs hold plain text (no terminal escapes)",
            )
        plain = not node.style  # None from the Python loader, "" from the C one
        if plain and node.tag in _NUMBER_TAGS:
            try:
                return read_number(node.value)
            except ValueError as exc:
                raise self.source.error(path, str(exc)) from None
        if plain and node.tag == "tag:yaml.org,2002:bool":
            word = node.value.lower()
            if word not in ("true", "false"):
                meaning = "true" if word in ("yes", "on", "y") else "false"
                raise self.source.error(
                    path,
                    f"{shorten(node.value)} is read by YAML 1.1 as {meaning}; write {meaning}, "
                    f"or quote it ('{shorten(node.value)}') for text",
                )
        construct = yaml.SafeLoader.yaml_constructors[node.tag]
        try:
            return construct(self.constructor, node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            raise self.source.error(path, f"cannot read {node.value!r}: {exc}") from None
