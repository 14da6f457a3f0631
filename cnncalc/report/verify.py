"""Reports of ``cnncalc verify``: predicted against executed, layer by layer."""

from __future__ import annotations

from typing import Any

from ..core import dims
from .text import UNKNOWN_TEXT, json_value, shape_text


def verification_dict(v) -> dict[str, Any]:
    """JSON of ``cnncalc verify``. A layer not verified (opaque) has ``"ok": null`` and
    ``not_verified`` saying why; the top level then lists them in ``not_verified``."""
    skipped = [c.name for c in v.not_verified]
    return {
        "name": v.name,
        "ok": v.ok,
        **({"not_verified": skipped} if skipped else {}),
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
                "ok": None if c.not_verified else c.ok,
                "predicted_shape": list(c.predicted_shape),
                "observed_shape": None if c.observed_shape is None else list(c.observed_shape),
                "predicted_macs": c.predicted_macs,
                "counted_macs": c.counted_macs,
                "predicted_params": c.predicted_params,
                "allocated_params": c.allocated_params,
                "seconds": round(c.seconds, 6),
                **({"error": c.error} if c.error else {}),
                **({"not_verified": c.not_verified} if c.not_verified else {}),
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
            return _count(predicted)
        return f"{_count(predicted)} / " + ("-" if observed is None else _count(observed))

    shapes, macs, params, status = [], [], [], []
    for c in v.layers:
        if c.not_verified:
            shapes.append(shape_text(c.predicted_shape) + " (declared)")
            macs.append(UNKNOWN_TEXT)
            params.append(UNKNOWN_TEXT)
            status.append("not verified (opaque)")
            continue
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
    styles = [None if c.ok else "yellow" if c.not_verified else "bold red" for c in v.layers]
    table = layout.FittedTable(fitted, styles, title=f"{v.name}: predicted vs executed", caption=caption)
    parts = [table]
    if fitted.dropped:
        parts.append(
            Text(
                f"Not shown at {width} columns: {', '.join(fitted.dropped)} (see them with --format json)",
                style="dim",
            )
        )
    skipped = v.not_verified
    ran = len(v.layers) - len(skipped)
    if v.ok:
        every = f"All {ran} layers" if not skipped else f"All {ran} layers run"
        parts.append(
            Text(
                f"{every} agree: every output shape, MAC count and "
                f"parameter count predicted is what the kernels computed, counted and "
                f"accepted.",
                style="green",
            )
        )
    else:
        run = f"{ran} layers run" if skipped else f"{len(v.layers)} layers"
        lines = [f"{len(v.failures)} of {run} disagree:"]
        for c in v.failures:
            lines.append(f"  {c.name} ({c.kind}):")
            for reason in (c.error or _mismatch(c)).split("; "):
                lines.append(f"    {reason}")
        parts.append(Text("\n".join(lines), style="bold red"))
    if skipped:
        names = ", ".join(c.name for c in skipped[:8]) + (", ..." if len(skipped) > 8 else "")
        layers = "layer was" if len(skipped) == 1 else "layers were"
        parts.append(
            Text(
                f"{len(skipped)} {layers} not verified: {names} (opaque: no kernel exists for an "
                f"unknown operator; a seeded random tensor of the declared shape fed the layers "
                f"after it).",
                style="yellow",
            )
        )
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
    """What disagrees, one clause each; counts the kernel never reported (it refused the
    predicted shape before counting) are not listed."""
    parts = []
    if c.observed_shape != c.predicted_shape:
        parts.append(
            f"shape predicted {shape_text(c.predicted_shape)}, kernel gives "
            f"{'-' if c.observed_shape is None else shape_text(c.observed_shape)}"
        )
    if c.counted_macs is not None and c.counted_macs != c.predicted_macs:
        parts.append(f"MACs predicted {_count(c.predicted_macs)}, kernel counted {_count(c.counted_macs)}")
    if c.allocated_params is not None and c.allocated_params != c.predicted_params:
        parts.append(f"params predicted {_count(c.predicted_params)}, allocated {_count(c.allocated_params)}")
    return "; ".join(parts)


def _count(v) -> str:
    """A count as every report writes it: ``1,474,560``."""
    return f"{v:,}" if isinstance(v, int) else str(v)


# ---------------------------------------------------------------------------------------------
# Verification by another runtime (``cnncalc verify --runtime onnxruntime``)


def runtime_dict(v) -> dict[str, Any]:
    """The JSON form: ``ok``, the runtime, and per layer the two shapes."""
    skipped = [c.name for c in v.not_verified]
    return {
        "name": v.name,
        "runtime": v.runtime,
        "symbols": {k: (None if s is None else json_value(s)) for k, s in v.symbols.items()},
        "dynamic": list(v.dynamic),
        "ok": v.ok,
        **({"not_verified": skipped} if skipped else {}),
        "layers": [
            {
                "name": c.name,
                "kind": c.kind,
                "ok": None if c.not_verified else c.ok,
                "predicted_shape": list(c.predicted_shape),
                "observed_shape": None if c.observed_shape is None else list(c.observed_shape),
                **({"not_verified": c.not_verified} if c.not_verified else {}),
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

    skipped = v.not_verified
    bad = [c for c in v.layers if not c.ok and not c.not_verified]
    tail = len(v.layers) - 10
    rows = [c for i, c in enumerate(v.layers) if c.not_verified or (c in bad if bad else i >= tail)]

    def status(c) -> str:
        return "not verified (opaque)" if c.not_verified else "ok" if c.ok else "MISMATCH"

    columns = [
        Column("layer", [c.name for c in rows], kind="name", justify="left"),
        Column("kind", [c.kind for c in rows], priority=3, justify="left", style="cyan"),
        Column("predicted shape", [shape_text(c.predicted_shape) for c in rows], justify="left"),
        Column(
            f"{v.runtime} shape",
            ["-" if c.observed_shape is None else shape_text(c.observed_shape) for c in rows],
            justify="left",
        ),
        Column("", [status(c) for c in rows], justify="left"),
    ]
    fitted = layout.fit(columns, width, "raw")
    title = None
    if v.ok:
        title = f"last {min(10, len(v.layers))} layers" + (" and those not verified" if skipped else "")
    styles = [None if c.ok else "yellow" if c.not_verified else "bold red" for c in rows]
    table = layout.FittedTable(fitted, styles, title=title)
    ran = len(v.layers) - len(skipped)
    failures = sum(not c.ok for c in v.layers) - len(skipped)
    verdict = (
        f"{ran} layers: every output shape predicted equals {v.runtime}'s ({v.seconds:.2f} s)"
        if v.ok
        else f"{failures} of {ran} layers: the predicted shape is not {v.runtime}'s"
    )
    parts = [table, Text(verdict, style="bold green" if v.ok else "bold red")]
    if skipped:
        names = ", ".join(c.name for c in skipped[:8]) + (", ..." if len(skipped) > 8 else "")
        layers = "layer was" if len(skipped) == 1 else "layers were"
        parts.append(
            Text(
                f"{len(skipped)} {layers} not verified: {names} (opaque: the operator is unknown; a "
                f"seeded random tensor of the declared shape was fed to the layers after it).",
                style="yellow",
            )
        )
    return Group(*parts)
