"""What one training step costs: memory and FLOPs, by stated rules.

Memory, at a data type (every tensor at that type; mixed precision's float32 master weights are
not modelled):

- ``weights``: parameters and buffers;
- ``gradients``: one per trainable parameter;
- ``optimizer_state``: per trainable parameter, 0 values for ``sgd``, 1 for ``momentum`` (the
  velocity), 2 for ``adam`` (first and second moments);
- ``saved_activations``: what the forward pass keeps for the backward pass, taken as the input
  and every layer output (what a framework saves varies by layer: a ReLU keeps its output, a
  convolution its input; keeping every tensor once is the usual estimate, torchinfo's
  "forward/backward pass size" counts the outputs twice);
- ``backward_workspace``: the gradients of the activations alive at once during the backward
  pass, taken as the largest (output + inputs) of one layer;
- ``total``: the sum.

FLOPs of one step: the forward FLOPs, plus per layer a backward rule (:func:`backward_flops`):

- a layer with multiply-accumulates (convolution, linear): the gradient of its input costs
  ``2*MACs`` FLOPs, when a gradient must reach its input (some layer before it trains); the
  gradient of its weights ``2*MACs`` FLOPs, plus one addition per output element for a bias,
  when it trains;
- any other layer: its forward FLOPs again, when a gradient flows through it (the derivative
  of an elementwise function, a pooling's routing, a normalisation's); nothing otherwise.

The optimizer's own update (a few operations per parameter) is not counted.

The step is counted by cnncalc's rules whatever MACs convention the analysis carries
(:func:`~cnncalc.analysis.conventions.apply` changes the MACs column only): another tool's
"MACs" adds norms, activations or parameter counts that are not multiply-accumulates, and
doubling them would not be a backward pass.

A layer whose cost is unknown (``opaque``) has unknown backward FLOPs (None) and is taken not to
train; the step's figures are then those of the other layers (``Totals.unknown_cost`` names it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import dims
from ..core.dims import Dim
from ..core.engine import Analysis, LayerResult
from .conventions import original
from .lifetimes import largest
from .memory import element_size

#: Values of optimizer state kept per trainable parameter.
OPTIMIZER_STATE = {"sgd": 0, "momentum": 1, "adam": 2}


@dataclass(frozen=True)
class LayerTraining:
    name: str
    backward_flops: Dim | None  # None when the layer's cost is unknown
    input_gradient: bool  # a gradient reaches this layer's input
    weight_gradient: bool  # this layer's weights get a gradient


@dataclass(frozen=True)
class Training:
    dtype: str
    optimizer: str
    weights_bytes: Dim
    gradient_bytes: Dim
    optimizer_bytes: Dim
    saved_activation_bytes: Dim
    backward_workspace_bytes: Dim
    total_bytes: Dim
    forward_flops: Dim
    backward_flops: Dim
    step_flops: Dim  # forward + backward
    layers: tuple[LayerTraining, ...]


def backward_flops(r: LayerResult, input_gradient: bool) -> Dim | None:
    """The backward FLOPs of one layer by the module's rule (None when its cost is unknown)."""
    if not r.cost_known:
        return None
    weight_gradient = r.trainable and r.params != 0 and r.shares is None
    if r.macs != 0:
        total = 0
        if input_gradient:
            total = dims.add(total, dims.mul(2, r.macs))
        if weight_gradient or (r.trainable and r.shares is not None):
            total = dims.add(total, dims.mul(2, r.macs))
            if r.params_by_role()["bias"] != 0:
                total = dims.add(total, dims.prod(r.output_shape))
        return total
    return r.flops if (input_gradient or weight_gradient) else 0


def training(a: Analysis, dtype: str = "float32", optimizer: str = "adam") -> Training:
    """Memory and FLOPs of one training step of ``a`` (see the module's rules), by cnncalc's
    counts even when ``a``'s MACs follow another tool's convention."""
    a = original(a)
    if optimizer not in OPTIMIZER_STATE:
        raise ValueError(f"unknown optimizer {optimizer!r}")
    b = element_size(dtype)
    # Whether a gradient flows out of each tensor: some layer at or before it trains.
    grad = {"input": False}
    owners = {r.name: r for r in a.layers}
    rows = []
    for r in a.layers:
        into = any(grad[i] for i in r.inputs)
        trains = (
            r.cost_known
            and r.trainable
            and (r.params != 0 or (r.shares is not None and owners[r.shares].params != 0))
        )
        grad[r.name] = into or trains
        rows.append(LayerTraining(r.name, backward_flops(r, into), into, bool(trains)))
    t = a.totals
    weights = dims.mul(dims.add(t.params, t.buffers), b)
    gradients = dims.mul(t.trainable_params, b)
    state = dims.mul(t.trainable_params, OPTIMIZER_STATE[optimizer], b)
    saved = dims.mul(dims.add(dims.prod(a.input_shape), t.activations), b)
    working = [
        dims.mul(dims.add(dims.prod(r.output_shape), *(dims.prod(x) for x in r.input_shapes)), b)
        for r in a.layers
    ]
    workspace = largest(working) if working else 0
    back = dims.add(*(row.backward_flops for row in rows if row.backward_flops is not None), 0)
    return Training(
        dtype=dtype,
        optimizer=optimizer,
        weights_bytes=weights,
        gradient_bytes=gradients,
        optimizer_bytes=state,
        saved_activation_bytes=saved,
        backward_workspace_bytes=workspace,
        total_bytes=dims.add(weights, gradients, state, saved, workspace),
        forward_flops=t.flops,
        backward_flops=back,
        step_flops=dims.add(t.flops, back),
        layers=tuple(rows),
    )
