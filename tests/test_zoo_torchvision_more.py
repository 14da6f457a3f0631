"""DenseNet, MnasNet, the dilated ResNet-50 and the segmentation networks on it (FCN, DeepLabV3)
and on MobileNetV3 (LR-ASPP): torchvision's published figures (its weights' metadata: num_params,
and _ops in GMACs at the weights' crop size) and torch itself (parameters of the built model, MACs
counted by forward hooks on Conv2d and Linear) at 224x224 and at odd sizes. Skipped without torch.
"""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec

from .helpers import SPECS

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
models = torchvision.models
segmentation = torchvision.models.segmentation

#: (spec, --set values, torchvision constructor, weights enum member with the published figures)
NETWORKS = {
    "densenet121": ("densenet", {}, lambda: models.densenet121(), "DenseNet121_Weights"),
    "densenet161": ("densenet", {"depth": 161}, lambda: models.densenet161(), "DenseNet161_Weights"),
    "densenet169": ("densenet", {"depth": 169}, lambda: models.densenet169(), "DenseNet169_Weights"),
    "densenet201": ("densenet", {"depth": 201}, lambda: models.densenet201(), "DenseNet201_Weights"),
    "mnasnet0_5": ("mnasnet", {"alpha": "0.5"}, lambda: models.mnasnet0_5(), "MNASNet0_5_Weights"),
    "mnasnet0_75": ("mnasnet", {"alpha": "0.75"}, lambda: models.mnasnet0_75(), "MNASNet0_75_Weights"),
    "mnasnet1_0": ("mnasnet", {}, lambda: models.mnasnet1_0(), "MNASNet1_0_Weights"),
    "mnasnet1_3": ("mnasnet", {"alpha": "1.3"}, lambda: models.mnasnet1_3(), "MNASNet1_3_Weights"),
    "resnet50_dilated": (
        "resnet50_dilated",
        {},
        lambda: models.resnet50(replace_stride_with_dilation=[False, True, True]),
        None,
    ),
    "fcn_resnet50": (
        "fcn_resnet50",
        {},
        lambda: segmentation.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=True),
        "FCN_ResNet50_Weights",
    ),
    "deeplabv3_resnet50": (
        "deeplabv3_resnet50",
        {},
        lambda: segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None, aux_loss=True),
        "DeepLabV3_ResNet50_Weights",
    ),
    "deeplabv3_resnet50 without aux": (
        "deeplabv3_resnet50",
        {"aux": 0},
        lambda: segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None, aux_loss=False),
        None,
    ),
    "lraspp_mobilenet_v3_large": (
        "lraspp_mobilenet_v3_large",
        {},
        lambda: segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None),
        "LRASPP_MobileNet_V3_Large_Weights",
    ),
}


def _weights(name: str):
    enum = getattr(models, name, None) or getattr(segmentation, name)
    return next(iter(enum))


def _crop(weights) -> int:
    preset = weights.transforms()
    size = getattr(preset, "crop_size", None) or preset.resize_size
    return size[0]


def _cnncalc(spec: str, values: dict, h: int, w: int):
    return analyze(load_spec(SPECS / f"{spec}.yaml"), {**values, "H": h, "W": w})


def _torch(build, h: int, w: int) -> tuple[int, int]:
    """Parameters of the built model and the MACs its Conv2d and Linear layers perform in a
    forward pass at ``h`` x ``w``, counted by hooks from what each one produced."""
    model = build().eval()
    macs = 0

    def conv(m, _inputs, out):
        nonlocal macs
        macs += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, _inputs, out):
        nonlocal macs
        macs += out.numel() * m.in_features

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(conv)
        elif isinstance(m, torch.nn.Linear):
            m.register_forward_hook(linear)
    with torch.no_grad():
        model(torch.zeros(1, 3, h, w))
    return sum(p.numel() for p in model.parameters()), macs


@pytest.mark.parametrize("network", [n for n, v in NETWORKS.items() if v[3]])
def test_published_figures(network):
    spec, values, _, weights_name = NETWORKS[network]
    weights = _weights(weights_name)
    size = _crop(weights)
    a = _cnncalc(spec, values, size, size)
    assert a.totals.params == weights.meta["num_params"]
    assert round(a.totals.macs / 1e9, 3) == weights.meta["_ops"]
    assert a.warnings == ()


@pytest.mark.parametrize("size", [(224, 224), (97, 131)])
@pytest.mark.parametrize("network", list(NETWORKS))
def test_torch_counts(network, size):
    spec, values, build, _ = NETWORKS[network]
    a = _cnncalc(spec, values, *size)
    assert (a.totals.params, a.totals.macs) == _torch(build, *size)


@pytest.mark.parametrize(
    ("network", "names"),
    [
        (
            "densenet121",
            ["features.denseblock1.denselayer2.conv1", "features.transition3.pool", "classifier"],
        ),
        ("mnasnet1_0", ["layers.8.0.layers.0", "layers.13.0.layers.7", "classifier.1"]),
        ("fcn_resnet50", ["backbone.layer4.2.conv3", "classifier.4", "aux_classifier.4"]),
        ("deeplabv3_resnet50", ["classifier.0.convs.4.1", "classifier.0.project.0", "classifier.4"]),
        ("lraspp_mobilenet_v3_large", ["backbone.16.0", "classifier.low_classifier", "classifier.scale.1"]),
    ],
)
def test_names_are_torchvisions_module_paths(network, names):
    spec, values, build, _ = NETWORKS[network]
    ours = {r.name for r in _cnncalc(spec, values, 224, 224).layers}
    theirs = {n for n, _ in build().named_modules()}
    for name in names:
        assert name in ours and name in theirs
