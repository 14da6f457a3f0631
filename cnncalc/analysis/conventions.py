"""Other tools' counting conventions, so that their numbers can be reproduced and explained.

Each tool's "MACs" (or "FLOPs", "mult-adds") is, per layer, a sum of terms computed from the
analysis: the layer's own multiply-accumulates, its output or input elements, its parameters
times the batch, ... A convention is a table from layer kind to its terms, with a default for
kinds it does not list; it is declared once, below, as data. The figures the tables reproduce
to the integer, measured on torchvision's ResNet-50 at 1x3x224x224 (torch 2.14.1, torchvision
0.29.1):

=====================  ================  ====================================================
convention             ResNet-50         what it counts
=====================  ================  ====================================================
cnncalc, torchvision   4,089,184,256     conv and linear multiply-accumulates, bias excluded
torchinfo 1.8.0        4,089,238,376     conv: (weight + bias) x N x H_out x W_out; other
                                         layers with parameters: parameters x N
ptflops 0.7.5          4,132,436,968     conv and linear with bias; batch norm 2 per element;
                                         ReLU and pooling counted twice (module hook and
                                         patched functional)
ptflops-aten           4,089,185,256     conv and linear (addmm) with bias
fvcore 0.1.5           4,144,854,528     conv and linear without bias; batch norm 5 per
                                         element (a model in training mode, as built);
                                         adaptive average pooling 1 per input element
=====================  ================  ====================================================

ptflops adds a module's hook and a patched functional: a ReLU or a pooling module counts twice
(torchvision's ResNet, VGG, AlexNet), a functional call once. A spec does not say which a
framework model uses, so networks calling the functional directly differ by those elements
(GoogLeNet's ``F.relu``: 3,226,160 fewer; MobileNet v2's ``F.adaptive_avg_pool2d``: 62,720).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..core import dims
from ..core.engine import Analysis, LayerResult, _totals


def _bias(r: LayerResult) -> bool:
    return r.shares is None and r.params_by_role()["bias"] != 0


#: The quantities a convention adds up, per layer.
TERMS: dict[str, Callable[[LayerResult], Any]] = {
    "macs": lambda r: r.macs,
    "out": lambda r: dims.prod(r.output_shape),
    "in": lambda r: dims.prod(r.input_shapes[0]),
    # one addition per output element when the layer has a bias
    "bias": lambda r: dims.prod(r.output_shape) if _bias(r) else 0,
    # a bias added once per output feature, whatever the batch (ptflops' linear hook)
    "bias_features": lambda r: r.output_shape[-1] if _bias(r) else 0,
    # parameters times the first output axis (torchinfo: the batch)
    "params_x_batch": lambda r: dims.mul(r.params, r.output_shape[0]),
    # parameters times batch and output positions (torchinfo's convolutions)
    "params_x_positions": lambda r: dims.mul(r.params, r.output_shape[0], *r.output_shape[2:]),
}

_CONVS = ("conv2d", "depthwise_conv2d", "separable_conv2d", "conv_transpose2d")
_POOLS = ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "global_avg_pool2d")

#: convention -> {layer kind or "*" (every other kind) -> [(term, multiplier), ...]}
CONVENTIONS: dict[str, dict[str, list[tuple[str, int]]]] = {
    "cnncalc": {"*": [("macs", 1)]},
    "torchvision": {"*": [("macs", 1)]},
    "torchinfo": {
        "*": [("params_x_batch", 1)],
        **{k: [("params_x_positions", 1)] for k in _CONVS},
    },
    "ptflops": {
        "*": [("macs", 1), ("bias", 1)],
        "linear": [("macs", 1), ("bias_features", 1)],
        "batch_norm2d": [("in", 2)],
        "relu": [("out", 2)],
        "relu6": [("out", 1)],
        **{k: [("in", 2)] for k in _POOLS},
    },
    "ptflops-aten": {"*": [("macs", 1), ("bias", 1)]},
    "fvcore": {
        "*": [("macs", 1)],
        "batch_norm2d": [("out", 5)],
        "adaptive_avg_pool2d": [("in", 1)],
        "global_avg_pool2d": [("in", 1)],
    },
}

#: One line per convention, for reports.
DESCRIPTIONS = {
    "cnncalc": "multiply-accumulates of conv and linear layers, bias excluded",
    "torchvision": "torchvision's published _ops: conv and linear multiply-accumulates, bias excluded",
    "torchinfo": "torchinfo 1.8.0 mult-adds: conv (weight + bias) x N x H_out x W_out; "
    "other layers with parameters: parameters x N",
    "ptflops": "ptflops 0.7.5 (pytorch backend): conv and linear with bias, batch norm 2 per "
    "element, ReLU and pooling counted twice",
    "ptflops-aten": "ptflops 0.7.5 (aten backend): conv and linear with bias",
    "fvcore": "fvcore 0.1.5: conv and linear without bias, batch norm 5 per element (training "
    "mode), adaptive average pooling 1 per input element",
}


def layer_count(r: LayerResult, convention: str) -> Any:
    """What ``convention`` counts for one layer (None when its cost is unknown)."""
    if not r.cost_known:
        return None
    table = CONVENTIONS[convention]
    terms = table.get(r.kind, table["*"])
    return dims.add(0, *(dims.mul(k, TERMS[t](r)) for t, k in terms))


def apply(a: Analysis, convention: str) -> Analysis:
    """``a`` with each layer's MACs (and the total) counted as ``convention`` counts them.

    Raises:
        KeyError: for an unknown convention (the command line offers only known ones).
    """
    if convention == "cnncalc":
        return a
    layers = tuple(dataclasses.replace(r, macs=layer_count(r, convention)) for r in a.layers)
    return dataclasses.replace(a, layers=layers, totals=_totals(layers))
