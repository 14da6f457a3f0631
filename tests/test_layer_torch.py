"""Each layer's forward (the wiring of its arguments into its kernel) against PyTorch.

Optional: skipped when torch is not installed. The configurations are each layer's own
strategy; the oracle is torch.nn.functional applied to the same arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import parse_spec
from cnncalc.testing import cases

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _run(case, rng):
    """The last layer of a case run on random arrays: (inputs, weights, output, layer)."""
    r = analyze(parse_spec(case.spec_text(), "<case>")).layers[-1]
    xs = [rng.standard_normal(case.input_shape).astype(np.float32)]
    weights = {}
    for name, p in r.weights:
        shape = tuple(int(d) for d in p.shape)
        a = rng.standard_normal(shape).astype(np.float32)
        weights[name] = np.abs(a) + 0.5 if p.init == "positive" else a
    out = np.empty(tuple(int(d) for d in r.output_shape), np.float32)
    r.layer.forward(xs, weights, out)
    return xs, weights, out, r.layer


def _t(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def _conv(layer, x, w):
    (top, bottom), (left, right) = layer.pads(x.shape)
    xp = F.pad(_t(x), (left, right, top, bottom))
    return F.conv2d(xp, _t(w["weight"]), _t(w.get("bias")), layer.stride, 0, layer.dilation, layer.groups)


def _pool(layer, x, fn, **kw):
    return fn(_t(x), layer.kernel, layer.strides, layer.padding, ceil_mode=layer.ceil_mode, **kw)


def _sep(layer, x, w):
    dw = layer.depthwise(x.shape, False)
    (top, bottom), (left, right) = dw.pads(x.shape)
    xp = F.pad(_t(x), (left, right, top, bottom))
    mid = F.conv2d(xp, _t(w["depthwise.weight"]), None, layer.stride, 0, layer.dilation, x.shape[1])
    return F.conv2d(mid, _t(w["pointwise.weight"]), _t(w.get("pointwise.bias")))


def _axis(m) -> int:
    return -1 if m.axis is None else m.axis  # no axis written: the last, as nn.Linear


ORACLES = {
    "conv2d": _conv,
    "depthwise_conv2d": lambda m, x, w: _conv(m.depthwise(x.shape, m.bias), x, w),
    "separable_conv2d": _sep,
    "conv_transpose2d": lambda m, x, w: F.conv_transpose2d(
        _t(x), _t(w["weight"]), _t(w.get("bias")), m.stride, m.padding, m.output_padding, m.groups, m.dilation
    ),
    "max_pool2d": lambda m, x, w: _pool(m, x, F.max_pool2d, dilation=m.dilation),
    "avg_pool2d": lambda m, x, w: _pool(m, x, F.avg_pool2d, count_include_pad=m.count_include_pad),
    "adaptive_avg_pool2d": lambda m, x, w: F.adaptive_avg_pool2d(_t(x), m.output),
    "global_avg_pool2d": lambda m, x, w: F.adaptive_avg_pool2d(_t(x), 1),
    "linear": lambda m, x, w: F.linear(
        _t(x).movedim(_axis(m), -1), _t(w["weight"]), _t(w.get("bias"))
    ).movedim(-1, _axis(m)),
    "flatten": lambda m, x, w: torch.flatten(_t(x), m.start, m.end),
    "batch_norm2d": lambda m, x, w: F.batch_norm(
        _t(x),
        _t(w["running_mean"]),
        _t(w["running_var"]),
        _t(w.get("weight")),
        _t(w.get("bias")),
        False,
        0.0,
        m.eps,
    ),
    "local_response_norm": lambda m, x, w: F.local_response_norm(_t(x), m.size, m.alpha, m.beta, m.k),
    "relu": lambda m, x, w: F.relu(_t(x)),
    "relu6": lambda m, x, w: F.relu6(_t(x)),
    "leaky_relu": lambda m, x, w: F.leaky_relu(_t(x), m.negative_slope),
    "sigmoid": lambda m, x, w: torch.sigmoid(_t(x)),
    "tanh": lambda m, x, w: torch.tanh(_t(x)),
    "hardsigmoid": lambda m, x, w: F.hardsigmoid(_t(x)),
    "hardswish": lambda m, x, w: F.hardswish(_t(x)),
    "silu": lambda m, x, w: F.silu(_t(x)),
    "gelu": lambda m, x, w: F.gelu(_t(x)),
    "softmax": lambda m, x, w: F.softmax(_t(x), m.dim),
    "dropout": lambda m, x, w: _t(x),
    "identity": lambda m, x, w: _t(x),
    "upsample": lambda m, x, w: F.interpolate(
        _t(x),
        size=tuple(int(d) for d in (m.size or (x.shape[2] * m.scale[0], x.shape[3] * m.scale[1]))),
        mode=m.mode,
        **({"align_corners": m.align_corners} if m.mode == "bilinear" else {}),
    ),
    "zero_pad2d": lambda m, x, w: F.pad(_t(x), (m.pads()[2], m.pads()[3], m.pads()[0], m.pads()[1])),
    "chunk": lambda m, x, w: torch.chunk(_t(x), m.chunks, m.dim)[m.index],
    "channel_shuffle": lambda m, x, w: F.channel_shuffle(_t(x), m.groups),
    "mean": lambda m, x, w: _t(x).mean(list(m.axes), keepdim=m.keepdim),
    "permute": lambda m, x, w: _t(x).permute(*m.dims),
    "layer_norm": lambda m, x, w: F.layer_norm(
        _t(x), m.normalized(x.shape), _t(w.get("weight")), _t(w.get("bias")), m.eps
    ),
    "layer_norm2d": lambda m, x, w: _layer_norm2d(m, x, w),
    "layer_scale": lambda m, x, w: _t(w["layer_scale"]) * _t(x),  # broadcast as torchvision's (C, 1, 1)
    "stochastic_depth": lambda m, x, w: _stochastic_depth(m, x),
    "reshape": lambda m, x, w: _t(x).reshape(*m.shape),
    "select": lambda m, x, w: _t(x).select(m.axis, m.index),
    "scale": lambda m, x, w: _t(x) * m.factor,
    "class_token": lambda m, x, w: torch.cat([_t(w["token"]).expand(x.shape[0], -1, -1), _t(x)], dim=1),
    "position_embedding": lambda m, x, w: _t(x) + _t(w["embedding"]),
    "slice": lambda m, x, w: _t(x).narrow(m.axis, m.start, m.end - m.start)[
        (slice(None),) * (m.axis % x.ndim) + (slice(None, None, m.step),)
    ],
    "add_constant": lambda m, x, w: _t(x) + torch.zeros(tuple(m.shape)),
}


def _layer_norm2d(m, x, w):
    """torchvision's own LayerNorm2d module, its parameters set to the layer's."""
    from torchvision.models.convnext import LayerNorm2d

    module = LayerNorm2d(x.shape[1], eps=m.eps, elementwise_affine=m.affine)
    if m.affine:
        module.weight.data, module.bias.data = _t(w["weight"]), _t(w["bias"])
    with torch.no_grad():
        return module(_t(x))


def _stochastic_depth(m, x):
    from torchvision.ops import stochastic_depth

    return stochastic_depth(_t(x), m.p, m.mode, training=False)


@pytest.mark.parametrize("kind", sorted(ORACLES))
@settings(max_examples=12)
@given(data=st.data())
def test_forward_matches_torch(kind, data):
    case = data.draw(cases(kind), label=kind)
    xs, weights, out, layer = _run(case, np.random.default_rng(0))
    expected = ORACLES[kind](layer, xs[0], weights).numpy()
    np.testing.assert_allclose(out, expected, rtol=2e-4, atol=2e-5)


def test_every_single_input_kind_has_an_oracle():
    from cnncalc.layers import BUILTIN_KINDS, REGISTRY

    assert {k for k, c in REGISTRY.items() if c.arity == 1 and k in BUILTIN_KINDS} == set(ORACLES)
