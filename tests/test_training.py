"""Peak inference memory from tensor lifetimes and the training estimate, by hand arithmetic."""

from __future__ import annotations

import pytest

from cnncalc.analysis.lifetimes import lifetimes
from cnncalc.analysis.training import training
from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec, parse_spec

from .helpers import SPECS

CHAIN = """input: [1, 2, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, bias: false, name: a}   # 4*8*8 = 256 elements
  - relu: {name: r}                                                # 256
  - max_pool2d: {kernel: 2, name: p}                               # 4*4*4 = 64
  - flatten: {name: f}                                             # 64
  - linear: {out: 10, name: fc}                                    # 10
"""


def test_peak_of_a_chain():
    life = lifetimes(analyze(parse_spec(CHAIN, "chain.yaml")), "float32")
    # input 2*8*8 = 128 elements, alive until a has run
    assert life.live_bytes == (
        4 * (128 + 256),  # a: its input and output
        4 * (256 + 256),  # r: a's output and its own
        4 * (256 + 64),
        4 * (64 + 64),
        4 * (64 + 10),
    )
    assert life.peak_bytes == 4 * 512 and life.peak_layer == "r"


def test_residual_keeps_the_shortcut_alive():
    text = """input: [1, 1, 4, 4]
layers:
  - relu: {name: x}                       # 16 elements
  - residual:
      body:
        - conv2d: {out: 1, kernel: 3, padding: 1, name: c1}
        - conv2d: {out: 1, kernel: 3, padding: 1, name: c2}
      name: add
"""
    life = lifetimes(analyze(parse_spec(text, "res.yaml")), "float16")
    # while c2 runs: x (kept for the add), c1, c2 = 3 * 16 elements of 2 bytes
    names = [r.name for r in analyze(parse_spec(text, "res.yaml")).layers]
    assert life.live_bytes[names.index("c2")] == 2 * 3 * 16
    assert life.live_bytes[names.index("add")] == 2 * 3 * 16  # x, c2 and the sum; c1 is gone
    assert life.peak_bytes == 96


def test_resnet50_peak_by_hand():
    life = lifetimes(analyze(load_spec(SPECS / "resnet50.yaml")), "float32")
    # layer1.0's shortcut batch norm: bn3's output, the shortcut conv's and its own, each
    # 256*56*56 = 802,816 elements (the max pool's output is freed after the shortcut conv)
    assert life.peak_bytes == 3 * 256 * 56 * 56 * 4
    assert life.peak_layer == "layer1.0.downsample.1"


@pytest.mark.parametrize("optimizer, state", [("sgd", 0), ("momentum", 1), ("adam", 2)])
def test_training_memory(optimizer, state):
    t = training(analyze(parse_spec(CHAIN, "chain.yaml")), "float32", optimizer)
    params = 4 * 2 * 3 * 3 + (64 * 10 + 10)  # 72 + 650 = 722
    assert t.weights_bytes == t.gradient_bytes == 4 * params
    assert t.optimizer_bytes == 4 * params * state
    assert t.saved_activation_bytes == 4 * (128 + 256 + 256 + 64 + 64 + 10)
    assert t.backward_workspace_bytes == 4 * (256 + 256)  # relu: output and input
    assert t.total_bytes == 4 * (params * (2 + state) + 778 + 512)


def test_training_flops_rule():
    a = analyze(parse_spec(CHAIN, "chain.yaml"))
    t = training(a, "float32", "sgd")
    macs_a = 4 * 8 * 8 * 2 * 3 * 3  # 4,608
    macs_fc = 64 * 10
    by = {row.name: row.backward_flops for row in t.layers}
    assert by["a"] == 2 * macs_a  # weights only: no gradient into the network's input
    assert by["r"] == 256  # as its forward
    assert by["p"] == 64 * 3  # as its forward: 3 comparisons per output
    assert by["f"] == 0
    assert by["fc"] == 2 * macs_fc + 2 * macs_fc + 10  # input, weights, and the bias's 10 sums
    assert t.step_flops == a.totals.flops + sum(by.values())


def test_frozen_layers_get_no_weight_gradient():
    text = CHAIN.replace("bias: false, name: a}", "bias: false, name: a, freeze: true}")
    t = training(analyze(parse_spec(text, "chain.yaml")), "float32", "adam")
    by = {row.name: row for row in t.layers}
    assert by["a"].backward_flops == 0 and not by["r"].input_gradient
    assert by["fc"].backward_flops == 2 * 640 + 10  # the weights of fc only
    assert t.gradient_bytes == 4 * 650


def test_json_totals(run_cli):
    import json

    code, out, _ = run_cli("analyze", "resnet50", "-f", "json", "--optimizer", "momentum")
    assert code == 0
    totals = json.loads(out)["totals"]
    assert totals["peak_activation_bytes"] == 3 * 802_816 * 4
    assert totals["training"]["optimizer"] == "momentum"
    assert totals["training"]["optimizer_bytes"] == 4 * 25_557_032


def test_peak_against_eager_pytorch():
    """The inference peak against the bytes eager PyTorch holds, tracked op by op.

    Tolerance: eager PyTorch also keeps the network's input (the caller holds it) and a
    bottleneck's input until the block returns (a local variable holds it), where cnncalc frees
    each tensor after its last use: the measured peak lies between ours and ours plus the input
    (3*224*224 floats) and the largest block input (64*56*56 floats, layer1's).
    """
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    import weakref

    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class Held(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.refs, self.size, self.current, self.peak = {}, {}, 0, 0

        def track(self, t):
            key = t.untyped_storage().data_ptr()
            if key not in self.refs:
                self.refs[key], self.size[key] = 0, t.untyped_storage().nbytes()
                self.current += self.size[key]
                self.peak = max(self.peak, self.current)
            self.refs[key] += 1
            weakref.finalize(t, self.release, key)

        def release(self, key):
            self.refs[key] -= 1
            if not self.refs[key]:
                self.current -= self.size.pop(key)
                del self.refs[key]

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor) and t.untyped_storage().nbytes():
                    self.track(t)
            return out

    model = tv.models.resnet50().eval()
    for module in model.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False  # cnncalc assumes no in-place operation
    held = Held()
    with torch.no_grad(), held:
        model(torch.zeros(1, 3, 224, 224) + 0)
    ours = lifetimes(analyze(load_spec(SPECS / "resnet50.yaml")), "float32").peak_bytes
    assert ours <= held.peak <= ours + 4 * (3 * 224 * 224 + 64 * 56 * 56)
