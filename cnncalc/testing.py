"""Property testing of layers: hypothesis strategies and the contract every layer must meet.

A layer kind (cnncalc's own, or a custom one registered with :func:`cnncalc.layers.register`)
provides ``examples()``: a hypothesis strategy of :class:`Case`, each a spec entry for the layer,
a concrete input shape and, where the strategy built it by construction, the output shape the
layer must produce. :func:`check_layer` then checks, for one case:

1. the symbolic rules (sizes left open) evaluated at the case's sizes equal the rules run on
   integers, layer by layer: shape, params, MACs, FLOPs;
2. the output shape equals the one the case was built for;
3. the reference kernel accepts the predicted output shape (its own arithmetic agrees), counts
   the predicted MACs, and accepts weights of the predicted parameter count.

Typical use in a test module::

    from hypothesis import given
    from cnncalc.testing import check_layer, cases

    @given(cases("my_layer"))
    def test_my_layer(case):
        check_layer(case)

hypothesis is imported only by the strategies, when they are built.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .engine import analyze, evaluate_at
from .errors import CnncalcError
from .spec import parse_spec

#: Names of the spatial symbols a case's input shape is written with.
_AXES = ("N", "C", "H", "W")


@dataclass(frozen=True)
class Case:
    """One configuration of a layer: its spec entry and a concrete input shape.

    ``entry`` is what a spec's ``layers`` list holds (``{"conv2d": {"out": 4, "kernel": 3}}``);
    ``expected`` is the output shape the configuration was built to produce, when known.
    """

    entry: dict[str, Any]
    input_shape: tuple[int, ...]
    expected: tuple[int, ...] | None = None
    before: tuple[dict[str, Any], ...] = field(default=())  # layers that prepare the input

    def spec_text(self) -> str:
        """A spec running the case, its input sizes as symbols whose defaults are the sizes."""
        names = [_AXES[i] if len(self.input_shape) == 4 else f"D{i}" for i in range(len(self.input_shape))]
        symbols = ", ".join(f"{n}: {v}" for n, v in zip(names, self.input_shape, strict=True))
        layers = "\n".join(f"  - {json.dumps(e)}" for e in (*self.before, self.entry))
        return f"symbols: {{{symbols}}}\ninput: [{', '.join(names)}]\nlayers:\n{layers}\n"


def check_layer(case: Case, *, seed: int = 0) -> None:
    """Check the contract of one case (see the module docstring).

    Raises:
        AssertionError: naming the layer and what disagrees.
    """
    from .verify import verify

    spec = parse_spec(case.spec_text(), "<case>")
    concrete = analyze(spec)
    try:
        symbolic = analyze(spec, symbolic=True)
    except CnncalcError:
        symbolic = None  # the rules need a concrete size somewhere (a repeat, a split)
    values = concrete.symbols
    if symbolic is not None:
        for s, c in zip(symbolic.layers, concrete.layers, strict=True):
            got = tuple(evaluate_at(d, values) for d in s.output_shape)
            assert got == c.output_shape, f"{c.name}: symbolic shape {got} != {c.output_shape}"
            for what in ("params", "macs", "flops"):
                sv, cv = evaluate_at(getattr(s, what), values), getattr(c, what)
                assert sv == cv, f"{c.name}: symbolic {what} {sv} != {cv}"
    last = concrete.layers[-1]
    if case.expected is not None:
        assert last.output_shape == case.expected, (
            f"{last.name}: output {last.output_shape}, built for {case.expected}"
        )
    result = verify(concrete, seed=seed)
    for check in result.layers:
        assert check.ok, (
            f"{check.name} ({check.kind}): {check.error or ''} shape {check.predicted_shape} vs "
            f"{check.observed_shape}, MACs {check.predicted_macs} vs {check.counted_macs}, "
            f"params {check.predicted_params} vs {check.allocated_params}"
        )


def cases(kind: str):
    """The hypothesis strategy of :class:`Case` for a registered layer kind."""
    from .layers import get

    return get(kind).examples()


# ---------------------------------------------------------------------------------------------
# Building blocks for layers' strategies.


@dataclass(frozen=True)
class Window:
    """One axis of a window layer, built backwards from its output size.

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
    max_kernel: int = 5, max_stride: int = 3, max_dilation: int = 2, max_out: int = 6, pad_limit=None
):
    """Strategy of :class:`Window` with symmetric padding.

    ``pad_limit(kernel)`` bounds the padding (pooling allows at most ``kernel // 2``).
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw):
        kernel = draw(st.integers(1, max_kernel))
        stride = draw(st.integers(1, max_stride))
        dilation = draw(st.integers(1, max_dilation))
        out = draw(st.integers(1, max_out))
        rest = draw(st.integers(0, stride - 1))
        span = (out - 1) * stride + dilation * (kernel - 1) + 1 + rest
        limit = pad_limit(kernel) if pad_limit else kernel
        # The input must keep at least one element: 2*pad <= span - 1.
        pad = draw(st.integers(0, max(0, min(limit, (span - 1) // 2))))
        return Window(span - 2 * pad, kernel, stride, pad, dilation, out)

    return build()


def shapes(rank: int = 4, max_side: int = 7, max_channels: int = 6, max_batch: int = 2):
    """Strategy of small concrete input shapes (N, C, H, W) (or (N, features) for rank 2)."""
    from hypothesis import strategies as st

    batch = st.integers(1, max_batch)
    channels = st.integers(1, max_channels)
    if rank == 2:
        return st.tuples(batch, st.integers(1, 12))
    return st.tuples(batch, channels, *(st.integers(1, max_side) for _ in range(rank - 2)))
