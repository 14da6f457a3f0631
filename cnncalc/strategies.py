"""Hypothesis strategies that build valid configurations by construction.

A :class:`Case` is a spec entry (a layer, or a whole network), a concrete input shape and, when
the strategy built it so, the output shape it must produce: the answer is carried beside the
configuration, never computed by the rules under test. Layer kinds build their ``examples()``
from :func:`windows` and :func:`shapes`; :func:`networks` draws whole random networks.
:mod:`cnncalc.testing` checks rules and kernels against them.

This module imports nothing of the engine, so that layer kinds can use it; hypothesis is
imported only when a strategy is built.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["NETWORK_STEPS", "Case", "WindowGeometry", "networks", "shapes", "windows"]

#: Names of the symbols a rank-4 input shape is written with.
_AXES = ("N", "C", "H", "W")


@dataclass(frozen=True)
class Case:
    """One configuration of a layer (or a whole network): spec entries and an input shape.

    Attributes:
        entry: the layer under test, as a spec's ``layers`` list holds it
            (``{"conv2d": {"out": 4, "kernel": 3}}``).
        input_shape: the concrete shape of the network's input.
        expected: the output shape the configuration was built to produce, when known.
        before: layers applied to the input before ``entry`` (a network's other layers).
    """

    entry: dict[str, Any]
    input_shape: tuple[int, ...]
    expected: tuple[int, ...] | None = None
    before: tuple[dict[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        # The spellings a spec accepts: a bare kind for a layer without arguments ("relu"),
        # or a mapping; sizes as any sequence of ints.
        set_ = object.__setattr__
        set_(self, "entry", _entry(self.entry, "entry"))
        set_(self, "before", tuple(_entry(e, "before") for e in self.before))
        set_(self, "input_shape", _sizes(self.input_shape, "input_shape"))
        if self.expected is not None:
            set_(self, "expected", _sizes(self.expected, "expected"))

    def symbols(self) -> dict[str, int]:
        """The input's sizes by symbol name: ``{"N": 1, "C": 3, "H": 8, "W": 8}``."""
        rank = len(self.input_shape)
        names = _AXES if rank == 4 else tuple(f"D{i}" for i in range(rank))
        return dict(zip(names, self.input_shape, strict=True))

    def spec_text(self) -> str:
        """A spec running the case, its input sizes as symbols whose defaults are the sizes."""
        sizes = self.symbols()
        symbols = ", ".join(f"{n}: {v}" for n, v in sizes.items())
        layers = "\n".join(f"  - {json.dumps(e)}" for e in (*self.before, self.entry))
        return f"symbols: {{{symbols}}}\ninput: [{', '.join(sizes)}]\nlayers:\n{layers}\n"

    def describe(self) -> str:
        """``space_to_depth {"block": 2} on input [1, 1, 3, 2]`` (with the layers before it)."""
        text = " -> ".join(_entry_text(e) for e in (*self.before, self.entry))
        return f"{text} on input {list(self.input_shape)}"


def _entry(entry: Any, what: str) -> dict[str, Any]:
    """A spec entry as a mapping: ``"relu"`` is ``{"relu": None}``."""
    if isinstance(entry, str):
        return {entry: None}
    if not isinstance(entry, dict) or not entry:
        raise TypeError(
            f'Case: {what} is a layer as a spec writes it, a kind ("relu") or a mapping '
            f'({{"conv2d": {{"out": 4, "kernel": 3}}}}); found {entry!r}'
        )
    return entry


def _sizes(shape: Any, what: str) -> tuple[int, ...]:
    try:
        sizes = tuple(shape)
    except TypeError:
        sizes = None
    if sizes is None or not all(isinstance(d, int) and not isinstance(d, bool) for d in sizes):
        raise TypeError(f"Case: {what} is a sequence of ints, such as (1, 3, 8, 8); found {shape!r}")
    return sizes


#: Keys of a spec entry that are not its kind (``name``, ``freeze``, ...).
_ENTRY_KEYS = ("name", "freeze", "from", "repeat", "first", "share", "when", "inputs")


def _entry_text(entry: dict[str, Any]) -> str:
    kinds = [k for k in entry if k not in _ENTRY_KEYS] or list(entry)
    kind, args = kinds[0], entry[kinds[0]]
    return kind if not args else f"{kind} {json.dumps(args)}"


# ---------------------------------------------------------------------------------------------
# Building blocks for layers' strategies.


@dataclass(frozen=True)
class WindowGeometry:
    """One axis of a window layer, built backwards from its output size (what :func:`windows`
    draws, for ``examples()``; a rule's window is :class:`cnncalc.layers.Window`).

    ``size = (out - 1)*stride + dilation*(kernel - 1) + 1 - pad_before - pad_after + rest`` with
    ``0 <= rest < stride``, so ``out`` is the answer by construction, not by formula.
    """

    size: int
    kernel: int
    stride: int
    pad: int
    dilation: int
    out: int


def windows(
    max_kernel: int = 5,
    max_stride: int = 3,
    max_dilation: int = 2,
    max_out: int = 6,
    pad_limit: Callable[[int], int] | None = None,
    *,
    out: int | None = None,
) -> SearchStrategy[WindowGeometry]:
    """Strategy of :class:`WindowGeometry` (one axis of a window layer) with symmetric padding.

    Args:
        max_kernel, max_stride, max_dilation, max_out: upper bounds of what is drawn.
        pad_limit: ``pad_limit(kernel)`` bounds the padding (pooling allows ``kernel // 2``).
        out: the output size, when it is given rather than drawn (networks are built backwards
            from their output).
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> WindowGeometry:
        kernel = draw(st.integers(1, max_kernel))
        stride = draw(st.integers(1, max_stride))
        dilation = draw(st.integers(1, max_dilation))
        size_out = out if out is not None else draw(st.integers(1, max_out))
        rest = draw(st.integers(0, stride - 1))
        span = (size_out - 1) * stride + dilation * (kernel - 1) + 1 + rest
        limit = pad_limit(kernel) if pad_limit else kernel
        # The input must keep at least one element: 2*pad <= span - 1.
        pad = draw(st.integers(0, max(0, min(limit, (span - 1) // 2))))
        return WindowGeometry(span - 2 * pad, kernel, stride, pad, dilation, size_out)

    return build()


def shapes(
    rank: int = 4, max_side: int = 7, max_channels: int = 6, max_batch: int = 2
) -> SearchStrategy[tuple[int, ...]]:
    """Strategy of small concrete input shapes (N, C, H, W) (or (N, features) for rank 2)."""
    from hypothesis import strategies as st

    batch = st.integers(1, max_batch)
    channels = st.integers(1, max_channels)
    if rank == 2:
        return st.tuples(batch, st.integers(1, 12))
    return st.tuples(batch, channels, *(st.integers(1, max_side) for _ in range(rank - 2)))


# ---------------------------------------------------------------------------------------------
# Whole networks, built backwards from their output so that every shape is known by
# construction (a window's input size is computed from its output size, never the reverse).

#: The steps a random network is made of.
NETWORK_STEPS = ("conv", "pool", "activation", "norm", "residual", "concat")


def networks(
    *,
    max_layers: int = 5,
    steps: Sequence[str] = NETWORK_STEPS,
    head: bool = True,
    around: SearchStrategy[Case] | None = None,
) -> SearchStrategy[Case]:
    """Strategy of whole random networks, valid by construction, as a :class:`Case`.

    Each network is a chain of ``max_layers`` steps at most: convolutions (kernel, stride,
    padding, dilation and groups drawn), max and average pools, activations, batch norms,
    residual blocks (a body of size-preserving convolutions added to the identity) and
    Inception-style concats (the identity and convolution branches); with ``head``, sometimes a
    ``flatten`` and ``linear`` classifier at the end. ``expected`` is the output shape the chain
    was built for.

    Args:
        max_layers: most steps in the chain (a residual or concat block is one step).
        steps: which kinds of step to draw from (a subset of :data:`NETWORK_STEPS`).
        head: whether a classifier head may end the network.
        around: a strategy of cases (``cases("my_layer")``): each network then has a drawn
            configuration of that layer in its middle, random steps built backwards to its
            input shape before it, and shape-preserving or channel-changing steps after it.
    """
    from hypothesis import strategies as st

    unknown = sorted(set(steps) - set(NETWORK_STEPS))
    if unknown or not steps:
        raise ValueError(f"steps must be a non-empty subset of {NETWORK_STEPS}, got {list(steps)}")

    @st.composite
    def build(draw: Any) -> Case:
        if around is not None:
            case = draw(around)
            pre = draw(st.integers(0, max(0, max_layers - 1)))
            layers, shape = _backwards(draw, case.input_shape, pre, steps)
            after: list[dict[str, Any]] = []
            end: tuple[int, ...] | None = None
            if case.expected is not None:
                after, end = _forwards(draw, case.expected, draw(st.integers(0, 2)))
            chain = [*layers, *case.before, case.entry, *after]
            return Case(chain[-1], shape, end, tuple(chain[:-1]))
        n = draw(st.integers(1, 2))
        with_head = head and draw(st.booleans())
        if with_head:
            classes = draw(st.integers(1, 5))
            c, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
            tail = [{"flatten": None}, {"linear": {"out": classes, "bias": draw(st.booleans())}}]
            final: tuple[int, ...] = (n, classes)
        else:
            c, h, w = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
            tail, final = [], (n, c, h, w)
        count = draw(st.integers(1, max_layers))
        layers, shape = _backwards(draw, (n, c, h, w), count, steps)
        chain = [*layers, *tail]
        return Case(chain[-1], shape, final, tuple(chain[:-1]))

    return build()


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _backwards(draw: Any, shape: tuple[int, ...], count: int, steps: Sequence[str]):
    """``count`` random steps ending at ``shape``: (the layers in order, their input shape)."""
    from hypothesis import strategies as st

    layers: list[dict[str, Any]] = []
    for _ in range(count):
        if len(shape) != 4:
            step = "activation"
        else:
            step = draw(st.sampled_from(list(steps)))
            if step == "concat" and shape[1] < 2:
                step = "activation"
        entries, shape = _STEPS[step](draw, shape)
        layers[:0] = entries
    return layers, shape


def _step_conv(draw: Any, shape: tuple[int, ...]):
    from hypothesis import strategies as st

    n, c, h, w = shape
    hw = [draw(windows(max_kernel=3, max_stride=2, max_dilation=2, out=size)) for size in (h, w)]
    groups = draw(st.sampled_from(_divisors(c)[:3]))
    c_in = groups * draw(st.integers(1, 3))
    args = {
        "out": c,
        "kernel": [hw[0].kernel, hw[1].kernel],
        "stride": [hw[0].stride, hw[1].stride],
        "padding": [hw[0].pad, hw[1].pad],
        "dilation": [hw[0].dilation, hw[1].dilation],
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    return [{"conv2d": args}], (n, c_in, hw[0].size, hw[1].size)


def _step_pool(draw: Any, shape: tuple[int, ...]):
    from hypothesis import strategies as st

    n, c, h, w = shape
    kind = draw(st.sampled_from(["max_pool2d", "avg_pool2d"]))
    hw = [
        draw(windows(max_kernel=3, max_stride=2, max_dilation=1, pad_limit=lambda k: k // 2, out=size))
        for size in (h, w)
    ]
    args = {
        "kernel": [hw[0].kernel, hw[1].kernel],
        "stride": [hw[0].stride, hw[1].stride],
        "padding": [hw[0].pad, hw[1].pad],
    }
    return [{kind: args}], (n, c, hw[0].size, hw[1].size)


def _step_activation(draw: Any, shape: tuple[int, ...]):
    from hypothesis import strategies as st

    return [{draw(st.sampled_from(["relu", "relu6", "sigmoid", "tanh", "hardswish"])): None}], shape


def _step_norm(draw: Any, shape: tuple[int, ...]):
    return [{"batch_norm2d": None}], shape


def _same_conv(draw: Any, out: int) -> dict[str, Any]:
    """A stride-1 convolution that keeps the spatial size: padding = dilation*(kernel - 1)/2."""
    from hypothesis import strategies as st

    kernel = draw(st.sampled_from([1, 3]))
    dilation = draw(st.integers(1, 2)) if kernel > 1 else 1
    return {
        "conv2d": {
            "out": out,
            "kernel": kernel,
            "padding": dilation * (kernel - 1) // 2,
            "dilation": dilation,
        }
    }


def _step_residual(draw: Any, shape: tuple[int, ...]):
    from hypothesis import strategies as st

    c = shape[1]
    width = draw(st.integers(1, 4))
    body = [_same_conv(draw, width), {"relu": None}, _same_conv(draw, c)]
    return [{"residual": {"body": body}}], shape


def _step_concat(draw: Any, shape: tuple[int, ...]):
    from hypothesis import strategies as st

    n, c, h, w = shape
    identity = draw(st.integers(1, c - 1))  # channels the identity branch brings
    widths: list[int] = []
    left = c - identity
    while left:
        widths.append(draw(st.integers(1, left)))
        left -= widths[-1]
    branches = [[], *([_same_conv(draw, width)] for width in widths)]
    return [{"concat": {"branches": branches}}], (n, identity, h, w)


_STEPS: dict[str, Callable[[Any, tuple[int, ...]], tuple[list[dict[str, Any]], tuple[int, ...]]]] = {
    "conv": _step_conv,
    "pool": _step_pool,
    "activation": _step_activation,
    "norm": _step_norm,
    "residual": _step_residual,
    "concat": _step_concat,
}


def _forwards(draw: Any, shape: tuple[int, ...], count: int):
    """``count`` steps after a given shape that keep its spatial size (activations, residual
    blocks, 1x1 or padded convolutions): (the layers, the output shape)."""
    from hypothesis import strategies as st

    layers: list[dict[str, Any]] = []
    for _ in range(count):
        if len(shape) != 4:
            entries, _ = _step_activation(draw, shape)
        elif draw(st.booleans()):
            out = draw(st.integers(1, 4))
            entries, shape = [_same_conv(draw, out)], (shape[0], out, *shape[2:])
        else:
            entries, _ = draw(st.sampled_from([_step_activation, _step_residual]))(draw, shape)
        layers.extend(entries)
    return layers, shape


def __getattr__(name: str) -> Any:
    if name == "Window":
        import warnings

        warnings.warn(
            "cnncalc.testing.Window is now cnncalc.testing.WindowGeometry (what windows() draws for "
            "examples()); a layer's windows() rule returns cnncalc.layers.Window",
            DeprecationWarning,
            stacklevel=2,
        )
        return WindowGeometry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
