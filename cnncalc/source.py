"""Reading a spec file: YAML into plain data, remembering where every value was written.

``load_yaml`` returns the document as plain dicts, lists and scalars together with a
:class:`Source` that maps each path inside the document (a tuple of keys and indices) to the
line and column it came from, so that every later error can point at the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SpecError

Path_ = tuple[str | int, ...]

#: Spec files larger than this are refused before parsing (a spec is a page of text).
MAX_SPEC_BYTES = 2_000_000
#: Deeper nesting than this is refused (real specs nest a few levels).
MAX_DEPTH = 100


@dataclass(frozen=True)
class Mark:
    """A position in a spec file, 1-based like editors show it."""

    line: int
    column: int


@dataclass
class Source:
    """Where each value of a loaded document was written."""

    filename: str
    marks: dict[Path_, Mark] = field(default_factory=dict)

    def mark(self, path: Path_) -> Mark | None:
        """The position of ``path``, or of its nearest enclosing value."""
        path = tuple(path)
        while True:
            if path in self.marks:
                return self.marks[path]
            if not path:
                return None
            path = path[:-1]

    def where(self, path: Path_ = ()) -> str:
        """``file:line:column`` for ``path`` (or just the file name)."""
        mark = self.mark(path)
        if mark is None:
            return self.filename
        return f"{self.filename}:{mark.line}:{mark.column}"

    def error(self, path: Path_, message: str, cls: type[SpecError] = SpecError) -> SpecError:
        """A ready-to-raise error located at ``path``."""
        label = format_path(path)
        prefix = f"{self.where(path)}: " + (f"{label}: " if label else "")
        return cls(prefix + message)


def format_path(path: Path_) -> str:
    """``("layers", 3, "conv2d", "kernel")`` -> ``layers[3].conv2d.kernel``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_text(path: str | Path) -> str:
    """The text of a spec file, or a :class:`SpecError` saying why it cannot be read."""
    p = Path(path)
    if not p.exists():
        raise SpecError(f"{p}: no such file")
    if p.is_dir():
        raise SpecError(f"{p}: is a directory, expected a spec file (.yaml)")
    try:
        size = p.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError(
                f"{p}: the file is {size:,} bytes; a spec is expected to be under {MAX_SPEC_BYTES:,} bytes"
            )
        data = p.read_bytes()
    except OSError as exc:
        raise SpecError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in data:
        raise SpecError(f"{p}: is a binary file, expected a YAML spec")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{p}: is not UTF-8 text (byte {exc.start} cannot be decoded), expected a YAML spec"
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
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark else filename
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{filename}: invalid YAML: {exc}") from None
    if node is None:
        raise SpecError(f"{filename}: the file is empty; a spec needs at least 'input' and 'layers'")
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
        construct = yaml.SafeLoader.yaml_constructors[node.tag]
        try:
            return construct(self.constructor, node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            raise self.source.error(path, f"cannot read {node.value!r}: {exc}") from None
