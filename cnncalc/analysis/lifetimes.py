"""Peak activation memory of an inference pass, from the lifetimes of the tensors.

Layers run in the order of the analysis. The network's input and every layer's output are
tensors; a tensor is alive from the step that produces it to the last step that reads it (the
network's output to the end), so a residual keeps its shortcut alive across the block and a
concatenation keeps every branch alive until it runs. At each step the live tensors are the
ones produced before it and still needed at or after it, plus its own output. The peak is the
largest sum of live bytes over the steps.

Assumptions (also in the README): every layer writes a new tensor (no in-place operations, no
reuse of a dead tensor's memory for a differently shaped one), the input counts, parameters and
the kernels' scratch space do not, and memory is freed the moment a tensor is dead.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import dims
from ..core.dims import Dim
from ..core.engine import Analysis
from .memory import element_size


@dataclass(frozen=True)
class Lifetimes:
    """Live activation bytes at each step and their peak."""

    dtype: str
    live_bytes: tuple[Dim, ...]  # per layer: bytes alive while it runs (its inputs and output)
    peak_bytes: Dim
    peak_layer: str | None  # where the peak is reached (None when it depends on open symbols)


def lifetimes(a: Analysis, dtype: str = "float32") -> Lifetimes:
    """The live bytes at every step of an inference pass of ``a``, and their peak."""
    b = element_size(dtype)
    size = {"input": dims.mul(dims.prod(a.input_shape), b)}
    last_use = {"input": -1}
    for i, r in enumerate(a.layers):
        size[r.name] = dims.mul(dims.prod(r.output_shape), b)
        last_use[r.name] = i
        for name in r.inputs:
            last_use[name] = i
    if a.layers:
        last_use[a.layers[-1].name] = len(a.layers)  # the output stays
    freed_after: dict[int, list] = {}
    for name, i in last_use.items():
        freed_after.setdefault(max(i, -1), []).append(size[name])
    current = size["input"] if last_use["input"] >= 0 else 0
    live = []
    for i, r in enumerate(a.layers):
        current = dims.add(current, size[r.name])
        live.append(current)
        gone = freed_after.get(i)
        if gone:
            current = dims.add(current, dims.mul(-1, dims.add(*gone)))
    if not live:
        return Lifetimes(dtype, (), size["input"], None)
    if all(dims.is_concrete(v) for v in live):
        peak = max(live)
        return Lifetimes(dtype, tuple(live), peak, a.layers[live.index(peak)].name)
    return Lifetimes(dtype, tuple(live), largest(live), None)


def largest(values) -> Dim:
    """The maximum of ``values``: a number when they are; else ``Max(...)`` of the distinct
    formulas, left unevaluated (exact; sympy's pairwise elimination of dominated arguments takes
    seconds on a hundred formulas with floors, and proves little)."""
    values = list(values)
    if all(dims.is_concrete(v) for v in values):
        return max(values)
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        return distinct[0]
    return dims.sp().Max(*(dims.to_sympy(v) for v in distinct), evaluate=False)
