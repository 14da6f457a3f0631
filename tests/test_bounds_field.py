"""The last feature map and its receptive field in ``cnncalc bounds``, on networks with a
global branch inside (squeeze-and-excitation, a pooled ASPP branch): hand arithmetic, the layer
``solve --shape`` picks, and torch's gradients where installed."""

from __future__ import annotations

import pytest

from cnncalc.analysis.bounds import bounds
from cnncalc.analysis.inverse import solve_shape
from cnncalc.lang.spec import load_spec, parse_spec

from .helpers import SPECS

SE_NET = """symbols: {H: 32}
input: [1, 8, H, H]
blocks:
  se:
    layers:
      - adaptive_avg_pool2d: {output: 1, name: pool}
      - conv2d: {out: 4, kernel: 1, name: fc1}
      - relu
      - conv2d: {out: input.C, kernel: 1, name: fc2}
      - sigmoid
      - multiply: {inputs: [input, sigmoid1], name: scale}
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1, name: stem}
  - se: {name: se}
  - conv2d: {out: 8, kernel: 3, padding: 1, name: last}
  - global_avg_pool2d
"""

ASPP_NET = """symbols: {H: 224, W: 224}
input: [1, 3, H, W]
blocks:
  aspp:
    layers:
      - concat:
          branches:
            - [{conv2d: {out: 4, kernel: 1, name: b0}}]
            - [{conv2d: {out: 4, kernel: 3, padding: 2, dilation: 2, name: b1}}]
            - [{adaptive_avg_pool2d: {output: 1, name: gp}}, {conv2d: {out: 4, kernel: 1, name: b2}},
               {upsample: {size: [input.H, input.W], name: b2up}}]
          name: cat
      - conv2d: {out: 8, kernel: 1, name: project}
layers:
  - conv2d: {out: 8, kernel: 3, stride: 2, padding: 1, name: backbone}
  - aspp: {name: aspp}
  - upsample: {scale: 2, name: final_up}
"""


def test_a_squeeze_and_excitation_block_does_not_end_the_feature_maps():
    b = bounds(parse_spec(SE_NET, "se.yaml"))
    # two 3x3 convolutions of stride 1: 3 + 2 = 5 pixels a position, jump 1; the SE scale
    # gives each position the whole input as well, through its pooled vector
    assert b.field_layer == "last"
    assert [(ax.size, ax.jump, ax.whole, ax.context) for ax in b.field] == [(5, 1, False, True)] * 2


def test_without_the_block_the_same_field_and_no_context():
    b = bounds(parse_spec(SE_NET.replace("  - se: {name: se}\n", ""), "plain.yaml"))
    assert b.field_layer == "last"
    assert [(ax.size, ax.context) for ax in b.field] == [(5, False)] * 2


def test_aspp_pooled_branch():
    b = bounds(parse_spec(ASPP_NET, "aspp.yaml"))
    assert b.field_layer == "final_up"
    h, _ = b.field
    # backbone 3x3/2: 3 pixels, jump 2, first at -1. b1 3x3 dilated 2 (5 wide) on it:
    # 3 + (5 - 1)*2 = 11 pixels from -1 - 2*2 = -5; b0 (1x1) keeps 3 from -1: the concat spans
    # -5 .. 5, 11 pixels (the pooled branch b2up excluded). The final x2 upsampling halves the
    # jump: 2/2 = 1 (the pooled branch's own jump, 224, is not the field's).
    assert (h.size, h.jump, h.start, h.context) == (11, 1, -5, True)
    assert h.size_range == (3, 11)


@pytest.mark.parametrize(
    ("net", "layer"),
    [
        # torchvision's module names of each network's last block before the pooling
        ("mobilenet_v3_large", "features.16.2"),
        ("efficientnet", "features.8.2"),
        ("efficientnet_v2", "features.7.2"),
        ("regnet_y", "trunk_output.block4.block4-5.activation"),
        ("resnet50", "layer4.2.relu3"),
    ],
)
def test_the_last_feature_map_is_the_one_solve_picks(net, layer):
    spec = load_spec(SPECS / f"{net}.yaml")
    b = bounds(spec)
    assert b.field_layer == layer == solve_shape(spec, (7, 7))[0].layer


def test_the_field_of_the_spatial_path_against_torch_gradients():
    """MobileNetV3-Large with its squeeze-and-excitation blocks taken out: the input pixels
    whose gradient reaches the centre position of the last feature map. Weights are positive
    averages and the input all ones, so that no activation is zero and every pixel of the field
    has a gradient. The same 595 as cnncalc's field with the blocks in (they add no pixels)."""
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    from torchvision.ops.misc import SqueezeExcitation

    b = bounds(load_spec(SPECS / "mobilenet_v3_large.yaml"))
    h, w = b.field
    assert (h.size, h.jump, h.context) == (595, 32, True) and w.size == 595

    model = tv.models.mobilenet_v3_large().eval()
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, SqueezeExcitation):
                setattr(module, name, torch.nn.Identity())
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.fill_(1.0 / module.weight[0].numel())
            elif isinstance(module, torch.nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
    x = torch.ones(1, 3, 640, 640, requires_grad=True)
    y = model.features(x)  # 20 x 20 positions; the centre one (10) reads rows 23 to 617
    c = y.shape[-1] // 2
    y[0, :, c, c].sum().backward()
    rows = (x.grad[0].abs().sum(0).sum(1) > 0).nonzero().flatten()
    assert int(rows.max() - rows.min()) + 1 == 595


def test_json_names_the_context(run_cli, tmp_path):
    import json

    path = tmp_path / "se.yaml"
    path.write_text(SE_NET)
    code, out, _ = run_cli("bounds", str(path), "-f", "json")
    field = json.loads(out)["receptive_field"]
    assert code == 0 and field["layer"] == "last" and field["global_context"] is True
    assert field["height"]["size"] == 5
