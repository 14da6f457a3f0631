"""The one-layer calculator: a convolution or pooling window slid over an ``h x w`` input.

:func:`calculate` answers the course's question (what comes out of an ``f x f``, stride ``s``,
padding ``p`` convolution of an ``n x n`` image, and what does it cost) with the layers' own
rules: the output size is :func:`cnncalc.dims.window_out` through
:class:`~cnncalc.layers.conv2d.Conv2d` or the pooling layers, and so are the parameters and
MACs. It returns a plain record with the arithmetic written out, the numbers in it.
:func:`apply` runs the reference kernel on a small input matrix and filter.

Both ``cnncalc conv`` and the terminal UI's calculator screen use this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import CnncalcError, UsageError, shorten

#: The operations: a convolution, or max / average pooling.
OPS = ("conv", "max_pool", "avg_pool")
#: The largest matrix :func:`apply` accepts (elements): the calculator is for small examples.
MAX_ELEMENTS = 1_000_000
#: The most digits of a number in a matrix (a float64 holds at most 309).
MAX_DIGITS = 310

Pair = tuple[int, int]


@dataclass(frozen=True)
class Axis:
    """The window arithmetic along one axis."""

    label: str  # "n" when both axes agree, else "h" or "w"
    size: int
    kernel: int
    stride: int
    pad_before: int
    pad_after: int
    dilation: int
    out: int
    formula: str  # the rule in letters: floor((n + 2p - f)/s) + 1
    worked: str  # the same with the numbers in it, down to the result


@dataclass(frozen=True)
class Calculation:
    """One layer's output size and cost, with its arithmetic."""

    op: str
    channels: int
    filters: int  # output channels: the filters of a convolution, the channels of a pooling
    bias: bool
    groups: int  # a convolution's groups: each filter reads channels/groups of the input
    ceil_mode: bool
    padding: str  # "same", "valid" or "explicit"
    axes: tuple[Axis, ...]  # one per distinct axis: (n,) or (h, w)
    height: Axis
    width: Axis
    output_shape: tuple[int, int, int, int]  # (1, filters, h_out, w_out)
    weights: int
    biases: int
    macs: int
    flops: int

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def size_text(self) -> str:
        """``10x11``: the output height by width."""
        return f"{self.height.out}x{self.width.out}"

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (``cnncalc conv --format json``)."""
        return {
            "op": self.op,
            "input": [self.height.size, self.width.size],
            "channels": self.channels,
            "groups": self.groups,
            "kernel": [self.height.kernel, self.width.kernel],
            "stride": [self.height.stride, self.width.stride],
            "padding": [
                [self.height.pad_before, self.height.pad_after],
                [self.width.pad_before, self.width.pad_after],
            ],
            "padding_mode": self.padding,
            "dilation": [self.height.dilation, self.width.dilation],
            "ceil_mode": self.ceil_mode,
            "output": [self.height.out, self.width.out],
            "output_shape": list(self.output_shape),
            "formula": {a.label: {"rule": a.formula, "worked": a.worked} for a in self.axes},
            "params": self.params,
            "weights": self.weights,
            "biases": self.biases,
            "macs": self.macs,
            "flops": self.flops,
        }


def pair(value: int | tuple[int, int] | list[int], name: str) -> Pair:
    """``5`` -> ``(5, 5)``; a pair stays a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise UsageError(f"{name}: expected one number or two (height and width), found {len(value)}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def calculate(
    size: int | Pair,
    kernel: int | Pair,
    *,
    stride: int | Pair = 1,
    padding: int | Pair | str = 0,
    dilation: int | Pair = 1,
    ceil_mode: bool = False,
    op: str = "conv",
    channels: int = 1,
    filters: int = 1,
    bias: bool = True,
    groups: int = 1,
) -> Calculation:
    """The output size, the arithmetic, the params and MACs of one layer on a ``1 x channels x
    h x w`` input.

    Args:
        size: ``n`` or ``(h, w)``.
        kernel: ``f`` or ``(kh, kw)``.
        stride, dilation: ``s`` or a pair.
        padding: ``p``, a pair, ``"same"`` (output ``ceil(n/s)``, convolutions only) or ``"valid"``.
        ceil_mode: round the division up (pooling, PyTorch's rule).
        op: ``conv``, ``max_pool`` or ``avg_pool``.
        channels: input channels.
        filters: output channels of a convolution (pooling keeps the channels).
        bias: whether the convolution adds a bias per filter.
        groups: a convolution's groups (``channels`` of them: depthwise); both the channels
            and the filters must divide by it.

    Raises:
        UsageError: for arguments outside their range, or a window that does not fit.
    """
    from ..core import dims
    from ..core.constraints import Decider
    from ..layers.conv2d import Conv2d
    from ..layers.pool2d import AvgPool2d, MaxPool2d

    if op not in OPS:
        raise UsageError(f"unknown operation {op!r}; expected one of {', '.join(OPS)}")
    h, w = pair(size, "size")
    k = pair(kernel, "kernel")
    s = pair(stride, "stride")
    d = pair(dilation, "dilation")
    mode = padding if isinstance(padding, str) else "explicit"
    if mode not in ("same", "valid", "explicit"):
        raise UsageError(f"padding: expected a number, 'same' or 'valid', found {padding!r}")
    pads = (0, 0) if mode == "valid" else padding if mode == "same" else pair(padding, "padding")
    for name, value in (("size", (h, w)), ("kernel", k), ("stride", s), ("dilation", d)):
        if min(value) < 1:
            raise UsageError(f"{name} must be at least 1, found {_pair_text(value)}")
    if mode == "explicit" and min(pads) < 0:
        raise UsageError(f"padding must be at least 0, found {_pair_text(pads)}")
    if channels < 1 or filters < 1:
        raise UsageError(f"channels and filters must be at least 1, found {channels} and {filters}")
    if groups < 1:
        raise UsageError(f"groups must be at least 1, found {groups}")
    if op == "conv":
        if ceil_mode:
            raise UsageError("ceil mode applies to pooling; a convolution's division rounds down")
        layer = Conv2d(out=filters, kernel=k, stride=s, padding=pads, dilation=d, bias=bias, groups=groups)
    else:
        if groups != 1:
            raise UsageError("groups apply to convolutions; pooling keeps each channel apart")
        if mode == "same":
            raise UsageError("padding 'same' applies to convolutions; give pooling a number")
        if op == "avg_pool" and d != (1, 1):
            raise UsageError("average pooling has no dilation")
        if op == "max_pool":
            layer = MaxPool2d(kernel=k, stride=s, padding=pads, dilation=d, ceil_mode=ceil_mode)
        else:
            layer = AvgPool2d(kernel=k, stride=s, padding=pads, ceil_mode=ceil_mode)
    x = (1, channels, h, w)
    try:
        bound, checks = layer.bind({})
        decider = Decider({}, {})
        for check in [*checks, *bound.checks(x)]:
            decider.require(check, op)
        y = bound.output_shape(x)
        roles = {role: 0 for role in ("weight", "bias")}
        for p in bound.weights(x).values():
            roles[p.role] += dims.prod(p.shape)
        macs = bound.macs(x, out=y)
        flops = bound.flops(x, out=y)
    except CnncalcError as exc:
        raise UsageError(str(exc)) from None
    before_after = bound.pads(x) if op == "conv" else tuple((p, p) for p in pads)
    square = h == w and k[0] == k[1] and s[0] == s[1] and d[0] == d[1] and before_after[0] == before_after[1]
    labels = ("n", "n") if square else ("h", "w")
    axes = tuple(
        _axis(labels[i], (h, w)[i], k[i], s[i], *before_after[i], d[i], int(y[2 + i]), mode, ceil_mode)
        for i in range(2)
    )
    return Calculation(
        op=op,
        channels=channels,
        filters=int(y[1]),
        bias=op == "conv" and bias,
        groups=groups,
        ceil_mode=ceil_mode,
        padding=mode,
        axes=axes[:1] if square else axes,
        height=axes[0],
        width=axes[1],
        output_shape=tuple(int(v) for v in y),
        weights=int(roles["weight"]),
        biases=int(roles["bias"]),
        macs=int(macs),
        flops=int(flops),
    )


def _pair_text(p: Pair) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"


def _axis(label, n, f, s, before, after, d, out, mode, ceil_mode) -> Axis:
    """The rule along one axis in letters and in numbers (the result is the layer rule's)."""
    if mode == "same":
        return Axis(label, n, f, s, before, after, d, out, f"ceil({label}/s)", f"ceil({n}/{s}) = {out}")
    rounding = "ceil" if ceil_mode else "floor"
    if before == after:
        pad_letters, pad_numbers, padded = "2p", f"2*{before}", n + 2 * before
    else:
        pad_letters, pad_numbers, padded = "p1 + p2", f"{before} + {after}", n + before + after
    if d == 1:
        span_letters, span_numbers = f"{label} + {pad_letters} - f", f"{n} + {pad_numbers} - {f}"
    else:
        span_letters = f"{label} + {pad_letters} - d*(f - 1) - 1"
        span_numbers = f"{n} + {pad_numbers} - {d}*({f} - 1) - 1"
    span = padded - d * (f - 1) - 1
    formula = f"{rounding}(({span_letters})/s) + 1"
    worked = f"{rounding}(({span_numbers})/{s}) + 1 = {rounding}({span}/{s}) + 1"
    plain = (-(-span // s) if ceil_mode else span // s) + 1
    if plain == out:
        worked += f" = {out}"
    else:  # PyTorch's ceil mode drops a last window that would start in the padding
        worked += f" = {plain}, less the last window, which would start in the padding: {out}"
    return Axis(label, n, f, s, before, after, d, out, formula, worked)


# ---------------------------------------------------------------------------------------------
# Matrices


def matrix(data: Any, name: str):
    """A float64 array of 2 to 4 dimensions from nested lists of numbers.

    Raises:
        UsageError: for ragged rows, values that are not numbers, or too many elements.
    """
    import numpy as np

    _check_integers(data, name)
    try:
        a = np.asarray(data, dtype=np.float64)
    except OverflowError:  # an integer past the float range
        raise UsageError(f"{name}: every value must be a finite number (at most about 1.8e308)") from None
    except (ValueError, TypeError):
        raise UsageError(f"{name}: expected nested lists of numbers with rows of equal length") from None
    if a.ndim < 2 or a.ndim > 4:
        raise UsageError(f"{name}: expected a matrix (2 to 4 nested levels), found {a.ndim} level(s)")
    if a.size == 0:
        raise UsageError(f"{name}: the matrix is empty")
    if a.size > MAX_ELEMENTS:
        raise UsageError(f"{name}: {a.size:,} values; the calculator takes at most {MAX_ELEMENTS:,}")
    if not np.isfinite(a).all():
        raise UsageError(f"{name}: every value must be a finite number (at most about 1.8e308)")
    return a


#: The largest integer below which float64, the kernels' type, holds every integer.
EXACT_LIMIT = 2**53


def _check_integers(data: Any, name: str, depth: int = 0) -> None:
    """Refuse an integer that float64 would round (99999999999999999999 becomes 1e20): the
    results would be stated for numbers the user did not write."""
    kind = getattr(getattr(data, "dtype", None), "kind", "")
    if kind in ("i", "u"):  # an array of integers (a .npy file)
        if data.size and int(abs(data).max()) > EXACT_LIMIT:
            _check_integers(data.tolist(), name)
        return
    if isinstance(data, (list, tuple)) and depth < 8:
        for v in data:
            _check_integers(v, name, depth + 1)
    elif isinstance(data, int) and not isinstance(data, bool) and abs(data) > EXACT_LIMIT:
        try:
            exact = int(float(data)) == data
        except OverflowError:
            return  # refused as past the float range
        if not exact:
            raise UsageError(
                f"{name}: {shorten(str(data))} is not held exactly by a float64, in which the values "
                f"are computed (every integer up to 2**53 = {EXACT_LIMIT:,} is)"
            )


def parse_matrix(text: str, name: str):
    """A matrix written as nested lists (``[[1, 0], [0, 1]]``, JSON) or as rows, one a line,
    values apart by spaces or commas (rows may also end with ``;``). Never evaluated as code.

    Raises:
        UsageError: for text that is neither.
    """
    import json

    stripped = text.strip()
    if not stripped:
        raise UsageError(f"{name}: the matrix is empty")
    longest = max((len(m) for m in re.findall(r"[0-9]+", stripped, re.ASCII)), default=0)
    if longest > MAX_DIGITS:  # no float holds it, and int() refuses past 4,300 digits
        raise UsageError(
            f"{name}: a number of {longest:,} digits; values must be finite floats (at most about "
            f"1.8e308, {MAX_DIGITS} digits)"
        )
    if stripped.startswith("["):
        try:
            data = json.loads(stripped, parse_float=lambda t: _read_float(t, name))
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{name}: cannot read the nested lists ({exc.msg} at character {exc.pos})"
            ) from None
        except (ValueError, RecursionError):  # nested too deeply
            raise UsageError(f"{name}: expected nested lists of numbers (2 to 4 levels)") from None
        return matrix(data, name)
    rows = []
    for line in stripped.replace(";", "\n").splitlines():
        cells = line.replace(",", " ").split()
        if not cells:
            continue
        try:
            rows.append(
                [int(c) if re.fullmatch(r"[-+]?[0-9]+", c, re.ASCII) else _read_float(c, name) for c in cells]
            )
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise UsageError(f"{name}: {bad!r} is not a number") from None
    return matrix(rows, name)


def _read_float(text: str, name: str) -> float:
    """The float64 of a number written with a point or an exponent. A whole number past 2**53
    that float64 does not hold exactly (``1e23`` is 99999999999999991611392 in float64) is
    refused, as an integer is: the results, printed as integers, would be exact for a number
    the user did not write."""
    from fractions import Fraction

    value = float(text)
    if math.isfinite(value) and abs(value) > EXACT_LIMIT and Fraction(text) != Fraction(value):
        raise UsageError(
            f"{name}: {shorten(text)} is not held exactly by a float64, in which the values are "
            f"computed (it holds {value!r} as {int(value)}; every integer up to 2**53 = "
            f"{EXACT_LIMIT:,} is held exactly)"
        )
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def input_shape(image) -> tuple[int, int, int]:
    """(channels, h, w) of an input matrix: ``h x w`` or ``c x h x w``."""
    if image.ndim == 4:
        if image.shape[0] != 1:
            raise UsageError(f"input: expected one image (h x w or c x h x w), found shape {image.shape}")
        return tuple(image.shape[1:])
    if image.ndim == 3:
        return tuple(image.shape)
    return (1, *image.shape)


def filter_shape(filt, op: str) -> tuple[int, int, int, int]:
    """(filters, channels, kh, kw) of a filter: ``kh x kw``, ``c x kh x kw`` or ``f x c x kh x kw``."""
    if op != "conv":
        raise UsageError("a filter applies to convolutions; pooling has no weights")
    if filt.ndim == 4:
        return tuple(filt.shape)
    if filt.ndim == 3:
        return (1, *filt.shape)
    return (1, 1, *filt.shape)


def apply(calc: Calculation, image, filt=None):
    """The output values of the layer computed by the reference kernel, bias left out.

    Args:
        calc: the calculation (its geometry and operation).
        image: (h, w) or (c, h, w) values.
        filt: (kh, kw), (c, kh, kw) or (filters, c, kh, kw) weights; required for ``conv``.

    Returns:
        The output as (h_out, w_out) when there is one output channel, else (c_out, h_out, w_out).
    """
    import numpy as np

    c, h, w = input_shape(image)
    x = np.ascontiguousarray(image.reshape(1, c, h, w), dtype=np.float64)
    if (c, h, w) != (calc.channels, calc.height.size, calc.width.size):
        raise UsageError(
            f"input: shape {c}x{h}x{w} does not match {calc.channels} channel(s) of "
            f"{calc.height.size}x{calc.width.size}"
        )
    check_memory(calc)
    out = np.empty(calc.output_shape, dtype=np.float64)
    kernel = (calc.height.kernel, calc.width.kernel)
    stride = (calc.height.stride, calc.width.stride)
    dilation = (calc.height.dilation, calc.width.dilation)
    # An overflow is reported below, once, from the output: numpy's own warning would come
    # before it or not at all, depending on which BLAS thread ran the product.
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            if calc.op == "conv":
                from ..kernels.conv import conv2d_nchw

                if filt is None:
                    raise UsageError("a convolution needs a filter to compute output values")
                fo, fc, kh, kw = filter_shape(filt, "conv")
                if fc * calc.groups != c:
                    raise UsageError(
                        f"filter: {fc} channel(s) x {calc.groups} group(s) is not the input's {c}"
                    )
                wt = np.ascontiguousarray(filt.reshape(fo, fc, kh, kw), dtype=np.float64)
                pads = (
                    calc.height.pad_before,
                    calc.height.pad_after,
                    calc.width.pad_before,
                    calc.width.pad_after,
                )
                conv2d_nchw(
                    x, wt, None, out, stride=stride, padding=pads, dilation=dilation, groups=calc.groups
                )
            elif calc.op == "max_pool":
                from ..kernels.pool import max_pool2d_nchw

                pads = (calc.height.pad_before, calc.width.pad_before)
                max_pool2d_nchw(x, out, kernel, stride, pads, dilation, calc.ceil_mode)
            else:
                from ..kernels.pool import avg_pool2d_nchw

                pads = (calc.height.pad_before, calc.width.pad_before)
                avg_pool2d_nchw(x, out, kernel, stride, pads, calc.ceil_mode, True)
        except ValueError as exc:  # the kernel's own validation: a bug if reached after calculate()
            raise UsageError(f"the reference kernel refused the matrices: {exc}") from None
    if not np.isfinite(out).all():
        raise UsageError(
            "the output values overflow the float range (at most about 1.8e308): scale the "
            "input or the filter down"
        )
    if calc.op != "max_pool" and _integral(x) and (calc.op == "avg_pool" or _integral(wt)):
        # Whole numbers in, whole numbers out: exact while every sum stays within 2**53, else
        # computed again in Python integers (a convolution) or refused (an average, which divides).
        reach = float(np.abs(x).max()) * (
            float(np.abs(wt).reshape(wt.shape[0], -1).sum(axis=1).max())
            if calc.op == "conv"
            else kernel[0] * kernel[1]
        )
        if reach > EXACT_LIMIT:
            if calc.op == "avg_pool":
                raise UsageError(
                    f"the window sums reach about {reach:.3g}, past 2**53 where float64 rounds whole "
                    "numbers: the averages would not be exact; scale the input down"
                )
            out = _exact_conv(x, wt, pads, stride, dilation, calc.groups, calc.output_shape)
    result = out[0]
    return result[0] if result.shape[0] == 1 else result


def _exact_conv(x, wt, pads, stride, dilation, groups, shape):
    """The convolution of whole numbers in Python integers (never rounded): each output is the
    sum over its window, as the kernel computes it, without float64's 53 bits."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    as_int = np.frompyfunc(int, 1, 1)
    _, c_out, ho, wo = shape
    fo, cg, kh, kw = wt.shape
    padded = np.pad(as_int(x[0]), ((0, 0), (pads[0], pads[1]), (pads[2], pads[3])), constant_values=0)
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    windows = sliding_window_view(padded, span, axis=(1, 2))
    windows = windows[:, : (ho - 1) * stride[0] + 1 : stride[0], : (wo - 1) * stride[1] + 1 : stride[1]]
    windows = windows[..., :: dilation[0], :: dilation[1]]  # (c, ho, wo, kh, kw)
    weights = as_int(wt)
    fg = fo // groups
    out = np.empty((1, c_out, ho, wo), dtype=object)
    for g in range(groups):
        cols = windows[g * cg : (g + 1) * cg]
        out[0, g * fg : (g + 1) * fg] = np.tensordot(
            weights[g * fg : (g + 1) * fg], cols, axes=([1, 2, 3], [0, 3, 4])
        )
    return out


def memory_needed(calc: Calculation) -> tuple[int, str]:
    """Bytes :func:`apply` allocates at most (float64: the padded input, the kernel's columns of
    windows, the output) and the largest of them, named."""
    h, w = calc.height, calc.width
    padded = calc.channels * (h.size + h.pad_before + h.pad_after) * (w.size + w.pad_before + w.pad_after)
    _, c_out, ho, wo = calc.output_shape
    output = c_out * ho * wo
    columns = (calc.channels // calc.groups) * h.kernel * w.kernel * ho * wo if calc.op == "conv" else 0
    parts = {
        f"the padded input {calc.channels}x{padded // max(1, calc.channels):,}": padded,
        f"the windows, {columns:,} values": columns,
        f"the output {c_out}x{ho}x{wo}": output,
    }
    largest = max(parts, key=lambda k: parts[k])
    return 8 * sum(parts.values()), largest


def check_memory(calc: Calculation, budget: int | None = None) -> None:
    """Refuse values whose computation would allocate more than ``budget`` bytes (by default
    verification's: half the machine's memory), or make more than :data:`MAX_ELEMENTS` values to
    show, before allocating anything.

    Raises:
        UsageError: naming the values or the bytes needed, the largest array and the budget.
    """
    from .verify import byte_text, default_budget

    budget = default_budget() if budget is None else budget
    needed, largest = memory_needed(calc)
    if needed > budget:
        raise UsageError(
            f"computing the values needs about {byte_text(needed)} ({largest} is the largest), over "
            f"the budget of {byte_text(budget)} (half this machine's memory); the values are for "
            "small examples: the sizes, params and MACs need no --input"
        )
    _, c_out, ho, wo = calc.output_shape
    if c_out * ho * wo > MAX_ELEMENTS:
        raise UsageError(
            f"the output has {c_out * ho * wo:,} values ({c_out}x{ho}x{wo}); the calculator shows at "
            f"most {MAX_ELEMENTS:,}: the values are for small examples, and the sizes, params and "
            "MACs need no --input"
        )


def _integral(values) -> bool:
    import numpy as np

    if values is None:
        return False
    if values.dtype == object:  # computed in Python integers
        return True
    return bool(np.all(np.equal(np.round(values), values)))


def matrix_values(values) -> list:
    """Nested lists of the values, integers where every value is whole (for JSON): exact Python
    ints of the floats, never wrapped to 64 bits."""
    rows = values.tolist()
    if not _integral(values):
        return rows

    def exact(v):
        return [exact(x) for x in v] if isinstance(v, list) else int(v)

    return exact(rows)


def matrix_text(values) -> list[str]:
    """Rows of a 2-D (or stacked 3-D) result, right-aligned; integers without a decimal point."""
    planes = values if values.ndim == 3 else values[None]
    integral = _integral(planes)

    def cell(v: float) -> str:
        return str(round(v)) if integral else f"{v:.6g}"

    cells = [[[cell(v) for v in row] for row in plane] for plane in planes]
    width = max(len(c) for plane in cells for row in plane for c in row)
    lines: list[str] = []
    for i, plane in enumerate(cells):
        if len(cells) > 1:
            lines.append(f"[{i}]")
        lines += [" ".join(c.rjust(width) for c in row) for row in plane]
    return lines


__all__ = [
    "OPS",
    "Axis",
    "Calculation",
    "apply",
    "calculate",
    "check_memory",
    "matrix",
    "matrix_text",
    "matrix_values",
    "parse_matrix",
]
