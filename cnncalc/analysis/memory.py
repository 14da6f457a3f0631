"""Memory at a data type: the input, the parameters, every layer's output.

The figures are the ones torchinfo and Keras print, under assumptions stated here and in the
README:

- every tensor is stored densely at ``dtype`` (no padding, no alignment);
- ``params_bytes`` counts parameters and buffers (running statistics): what a saved model holds;
- ``activation_bytes`` counts each layer's output once, as if every output were kept (what a
  training step keeps for the backward pass, roughly); an inference pass that frees a tensor
  after its last use needs less;
- ``total_bytes`` is input + parameters + activations.

A layer whose cost is unknown (``opaque``) has a known output, so its activation bytes count;
its parameter bytes are unknown (None), and the totals' ``params_bytes`` and ``total_bytes`` are
those of the other layers (``Totals.unknown_cost`` names it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import dims
from ..core.dims import Dim
from ..core.engine import Analysis, LayerResult
from .dtypes import DTYPES


@dataclass(frozen=True)
class Memory:
    """Bytes of a network's tensors at one data type."""

    dtype: str
    bytes_per_element: int
    input_bytes: Dim
    params_bytes: Dim  # parameters and buffers
    activation_bytes: Dim  # every layer output, once
    total_bytes: Dim


def element_size(dtype: str) -> int:
    """Bytes per element of ``dtype`` (a key of :data:`DTYPES`)."""
    return DTYPES[dtype]


def memory(a: Analysis, dtype: str = "float32") -> Memory:
    """The memory totals of ``a`` at ``dtype``."""
    b = element_size(dtype)
    inp = dims.mul(dims.prod(a.input_shape), b)
    params = dims.mul(dims.add(a.totals.params, a.totals.buffers), b)
    acts = dims.mul(a.totals.activations, b)
    return Memory(dtype, b, inp, params, acts, dims.add(inp, params, acts))


def output_elements(r: LayerResult) -> Dim:
    return dims.prod(r.output_shape)


def output_bytes(r: LayerResult, dtype: str = "float32") -> Dim:
    """Bytes of the layer's output at ``dtype``."""
    return dims.mul(output_elements(r), element_size(dtype))


def params_bytes(r: LayerResult, dtype: str = "float32") -> Dim | None:
    """Bytes of the parameters and buffers the layer owns at ``dtype`` (0 when it shares,
    None when they are unknown)."""
    if r.params is None or r.buffers is None:
        return None
    return dims.mul(dims.add(r.params, r.buffers), element_size(dtype))
