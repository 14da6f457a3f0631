"""Verification by execution: run a spec through the reference kernels and compare.

:func:`verify` takes a concrete :class:`~cnncalc.engine.Analysis`, draws a seeded random input
and random weights, and runs every layer through its numba kernel. For each layer it records the
predicted output shape against the shape the kernel's own arithmetic gives, the predicted MACs
against the MACs the kernel counted while running, and the predicted parameters against the
weights the kernel accepted. numba is imported here, and only here.

A layer whose computation is unknown (``opaque``) has no kernel: its output is a seeded random
tensor of its declared shape, so that every layer after it still runs and is checked, and the
layer itself is reported as not verified (never as a pass).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core import dims
from ..core.engine import Analysis, LayerResult, analyze
from ..errors import CnncalcError, UsageError, VerificationError
from ..lang.model import INPUT, Spec
from ..layers import BUILTIN_KINDS, Param
from ..layers._origin import source_file

#: Bytes per element: verification runs in float32.
ITEMSIZE = 4
#: Default memory budget: this fraction of physical memory.
DEFAULT_BUDGET_FRACTION = 0.5
#: Most analyses the memory guard runs looking for sizes that fit (enough to find the largest
#: batch below 2,048 by halving), and most layers analysed in all while looking (a refusal of a
#: 20,000-layer network stays quick).
MAX_FIT_TRIALS = 12
MAX_FIT_LAYERS = 40_000


@dataclass(frozen=True)
class LayerCheck:
    """Prediction against execution for one layer."""

    name: str
    kind: str
    predicted_shape: tuple[int, ...]
    observed_shape: tuple[int, ...] | None
    predicted_macs: int | None  # None when the layer's cost is unknown
    counted_macs: int | None
    predicted_params: int | None
    allocated_params: int | None
    seconds: float
    error: str | None = None
    not_verified: str | None = None  # why the layer was not run (an opaque layer)

    @property
    def ok(self) -> bool:
        """True when the layer ran and every prediction held (False when not verified)."""
        return (
            self.not_verified is None
            and self.error is None
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
    compiled_kernels: int = 0  # kernels numba compiled in this run (0: all loaded from its cache)

    @property
    def kernel_seconds(self) -> float:
        """Time spent inside the layers' kernels (the execution proper)."""
        return sum(c.seconds for c in self.layers)

    @property
    def ok(self) -> bool:
        """True when every layer that ran agrees (layers not verified do not count)."""
        return all(c.ok for c in self.layers if c.not_verified is None)

    @property
    def failures(self) -> tuple[LayerCheck, ...]:
        return tuple(c for c in self.layers if not c.ok and c.not_verified is None)

    @property
    def not_verified(self) -> tuple[LayerCheck, ...]:
        """The layers that were not run (opaque layers), whose outputs were random tensors."""
        return tuple(c for c in self.layers if c.not_verified is not None)


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
        return f"10^{len(str(n)) - 1} bytes"
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"


def parse_bytes(text: str) -> int:
    """``512MB``, ``2GiB``, ``1.5G`` or a plain number of bytes, at least one byte.

    Raises:
        UsageError: for anything else.
    """
    import re
    from fractions import Fraction

    from ..errors import shorten

    m = re.fullmatch(r"\s*([0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})\s*([kKmMgGtTpP]?)(i?[bB])?\s*", text)
    if not m:
        raise UsageError(f"--memory-budget {shorten(repr(text))}: expected a size such as 512MB or 4GiB")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}[m.group(2).lower()]
    value = int(Fraction(m.group(1)) * scale)
    if value < 1:
        raise UsageError(f"--memory-budget {shorten(repr(text))}: the budget must be at least one byte")
    return value


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
        f"{shape} = {byte_text(est.largest_bytes)}"
    )
    fit = _sizes_that_fit(spec, a, values, budget)
    hint = ""
    if fit:
        hint = "sizes that fit: {set}" + " ".join(f"{k}={v}" for k, v in fit.items())
    raise VerificationError(msg, hint=hint)


def _sizes_that_fit(spec: Spec, a: Analysis, values: dict[str, Any], budget: int) -> dict | None:
    """Sizes of the input's symbols under which the estimate fits the budget, or None.

    The batch goes to its minimum and the other input symbols shrink together by the factor
    the estimate is over budget (memory grows with their product), then halve while it still
    does not fit. When the smallest batch fits at the sizes given, the sizes stay and the batch
    is the largest that fits below the one given, found by halving the interval. Each try is an
    analysis, so at most ``MAX_FIT_TRIALS`` are made, and fewer for long networks
    (``MAX_FIT_LAYERS`` layer analyses in all): a refusal stays quick.
    """
    names = [str(s) for e in spec.input for s in e.names if s in spec.symbols]
    if not names:
        return None
    current = {n: a.symbols[n] for n in names}
    batch = next(iter(spec.input[0].names), None) if spec.input[0].names else None
    spatial = [n for n in names if n != batch and isinstance(current[n], int)]
    peak = estimate_memory(a).peak_bytes
    given_batch = None
    if batch in current and isinstance(current[batch], int) and spec.symbols[batch].integer:
        lower = spec.symbols[batch].lower
        given_batch = current[batch]
        peak = peak * lower // max(1, current[batch])
        current[batch] = lower
    resized = False  # whether the sizes given have changed
    if spatial and peak > budget:
        factor = math.exp((math.log(peak) - math.log(max(1, budget))) / len(spatial))
        for n in spatial:
            current[n] = max(spec.symbols[n].lower, math.floor(current[n] / factor))
        resized = True
    trials = min(MAX_FIT_TRIALS, MAX_FIT_LAYERS // max(1, len(a.layers)))

    def fits(sizes: dict[str, Any]) -> bool | None:
        """Whether the estimate at ``sizes`` fits; None where sizes this small break the network."""
        try:
            return estimate_memory(analyze(spec, {**values, **sizes})).peak_bytes <= budget
        except CnncalcError:
            return None

    while trials > 0:
        trials -= 1
        ok = fits(current)
        if ok is None:  # no suggestion
            return None
        if ok:
            if not resized and given_batch is not None:
                current[batch] = _largest_batch(fits, current, batch, current[batch], given_batch, trials)
            return current
        shrunk = {n: max(spec.symbols[n].lower, current[n] // 2) for n in spatial}
        if all(shrunk[n] == current[n] for n in spatial):
            return None
        current.update(shrunk)
        resized = True
    return None


def _largest_batch(fits, sizes: dict[str, Any], batch: str, lo: int, hi: int, trials: int) -> int:
    """The largest batch from ``lo`` (which fits) to below ``hi`` (which does not) at which
    ``fits``, the other ``sizes`` kept; a search by halves of at most ``trials`` tries, the
    largest batch found to fit when they run out (memory grows with the batch)."""
    while hi - lo > 1 and trials > 0:
        trials -= 1
        mid = (lo + hi) // 2
        if fits({**sizes, batch: mid}):
            lo = mid
        else:
            hi = mid
    return lo


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
        progress: called as ``progress(phase, done, total, name)``: phase ``compile`` with the
            kernel being compiled (or loaded from numba's cache), then ``run`` with the layer.

    Raises:
        UsageError: if a symbol is left open.
    """
    if not a.concrete:
        open_ = ", ".join(a.open_symbols)
        raise UsageError("verification runs at concrete sizes", hint=f"give {open_} a value{{how}}")
    from ..kernels import warm_up

    report = progress or (lambda *args: None)
    t0 = time.perf_counter()
    compiled = warm_up(lambda done, total, kernel: report("compile", done, total, kernel))
    compile_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    checks = run_layers(a, seed=seed, progress=report)
    return Verification(
        name=a.name,
        symbols=a.symbols,
        seed=seed,
        layers=checks,
        compile_seconds=compile_seconds,
        compiled_kernels=compiled,
        run_seconds=time.perf_counter() - t1,
        memory_bytes=estimate_memory(a).peak_bytes,
    )


def run_layers(
    a: Analysis, *, seed: int = 0, progress: Callable[[str, int, int, str], None] | None = None
) -> tuple[LayerCheck, ...]:
    """The comparison of :func:`verify`, layer by layer, without compiling the kernels first
    (they compile on first use) or estimating memory: what the contract tests run on many tiny
    configurations."""
    import numpy as np

    report = progress or (lambda *args: None)
    rng = np.random.default_rng(seed)
    tensors: dict[str, Any] = {INPUT: _draw(rng, Param(a.input_shape, "input"), np)}
    last_use = {name: i for i, r in enumerate(a.layers) for name in r.inputs}
    owned: dict[str, dict[str, Any]] = {}
    checks = []
    for i, r in enumerate(a.layers):
        report("run", i, len(a.layers), r.name)
        checks.append(_run(r, tensors, owned, rng))
        for name in r.inputs:
            if last_use.get(name) == i and name != a.layers[-1].name:
                tensors.pop(name, None)
    report("run", len(a.layers), len(a.layers), "")
    return tuple(checks)


def cache_note(v: Verification) -> str | None:
    """What to tell a user after a run that compiled kernels: later runs load them."""
    from ..kernels._jit import CACHE

    if not v.compiled_kernels:
        return None
    if not CACHE:
        return (
            f"compiled the reference kernels in {v.compile_seconds:.1f} s; numba's cache is off "
            "(CNNCALC_NUMBA_CACHE=0), so every run compiles them again"
        )
    return (
        f"compiled the reference kernels in {v.compile_seconds:.1f} s and cached them: later runs "
        "load them from numba's cache in about a second"
    )


def counted_macs(returned: Any) -> tuple[int | None, str | None]:
    """The MAC count a kernel returned, or why it is not one (``forward`` must return an int)."""
    import numpy as np

    if isinstance(returned, (int, np.integer)) and not isinstance(returned, (bool, np.bool_)):
        return int(returned), None
    if isinstance(returned, np.ndarray):
        found = f"an array of shape {list(returned.shape)}"
    elif returned is None:
        found = "None"
    else:
        found = f"{type(returned).__name__} {returned!r}"[:80]
    return None, (
        f"forward returned {found}; it must write its result into out and return the number of "
        "multiply-accumulates it counted, an int (0 for a layer without products)"
    )


def kernel_failure(exc: BaseException, source: str | None = None) -> str:
    """``the kernel raised KeyError: 'bias' (at my_layers.py:41)``: the innermost frame in
    ``source`` (a custom layer's file: where it called the kernel that refused), else the
    innermost frame."""
    from ..errors import clean_message
    from ..layers._origin import origin

    if source is None:
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)
        at = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    else:
        at = origin(exc, source)
    where = f" (at {at})" if at else ""
    text = clean_message(str(exc))
    if isinstance(exc, RecursionError):
        text += " (forward calls itself without end)"
    if not text:
        return f"the kernel raised {type(exc).__name__}{where}"
    if type(exc) is ValueError:  # kernels validate their arguments with ValueError
        return f"the kernel refused the layer: {text}{where}"
    return f"the kernel raised {type(exc).__name__}: {text}{where}"


def draw_tensor(rng, param: Param) -> Any:
    """Random values for a tensor, as verification draws them (see :func:`_draw`)."""
    import numpy as np

    return _draw(rng, param, np)


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

    from ..kernels import OutShapeError

    predicted = tuple(int(d) for d in r.output_shape)
    if not r.cost_known:
        return _stand_in(r, predicted, tensors, rng, np)
    if r.shares:
        weights = owned[r.shares]
    else:
        weights = {k: _draw(rng, p, np) for k, p in r.weights}
        owned[r.name] = weights
    xs = [tensors[name] for name in r.inputs]
    if min(predicted, default=0) < 0:  # a custom rule's slip: nothing to allocate, nothing to run
        tensors[r.name] = np.zeros(tuple(max(d, 0) for d in predicted), dtype=np.float32)
        return LayerCheck(
            name=r.name,
            kind=r.kind,
            predicted_shape=predicted,
            observed_shape=None,
            predicted_macs=int(r.macs),
            counted_macs=None,
            predicted_params=int(r.params),
            allocated_params=None,
            seconds=0.0,
            error=f"the predicted output shape {list(predicted)} has a negative size",
        )
    out = np.full(predicted, np.nan, dtype=np.float32)  # what forward leaves unwritten stays NaN
    observed: tuple[int, ...] | None = predicted
    counted = None
    error = None
    t = time.perf_counter()
    try:
        returned = r.layer.forward(xs, weights, out)
    except OutShapeError as exc:
        observed = tuple(int(d) for d in exc.expected)
        out = np.zeros(predicted, dtype=np.float32)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a custom kernel's bug is that layer's failure, not verify's
        observed = None
        error = kernel_failure(exc, None if r.kind in BUILTIN_KINDS else source_file(r.layer))
        out = np.zeros(predicted, dtype=np.float32)
    else:
        counted, error = counted_macs(returned)
        if out.shape != predicted:
            observed = tuple(out.shape)
            error = f"forward changed the shape of out to {list(out.shape)}; it must fill out as allocated"
            out = np.zeros(predicted, dtype=np.float32)
        elif error is None:
            error = unwritten(r.layer, xs, weights, out, np)
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


def unwritten(layer: Any, xs: list, weights: dict, out: Any, np: Any) -> str | None:
    """Why ``out`` is not the kernel's whole result, or None.

    ``out`` was filled with NaN before ``forward`` ran. When NaN remains, forward runs again
    on an ``out`` filled with another value: an element that keeps the value it was given
    both times was never written (a loop that misses a column, ``out = ...`` rebinding the
    name instead of ``out[...] = ...``). NaN that the kernel itself computed is not reported.
    """
    if not out.size or not np.isnan(np.add.reduce(out, axis=None, dtype=np.float64)):
        return None
    first = np.isnan(out)
    again = np.full(out.shape, 7.25, dtype=out.dtype)
    try:
        layer.forward(xs, weights, again)
    except Exception:  # it ran once: a second failure says nothing more
        return None
    kept = again == np.float32(7.25)
    read = first & ~np.isnan(again) & ~kept  # NaN once, another value than the one given after
    if read.any():
        at = [int(i) for i in np.argwhere(read)[0]]
        return (
            f"forward reads what out held before it ran ({int((first & ~np.isnan(again)).sum()):,} "
            f"elements, the first at {at}): out is allocated uninitialised; write it before adding to it"
        )
    left = first & kept
    count = int(left.sum())
    if count:
        at = [int(i) for i in np.argwhere(left)[0]]
        return (
            f"forward left {count:,} of {out.size:,} output elements unwritten (the first at {at}): "
            "it must write every element of out (out[...] = ..., not out = ...)"
        )
    return None


#: Why an opaque layer is not verified, as reports say it.
OPAQUE_REASON = (
    "opaque: no kernel for an unknown operator; a seeded random tensor of its declared shape stood in"
)


def _stand_in(r: LayerResult, predicted: tuple[int, ...], tensors: dict, rng, np) -> LayerCheck:
    """An opaque layer: its output is a seeded random tensor of the declared shape."""
    tensors[r.name] = _draw(rng, Param(predicted, "input"), np)
    op = getattr(r.layer, "op", None)
    return LayerCheck(
        name=r.name,
        kind=r.kind,
        predicted_shape=predicted,
        observed_shape=None,
        predicted_macs=None,
        counted_macs=None,
        predicted_params=None,
        allocated_params=None,
        seconds=0.0,
        not_verified=OPAQUE_REASON.replace("opaque:", f"opaque ({op}):") if op else OPAQUE_REASON,
    )
