"""Other tools' counting conventions: the figures they print, and hand arithmetic per rule."""

from __future__ import annotations

import contextlib
import io

import pytest

from cnncalc.analysis.conventions import CONVENTIONS, apply, layer_count
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
    "fvcore": 4_144_854_528,  # fvcore 0.1.5 FlopCountAnalysis(resnet50(), x).total()
}


@pytest.mark.parametrize("convention", sorted(RESNET50))
def test_resnet50_figures(convention):
    a = analyze(load_spec(SPECS / "resnet50.yaml"))
    assert apply(a, convention).totals.macs == RESNET50[convention]


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
            "fc": fc_macs + 5,  # bias once per feature
        },
        "ptflops-aten": {"conv": conv_macs + 512, "bn": 0, "relu": 0, "pool": 0, "fc": fc_macs + 10},
        "fvcore": {"conv": conv_macs, "bn": 5 * 512, "relu": 0, "pool": 0, "fc": fc_macs},
    }
    for convention, rows in expected.items():
        for name, value in rows.items():
            assert layer_count(r[name], convention) == value, (convention, name)


def test_conventions_leave_other_counts_alone():
    a = analyze(parse_spec(SMALL, "small.yaml"))
    b = apply(a, "ptflops")
    assert b.totals.params == a.totals.params and b.totals.flops == a.totals.flops


def test_cli_convention(run_cli):
    code, out, _ = run_cli("analyze", "resnet50", "--convention", "torchinfo", "--depth", "0")
    assert code == 0 and "4,089,238,376" in out and "torchinfo 1.8.0" in out
    code, _, err = run_cli("analyze", "resnet50", "--convention", "thop")
    assert code == 2 and "--convention thop: unknown; known: cnncalc" in err


TOOLS = {"resnet18": lambda tv: tv.models.resnet18(), "mobilenet_v2": lambda tv: tv.models.mobilenet_v2()}


@pytest.mark.parametrize("model", sorted(TOOLS))
def test_against_the_installed_tools(model):
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    a = analyze(load_spec(SPECS / f"{model}.yaml"))
    ours = {c: apply(a, c).totals.macs for c in CONVENTIONS}
    x = torch.zeros(1, 3, 224, 224)
    checked = 0
    with contextlib.suppress(ImportError):
        import torchinfo

        assert (
            torchinfo.summary(TOOLS[model](tv).eval(), input_size=(1, 3, 224, 224), verbose=0).total_mult_adds
            == (ours["torchinfo"])
        )
        checked += 1
    with contextlib.suppress(ImportError):
        from ptflops import get_model_complexity_info

        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            aten, _ = get_model_complexity_info(
                TOOLS[model](tv).eval(),
                (3, 224, 224),
                as_strings=False,
                print_per_layer_stat=False,
                backend="aten",
            )
            default, _ = get_model_complexity_info(
                TOOLS[model](tv).eval(), (3, 224, 224), as_strings=False, print_per_layer_stat=False
            )
        assert aten == ours["ptflops-aten"]
        # MobileNet v2 pools with F.adaptive_avg_pool2d, which ptflops counts once: 1280*7*7 fewer
        assert default == ours["ptflops"] - (1280 * 7 * 7 if model == "mobilenet_v2" else 0)
        checked += 1
    with contextlib.suppress(ImportError):
        from fvcore.nn import FlopCountAnalysis

        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            f = FlopCountAnalysis(TOOLS[model](tv), x)  # as built: training mode
            f.unsupported_ops_warnings(False)
            f.uncalled_modules_warnings(False)
            assert f.total() == ours["fvcore"]
        checked += 1
    if not checked:
        pytest.skip("none of torchinfo, ptflops, fvcore is installed")
