"""Other tools' counting conventions: the figures they print, and hand arithmetic per rule."""

from __future__ import annotations

import contextlib
import io

import pytest

from cnncalc.analysis.conventions import CONVENTIONS, DESCRIPTIONS, apply, layer_count, original
from cnncalc.analysis.training import training
from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec, parse_spec

from .helpers import SPECS

# Printed for torchvision's ResNet-50 at 1x3x224x224 (torch 2.14.1, torchvision 0.29.1)
RESNET50 = {
    "cnncalc": 4_089_184_256,
    "torchvision": 4_089_184_256,  # weights metadata _ops
    "torchinfo": 4_089_238_376,  # torchinfo 1.8.0 total_mult_adds
    "ptflops": 4_132_436_968,  # ptflops 0.7.5, default (pytorch) backend
    "ptflops-aten": 4_089_185_256,  # ptflops 0.7.5, aten backend
    "fvcore": 4_111_512_576,  # fvcore 0.1.5 FlopCountAnalysis(resnet50().eval(), x).total()
    "fvcore-train": 4_144_854_528,  # FlopCountAnalysis(resnet50(), x): training mode, as built
}


@pytest.mark.parametrize("convention", sorted(RESNET50))
def test_resnet50_figures(convention):
    a = analyze(load_spec(SPECS / "resnet50.yaml"))
    assert apply(a, convention).totals.macs == RESNET50[convention]


def test_every_convention_is_described_and_tested():
    assert set(CONVENTIONS) == set(DESCRIPTIONS) == set(RESNET50)


# Printed by the tools on torchvision's models in eval mode at 1x3x224x224 (fvcore-train: the
# model as built); test_against_the_installed_tools reruns the tools where they are installed.
PRINTED = {
    "convnext": {
        "cnncalc": 4_455_531_264,
        "torchinfo": 322_371_592,
        "ptflops": 4_488_347_368,
        "ptflops-aten": 4_468_966_888,
        "fvcore": 4_470_437_376,
        "fvcore-train": 4_470_437_376,  # no batch norm: the same in both modes
    },
    "efficientnet": {
        "cnncalc": 385_814_752,
        "torchinfo": 385_867_108,
        "ptflops": 410_196_896,
        "ptflops-aten": 385_825_092,
        "fvcore": 401_659_392,
        "fvcore-train": 421_872_480,
    },
    "mobilenet_v2": {
        "cnncalc": 300_774_272,
        "torchinfo": 300_809_384,
        "ptflops": 320_300_008 + 1280 * 7 * 7,  # ptflops counts F.adaptive_avg_pool2d once
        "ptflops-aten": 300_775_272,
        "fvcore": 314_193_216,
        "fvcore-train": 334_227_552,
    },
}


@pytest.mark.parametrize(
    ("spec", "convention"), [(s, c) for s in sorted(PRINTED) for c in sorted(PRINTED[s])]
)
def test_printed_figures(spec, convention):
    a = analyze(load_spec(SPECS / f"{spec}.yaml"))
    assert apply(a, convention).totals.macs == PRINTED[spec][convention]


def test_fvcore_batch_norm_by_mode():
    # ResNet-50 has 11,113,984 batch-norm outputs (53 layers, e.g. bn1: 64*112*112 = 802,816):
    # 2 operations each in eval mode (normalise, then scale and shift), 5 in training mode
    bn = 11_113_984
    assert RESNET50["fvcore"] - RESNET50["cnncalc"] == 2 * bn + 2048 * 7 * 7  # + the pool's input
    assert RESNET50["fvcore-train"] - RESNET50["fvcore"] == 3 * bn


SMALL = """input: [2, 3, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, name: conv}      # 2x4x8x8 = 512 outputs
  - batch_norm2d: {name: bn}
  - relu: {name: relu}
  - max_pool2d: {kernel: 2, name: pool}                    # 2x4x4x4 = 128 outputs
  - flatten
  - linear: {out: 5, name: fc}                             # 2x5
"""


def test_each_rule_by_hand():
    a = analyze(parse_spec(SMALL, "small.yaml"))
    r = {x.name: x for x in a.layers}
    conv_macs = 512 * 3 * 3 * 3  # 13,824
    fc_macs = 2 * 64 * 5  # 640
    expected = {
        "torchinfo": {
            "conv": (4 * 27 + 4) * 2 * 8 * 8,  # (weight + bias) x N x H_out x W_out
            "bn": 2 * 4 * 2,  # params x N
            "relu": 0,
            "pool": 0,
            "fc": (64 * 5 + 5) * 2,
        },
        "ptflops": {
            "conv": conv_macs + 512,  # bias: one addition per output
            "bn": 2 * 512,  # 2 per input element
            "relu": 2 * 512,  # module hook and functional
            "pool": 2 * 512,  # the input, twice
            "fc": fc_macs + 2 * 5,  # bias: one addition per output
        },
        "ptflops-aten": {"conv": conv_macs + 512, "bn": 0, "relu": 0, "pool": 0, "fc": fc_macs + 2 * 5},
        "fvcore": {"conv": conv_macs, "bn": 2 * 512, "relu": 0, "pool": 0, "fc": fc_macs},
        "fvcore-train": {"conv": conv_macs, "bn": 5 * 512, "relu": 0, "pool": 0, "fc": fc_macs},
    }
    for convention, rows in expected.items():
        for name, value in rows.items():
            assert layer_count(r[name], convention) == value, (convention, name)


def test_conventions_leave_other_counts_alone():
    a = analyze(parse_spec(SMALL, "small.yaml"))
    for convention in CONVENTIONS:
        b = apply(a, convention)
        assert b.totals.params == a.totals.params and b.totals.flops == a.totals.flops
        assert original(b) is a and original(apply(b, "cnncalc")) is a


@pytest.mark.parametrize("convention", sorted(set(CONVENTIONS) - {"cnncalc"}))
def test_the_training_estimate_is_cnncalc_s(convention):
    # The README: params and FLOPs stay cnncalc's; a training step's FLOPs are FLOPs.
    a = analyze(load_spec(SPECS / "resnet18.yaml"))
    assert training(apply(a, convention)) == training(a)


def test_cli_json_training_ignores_the_convention(run_cli):
    import json

    _, plain, _ = run_cli("analyze", "resnet18", "--format", "json")
    code, counted, _ = run_cli("analyze", "resnet18", "--format", "json", "--convention", "ptflops")
    plain, counted = json.loads(plain), json.loads(counted)
    assert code == 0 and counted["macs_convention"] == "ptflops"
    assert counted["totals"]["macs"] != plain["totals"]["macs"]
    assert counted["totals"]["training"] == plain["totals"]["training"]
    assert counted["totals"]["flops"] == plain["totals"]["flops"]


def test_cli_convention(run_cli):
    code, out, _ = run_cli("analyze", "resnet50", "--convention", "torchinfo", "--depth", "0")
    assert code == 0 and "4,089,238,376" in out and "torchinfo 1.8.0" in out
    code, out, _ = run_cli("analyze", "resnet50", "--convention", "fvcore", "--depth", "0", "--width", "200")
    assert code == 0 and "4,111,512,576" in out and "eval mode" in out
    code, _, err = run_cli("analyze", "resnet50", "--convention", "thop")
    assert code == 2 and "--convention thop: unknown; known: cnncalc" in err


def _models(tv):
    return {
        "resnet18": tv.models.resnet18,
        "resnet50": tv.models.resnet50,
        "mobilenet_v2": tv.models.mobilenet_v2,
        "efficientnet": tv.models.efficientnet_b0,
        "convnext": tv.models.convnext_tiny,
    }


# A model of every kind whose count differs between the tools, written twice: as a spec and as
# torch modules.
KINDS = """input: [1, 3, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1}
  - batch_norm2d: {affine: false}
  - leaky_relu
  - upsample: {scale: 2}
  - conv2d: {out: 4, kernel: 1, bias: false}
  - batch_norm2d
  - gelu
  - silu
  - upsample: {scale: 2, mode: bilinear}
  - layer_norm2d: {affine: false}
  - permute: {dims: [0, 2, 3, 1]}
  - layer_norm
  - linear: {out: 6}
  - softmax: {dim: 3}
  - permute: {dims: [0, 3, 1, 2]}
  - max_pool2d: {kernel: 2}
  - adaptive_avg_pool2d: {output: 1}
  - flatten
  - linear: {out: 3}
"""


def _kinds_model(torch, tv):
    from torch import nn
    from torchvision.models.convnext import LayerNorm2d
    from torchvision.ops.misc import Permute

    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4, affine=False),
        nn.LeakyReLU(),
        nn.Upsample(scale_factor=2),
        nn.Conv2d(4, 4, 1, bias=False),
        nn.BatchNorm2d(4),
        nn.GELU(),
        nn.SiLU(),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        LayerNorm2d(4, elementwise_affine=False, eps=1e-6),
        Permute([0, 2, 3, 1]),
        nn.LayerNorm(4),
        nn.Linear(4, 6),
        nn.Softmax(dim=3),
        Permute([0, 3, 1, 2]),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6 * 1 * 1, 3),
    )


def _tool_counts(build, size) -> dict:
    """What the installed tools print for the model ``build()`` makes, at 1 x size."""
    import torch

    out = {}
    quiet = io.StringIO()
    model = build()  # one model, in eval mode but for fvcore-train
    with contextlib.suppress(ImportError):
        import torchinfo

        out["torchinfo"] = torchinfo.summary(model.eval(), input_size=(1, *size), verbose=0).total_mult_adds
    with contextlib.suppress(ImportError):
        from ptflops import get_model_complexity_info

        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            for backend, name in (("aten", "ptflops-aten"), ("pytorch", "ptflops")):
                out[name], _ = get_model_complexity_info(
                    model.eval(), size, as_strings=False, print_per_layer_stat=False, backend=backend
                )
    with contextlib.suppress(ImportError):
        from fvcore.nn import FlopCountAnalysis

        x = torch.zeros(1, *size)
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            for training_mode, name in ((False, "fvcore"), (True, "fvcore-train")):
                f = FlopCountAnalysis(model.train(training_mode), x)
                f.unsupported_ops_warnings(False)
                f.uncalled_modules_warnings(False)
                out[name] = f.total()
    return out


def test_every_kind_against_the_installed_tools():
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    a = analyze(parse_spec(KINDS, "kinds.yaml"))
    printed = _tool_counts(lambda: _kinds_model(torch, tv), (3, 8, 8))
    if not printed:
        pytest.skip("none of torchinfo, ptflops, fvcore is installed")
    assert {c: apply(a, c).totals.macs for c in printed} == printed


@pytest.mark.parametrize("model", ["resnet18", "resnet50", "mobilenet_v2", "efficientnet", "convnext"])
def test_against_the_installed_tools(model):
    pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    a = analyze(load_spec(SPECS / f"{model}.yaml"))
    printed = _tool_counts(_models(tv)[model], (3, 224, 224))
    if not printed:
        pytest.skip("none of torchinfo, ptflops, fvcore is installed")
    ours = {c: apply(a, c).totals.macs for c in printed}
    if model == "mobilenet_v2" and "ptflops" in printed:
        # MobileNet v2 pools with F.adaptive_avg_pool2d, which ptflops counts once, not as a
        # module's hook and the functional it calls: 1280*7*7 fewer
        ours["ptflops"] -= 1280 * 7 * 7
    assert ours == printed


@pytest.mark.parametrize("convention", ["fvcore", "fvcore-train", "ptflops", "ptflops-aten", "torchinfo"])
def test_a_peer_convention_refuses_attention_saying_why(convention):
    """fvcore, ptflops and torchinfo count torchvision's ViT-B/16 as 11,290,036,992,
    17,606,030,584 and 173,232,616 (how they see attention depends on how the model calls it):
    no table of kinds reproduces that, so the conventions refuse rather than guess."""
    import cnncalc

    with pytest.raises(cnncalc.UsageError, match=rf"the {convention} convention is known for convolutional"):
        cnncalc.analyze("vit", convention=convention)
    # torchvision's published 17.564 GFLOPS counts attention, as cnncalc does
    assert cnncalc.analyze("vit", convention="torchvision").totals.macs == 17_563_828_224
