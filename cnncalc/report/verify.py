"""Reports of ``cnncalc verify``: predicted against executed, layer by layer."""

from __future__ import annotations

from typing import Any

from .. import dims
from .text import json_value, shape_text


def verification_dict(v) -> dict[str, Any]:
    """JSON of ``cnncalc verify``."""
    return {
        "name": v.name,
        "ok": v.ok,
        "symbols": {k: json_value(x) for k, x in v.symbols.items()},
        "seed": v.seed,
        "compile_seconds": round(v.compile_seconds, 4),
        "run_seconds": round(v.run_seconds, 4),
        "kernel_seconds": round(v.kernel_seconds, 4),
        "memory_bytes": v.memory_bytes,
        "layers": [
            {
                "name": c.name,
                "kind": c.kind,
                "ok": c.ok,
                "predicted_shape": list(c.predicted_shape),
                "observed_shape": None if c.observed_shape is None else list(c.observed_shape),
                "predicted_macs": c.predicted_macs,
                "counted_macs": c.counted_macs,
                "predicted_params": c.predicted_params,
                "allocated_params": c.allocated_params,
                "seconds": round(c.seconds, 6),
                **({"error": c.error} if c.error else {}),
            }
            for c in v.layers
        ],
    }


def verification_render(v, width: int = 120):
    """Rich renderables for ``cnncalc verify``: one row per layer, fitted to ``width``, and a
    verdict that names every disagreement."""
    from rich.console import Group
    from rich.text import Text

    from . import layout
    from .layout import Column

    def pair(predicted, observed) -> str:
        if observed == predicted:
            return f"{predicted:,}"
        return f"{predicted:,} / " + ("-" if observed is None else f"{observed:,}")

    shapes, macs, params, status = [], [], [], []
    for c in v.layers:
        shape = shape_text(c.predicted_shape)
        if c.observed_shape != c.predicted_shape:
            shape += " vs " + ("-" if c.observed_shape is None else shape_text(c.observed_shape))
        shapes.append(shape)
        macs.append(pair(c.predicted_macs, c.counted_macs))
        params.append(pair(c.predicted_params, c.allocated_params))
        status.append("ok" if c.ok else "MISMATCH")
    columns = [
        Column("#", [str(i) for i in range(1, len(v.layers) + 1)], priority=6, style="dim"),
        Column("layer", [c.name for c in v.layers], kind="name", justify="left"),
        Column("kind", [c.kind for c in v.layers], priority=4, justify="left", style="cyan"),
        Column("output shape", shapes, priority=3, justify="left"),
        Column("MACs", macs, priority=1),
        Column("params", params, priority=2),
        Column("", status, justify="left"),
    ]
    fitted = layout.fit(columns, width, "raw")
    caption = (
        "Symbols: "
        + (", ".join(f"{k} = {dims.fmt(x)}" for k, x in v.symbols.items()) or "none")
        + f"; seed {v.seed}. Where they differ: predicted / counted by the kernel (MACs), "
        "predicted / allocated (params)"
    )
    styles = [None if c.ok else "bold red" for c in v.layers]
    table = layout.FittedTable(fitted, styles, title=f"{v.name}: predicted vs executed", caption=caption)
    parts = [table]
    if fitted.dropped:
        parts.append(
            Text(
                f"Not shown at {width} columns: {', '.join(fitted.dropped)} (see them with --format json)",
                style="dim",
            )
        )
    if v.ok:
        parts.append(
            Text(
                f"All {len(v.layers)} layers agree: every output shape, MAC count and "
                f"parameter count predicted is what the kernels computed, counted and "
                f"accepted.",
                style="green",
            )
        )
    else:
        lines = [f"{len(v.failures)} of {len(v.layers)} layers disagree:"]
        for c in v.failures:
            lines.append(f"  {c.name} ({c.kind}):")
            for reason in (c.error or _mismatch(c)).split("; "):
                lines.append(f"    {reason}")
        parts.append(Text("\n".join(lines), style="bold red"))
    parts.append(
        Text(
            f"compile {v.compile_seconds:.2f} s, run {v.run_seconds:.2f} s "
            f"({v.kernel_seconds:.2f} s in kernels), "
            f"memory about {v.memory_bytes / 2**20:,.1f} MiB",
            style="dim",
        )
    )
    return Group(*parts)


def _mismatch(c) -> str:
    parts = []
    if c.observed_shape != c.predicted_shape:
        parts.append(
            f"shape predicted {shape_text(c.predicted_shape)}, kernel gives "
            f"{'-' if c.observed_shape is None else shape_text(c.observed_shape)}"
        )
    if c.counted_macs != c.predicted_macs:
        parts.append(f"MACs predicted {c.predicted_macs:,}, kernel counted {c.counted_macs}")
    if c.allocated_params != c.predicted_params:
        parts.append(f"params predicted {c.predicted_params:,}, allocated {c.allocated_params}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Verification by another runtime (``cnncalc verify --runtime onnxruntime``)


def runtime_dict(v) -> dict[str, Any]:
    """The JSON form: ``ok``, the runtime, and per layer the two shapes."""
    return {
        "name": v.name,
        "runtime": v.runtime,
        "symbols": {k: (None if s is None else json_value(s)) for k, s in v.symbols.items()},
        "dynamic": list(v.dynamic),
        "ok": v.ok,
        "layers": [
            {
                "name": c.name,
                "kind": c.kind,
                "ok": c.ok,
                "predicted_shape": list(c.predicted_shape),
                "observed_shape": None if c.observed_shape is None else list(c.observed_shape),
            }
            for c in v.layers
        ],
    }


def runtime_render(v, width: int = 120):
    """The layers that disagree (the last ten when none does), fitted to ``width``, and a
    verdict."""
    from rich.console import Group
    from rich.text import Text

    from . import layout
    from .layout import Column

    rows = [c for c in v.layers if not c.ok] or list(v.layers[-10:])
    columns = [
        Column("layer", [c.name for c in rows], kind="name", justify="left"),
        Column("kind", [c.kind for c in rows], priority=3, justify="left", style="cyan"),
        Column("predicted shape", [shape_text(c.predicted_shape) for c in rows], justify="left"),
        Column(
            f"{v.runtime} shape",
            ["-" if c.observed_shape is None else shape_text(c.observed_shape) for c in rows],
            justify="left",
        ),
        Column("", ["ok" if c.ok else "MISMATCH" for c in rows], justify="left"),
    ]
    fitted = layout.fit(columns, width, "raw")
    title = f"last {len(rows)} layers" if v.ok else None
    table = layout.FittedTable(fitted, [None if c.ok else "bold red" for c in rows], title=title)
    failures = sum(not c.ok for c in v.layers)
    verdict = (
        f"{len(v.layers)} layers: every output shape predicted equals {v.runtime}'s ({v.seconds:.2f} s)"
        if v.ok
        else f"{failures} of {len(v.layers)} layers: the predicted shape is not {v.runtime}'s"
    )
    return Group(table, Text(verdict, style="bold green" if v.ok else "bold red"))
