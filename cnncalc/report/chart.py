"""Pictures: per-layer bars in the terminal (``--chart``) and in a file (``--plot``).

The terminal chart is text: one line per layer, its name, a bar of eighth-blocks scaled to the
largest value, and the value in units. ``--plot`` draws with matplotlib (the optional ``plot``
extra): per-layer bars of MACs, params and activation bytes for an analysis; the totals as
curves over the range for a sweep.
"""

from __future__ import annotations

import math
from typing import Any

from ..analysis import memory as mem
from ..core.engine import Analysis
from ..errors import UsageError
from .text import human, human_bytes, shorten

#: What a chart can show, and how to read it from a layer at a data type.
METRICS = {
    "macs": ("MACs", lambda r, dtype: r.macs, human),
    "params": ("params", lambda r, dtype: r.params, human),
    "memory": ("activation bytes", lambda r, dtype: mem.output_bytes(r, dtype), human_bytes),
}

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, top: float, width: int) -> str:
    """A bar of ``width * value / top`` cells, to an eighth of a cell."""
    if top <= 0 or value <= 0:
        return ""
    eighths = round(8 * width * value / top)
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def _values(a: Analysis, metric: str, dtype: str) -> list[int | None]:
    """The metric of every layer: ints, None where a layer's cost is unknown (opaque)."""
    _, get, _ = METRICS[metric]
    values = [get(r, dtype) for r in a.layers]
    if not all(v is None or isinstance(v, int) for v in values):
        raise UsageError(f"a chart needs numbers: give {', '.join(a.open_symbols)} a value with --set")
    return values


def chart(a: Analysis, metric: str = "macs", width: int = 100, dtype: str = "float32", skip_zero=True):
    """Per-layer bars of ``metric`` (macs, params or memory), as a rich renderable."""
    from rich.text import Text

    title, _, fmt = METRICS[metric]
    values = _values(a, metric, dtype)
    rows = [(r.name, v) for r, v in zip(a.layers, values, strict=True) if v is None or v or not skip_zero]
    text = Text()
    text.append(f"{title} per layer", style="bold")
    if skip_zero and len(rows) < len(values):
        n = len(values) - len(rows)
        text.append(f" ({n} layer{'s' if n != 1 else ''} with 0 {title} not shown)", style="dim")
    text.append("\n")
    if not rows:
        return text
    name_width = min(28, max(len(n) for n, _ in rows))
    labels = ["? (unknown)" if v is None else fmt(v) or str(v) for _, v in rows]
    label_width = max(len(s) for s in labels)
    room = max(10, width - name_width - label_width - 3)
    top = max((v for _, v in rows if v is not None), default=0)
    for (name, v), label in zip(rows, labels, strict=True):
        text.append(shorten(name, name_width).ljust(name_width) + " ")
        text.append(("" if v is None else bar(v, top, room)).ljust(room), style="cyan")
        text.append(" " + label.rjust(label_width) + "\n")
    return text


def check_plot(path: str) -> str:
    """``path`` if ``--plot`` can write it: a ``.png`` or ``.svg`` name, and matplotlib (the
    ``plot`` extra) installed. Checked when the command line is read, before any work, by looking
    for matplotlib without importing it.

    Raises:
        UsageError: naming what is wrong, and the extra to install when matplotlib is missing.
    """
    import importlib.util

    from ..errors import shorten

    if not path.strip():
        raise UsageError("--plot needs a file name ending in .png or .svg, found an empty one")
    kind = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if kind not in ("png", "svg"):
        raise UsageError(f"--plot {shorten(path)}: write a .png or an .svg file")
    try:
        found = importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):  # a broken or blocked installation
        found = False
    if not found:
        raise UsageError(MISSING)
    return path


MISSING = (
    "--plot needs matplotlib, an optional extra: pip install 'cnncalc[plot]' (or pip install matplotlib)"
)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(MISSING) from None
    return plt


def _check_path(path: str) -> str:
    kind = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if kind not in ("png", "svg"):
        raise UsageError(f"--plot {path}: write a .png or an .svg file")
    return kind


def plot_layers(a: Analysis, path: str, dtype: str = "float32") -> None:
    """Per-layer bars of MACs, params and activation bytes, written to ``path`` (png or svg)."""
    kind = _check_path(path)
    series = [(METRICS[m][0], _values(a, m, dtype)) for m in ("macs", "params", "memory")]
    plt = _pyplot()
    n = len(a.layers)
    fig, axes = plt.subplots(3, 1, figsize=(max(8, min(40, n * 0.12)), 9), sharex=True)
    for ax, (title, values) in zip(axes, series, strict=True):
        ax.bar(range(n), [0 if v is None else v for v in values], color="tab:blue")
        for i, v in enumerate(values):
            if v is None:  # an unknown cost: marked, not drawn as 0
                ax.annotate("?", (i, 0), ha="center", va="bottom", color="tab:red")
        ax.set_ylabel(title)
    axes[-1].set_xticks(range(n))
    axes[-1].set_xticklabels([r.name for r in a.layers], rotation=90, fontsize=5)
    axes[0].set_title(f"{a.name}: per layer")
    fig.tight_layout()
    _save(fig, plt, path, kind)


def plot_sweep(s: Any, path: str) -> None:
    """The totals of a sweep as curves over its first symbol (one curve per value of a second)."""
    kind = _check_path(path)
    plt = _pyplot()
    x_name = s.symbols[0]
    groups: dict[Any, list[int]] = {}
    for i in range(len(s)):
        key = tuple(s.points[n][i] for n in s.symbols[1:])
        groups.setdefault(key, []).append(i)
    metrics = [("macs", "MACs"), ("params", "params"), ("activations", "activations")]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 9), sharex=True)
    for ax, (m, title) in zip(axes, metrics, strict=True):
        for key, idx in groups.items():
            label = ", ".join(f"{n}={v}" for n, v in zip(s.symbols[1:], key, strict=True)) or None
            # a point without totals (no network there) is a gap in its curve, not a value
            ys = [math.nan if s.totals[m][i] is None else float(s.totals[m][i]) for i in idx]
            gaps = any(math.isnan(y) for y in ys)  # markers, so that a point between gaps shows
            ax.plot([float(s.points[x_name][i]) for i in idx], ys, label=label, marker="." if gaps else None)
        ax.set_ylabel(title)
        if len(groups) > 1 and len(groups) <= 10:
            ax.legend(fontsize=7)
    axes[-1].set_xlabel(x_name)
    axes[0].set_title(f"{s.name}: totals over {x_name}")
    fig.tight_layout()
    _save(fig, plt, path, kind)


def _save(fig, plt, path: str, kind: str) -> None:
    try:
        fig.savefig(path, format=kind)
    except OSError as exc:
        raise UsageError(f"--plot {path}: cannot write it ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)
