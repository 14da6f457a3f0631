"""What the terminal UI shows, computed without textual: plain functions over the engine's records.

:func:`compute` turns editor text and symbol values into an :class:`Outcome` (an analysis, or the
error with its line and column); :func:`rows` arranges an analysis as table rows at a depth;
:func:`save_atomic` writes a file without ever leaving it half written.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import dims
from ..errors import CnncalcError, Diagnostic, UsageError, escape_controls

if TYPE_CHECKING:  # the engine loads in the first analysis, off the UI thread
    from ..core.engine import Analysis, LayerResult
    from ..core.memo import Memo

TEMPLATE = """\
# A cnncalc spec. Edit it: the table beside it updates as you type.
# Keys: ctrl+s save, ctrl+o open, f3 the zoo, f5 verify, f8 calculator, f1 help.
name: sketch
description: a small convolutional network to start from
symbols:                      # sizes left as letters; give them values in the inputs below
  N: {default: 1, doc: batch size}
  H: {default: 32, min: 8, doc: input height}
  W: {default: 32, min: 8, doc: input width}
input: [N, 3, H, W]           # batch, channels, height, width
layers:                       # one line per layer, in order
  - conv2d: {out: 16, kernel: 3, padding: 1}   # 3x3, padding 1 keeps H and W
  - relu
  - max_pool2d: {kernel: 2}                    # halves H and W
  - conv2d: {out: 32, kernel: 3, padding: 1}
  - relu
  - global_avg_pool2d                          # one value per channel
  - flatten
  - linear: {out: 10}                          # 10 classes
"""


@dataclass(frozen=True)
class SymbolInfo:
    """A declared symbol, as its input shows it."""

    name: str
    default: Any
    lower: Any
    upper: Any
    doc: str
    derived: str = ""  # the expression of a derived default (its value in ``default`` once known)

    @property
    def bounds(self) -> str:
        hi = dims.fmt(self.upper) if self.upper is not None else "∞"
        return f"[{dims.fmt(self.lower)}, {hi}]"


@dataclass(frozen=True)
class Outcome:
    """The result of one recomputation: an analysis, or the error that stopped it."""

    analysis: Analysis | None = None
    error: str | None = None
    line: int | None = None  # 1-based, as editors count
    column: int | None = None
    symbol: str | None = None  # the symbol whose value is wrong
    symbols: tuple[SymbolInfo, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)  # layer name -> line written on
    spec: Any = None


def compute(
    text: str, filename: str, values: dict[str, str], symbolic: bool = False, memo: Memo | None = None
) -> Outcome:
    """Load ``text`` and analyse it with the symbol ``values`` (text as typed, e.g. ``"3/4"``),
    reusing from ``memo`` the layers an edit left as they were (:mod:`cnncalc.core.memo`).

    A mistake of the user's comes back as an :class:`Outcome` with ``error`` set; only bugs raise.
    """
    from ..core.engine import analyze
    from ..lang.spec import parse_spec

    try:
        origin = Path(filename) if filename and Path(filename).is_file() else None
    except OSError:
        origin = None
    try:
        spec = parse_spec(text, filename, origin=origin)  # a spec it uses is found beside it
    except CnncalcError as exc:
        return _failed(exc.diagnostic)
    symbols = tuple(
        SymbolInfo(s.name, s.default, s.lower, s.max, s.doc, s.derived.text if s.derived else "")
        for s in spec.symbols.values()
    )
    known = {k: v for k, v in values.items() if k in spec.symbols}
    try:
        analysis = analyze(spec, known, symbolic=symbolic, memo=memo)
    except UsageError as exc:
        symbol = exc.binding.partition("=")[0]
        return Outcome(
            error=escape_controls(str(exc)),
            symbol=symbol if symbol in spec.symbols else None,
            symbols=symbols,
        )
    except CnncalcError as exc:
        failed = _failed(exc.diagnostic)
        return Outcome(error=failed.error, line=failed.line, column=failed.column, symbols=symbols, spec=spec)
    # a derived symbol shows the value it takes here
    symbols = tuple(
        replace(s, default=analysis.symbols.get(s.name)) if s.derived and s.name not in known else s
        for s in symbols
    )
    return Outcome(analysis=analysis, symbols=symbols, lines=layer_lines(analysis), spec=spec)


def _failed(d: Diagnostic) -> Outcome:
    """An error shown at its line: the position apart, the message with the rest, its control
    characters escaped (a key path may hold a terminal escape the spec was refused for)."""
    if d.line is not None:
        from dataclasses import replace

        return Outcome(error=escape_controls(str(replace(d, file=None))), line=d.line, column=d.column)
    return Outcome(error=escape_controls(str(d)))


def layer_lines(analysis: Analysis) -> dict[str, int]:
    """The line each layer is written on (inside a block: the block's line for it)."""
    return {r.name: r.position.line for r in analysis.layers if r.position is not None}


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass(frozen=True)
class Row:
    """One row of the layer table: a layer, or a block collapsed into its subtotal."""

    key: str  # the layer's name, or the block's path
    kind: str
    output_shape: tuple
    params: Any
    macs: Any
    flops: Any
    first: int  # index of the first layer it covers
    last: int  # index of the last layer it covers
    group: bool = False
    # layers whose cost is unknown (opaque): the row's own counts are then None; a group's
    # subtotals leave them out
    unknown_cost: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def rows(analysis: Analysis, depth: int | None = None) -> list[Row]:
    """Table rows: every layer, or at ``depth`` the blocks nested deeper folded into subtotals
    (:func:`cnncalc.analysis.groups.rows_at_depth`: at depth 1 every ``layer1.*`` layer makes
    one ``layer1`` row, at depth 2 ``layer1.0`` is a row)."""
    if not depth:
        return [_layer_row(r, i) for i, r in enumerate(analysis.layers)]
    from ..analysis.groups import rows_at_depth
    from ..report.text import partial

    out = []
    for row in rows_at_depth(analysis, depth):
        if row.group is None:
            out.append(_layer_row(row.layer, row.index))
            continue
        g = row.group
        out.append(
            Row(
                g.path,
                f"{g.layers} layers",
                g.output_shape,
                partial(g.params, bool(g.unknown_cost)),
                partial(g.macs, bool(g.unknown_cost)),
                partial(g.flops, bool(g.unknown_cost)),
                g.first,
                g.last,
                True,
                g.unknown_cost,
            )
        )
    return out


def max_depth(analysis: Analysis) -> int:
    """The deepest nesting of layer names (1 for a flat network)."""
    from ..analysis.groups import depth_of

    return max((depth_of(r.name) for r in analysis.layers), default=1)


def _layer_row(r: LayerResult, i: int) -> Row:
    unknown = () if r.cost_known else (r.name,)
    return Row(r.name, r.kind, r.output_shape, r.params, r.macs, r.flops, i, i, False, unknown)


# ---------------------------------------------------------------------------------------------
# Files


def save_atomic(path: Path, text: str) -> Path | None:
    """Write ``text`` to ``path`` so that it is either the old file or the new one, never half.

    The text goes to a temporary file in the same directory, is flushed to disk, and replaces
    ``path`` in one rename; the previous version is kept as ``path~`` (copied first, so ``path``
    exists at every moment). Returns the backup's path, None when there was no previous version.

    Raises:
        UsageError: when the directory cannot be written.
    """
    import shutil

    path = Path(path)
    directory = path.parent
    backup = path.with_name(path.name + "~")
    previous = path.exists()
    temporaries: list[str] = []

    def temporary() -> tuple[int, str]:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        temporaries.append(name)
        return fd, name

    try:
        try:
            if previous:
                fd, old = temporary()
                os.close(fd)
                shutil.copy2(path, old)
                os.replace(old, backup)
            fd, new = temporary()
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            # mkstemp creates the file private: give it the previous file's mode, or the default
            os.chmod(new, path.stat().st_mode & 0o7777 if previous else 0o666 & ~_umask())
            os.replace(new, path)
        finally:
            for name in temporaries:
                Path(name).unlink(missing_ok=True)
        _fsync_dir(directory)
    except OSError as exc:
        raise UsageError(f"{path}: cannot be saved ({exc.strerror or exc})") from None
    return backup if previous else None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
