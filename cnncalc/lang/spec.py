"""The spec file format: loading and validating it into a :class:`Spec`.

A spec is YAML read top to bottom like a paper's table::

    name: LeNet-5
    symbols:
      N: 1                            # a symbol with its default value
      H: {default: 32, min: 5}        # ... with bounds
    input: [N, 1, H, H]
    layers:
      - conv2d: {out: 6, kernel: 5}
      - avg_pool2d: {kernel: 2}
      - relu                           # a layer without arguments
      ...

Loading checks everything that does not depend on symbol values: the YAML, the structure, every
layer's arguments (declared fields, :mod:`cnncalc.fields`: a misspelt argument is an error),
the names used in expressions, block definitions and references. Errors carry the file, line and
column. :func:`cnncalc.graph.build` then expands blocks and repeats for given symbol values.
"""

from __future__ import annotations

from pathlib import Path

from ..layers._fields import ArgumentError
from .loader import Loader
from .model import MAX_ENTRIES, Spec, _kind, _raise_validation, _SpecModel
from .source import display_path, load_yaml, read_text

# ---------------------------------------------------------------------------------------------
# Loading.


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file.

    Raises:
        SpecError: for anything wrong in the file, with file, line and column.
    """
    text = read_text(path)
    return parse_spec(text, display_path(path), origin=None if str(path) == "-" else Path(path))


def parse_spec(text: str, filename: str = "<spec>", *, origin: str | Path | None = None) -> Spec:
    """Validate spec text (see :func:`load_spec`). ``origin`` is the file the text is from:
    the specs it uses by path are found beside it (without it, only bundled ones)."""
    data, source = load_yaml(text, filename)
    if not isinstance(data, dict):
        raise source.error((), f"a spec is a mapping with 'input' and 'layers'; found {_kind(data)}")
    unknown = [k for k in data if k not in _SpecModel.model_fields]
    if unknown:
        import difflib

        key = unknown[0]
        close = difflib.get_close_matches(str(key), list(_SpecModel.model_fields), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise source.error(
            (key,), f"unknown top-level key {key!r}{hint}; expected " + ", ".join(_SpecModel.model_fields)
        )
    if _count_entries(data) > MAX_ENTRIES:
        raise source.error(
            ("layers",),
            f"the spec writes out more than {MAX_ENTRIES:,} layer entries (the limit of entries); "
            f"write repeated layers with repeat",
        )
    try:
        model = _SpecModel.read(data)
    except ArgumentError as exc:
        _raise_validation(exc, source, ())
    return Loader(model, source, origin=Path(origin) if origin is not None else None).spec()


def _count_entries(data: dict) -> int:
    """The layer entries written in ``data`` (layers, blocks, bodies and branches), counted
    before validating any of them."""
    lists = [data.get("layers")]
    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        lists += [b.get("layers") for b in blocks.values() if isinstance(b, dict)]
    count = 0
    while lists:
        items = lists.pop()
        if not isinstance(items, list):
            continue
        count += len(items)
        if count > MAX_ENTRIES:
            return count
        for item in items:
            if isinstance(item, dict) and len(item) == 1:
                args = next(iter(item.values()))
                if isinstance(args, dict):
                    lists += [args.get("body"), args.get("shortcut")]
                    branches = args.get("branches")
                    if isinstance(branches, list):
                        lists += branches
    return count
