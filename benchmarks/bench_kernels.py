"""Benchmark of cnncalc's numba reference kernels (prints; no assertions).

    python benchmarks/bench_kernels.py              # everything
    python benchmarks/bench_kernels.py --only layers,resnet --repeats 15

Sections:
  layers   GMAC/s of conv2d_nchw on typical layers, next to a NumPy im2col + matmul run in
           the same process and torch.nn.functional.conv2d (if torch is importable).
  resnet   a hand-written ResNet-50 (torchvision v1.5 layout) forward at 1x3x224x224 using
           only cnncalc kernels, against the same network in torch (hand-built torch.nn, or
           torchvision when installed); time, ratio, MAC total and max relative error.
  compile  JIT compile time of the kernels in fresh processes: cache disabled
           (CNNCALC_NUMBA_CACHE=0), cache cold (empty NUMBA_CACHE_DIR) and cache warm.

Timings are medians over --repeats calls after one warm-up call.  This machine's numbers
vary by 10-25 % from run to run (see shared/reference/performance-baselines.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnncalc.kernels.conv import conv2d_nchw  # noqa: E402
from cnncalc.kernels.dense import linear  # noqa: E402
from cnncalc.kernels.elementwise import relu  # noqa: E402
from cnncalc.kernels.norm import batch_norm2d_nchw  # noqa: E402
from cnncalc.kernels.pool import adaptive_avg_pool2d_nchw, max_pool2d_nchw  # noqa: E402
from cnncalc.kernels.shape_ops import add  # noqa: E402

try:  # optional oracle / reference timing
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - depends on the environment
    torch = None


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up (and JIT compile on first use)
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


# ----------------------------------------------------------------------------- per layer

# name, (C_in, H, W), C_out, kernel, stride, pad, groups
LAYERS = [
    ("stem 7x7/2 3->64 @224", (3, 224, 224), 64, 7, 2, 3, 1),
    ("3x3 64->64 @56", (64, 56, 56), 64, 3, 1, 1, 1),
    ("3x3 256->256 @14", (256, 14, 14), 256, 3, 1, 1, 1),
    ("dw 3x3 32ch @112", (32, 112, 112), 32, 3, 1, 1, 32),
    ("1x1 64->256 @56", (64, 56, 56), 256, 1, 1, 0, 1),
]


def numpy_im2col_conv(x, w, stride, pad, groups):
    """Straightforward NumPy conv: np.pad + sliding_window_view + (batched) matmul."""
    n = x.shape[0]
    c_out, cig, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]  # (n, c, ho, wo, kh, kw)
    ho, wo = win.shape[2], win.shape[3]
    cols = win.reshape(n, groups, cig, ho, wo, kh, kw).transpose(0, 1, 2, 5, 6, 3, 4)
    cols = np.ascontiguousarray(cols).reshape(n, groups, cig * kh * kw, ho * wo)
    wm = w.reshape(groups, c_out // groups, cig * kh * kw)
    return np.matmul(wm, cols).reshape(n, c_out, ho, wo)


def bench_layers(repeats: int) -> None:
    rng = np.random.default_rng(0)
    print("\n== conv2d_nchw per layer, float32, N=1 ==")
    header = f"{'layer':24s} {'MACs':>12s} {'cnncalc':>9s} {'numpy':>9s} {'torch':>9s}"
    header += f" {'ms':>8s} {'cc/np':>6s} {'cc/torch':>8s}  (GMAC/s; ratios are time ratios)"
    print(header)
    for name, (c, h, w_), c_out, k, s, p, g in LAYERS:
        x = rng.standard_normal((1, c, h, w_), dtype=np.float32)
        w = rng.standard_normal((c_out, c // g, k, k), dtype=np.float32)
        ho, wo = (h + 2 * p - k) // s + 1, (w_ + 2 * p - k) // s + 1
        out = np.empty((1, c_out, ho, wo), dtype=np.float32)
        macs = conv2d_nchw(x, w, None, out, s, p, 1, g)
        t_cc = median_time(lambda: conv2d_nchw(x, w, None, out, s, p, 1, g), repeats)  # noqa: B023
        t_np = median_time(lambda: numpy_im2col_conv(x, w, s, p, g), repeats)  # noqa: B023
        ref = numpy_im2col_conv(x, w, s, p, g)
        err = float(np.abs(out - ref).max() / np.abs(ref).max())
        line = f"{name:24s} {macs:12,d} {macs / t_cc / 1e9:9.2f} {macs / t_np / 1e9:9.2f}"
        if torch is not None:
            xt, wt = torch.from_numpy(x), torch.from_numpy(w)
            with torch.no_grad():
                t_t = median_time(lambda: F.conv2d(xt, wt, None, s, p, 1, g), repeats)  # noqa: B023
            line += f" {macs / t_t / 1e9:9.2f} {t_cc * 1e3:8.2f} {t_cc / t_np:6.2f} {t_cc / t_t:8.2f}"
        else:
            line += f" {'-':>9s} {t_cc * 1e3:8.2f} {t_cc / t_np:6.2f} {'-':>8s}"
        print(line + f"  relerr {err:.1e}")


# ----------------------------------------------------------------------------- ResNet-50

STAGES = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]  # width, blocks, stride
EXPANSION = 4


def make_resnet50_params(seed: int = 0, num_classes: int = 1000) -> dict:
    """Random ResNet-50 parameters (He-normal convs, non-trivial BN statistics)."""
    rng = np.random.default_rng(seed)

    def conv(c_out, c_in, k):
        std = np.sqrt(2.0 / (c_in * k * k))
        return (rng.standard_normal((c_out, c_in, k, k)) * std).astype(np.float32)

    def bn(c):
        return {
            "gamma": rng.uniform(0.5, 1.5, c).astype(np.float32),
            "beta": rng.uniform(-0.2, 0.2, c).astype(np.float32),
            "mean": rng.uniform(-0.2, 0.2, c).astype(np.float32),
            "var": rng.uniform(0.5, 1.5, c).astype(np.float32),
        }

    params = {"conv1": conv(64, 3, 7), "bn1": bn(64), "blocks": []}
    c_in = 64
    for width, n_blocks, stride in STAGES:
        for i in range(n_blocks):
            s = stride if i == 0 else 1
            blk = {
                "stride": s,
                "conv1": conv(width, c_in, 1),
                "bn1": bn(width),
                "conv2": conv(width, width, 3),
                "bn2": bn(width),
                "conv3": conv(width * EXPANSION, width, 1),
                "bn3": bn(width * EXPANSION),
            }
            if s != 1 or c_in != width * EXPANSION:
                blk["down"] = conv(width * EXPANSION, c_in, 1)
                blk["down_bn"] = bn(width * EXPANSION)
            params["blocks"].append(blk)
            c_in = width * EXPANSION
    params["fc_w"] = (rng.standard_normal((num_classes, c_in)) / np.sqrt(c_in)).astype(np.float32)
    params["fc_b"] = rng.uniform(-0.1, 0.1, num_classes).astype(np.float32)
    return params


def resnet50_forward_kernels(params: dict, x: np.ndarray, timings: dict | None = None):
    """ResNet-50 v1.5 forward using only cnncalc kernels.  Returns (logits, MACs).

    Every output buffer is allocated here with the shape this caller predicts, as the
    verifier does.  ``timings`` (optional) accumulates seconds per op kind.
    """
    macs = 0

    def timed(kind, fn, *args, **kw):
        t0 = time.perf_counter()
        r = fn(*args, **kw)
        if timings is not None:
            timings[kind] = timings.get(kind, 0.0) + time.perf_counter() - t0
        return r

    def conv_bn(inp, w, bnp, stride, pad, act):
        nonlocal macs
        n, _, h, w_ = inp.shape
        k = w.shape[2]
        ho, wo = (h + 2 * pad - k) // stride + 1, (w_ + 2 * pad - k) // stride + 1
        out = np.empty((n, w.shape[0], ho, wo), dtype=inp.dtype)
        macs += timed(f"conv{k}x{k}", conv2d_nchw, inp, w, None, out, stride, pad, 1, 1)
        timed(
            "bn",
            batch_norm2d_nchw,
            out,
            bnp["gamma"],
            bnp["beta"],
            bnp["mean"],
            bnp["var"],
            1e-5,
            out,
        )
        if act:
            timed("relu", relu, out, out)
        return out

    y = conv_bn(x, params["conv1"], params["bn1"], 2, 3, True)
    n, c, h, w_ = y.shape
    pooled = np.empty((n, c, (h + 2 - 3) // 2 + 1, (w_ + 2 - 3) // 2 + 1), dtype=y.dtype)
    timed("maxpool", max_pool2d_nchw, y, pooled, 3, 2, 1)
    y = pooled
    for blk in params["blocks"]:
        s = blk["stride"]
        t = conv_bn(y, blk["conv1"], blk["bn1"], 1, 0, True)
        t = conv_bn(t, blk["conv2"], blk["bn2"], s, 1, True)
        t = conv_bn(t, blk["conv3"], blk["bn3"], 1, 0, False)
        identity = conv_bn(y, blk["down"], blk["down_bn"], s, 0, False) if "down" in blk else y
        timed("add", add, (t, identity), t)
        timed("relu", relu, t, t)
        y = t
    gap = np.empty((y.shape[0], y.shape[1], 1, 1), dtype=y.dtype)
    timed("avgpool", adaptive_avg_pool2d_nchw, y, gap)
    feats = gap.reshape(y.shape[0], y.shape[1])
    logits = np.empty((y.shape[0], params["fc_w"].shape[0]), dtype=y.dtype)
    macs += timed("fc", linear, feats, params["fc_w"], params["fc_b"], logits)
    return logits, macs


def build_torch_resnet50(params: dict):
    """The same network in torch: torchvision's resnet50 if installed, else hand-built."""
    import torch.nn as nn

    def load_bn(mod, p):
        mod.weight.data = torch.from_numpy(p["gamma"])
        mod.bias.data = torch.from_numpy(p["beta"])
        mod.running_mean.data = torch.from_numpy(p["mean"])
        mod.running_var.data = torch.from_numpy(p["var"])

    try:
        import torchvision

        model = torchvision.models.resnet50(weights=None)
        flavour = "torchvision.models.resnet50"
        blocks = [b for layer in (model.layer1, model.layer2, model.layer3, model.layer4) for b in layer]
    except ImportError:
        flavour = "hand-built torch.nn"

        class Bottleneck(nn.Module):
            def __init__(self, c_in, width, stride, down):
                super().__init__()
                self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(width)
                self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(width)
                self.conv3 = nn.Conv2d(width, width * EXPANSION, 1, bias=False)
                self.bn3 = nn.BatchNorm2d(width * EXPANSION)
                self.relu = nn.ReLU(inplace=True)
                self.downsample = (
                    nn.Sequential(
                        nn.Conv2d(c_in, width * EXPANSION, 1, stride, bias=False),
                        nn.BatchNorm2d(width * EXPANSION),
                    )
                    if down
                    else None
                )

            def forward(self, x):
                out = self.relu(self.bn1(self.conv1(x)))
                out = self.relu(self.bn2(self.conv2(out)))
                out = self.bn3(self.conv3(out))
                identity = x if self.downsample is None else self.downsample(x)
                return self.relu(out + identity)

        class ResNet50(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
                self.bn1 = nn.BatchNorm2d(64)
                self.relu = nn.ReLU(inplace=True)
                self.maxpool = nn.MaxPool2d(3, 2, 1)
                layers, c_in = [], 64
                for width, n_blocks, stride in STAGES:
                    for i in range(n_blocks):
                        s = stride if i == 0 else 1
                        down = s != 1 or c_in != width * EXPANSION
                        layers.append(Bottleneck(c_in, width, s, down))
                        c_in = width * EXPANSION
                self.blocks = nn.Sequential(*layers)
                self.avgpool = nn.AdaptiveAvgPool2d(1)
                self.fc = nn.Linear(c_in, 1000)

            def forward(self, x):
                x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
                x = self.avgpool(self.blocks(x))
                return self.fc(torch.flatten(x, 1))

        model = ResNet50()
        blocks = list(model.blocks)

    model.conv1.weight.data = torch.from_numpy(params["conv1"])
    load_bn(model.bn1, params["bn1"])
    for blk, p in zip(blocks, params["blocks"], strict=True):
        for i in (1, 2, 3):
            getattr(blk, f"conv{i}").weight.data = torch.from_numpy(p[f"conv{i}"])
            load_bn(getattr(blk, f"bn{i}"), p[f"bn{i}"])
        if "down" in p:
            blk.downsample[0].weight.data = torch.from_numpy(p["down"])
            load_bn(blk.downsample[1], p["down_bn"])
    model.fc.weight.data = torch.from_numpy(params["fc_w"])
    model.fc.bias.data = torch.from_numpy(params["fc_b"])
    return model.eval(), flavour


def bench_resnet(repeats: int, size: int = 224) -> None:
    print(f"\n== ResNet-50 v1.5 forward, 1x3x{size}x{size}, float32 ==")
    params = make_resnet50_params()
    x = np.random.default_rng(1).standard_normal((1, 3, size, size), dtype=np.float32)
    t0 = time.perf_counter()
    logits, macs = resnet50_forward_kernels(params, x)
    first = time.perf_counter() - t0
    t_cc = median_time(lambda: resnet50_forward_kernels(params, x), repeats)
    print(
        f"cnncalc kernels: {t_cc * 1e3:8.1f} ms (median of {repeats}); first call "
        f"{first:.2f} s (JIT compile or cache load); MACs counted {macs:,d}"
    )
    timings: dict[str, float] = {}
    for _ in range(3):
        resnet50_forward_kernels(params, x, timings)
    per_op = ", ".join(f"{k} {v / 3 * 1e3:.1f}" for k, v in sorted(timings.items(), key=lambda kv: -kv[1]))
    print(f"  per op (ms, mean of 3): {per_op}")
    if torch is None:
        print("torch not importable: no reference timing")
        return
    model, flavour = build_torch_resnet50(params)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        ref = model(xt).numpy()
        t_t = median_time(lambda: model(xt), repeats)
    err = float(np.abs(logits - ref).max() / np.abs(ref).max())
    same_top1 = int(np.argmax(logits)) == int(np.argmax(ref))
    print(f"torch ({flavour}, {torch.get_num_threads()} threads): {t_t * 1e3:8.1f} ms")
    print(f"ratio cnncalc / torch: {t_cc / t_t:.2f}x   max rel err {err:.1e}, same argmax: {same_top1}")


# ----------------------------------------------------------------------------- compile

_COMPILE_SNIPPET = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {bench!r})
    import numpy as np
    from cnncalc.kernels.conv import conv2d_nchw
    t_import = time.perf_counter() - t0
    x = np.ones((1, 3, 16, 16), np.float32); w = np.ones((4, 3, 3, 3), np.float32)
    out = np.empty((1, 4, 8, 8), np.float32)
    t0 = time.perf_counter(); conv2d_nchw(x, w, np.ones(4, np.float32), out, 2, 1)
    t_conv = time.perf_counter() - t0
    import bench_kernels as bk
    params = bk.make_resnet50_params()
    xs = np.ones((1, 3, 32, 32), np.float32)
    t0 = time.perf_counter(); bk.resnet50_forward_kernels(params, xs)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter(); bk.resnet50_forward_kernels(params, xs)
    t_second = time.perf_counter() - t0
    print(t_import, t_conv, t_first - t_second)
    """
)


def bench_compile() -> None:
    print("\n== JIT compile (fresh processes) ==")
    code = _COMPILE_SNIPPET.format(root=str(ROOT), bench=str(Path(__file__).resolve().parent))

    def run(env_extra):
        env = dict(os.environ, **env_extra)
        res = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return [float(v) for v in res.stdout.split()[-3:]]

    with tempfile.TemporaryDirectory() as cache_dir:
        rows = [
            ("cache disabled", run({"CNNCALC_NUMBA_CACHE": "0"})),
            ("cache cold (empty dir)", run({"NUMBA_CACHE_DIR": cache_dir})),
            ("cache warm", run({"NUMBA_CACHE_DIR": cache_dir})),
        ]
    print(f"{'':24s} {'import':>8s} {'conv2d 1st call':>16s} {'ResNet-50 kernel set':>21s}")
    for name, (t_imp, t_conv, t_set) in rows:
        print(f"{name:24s} {t_imp:8.2f} {t_conv:16.2f} {t_set:21.2f}   (seconds)")
    print("  'conv2d 1st call' = pad + im2col + bias kernels compiled or loaded;")
    print(
        "  'ResNet-50 kernel set' = the remaining kernels of the forward (first minus "
        "second forward at 32x32)"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only",
        default="layers,resnet,compile",
        help="comma-separated sections: layers, resnet, compile",
    )
    ap.add_argument("--repeats", type=int, default=11)
    args = ap.parse_args(argv)
    sections = {s.strip() for s in args.only.split(",")}
    import numba

    print(
        f"numpy {np.__version__}, numba {numba.__version__}, "
        f"torch {torch.__version__ if torch is not None else 'absent'}, "
        f"{os.cpu_count()} CPUs"
    )
    if "layers" in sections:
        bench_layers(args.repeats)
    if "resnet" in sections:
        bench_resnet(args.repeats)
    if "compile" in sections:
        bench_compile()


if __name__ == "__main__":
    main()
