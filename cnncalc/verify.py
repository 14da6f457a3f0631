"""Verification by execution: run a spec through the reference kernels and compare.

:func:`verify` takes a concrete :class:`~cnncalc.engine.Analysis`, draws a seeded random input
and random weights, and runs every layer through its numba kernel. For each layer it records the
predicted output shape against the shape the kernel's own arithmetic gives, the predicted MACs
against the MACs the kernel counted while running, and the predicted parameters against the
weights the kernel accepted. numba is imported here, and only here.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import dims
from .engine import Analysis, LayerResult, analyze
from .errors import CnncalcError, UsageError, VerificationError
from .layers import Param
from .spec import INPUT, Spec

#: Bytes per element: verification runs in float32.
ITEMSIZE = 4
#: Default memory budget: this fraction of physical memory.
DEFAULT_BUDGET_FRACTION = 0.5


@dataclass(frozen=True)
class LayerCheck:
    """Prediction against execution for one layer."""

    name: str
    kind: str
    predicted_shape: tuple[int, ...]
    observed_shape: tuple[int, ...] | None
    predicted_macs: int
    counted_macs: int | None
    predicted_params: int
    allocated_params: int | None
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.observed_shape == self.predicted_shape
            and self.counted_macs == self.predicted_macs
            and self.allocated_params == self.predicted_params
        )


@dataclass(frozen=True)
class Verification:
    """The outcome of running a whole spec."""

    name: str
    symbols: dict[str, Any]
    seed: int
    layers: tuple[LayerCheck, ...]
    compile_seconds: float
    run_seconds: float  # wall time of the run, drawing the random weights included
    memory_bytes: int

    @property
    def kernel_seconds(self) -> float:
        """Time spent inside the layers' kernels (the execution proper)."""
        return sum(c.seconds for c in self.layers)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.layers)

    @property
    def failures(self) -> tuple[LayerCheck, ...]:
        return tuple(c for c in self.layers if not c.ok)


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak bytes of a run, and the largest single tensor."""

    peak_bytes: int
    largest_name: str
    largest_shape: tuple[int, ...]
    largest_bytes: int


# ---------------------------------------------------------------------------------------------
# Memory


def physical_memory() -> int:
    """Bytes of physical memory (0 when it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def default_budget() -> int:
    phys = physical_memory()
    return int(phys * DEFAULT_BUDGET_FRACTION) if phys else 4 * 2**30


def estimate_memory(a: Analysis) -> MemoryEstimate:
    """Peak memory of :func:`verify`: weights, live activations and the largest scratch space.

    Activations are freed after their last use, as the run does.
    """
    last_use: dict[str, int] = {INPUT: -1}
    for i, r in enumerate(a.layers):
        for name in r.inputs:
            last_use[name] = i
    for r in a.layers:
        last_use.setdefault(r.name, len(a.layers))  # outputs never read: kept until the end
    last_use[a.layers[-1].name] = len(a.layers)

    weights = sum(dims.prod(p.shape) for r in a.layers if not r.shares for _, p in r.weights)
    live = {INPUT: dims.prod(a.input_shape)}
    peak = 0
    largest = (INPUT, tuple(a.input_shape), dims.prod(a.input_shape))
    for i, r in enumerate(a.layers):
        out = dims.prod(r.output_shape)
        scratch = r.layer.workspace(*r.input_shapes, out=r.output_shape)
        peak = max(peak, sum(live.values()) + out + scratch)
        if out > largest[2]:
            largest = (r.name, tuple(r.output_shape), out)
        live[r.name] = out
        for name in [n for n in live if last_use.get(n, -1) <= i]:
            del live[name]
    return MemoryEstimate(
        peak_bytes=(peak + weights) * ITEMSIZE,
        largest_name=largest[0],
        largest_shape=largest[1],
        largest_bytes=largest[2] * ITEMSIZE,
    )


def byte_text(n: int) -> str:
    """``1.5 GiB``; astronomically large sizes as a power of ten."""
    if n >= 2**70:
        return f"about 10^{len(str(n)) - 1} bytes"
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"


def parse_bytes(text: str) -> int:
    """``512MB``, ``2GiB``, ``1.5G`` or a plain number of bytes.

    Raises:
        UsageError: for anything else.
    """
    import re

    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]?)(i?[bB])?\s*", text)
    if not m:
        raise UsageError(f"--memory-budget {text!r}: expected a size such as 512MB or 4GiB")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def check_budget(spec: Spec, a: Analysis, values: dict[str, Any], budget: int) -> MemoryEstimate:
    """The memory estimate, or a :class:`VerificationError` naming the largest tensor and sizes
    that would fit."""
    est = estimate_memory(a)
    if est.peak_bytes <= budget:
        return est
    shape = "[" + ", ".join(str(d) for d in est.largest_shape) + "]"
    where = "the input" if est.largest_name == INPUT else f"the output of {est.largest_name!r}"
    msg = (
        f"verifying {spec.name} at these sizes needs about {byte_text(est.peak_bytes)}, over the "
        f"budget of {byte_text(budget)} (--memory-budget); the largest tensor is {where}, "
        f"{shape} = {byte_text(est.largest_bytes)}."
    )
    fit = _sizes_that_fit(spec, a, values, budget)
    if fit:
        sets = " ".join(f"{k}={v}" for k, v in fit.items())
        msg += f" Sizes that fit: --set {sets}"
    raise VerificationError(msg)


def _sizes_that_fit(spec: Spec, a: Analysis, values: dict[str, Any], budget: int) -> dict | None:
    """Shrink the input's symbols (batch to its minimum, then halving the others) until the
    estimate fits the budget; None if no such sizes are found."""
    names = [str(s) for e in spec.input for s in e.names if s in spec.symbols]
    if not names:
        return None
    current = {n: a.symbols[n] for n in names}
    batch = next(iter(spec.input[0].names), None) if spec.input[0].names else None
    for _ in range(200):
        candidate = dict(current)
        if batch in candidate and candidate[batch] != spec.symbols[batch].lower:
            candidate[batch] = spec.symbols[batch].lower
        else:
            shrunk = False
            for n in names:
                if n == batch:
                    continue
                lower = spec.symbols[n].lower
                new = max(lower, candidate[n] // 2) if isinstance(candidate[n], int) else candidate[n]
                shrunk |= new != candidate[n]
                candidate[n] = new
            if not shrunk:
                return None
        current = candidate
        try:
            trial = analyze(spec, {**values, **current})
        except CnncalcError:  # sizes this small break the network: no suggestion
            return None
        if estimate_memory(trial).peak_bytes <= budget:
            return current
    return None


# ---------------------------------------------------------------------------------------------
# Running


def verify(
    a: Analysis,
    *,
    seed: int = 0,
    progress: Callable[[str, int, int, str], None] | None = None,
) -> Verification:
    """Run every layer of a concrete analysis through its kernel and compare.

    Args:
        a: a concrete analysis (every symbol bound).
        seed: seed of the random input and weights.
        progress: called as ``progress(phase, done, total, layer)``, phase ``compile`` or ``run``.

    Raises:
        UsageError: if a symbol is left open.
    """
    if not a.concrete:
        open_ = ", ".join(a.open_symbols)
        raise UsageError(f"verification runs at concrete sizes: give {open_} a value with --set")
    import numpy as np

    from .kernels import warm_up

    report = progress or (lambda *args: None)
    t0 = time.perf_counter()
    report("compile", 0, 1, "")
    warm_up(lambda done, total, kernel: report("compile", done, total, kernel))
    compile_seconds = time.perf_counter() - t0

    rng = np.random.default_rng(seed)
    tensors: dict[str, Any] = {INPUT: _draw(rng, Param(a.input_shape, "input"), np)}
    last_use = {name: i for i, r in enumerate(a.layers) for name in r.inputs}
    owned: dict[str, dict[str, Any]] = {}
    checks = []
    t1 = time.perf_counter()
    for i, r in enumerate(a.layers):
        report("run", i, len(a.layers), r.name)
        checks.append(_run(r, tensors, owned, rng))
        for name in r.inputs:
            if last_use.get(name) == i and name != a.layers[-1].name:
                tensors.pop(name, None)
    report("run", len(a.layers), len(a.layers), "")
    return Verification(
        name=a.name,
        symbols=a.symbols,
        seed=seed,
        layers=tuple(checks),
        compile_seconds=compile_seconds,
        run_seconds=time.perf_counter() - t1,
        memory_bytes=estimate_memory(a).peak_bytes,
    )


def _draw(rng, param, np) -> Any:
    """Random values for a tensor: uniform with unit variance (cheap to draw for the 100M
    weights of a VGG), scaled by 1/sqrt(fan-in) for weights; variances positive."""
    shape = tuple(int(d) for d in param.shape)
    if param.init == "positive":
        return rng.uniform(0.5, 1.5, size=shape).astype(np.float32)
    scale = math.sqrt(12.0)
    if param.role == "weight":
        scale /= math.sqrt(math.prod(shape[1:]) or 1)
    elif param.role == "bias":
        scale *= 0.1
    a = rng.random(shape, dtype=np.float32)
    a -= np.float32(0.5)
    a *= np.float32(scale)
    if param.role == "norm":
        a *= np.float32(0.1)
        a += np.float32(1.0)
    return a


def _run(r: LayerResult, tensors: dict, owned: dict, rng) -> LayerCheck:
    import numpy as np

    from .kernels._checks import OutShapeError

    predicted = tuple(int(d) for d in r.output_shape)
    if r.shares:
        weights = owned[r.shares]
    else:
        weights = {k: _draw(rng, p, np) for k, p in r.weights}
        owned[r.name] = weights
    xs = [tensors[name] for name in r.inputs]
    out = np.empty(predicted, dtype=np.float32)
    observed: tuple[int, ...] | None = predicted
    counted = None
    error = None
    t = time.perf_counter()
    try:
        counted = int(r.layer.forward(xs, weights, out))
    except OutShapeError as exc:
        observed = tuple(int(d) for d in exc.expected)
        out[...] = 0
    except ValueError as exc:
        observed = None
        error = f"the kernel refused the layer: {exc}"
        out[...] = 0
    seconds = time.perf_counter() - t
    tensors[r.name] = out
    allocated = (
        0
        if r.shares
        else sum(
            int(a.size) for (k, p), a in zip(r.weights, weights.values(), strict=True) if p.role != "buffer"
        )
    )
    if error is None and counted is None:
        allocated = None
    return LayerCheck(
        name=r.name,
        kind=r.kind,
        predicted_shape=predicted,
        observed_shape=observed,
        predicted_macs=int(r.macs),
        counted_macs=counted,
        predicted_params=int(r.params),
        allocated_params=allocated,
        seconds=seconds,
        error=error,
    )
