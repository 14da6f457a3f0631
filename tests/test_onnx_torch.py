"""from_torch and ``cnncalc import --torch``: a live PyTorch module read into a spec.

The oracles are torch itself: the module's own parameter count, and torch's MACs by forward
hooks on Conv2d and Linear (bias excluded). Skipped without torch.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxscript")
pytest.importorskip("onnx")

from cnncalc.core.engine import analyze  # noqa: E402
from cnncalc.lang.model import Spec  # noqa: E402
from cnncalc.onnx.pytorch import TorchError, from_torch, import_torch  # noqa: E402

from .helpers import ROOT  # noqa: E402
from .test_onnx_exporters import _torch_macs  # noqa: E402


class Small(torch.nn.Module):
    """A stem, a residual block with a batch norm, a pool, a flatten and a classifier."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(8)
        self.block = torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU())
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = x + self.block(x)
        return self.fc(torch.flatten(self.pool(x), 1))


def test_a_module_becomes_a_spec_with_its_names_params_and_formulas():
    module = Small().eval()
    spec = from_torch(module, torch.zeros(2, 3, 32, 40))
    assert isinstance(spec, Spec)
    assert {n: s.default for n, s in spec.symbols.items()} == {"N": 2, "H": 32, "W": 40}
    a = analyze(spec)
    names = [r.name for r in a.layers]
    assert names[:2] == ["stem", "bn"] and "block.0" in names and names[-1] == "fc"
    assert a.totals.params == sum(p.numel() for p in module.parameters())  # the batch norm kept
    for h, w in [(32, 40), (37, 51), (9, 9)]:
        got = analyze(spec, {"N": 1, "H": h, "W": w}).totals.macs
        assert got == _torch_macs(torch, module, h, w)
    assert module.training is False


def test_the_module_mode_is_restored():
    module = Small().train()
    from_torch(module, torch.zeros(1, 3, 16, 16))
    assert module.training


def test_resnet18_from_torch_is_exact():
    torchvision = pytest.importorskip("torchvision")
    module = torchvision.models.resnet18(weights=None)
    imported = import_torch(module, torch.zeros(1, 3, 224, 224))
    spec, a = imported.spec, imported.analysis
    assert a.totals.params == 11_689_512 == sum(p.numel() for p in module.parameters())
    for h, w in [(224, 224), (197, 251)]:
        assert analyze(spec, {"N": 1, "H": h, "W": w}).totals.macs == _torch_macs(torch, module, h, w)
    names = {r.name for r in a.layers}
    assert {"conv1", "bn1", "layer1.0.conv1", "layer1.0.bn1", "layer4.1.conv2", "fc"} <= names
    # Folded into blocks, and the same counts as the bundled spec written by hand.
    assert "blocks:" in imported.text and "basicblock" in imported.text
    from cnncalc.lang.spec import load_spec

    from .helpers import SPECS

    bundled = analyze(load_spec(SPECS / "resnet18.yaml"), {"N": 3, "H": 197, "W": 251}).totals
    ours = analyze(spec, {"N": 3, "H": 197, "W": 251}).totals
    assert (ours.params, ours.buffers, ours.macs, ours.flops) == (
        bundled.params,
        bundled.buffers,
        bundled.macs,
        bundled.flops,
    )


class Branchy(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:  # data-dependent control flow: torch.export cannot trace it
            return x
        return -x


class FixedFlatten(torch.nn.Module):
    """A flatten into a linear layer fixes H and W: torch.export keeps N only."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.fc = torch.nn.Linear(4 * 6 * 6, 2)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


def test_sizes_the_module_fixes_stay_fixed_with_a_note():
    imported = import_torch(FixedFlatten().eval(), torch.zeros(1, 3, 8, 8))
    assert set(imported.spec.symbols) == {"N"}
    assert [e.text for e in imported.spec.input] == ["N", "3", "8", "8"]
    assert "# H is fixed at 8" in imported.text and "# W is fixed at 8" in imported.text


def test_a_vision_transformer_keeps_its_batch_and_counts_its_attention():
    """ViT holds at one image size (its position embedding): H and W are fixed with a note, the
    batch stays a symbol although the example has one image, and the MACs are torch's flop
    counter's (the hooks do not see attention)."""
    from torchvision.models.vision_transformer import VisionTransformer

    from .helpers import torch_flop_counter_macs

    torch.manual_seed(0)
    model = VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=24, num_classes=5
    ).eval()
    with torch.no_grad():
        for p in model.parameters():  # no zero biases for the exporter's optimiser to drop
            p.normal_()
    x = torch.zeros(1, 3, 32, 32)
    imported = import_torch(model, x)
    assert set(imported.spec.symbols) == {"N"}
    assert "# H is fixed at 32" in imported.text and "# W is fixed at 32" in imported.text
    a = analyze(imported.spec, {"N": 3})
    assert a.totals.macs == 3 * torch_flop_counter_macs(model, x)
    assert a.totals.params == sum(p.numel() for p in model.parameters())
    assert 'repeat: 2, name: "encoder.layers.encoder_layer_{i}"' in imported.text


def test_a_module_that_does_not_export_is_one_message():
    with pytest.raises(TorchError, match=r"^torch.export cannot trace the module: "):
        from_torch(Branchy(), torch.ones(1, 3, 4, 4))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", torch.zeros(1, 3, 4, 4)), "expected a torch.nn.Module, got str"),
        ((Small(), [1, 2]), "the example input is a torch.Tensor, got list"),
    ],
)
def test_wrong_arguments_are_a_message(args, message):
    from cnncalc.errors import UsageError

    with pytest.raises(UsageError, match=message):
        from_torch(*args)


def test_dynamic_names_axes():
    from cnncalc.errors import UsageError

    with pytest.raises(UsageError, match=r"dynamic names axes of an \(N, C, H, W\) input"):
        from_torch(Small(), torch.zeros(1, 3, 8, 8), dynamic=("N", "X"))
    spec = from_torch(Small(), torch.zeros(1, 3, 8, 8), dynamic=("N",))
    assert set(spec.symbols) == {"N"}


BAD = """
import torch

def boom():
    raise RuntimeError("no weights here\\nsecond line")

def number():
    return 3

class Branchy(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x

def branchy():
    return Branchy()

def small():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
"""


def _cli(args: list[str], cwd) -> tuple[int, str, str]:
    """``cnncalc ARGS`` in a new process, as a user runs it (torch does not survive a fork)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "cnncalc", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module:build", "--torch: cannot import no_such_module: No module named 'no_such_module'"),
        ("usercode:missing", "--torch: usercode has no 'missing'"),
        ("usercode:boom", "--torch: usercode:boom() raised RuntimeError: no weights here"),
        ("usercode:number", "--torch: usercode:number() returned a int, not a torch.nn.Module"),
        ("usercode:branchy", "torch.export cannot trace the module: "),
        ("usercode", "--torch: expected MODULE:CALLABLE"),
    ],
)
def test_import_torch_failures_are_one_message_and_write_nothing(target, message, tmp_path):
    (tmp_path / "usercode.py").write_text(BAD)
    out = tmp_path / "out.yaml"
    code, _, err = _cli(["import", "--torch", target, "-o", str(out)], tmp_path)
    assert code == 2, err
    assert "Traceback" not in err and "second line" not in err
    assert err.startswith("cnncalc: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_import_torch_writes_the_spec(tmp_path):
    (tmp_path / "usercode.py").write_text(BAD)
    out = tmp_path / "out.yaml"
    code, _, err = _cli(
        ["import", "--torch", "usercode:small", "--input-shape", "2,3,16,16", "-o", str(out)], tmp_path
    )
    assert code == 0, err
    from cnncalc.lang.spec import load_spec

    spec = load_spec(out)
    assert {n: s.default for n, s in spec.symbols.items()} == {"N": 2, "H": 16, "W": 16}
    assert [r.name for r in analyze(spec).layers] == ["0", "1"]
