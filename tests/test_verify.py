"""Verification by execution: every bundled spec runs, and a wrong formula is caught."""

from __future__ import annotations

import json

import pytest

from cnncalc.analysis.verify import estimate_memory, verify
from cnncalc.core import dims
from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec, parse_spec
from cnncalc.layers import REGISTRY, register
from cnncalc.layers._base import Int, Layer, Param

from .helpers import SPECS, all_specs, small_values

#: Specs run smaller than ``small_values``. ConvNeXt's cost here is its 28.6 M weights (drawn
#: and multiplied whatever the input size): at width C = 32 and its minimum input, 32x32 (its
#: last stage 1x1), every layer still runs, in a tenth of the time.
SMALLER = {"convnext": {"N": 1, "H": 32, "W": 32, "C": 32}}


@pytest.mark.parametrize("path", all_specs(), ids=lambda p: str(p.relative_to(SPECS)))
def test_every_spec_verifies_at_a_small_size(path):
    spec = load_spec(path)
    a = analyze(spec, {**small_values(spec), **SMALLER.get(path.stem, {})})
    v = verify(a, seed=1)
    assert v.ok, [
        (c.name, c.error, c.predicted_shape, c.observed_shape, c.predicted_macs, c.counted_macs)
        for c in v.failures
    ]
    assert len(v.layers) == len(a.layers)
    # The kernels' own MAC counters add up to the published-style total.
    assert sum(c.counted_macs for c in v.layers) == a.totals.macs


def test_worked_example_counts(run_cli):
    # 6x6 image, one 3x3 filter: 16 outputs of 9 multiply-accumulates each.
    code, out, _ = run_cli("verify", "edge_detection", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["ok"] is True
    (layer,) = d["layers"]
    assert layer["observed_shape"] == [1, 1, 4, 4]
    assert layer["counted_macs"] == 4 * 4 * 3 * 3
    assert layer["allocated_params"] == 3 * 3


@pytest.fixture
def broken_layers():
    """Two layers with deliberately wrong rules, registered for one test."""

    @register
    class OffByOneMacs(Layer):
        """A 1x1 convolution whose MAC formula forgets one output position.

        MACs: wrong on purpose. FLOPs: 2*MACs.
        """

        kind = "test_off_by_one_macs"
        out: Int

        def output_shape(self, x):
            return (x[0], self.out, x[2], x[3])

        def weights(self, x):
            return {"weight": Param((self.out, x[1], 1, 1), "weight")}

        def macs(self, x, *, out):
            return dims.mul(dims.add(dims.prod(out), -1), x[1])

        def flops(self, x, *, out):
            return dims.mul(2, self.macs(x, out=out))

        def forward(self, xs, weights, out):
            from cnncalc.kernels.conv import conv2d_nchw

            return conv2d_nchw(xs[0], weights["weight"], None, out)

    @register
    class WrongShape(Layer):
        """A 3x3 valid convolution that forgets to shrink its output.

        MACs: as conv2d. FLOPs: 2*MACs.
        """

        kind = "test_wrong_shape"
        out: Int

        def output_shape(self, x):
            return (x[0], self.out, x[2], x[3])

        def weights(self, x):
            return {"weight": Param((self.out, x[1], 3, 3), "weight")}

        def macs(self, x, *, out):
            return dims.mul(dims.prod(out), x[1], 9)

        def flops(self, x, *, out):
            return dims.mul(2, self.macs(x, out=out))

        def forward(self, xs, weights, out):
            from cnncalc.kernels.conv import conv2d_nchw

            return conv2d_nchw(xs[0], weights["weight"], None, out)

    yield
    del REGISTRY["test_off_by_one_macs"], REGISTRY["test_wrong_shape"]


def test_wrong_formulas_are_caught(broken_layers, tmp_path, run_cli):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "input: [1, 3, 8, 8]\nlayers:\n  - test_off_by_one_macs: {out: 4}\n"
        "  - test_wrong_shape: {out: 2}\n  - relu\n"
    )
    v = verify(analyze(load_spec(path)))
    assert not v.ok
    macs, shape, relu = v.layers
    assert (macs.predicted_macs, macs.counted_macs) == ((4 * 8 * 8 - 1) * 3, 4 * 8 * 8 * 3)
    assert (shape.predicted_shape, shape.observed_shape) == ((1, 2, 8, 8), (1, 2, 6, 6))
    assert relu.ok
    code, out, _ = run_cli("verify", str(path))
    assert code == 1
    assert "2 of 3 layers disagree" in out
    assert "MACs predicted 765, kernel counted 768" in out
    assert "shape predicted [1, 2, 8, 8], kernel gives [1, 2, 6, 6]" in out


def test_memory_budget_refuses_with_sizes_that_fit(run_cli):
    code, out, err = run_cli("verify", "vgg16", "--set", "H=4096", "W=4096", "--memory-budget", "1GiB")
    assert code == 2 and out == ""
    assert "over the budget of 1.0 GiB" in err
    assert "the largest tensor is the output of 'conv1.0.conv', [1, 64, 4096, 4096] = 4.0 GiB" in err
    assert "; sizes that fit: --set N=1 H=" in err


MEMORY = """symbols: {N: 64}
input: [N, 1, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1}
  - relu
"""


@pytest.mark.parametrize(("budget", "batch"), [(40_000, 19), (39_072, 19), (39_071, 18)])
def test_memory_budget_suggests_the_largest_batch_at_the_sizes_given(run_cli, tmp_path, budget, batch):
    """A 3x3 convolution of 4 filters on [N, 1, 8, 8], then a ReLU. From a batch of 4 the peak
    is at the ReLU, the convolution's output and the ReLU's alive: 2 x 4*8*8 = 512 floats an
    image, beside 4*9 + 4 weights, so 4*(512*N + 40) bytes: 39,072 for N = 19, 41,120 for 20,
    37,024 for 18. The suggestion keeps the sizes and gives the largest batch that fits."""
    path = tmp_path / "mem.yaml"
    path.write_text(MEMORY)
    code, out, err = run_cli("verify", str(path), "--memory-budget", str(budget))
    assert code == 2 and out == ""
    assert f"needs about {4 * (512 * 64 + 40) / 1024:.1f} KiB" in err
    assert err.rstrip().endswith(f"; sizes that fit: --set N={batch}")


def test_memory_estimate_counts_what_is_live():
    # input 1x1x8x8 (64), conv to 4x8x8 (256) with a 3x3 im2col of 9*64 and a padded copy of
    # 10*10, then relu: peak = 64 + 256 + 100 + 576 = 996, plus 4*9 + 4 weights.
    spec = parse_spec("input: [1, 1, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3, padding: 1}\n  - relu\n")
    est = estimate_memory(analyze(spec))
    assert est.peak_bytes == (64 + 256 + 100 + 576 + 36 + 4) * 4
    assert est.largest_shape == (1, 4, 8, 8)


def test_open_symbols_need_values(run_cli):
    code, _, err = run_cli("verify", "standard_3x3")
    assert code == 2
    assert "give M, N a value with --set" in err


BAD_KERNELS = {
    "returns_the_array": (
        "def forward(self, xs, weights, out):\n    out[...] = xs[0]\n    return out\n",
        r"forward returned an array of shape \[1, 3, 4, 4\]; it must write its result into out and "
        r"return the number of multiply-accumulates it counted, an int",
    ),
    "returns_none": (
        "def forward(self, xs, weights, out):\n    out[...] = xs[0]\n",
        r"forward returned None; it must write its result into out",
    ),
    "returns_a_float": (
        "def forward(self, xs, weights, out):\n    out[...] = xs[0]\n    return 0.0\n",
        r"forward returned float 0\.0; it must",
    ),
    "raises": (
        "def forward(self, xs, weights, out):\n    return weights['missing']\n",
        r"the kernel raised KeyError: 'missing' \(at .*\)",
    ),
    "writes_a_smaller_result": (
        "def forward(self, xs, weights, out):\n    out[...] = xs[0][:, :, :2, :2]\n    return 0\n",
        r"the kernel refused the layer: could not broadcast input array from shape \(1,3,2,2\) "
        r"into shape \(1,3,4,4\)",
    ),
    "reshapes_out": (
        "def forward(self, xs, weights, out):\n    out.shape = (1, 3, 16)\n    return 0\n",
        r"forward changed the shape of out to \[1, 3, 16\]; it must fill out as allocated",
    ),
    "rebinds_out": (
        "def forward(self, xs, weights, out):\n    out = xs[0].copy()\n    return 0\n",
        r"forward left 48 of 48 output elements unwritten \(the first at \[0, 0, 0, 0\]\): it must write "
        r"every element of out \(out\[\.\.\.\] = \.\.\., not out = \.\.\.\)",
    ),
    "misses_a_column": (
        "def forward(self, xs, weights, out):\n    out[..., 1:] = xs[0][..., 1:]\n    return 0\n",
        r"forward left 12 of 48 output elements unwritten \(the first at \[0, 0, 0, 0\]\)",
    ),
    "adds_to_out": (
        "def forward(self, xs, weights, out):\n    out += xs[0]\n    return 0\n",
        r"forward reads what out held before it ran \(48 elements, the first at \[0, 0, 0, 0\]\): out is "
        r"allocated uninitialised",
    ),
    "exits": (
        "def forward(self, xs, weights, out):\n    raise SystemExit(3)\n",
        r"the kernel raised SystemExit: 3 \(at .*\)",
    ),
    "calls_a_kernel_that_refuses": (
        "def forward(self, xs, weights, out):\n"
        "    from cnncalc.kernels.conv import conv2d_nchw\n"
        "    return conv2d_nchw(xs[0], xs[0][:1].astype('float64'), None, out)\n",
        r"the kernel refused the layer: .*dtype.* \(at .*test_verify\.py:\d+\)",
    ),
}


@pytest.mark.parametrize("bug", sorted(BAD_KERNELS))
def test_a_broken_kernel_is_that_layers_failure(bug, tmp_path, run_cli):
    import re
    import textwrap

    body, match = BAD_KERNELS[bug]
    namespace: dict = {}
    exec(textwrap.dedent(body), namespace)  # the kernel under test, written as a user would

    @register
    class Broken(Layer):
        """An identity whose kernel breaks the contract. MACs: 0. FLOPs: 0."""

        kind = "test_broken_kernel"

        def output_shape(self, x):
            return x

        def flops(self, x, *, out):
            return 0

        def forward(self, xs, weights, out):
            return namespace["forward"](self, xs, weights, out)

    try:
        path = tmp_path / "net.yaml"
        path.write_text("input: [1, 3, 4, 4]\nlayers:\n  - relu\n  - test_broken_kernel\n  - relu\n")
        v = verify(analyze(load_spec(path)))
        first, broken, last = v.layers
        assert first.ok and last.ok and not broken.ok
        assert re.search(match, broken.error), broken.error
        code, out, err = run_cli("verify", str(path))
        assert code == 1 and "Traceback" not in err
        assert "1 of 3 layers disagree" in out
        code, out, _ = run_cli("verify", str(path), "-f", "json")
        row = json.loads(out)["layers"][1]
        assert code == 1 and row["ok"] is False and re.search(match, row["error"])
    finally:
        del REGISTRY["test_broken_kernel"]


def test_compile_progress_names_each_kernel_and_counts_down():
    events = []
    spec = parse_spec("input: [1, 2, 4, 4]\nlayers:\n  - relu\n")
    verify(analyze(spec), progress=lambda *e: events.append(e))
    compile_events = [e for e in events if e[0] == "compile"]
    total = compile_events[0][2]
    assert [e[1] for e in compile_events] == list(range(total + 1))
    assert {e[2] for e in compile_events} == {total}
    names = [e[3] for e in compile_events]
    assert names[-1] == "" and len(set(names[:-1])) == total
    assert {"conv2d", "max_pool2d", "linear", "batch_norm2d", "relu", "add", "concat"} <= set(names)
    assert [e[:3] for e in events if e[0] == "run"] == [("run", 0, 1), ("run", 1, 1)]


def test_cache_note_after_a_run_that_compiled(monkeypatch):
    import dataclasses

    from cnncalc.analysis.verify import cache_note
    from cnncalc.kernels import _jit

    a = analyze(parse_spec("input: [1, 2, 4, 4]\nlayers:\n  - relu\n"))
    verify(a)
    v = verify(a)
    assert v.compiled_kernels == 0  # the first run of this process compiled or loaded them
    assert cache_note(v) is None
    first = dataclasses.replace(v, compiled_kernels=28, compile_seconds=12.3)
    monkeypatch.setattr(_jit, "CACHE", True)
    assert cache_note(first) == (
        "compiled the reference kernels in 12.3 s and cached them: later runs load them from "
        "numba's cache in about a second"
    )
    monkeypatch.setattr(_jit, "CACHE", False)
    assert "cache is off (CNNCALC_NUMBA_CACHE=0), so every run compiles them again" in cache_note(first)


def test_the_progress_display_reports_compilation_then_the_cache(capsys):
    """The terminal display of ``cnncalc verify`` (drawn on stderr; here not a terminal, so only
    what stays printed is checked): it accepts every progress event and ends with the note."""
    import dataclasses

    from cnncalc.cli.verify import _verify_with_progress

    a = analyze(parse_spec("input: [1, 2, 4, 4]\nlayers:\n  - relu\n"))
    seen = []

    def first_run(analysis, *, seed, progress):
        v = verify(analysis, seed=seed, progress=lambda *e: (seen.append(e), progress(*e)))
        return dataclasses.replace(v, compiled_kernels=3, compile_seconds=9.5)

    result = _verify_with_progress(a, 0, first_run)
    assert result.ok and seen[0][0] == "compile" and seen[-1][:2] == ("run", 1)
    err = " ".join(capsys.readouterr().err.split())  # rich wraps the line to the console width
    assert "compiled the reference kernels in 9.5 s and cached them: later runs load them from numba" in err


def test_counts_are_written_one_way_and_a_shape_mismatch_says_only_that(broken_layers, tmp_path, run_cli):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "input: [1, 3, 64, 64]\nlayers:\n  - test_off_by_one_macs: {out: 4}\n  - test_wrong_shape: {out: 2}\n"
    )
    code, out, _ = run_cli("verify", str(path))
    assert code == 1
    # (4*64*64 - 1)*3 predicted, 4*64*64*3 counted: both with thousands separators.
    assert "MACs predicted 49,149, kernel counted 49,152" in out
    lines = out[out.index("test_wrong_shape") :].splitlines()
    # The kernel refused the predicted shape before counting: no MACs or params "None" after it.
    assert not any("None" in line for line in lines), out
