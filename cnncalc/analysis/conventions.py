"""Other tools' counting conventions, so that their numbers can be reproduced and explained.

Each tool's "MACs" (or "FLOPs", "mult-adds") is, per layer, a sum of terms computed from the
analysis: the layer's own multiply-accumulates, its output or input elements, its parameters
times the batch, ... A convention is a table from layer kind to its terms, with a default for
kinds it does not list; it is declared once, below, as data, from each tool's source. Measured
with the tools themselves on torchvision's models at 1x3x224x224 (torch 2.14.1, torchvision
0.29.1, torchinfo 1.8.0, ptflops 0.7.5, fvcore 0.1.5), the tables reproduce them to the integer:

==============  =============  =============  =============  =============
convention      ResNet-50      MobileNet v2   EfficientNet   ConvNeXt-T
                                              B0
==============  =============  =============  =============  =============
cnncalc         4,089,184,256  300,774,272    385,814,752    4,455,531,264
torchinfo       4,089,238,376  300,809,384    385,867,108    322,371,592
ptflops         4,132,436,968  320,362,728*   410,196,896    4,488,347,368
ptflops-aten    4,089,185,256  300,775,272    385,825,092    4,468,966,888
fvcore          4,111,512,576  314,193,216    401,659,392    4,470,437,376
fvcore-train    4,144,854,528  334,227,552    421,872,480    4,470,437,376
==============  =============  =============  =============  =============

``fvcore`` is a model in eval mode, the way fvcore is called to count inference; ``fvcore-train``
one in training mode (a model as built), where fvcore counts a batch norm as a normalisation
with batch statistics.

ptflops adds a module's hook and a patched functional: a ReLU, GELU, pooling or upsampling
module counts twice (torchvision's ResNet, VGG, AlexNet, ConvNeXt), a functional call once. A
spec does not say which a framework model uses; the table takes modules, so networks calling the
functional directly differ by those elements (*: MobileNet v2's ``F.adaptive_avg_pool2d``,
ptflops prints 62,720 fewer; GoogLeNet's ``F.relu``: 3,226,160 fewer).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..core import dims
from ..core.engine import Analysis, LayerResult, _totals


def _bias(r: LayerResult) -> bool:
    return r.shares is None and r.params_by_role()["bias"] != 0


def _affine(r: LayerResult) -> bool:
    """A normalisation with a learnt scale and shift (``affine``)."""
    return r.shares is None and r.params_by_role()["norm"] != 0


#: The quantities a convention adds up, per layer.
TERMS: dict[str, Callable[[LayerResult], Any]] = {
    "macs": lambda r: r.macs,
    "out": lambda r: dims.prod(r.output_shape),
    "in": lambda r: dims.prod(r.input_shapes[0]),
    # one addition per output element when the layer has a bias
    "bias": lambda r: dims.prod(r.output_shape) if _bias(r) else 0,
    # one more operation per input element when a normalisation has a scale and shift
    "affine_in": lambda r: dims.prod(r.input_shapes[0]) if _affine(r) else 0,
    # an interpolation's points per output element: 1 nearest, 4 bilinear (fvcore's upsampling)
    "interpolation": lambda r: dims.mul(
        4 if getattr(r.layer, "mode", "nearest") == "bilinear" else 1, dims.prod(r.output_shape)
    ),
    # parameters times the first output axis (torchinfo: the batch)
    "params_x_batch": lambda r: dims.mul(r.params, r.output_shape[0]),
    # parameters times batch and output positions (torchinfo's convolutions)
    "params_x_positions": lambda r: dims.mul(r.params, r.output_shape[0], *r.output_shape[2:]),
}

_CONVS = ("conv2d", "depthwise_conv2d", "separable_conv2d", "conv_transpose2d")
_POOLS = ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "global_avg_pool2d")

#: fvcore's rules shared by both modes: conv, linear (bias excluded), layer norm (4 per
#: element, 5 with affine), adaptive average pooling (1 per input element), upsampling.
_FVCORE = {
    "*": [("macs", 1)],
    "layer_norm": [("in", 4), ("affine_in", 1)],
    "layer_norm2d": [("in", 4), ("affine_in", 1)],
    "adaptive_avg_pool2d": [("in", 1)],
    "global_avg_pool2d": [("in", 1)],
    "upsample": [("interpolation", 1)],
}

#: convention -> {layer kind or "*" (every other kind) -> [(term, multiplier), ...]}
CONVENTIONS: dict[str, dict[str, list[tuple[str, int]]]] = {
    "cnncalc": {"*": [("macs", 1)]},
    "torchvision": {"*": [("macs", 1)]},
    "torchinfo": {
        "*": [("params_x_batch", 1)],
        **{k: [("params_x_positions", 1)] for k in _CONVS},
        # a parameter named neither weight nor bias (ConvNeXt's layer_scale) is not counted
        "layer_scale": [],
    },
    "ptflops": {
        "*": [("macs", 1), ("bias", 1)],
        # nn.BatchNorm2d's and nn.LayerNorm's hook: 1 per element, 2 with `affine`; nn.LayerNorm
        # has no `affine` attribute (it is `elementwise_affine`), so it counts 1
        "batch_norm2d": [("in", 1), ("affine_in", 1)],
        "layer_norm": [("in", 1)],
        # torchvision's LayerNorm2d is a subclass, and ptflops matches the exact module class
        "layer_norm2d": [],
        "relu": [("out", 2)],
        "gelu": [("out", 2)],
        "leaky_relu": [("out", 1)],
        "relu6": [("out", 1)],
        "silu": [("out", 1)],
        "softmax": [("in", 1)],
        "upsample": [("out", 2)],
        **{k: [("in", 2)] for k in _POOLS},
    },
    "ptflops-aten": {"*": [("macs", 1), ("bias", 1)]},
    # eval mode: batch norm 1 per element, 2 with affine
    "fvcore": {**_FVCORE, "batch_norm2d": [("in", 1), ("affine_in", 1)]},
    # training mode: batch norm with batch statistics, 4 per element, 5 with affine
    "fvcore-train": {**_FVCORE, "batch_norm2d": [("in", 4), ("affine_in", 1)]},
}

#: One line per convention, for reports.
DESCRIPTIONS = {
    "cnncalc": "multiply-accumulates of conv, linear and matmul layers, bias excluded",
    "torchvision": "torchvision's published _ops: conv, linear and matmul multiply-accumulates, "
    "bias excluded",
    "torchinfo": "torchinfo 1.8.0 mult-adds: conv (weight + bias) x N x H_out x W_out; "
    "other layers' weight and bias parameters x N",
    "ptflops": "ptflops 0.7.5 (pytorch backend, batch 1): conv and linear with a bias addition per "
    "output; batch norm 1 per element, 2 with affine; layer norm 1 (LayerNorm2d 0); ReLU, GELU, "
    "pooling and upsampling modules twice (hook and functional); ReLU6, SiLU, softmax once",
    "ptflops-aten": "ptflops 0.7.5 (aten backend): conv and linear with a bias addition per output",
    "fvcore": "fvcore 0.1.5, model in eval mode: conv and linear without bias; batch norm 1 per "
    "element, 2 with affine; layer norm 4, 5 with affine; adaptive average pooling 1 per input "
    "element; upsampling 1 (nearest) or 4 (bilinear) per output element",
    "fvcore-train": "fvcore 0.1.5, model in training mode: as fvcore, but batch norm 4 per element, "
    "5 with affine",
}


@dataclasses.dataclass(frozen=True)
class Counted(Analysis):
    """An analysis whose MACs are counted as another tool counts them.

    ``original`` is the analysis with cnncalc's own counts: what counts FLOPs (the training
    step's among them) reads, since a convention changes the MACs column only.
    """

    convention: str = "cnncalc"
    original: Analysis | None = None


def original(a: Analysis) -> Analysis:
    """``a`` with cnncalc's own counts (itself unless a convention was applied)."""
    return a.original if isinstance(a, Counted) and a.original is not None else a


def layer_count(r: LayerResult, convention: str) -> Any:
    """What ``convention`` counts for one layer (None when its cost is unknown)."""
    if not r.cost_known:
        return None
    table = CONVENTIONS[convention]
    terms = table.get(r.kind, table["*"])
    return dims.add(0, *(dims.mul(k, TERMS[t](r)) for t, k in terms))


#: Kinds whose count by a peer tool is not known: how fvcore, ptflops and torchinfo count
#: attention depends on how the model calls it (torchvision's nn.MultiheadAttention runs a
#: fused kernel in inference that fvcore does not see; a class token or a position embedding
#: is a parameter of its parent module, which torchinfo multiplies by the batch or not).
ATTENTION_KINDS = frozenset(
    {"matmul", "class_token", "position_embedding", "add_constant", "scale", "select", "reshape", "slice"}
)
#: The conventions that read every kind (cnncalc's own, and torchvision's published counts).
ALL_KINDS = ("cnncalc", "torchvision")


def apply(a: Analysis, convention: str) -> Analysis:
    """``a`` with each layer's MACs (and the total) counted as ``convention`` counts them; params,
    FLOPs and everything derived from them stay cnncalc's (:func:`original` gives them back).

    Raises:
        KeyError: for an unknown convention (the command line offers only known ones).
        UsageError: a peer tool's convention on a network with attention's layer kinds, which
            that tool's count is not known for.
    """
    base = original(a)
    if convention == "cnncalc":
        return base
    if convention not in ALL_KINDS:
        unknown = [r for r in base.layers if r.kind in ATTENTION_KINDS]
        if unknown:
            from ..errors import UsageError

            kinds = ", ".join(sorted({r.kind for r in unknown}))
            raise UsageError(
                f"the {convention} convention is known for convolutional networks: how {convention} "
                f"counts attention and tokens depends on how the model calls them, so layer "
                f"{unknown[0].name!r} ({unknown[0].kind}) has no count in it (kinds here: {kinds}); "
                f"use --convention torchvision or cnncalc"
            )
    layers = tuple(dataclasses.replace(r, macs=layer_count(r, convention)) for r in base.layers)
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(Analysis)}
    fields.update(layers=layers, totals=_totals(layers))
    return Counted(**fields, convention=convention, original=base)
