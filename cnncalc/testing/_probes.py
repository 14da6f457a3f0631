"""Probes of one layer's kernel on tiny concrete sizes: what the contract checks beyond shapes
and counts.

- **Every declared tensor is used**: each entry of ``weights()`` is drawn again with other
  values; the output must change. A weight the kernel never reads (declared, counted in the
  parameters, ignored) does not change it.
- **windows() are what the kernel reads**: one input row (then one column) at a time is moved
  far from its value; every output position that changes must be one the layer's windows say
  reads that row. A missing ``windows()`` (each output reading only its own position), a stride
  or an offset of the wrong sign all show as outputs changing where no window reaches.
- **FLOPs agree with the layer's statement**: at least 2 per MAC the kernel counted (the
  convention: 2 per multiply-accumulate, plus every other operation), and exactly the
  docstring's formula when it is one of ``FLOPs: 0``, ``FLOPs: 2*MACs`` or ``FLOPs: K per
  element``.

Each returns a list of problems in words (empty when the layer passes). numpy is imported when
a probe runs.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from ..core import dims
from ..core.engine import LayerResult
from ..core.sizes import axis_name
from ..errors import CnncalcError
from ..layers import Window

#: Random draws a tensor that seems unused is tried with, at the case's size and at the larger
#: sizes of :func:`_enlarged` (a ReLU dead for one draw needs other draws; a tap meeting only
#: padding needs a larger input, whatever the draw).
_DRAWS = (6, 6, 2)
#: How far a probed input is moved: beyond any value drawn, so that a max pool picks it.
_SHIFT = 50.0


def _run(r: LayerResult, xs: list, weights: dict, np: Any) -> Any:
    out = np.full(tuple(int(d) for d in r.output_shape), np.nan, dtype=np.float32)
    r.layer.forward(xs, weights, out)
    return out


def _inputs(r: LayerResult, seed: int, np: Any) -> tuple[list, dict]:
    from ..analysis.verify import draw_tensor
    from ..layers import Param

    rng = np.random.default_rng(seed)
    xs = [draw_tensor(rng, Param(tuple(int(d) for d in s), "input")) for s in r.input_shapes]
    weights = {k: draw_tensor(rng, p) for k, p in r.weights}
    return xs, weights


def unused_weights(r: LayerResult, seed: int = 0) -> list[str]:
    """The tensors of ``weights()`` whose values the kernel's output does not depend on.

    A tensor that seems unused on the case itself is tried again with other random inputs and
    weights (a ReLU may be dead for one draw), and on larger inputs (every size but the batch 3
    and 8 times as large, where the layer's checks accept them): on a tiny input a tap of a
    padded or dilated kernel may meet only padding, and the scale of a norm over one value
    multiplies 0. It is reported when it changes nothing in any of these runs, at least one of
    them on a larger input."""
    if not r.weights or not r.cost_known:
        return []
    found = _unchanged(r, seed)
    if not found:
        return []
    tried = False
    for trial, draws in zip((r, *_enlarged(r)), _DRAWS, strict=False):
        tried = tried or trial is not r
        for s in range(seed, seed + draws):
            if trial is r and s == seed:
                continue
            found = [k for k in found if k in _unchanged(trial, s)]
            if not found:
                return []
    if not tried:
        return []  # only a tiny input to go by: no conclusion
    shapes = dict(r.weights)
    return [
        f"{key!r} ({shapes[key].role}, shape {dims.fmt_shape(shapes[key].shape)}) is never read by the "
        f"kernel: drawn again with other values, it changed no output; every tensor weights() "
        f"declares is one forward uses (or the parameter count states tensors that do not exist)"
        for key in found
    ]


def _unchanged(r: LayerResult, seed: int) -> list[str]:
    """The names of the tensors that, drawn again, leave every output as it was."""
    import numpy as np

    xs, weights = _inputs(r, seed, np)
    base = _run(r, xs, weights, np)
    rng = np.random.default_rng(seed + 1)
    found = []
    for key, p in r.weights:
        other = dict(weights)
        w = weights[key]
        if not w.size:
            continue
        if p.init == "positive":
            other[key] = (w * 2 + 0.5).astype(w.dtype)
        else:
            noise = rng.standard_normal(w.shape).astype(w.dtype) * (np.abs(w).mean() + 1)
            other[key] = (w + noise).astype(w.dtype)
        if np.array_equal(_run(r, xs, other, np), base, equal_nan=True):
            found.append(key)
    return found


def _enlarged(r: LayerResult):
    """``r`` on inputs whose sizes but the batch are 3 and 8 times as large, where its checks
    and its shape rule accept them (a LayerResult each)."""
    import dataclasses

    from ..errors import CnncalcError

    layer = r.layer
    for k in (3, 8):
        xs = tuple((x[0], *(int(d) * k for d in x[1:])) for x in r.input_shapes)
        if xs == tuple(r.input_shapes):
            return
        try:
            checks = layer.checks(*xs)
            if not all(_holds(c) for c in checks):
                continue
            y = layer.output_shape(*xs)
            if not all(isinstance(d, int) and d >= 1 for d in y):
                continue
            weights = tuple(layer.weights(*xs).items())
        except (CnncalcError, ArithmeticError):
            continue
        if math.prod(y) > 200_000:
            return
        yield dataclasses.replace(r, input_shapes=xs, output_shape=tuple(y), weights=weights)


def _holds(check: Any) -> bool:
    v = check.value
    return dims.is_concrete(v) and (v >= 0 if check.relation == "nonneg" else v == 0)


def window_problems(r: LayerResult, seed: int = 0) -> list[str]:
    """Where the kernel's outputs read input rows (and columns) that ``windows()`` does not
    say they read (the default, when the kind defines no windows(): each output reads only
    its own position)."""
    import numpy as np

    layer, shapes = r.layer, r.input_shapes
    if (
        len(shapes) != 1
        or len(shapes[0]) != 4
        or len(r.output_shape) != 4
        or layer.axis_order(*shapes) is not None
    ):
        return []
    try:
        declared = layer.windows(*shapes)
    except CnncalcError as exc:  # a plugin's rule that raised, or returned what is not a Window
        return [str(exc)]
    xs, weights = _inputs(r, seed, np)
    base = _run(r, xs, weights, np)
    problems = []
    for axis in (2, 3):
        w = declared[axis - 2] if declared is not None else Window(1)
        if w.size is None:  # every output reads the whole axis: nothing can be outside it
            continue
        size_in, size_out = int(shapes[0][axis]), int(r.output_shape[axis])
        for p in range(size_in):
            moved = xs[0].copy()
            index = [slice(None)] * 4
            index[axis] = p
            moved[tuple(index)] += np.float32(_SHIFT)
            changed_at = _run(r, [moved], weights, np) != base
            others = tuple(a for a in range(4) if a != axis)
            changed = [int(o) for o in np.flatnonzero(changed_at.any(axis=others))]
            reads = [o for o in range(size_out) if _reads(w, o, p)]
            outside = [o for o in changed if o not in reads]
            if outside:
                name = axis_name(axis, 4)
                problems.append(
                    f"windows(): moving input position {p} of {name} changed the outputs at "
                    f"{_positions(changed)} of that axis, but "
                    + (
                        f"by the window it declares, {_window_text(w)}, "
                        + (
                            f"only the outputs at {_positions(reads)} read it"
                            if reads
                            else "no output reads it"
                        )
                        if declared is not None
                        else f"without windows() each output reads only its own position "
                        f"({_positions(reads)}): the receptive fields of this layer are wrong; define "
                        "windows(), returning a cnncalc.layers.Window(size, stride, offset) per axis"
                    )
                )
                break
    return problems


def _reads(w: Window, o: int, p: int) -> bool:
    """Whether output ``o`` reads input ``p`` under ``w``: its window, from ``offset + o*stride``
    to ``size - 1`` beyond, widened to whole positions (a fractional stride says where an
    upsampling reads on average)."""
    lo = Fraction(_number(w.offset)) + o * Fraction(_number(w.stride))
    hi = lo + Fraction(_number(w.size)) - 1
    return math.floor(lo) <= p <= math.ceil(hi)


def _number(v: Any) -> Any:
    if dims.is_concrete(v):
        return v
    raise TypeError(f"a window of the concrete layer is not a number: {dims.fmt(v)}")


def _positions(ps: list[int]) -> str:
    if not ps:
        return "none"
    if len(ps) > 2 and ps == list(range(ps[0], ps[-1] + 1)):
        return f"{ps[0]}..{ps[-1]}"
    return ", ".join(map(str, ps))


def _window_text(w: Window) -> str:
    return f"Window(size={dims.fmt(w.size)}, stride={dims.fmt(w.stride)}, offset={dims.fmt(w.offset)})"


# The formula, then an optional remark in parentheses, then the end of the sentence.
_STATED = re.compile(r"FLOPs:\s*([^.;,(\n]*?)\s*(?:\([^)]*\))?\s*(?:\.|\Z)")


def stated_flops(doc: str) -> tuple[str, int] | None:
    """The FLOPs formula a docstring states, when it is one the contract can check:
    ``("zero", 0)``, ``("macs", 2)`` for ``2*MACs``, ``("per_element", k)`` for ``k per
    element``; None for any other wording."""
    m = _STATED.search(doc or "")
    if not m:
        return None
    text = " ".join(m.group(1).split())
    if text == "0":
        return ("zero", 0)
    if re.fullmatch(r"2 ?\* ?MACs", text):
        return ("macs", 2)
    per = re.fullmatch(r"(\d+) per element", text)
    if per:
        return ("per_element", int(per.group(1)))
    return None


def flops_problems(r: LayerResult, counted_macs: int) -> list[str]:
    """FLOPs against the MACs the kernel counted and against the docstring's statement."""
    if not r.cost_known:
        return []
    flops, problems = r.flops, []
    if flops < 2 * counted_macs:
        problems.append(
            f"FLOPs: the rule gives {flops:,}, less than 2 per MAC the kernel counted "
            f"(2*{counted_macs:,} = {2 * counted_macs:,}); FLOPs count 2 per multiply-accumulate, "
            "plus every other operation"
        )
    stated = stated_flops(type(r.layer).__doc__ or "")
    if stated is None:
        return problems
    form, k = stated
    numel = math.prod(int(d) for d in r.output_shape)
    expected, said = {
        "zero": (0, "FLOPs: 0"),
        "macs": (2 * counted_macs, f"FLOPs: 2*MACs = 2*{counted_macs:,}"),
        "per_element": (k * numel, f"FLOPs: {k} per element = {k}*{numel:,}"),
    }[form]
    if flops != expected and not (form == "macs" and problems):
        problems.append(
            f"FLOPs: the rule gives {flops:,}, the docstring states {said} = {expected:,}"
            if form != "zero"
            else f"FLOPs: the rule gives {flops:,}, the docstring states FLOPs: 0"
        )
    return problems
