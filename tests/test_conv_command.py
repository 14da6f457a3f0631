"""``cnncalc conv`` and :mod:`cnncalc.calc` against arithmetic done by hand and NumPy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnncalc.analysis.calc import apply, calculate, matrix
from cnncalc.errors import UsageError

IMAGE = [
    [3, 0, 1, 2, 7, 4],
    [1, 5, 8, 9, 3, 1],
    [2, 7, 2, 5, 1, 3],
    [0, 1, 3, 1, 7, 8],
    [4, 2, 1, 6, 2, 8],
    [2, 4, 5, 2, 3, 9],
]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
# The course's answer, and the first entry worked by hand: the top-left 3x3 window
# [[3,0,1],[1,5,8],[2,7,2]] times the filter: (3 + 1 + 2) - (1 + 8 + 2) = -5.
EDGES = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]


def _numpy_correlate(image, filt):
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(image), np.shape(filt))
    return np.einsum("ijkl,kl->ij", windows, np.asarray(filt))


def test_course_size_example(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # one line an axis (narrower, see the wrapping test)
    code, out, err = run_cli("conv", "28x31", "-k", "5", "-p", "2", "-s", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "10x11"
    # floor((28 + 4 - 5)/3) + 1 = floor(27/3) + 1 = 10; floor((31 + 4 - 5)/3) + 1 = 10 + 1 = 11
    assert lines[1] == "h: floor((h + 2p - f)/s) + 1 = floor((28 + 2*2 - 5)/3) + 1 = floor(27/3) + 1 = 10"
    assert lines[2] == "w: floor((w + 2p - f)/s) + 1 = floor((31 + 2*2 - 5)/3) + 1 = floor(30/3) + 1 = 11"


@pytest.mark.parametrize("columns", [30, 40, 60, 80])
def test_the_arithmetic_wraps_to_the_width_never_inside_a_number(columns, run_cli, monkeypatch):
    """At 80 columns a terminal's own wrapping put the "1" of "= 10" at the end of one line and
    the "0" on the next: the lines now break before an "=" or at a space, within the width."""
    monkeypatch.setenv("COLUMNS", "200")
    _, wide, _ = run_cli("conv", "28x31", "-k", "5", "-p", "2", "-s", "3")
    monkeypatch.setenv("COLUMNS", str(columns))
    _, out, _ = run_cli("conv", "28x31", "-k", "5", "-p", "2", "-s", "3")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert out.split() == wide.split()  # the same words, whole, in the same order
    # each axis's derivation ends with its size, whole: (28 + 4 - 5) // 3 + 1 and (31 + 4 - 5) // 3 + 1
    assert lines[0] == "10x11"
    h = next(i for i, line in enumerate(lines) if line.startswith("w: "))
    assert lines[h - 1].endswith(f"= {(28 + 4 - 5) // 3 + 1}") and lines[h - 1].split()[-1] == "10"
    assert all(line.startswith("   ") for line in lines[2:h])  # continuations under the formula


def test_square_input_prints_one_formula(run_cli):
    code, out, _ = run_cli("conv", "6", "-k", "3")
    assert code == 0
    assert out.splitlines()[:2] == [
        "4x4",
        "n: floor((n + 2p - f)/s) + 1 = floor((6 + 2*0 - 3)/1) + 1 = floor(3/1) + 1 = 4",
    ]


def test_params_and_macs_of_filters(run_cli):
    # 32x32x3 input, 16 filters of 3x3x3, padding same, stride 1: output 32x32x16.
    code, out, _ = run_cli("conv", "32", "-k", "3", "-p", "same", "-c", "3", "--filters", "16", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["output"] == [32, 32]
    assert data["params"] == 16 * (3 * 3 * 3) + 16  # 448
    assert data["macs"] == 32 * 32 * 16 * 27  # 442,368
    assert data["biases"] == 16


def test_same_padding_with_stride_pads_the_odd_pixel_after(run_cli):
    # ceil(32/2) = 16 outputs need (16 - 1)*2 + 3 = 33 rows: one row of padding, at the bottom.
    code, out, _ = run_cli("conv", "32", "-k", "3", "-s", "2", "-p", "same", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["output"] == [16, 16]
    assert data["padding"] == [[0, 1], [0, 1]]


def test_dilation_formula():
    # effective kernel 2*(3 - 1) + 1 = 5 on 7: 7 - 5 + 1 = 3
    calc = calculate(7, 3, dilation=2)
    assert calc.size_text == "3x3"
    assert calc.axes[0].worked == "floor((7 + 2*0 - 2*(3 - 1) - 1)/1) + 1 = floor(2/1) + 1 = 3"


def test_ceil_mode_pooling_drops_a_window_starting_in_padding():
    # 5 + 2*1 = 7 padded; windows of 2 every 2 start at 0, 2, 4, 6; the one at 6 starts in the
    # trailing padding (input ends at 1 + 5 = 6): ceil(5/2) + 1 = 4, less one: 3 (PyTorch's rule).
    calc = calculate(5, 2, stride=2, padding=1, op="max_pool", ceil_mode=True)
    assert calc.size_text == "3x3"
    assert calc.params == 0 and calc.macs == 0
    assert "less the last window" in calc.axes[0].worked
    # without the padding, ceil((5 - 2)/2) + 1 = 3 and nothing is dropped
    assert calculate(5, 2, stride=2, op="max_pool", ceil_mode=True).axes[0].worked.endswith("= 3")


def test_edge_detection_values(run_cli):
    assert _numpy_correlate(IMAGE, VERTICAL_EDGE).tolist() == EDGES
    code, out, err = run_cli("conv", "--input", json.dumps(IMAGE), "--filter", json.dumps(VERTICAL_EDGE))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "4x4"
    values = lines[lines.index("values:") + 1 :]
    assert [[int(v) for v in row.split()] for row in values] == EDGES


def test_edge_detection_json_and_files(run_cli, tmp_path):
    np.save(tmp_path / "image.npy", np.array(IMAGE, dtype=np.float64))
    np.savetxt(tmp_path / "filter.csv", np.array(VERTICAL_EDGE), delimiter=",")
    code, out, err = run_cli(
        "conv", "--input", str(tmp_path / "image.npy"), "--filter", str(tmp_path / "filter.csv"), "-f", "json"
    )
    assert code == 0, err
    assert json.loads(out)["values"] == EDGES


def test_pool_values_against_numpy():
    rng = np.random.default_rng(0)
    image = rng.integers(-9, 10, size=(7, 6)).astype(float)
    calc = calculate(image.shape, 2, stride=2, op="max_pool")
    expected = image[:6, :6].reshape(3, 2, 3, 2).max(axis=(1, 3))
    np.testing.assert_array_equal(apply(calc, matrix(image, "input")), expected)


def test_multichannel_filters_against_numpy():
    rng = np.random.default_rng(1)
    image = rng.integers(-3, 4, size=(2, 5, 5)).astype(float)
    filt = rng.integers(-2, 3, size=(3, 2, 3, 3)).astype(float)
    calc = calculate((5, 5), 3, channels=2, filters=3)
    windows = np.lib.stride_tricks.sliding_window_view(image, (3, 3), axis=(1, 2))  # (2, 3, 3, 3, 3)
    expected = np.einsum("cijkl,fckl->fij", windows, filt)
    np.testing.assert_array_equal(apply(calc, matrix(image, "input"), matrix(filt, "filter")), expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["28x", "-k", "3"], r"size: expected n, HxW or HxWxC"),
        (["28", "-k", "0"], r"kernel must be at least 1, found 0"),
        (["28", "-p", "foo"], r"--padding: expected a number, PHxPW, 'same' or 'valid'"),
        (["3", "-k", "5"], r"the kernel height 5 must fit in the padded input height 3"),
        (["28", "--ceil-mode"], r"ceil mode applies to pooling"),
        (["28", "--pool", "max", "-p", "same"], r"padding 'same' applies to convolutions"),
        (["28", "--pool", "avg", "-d", "2"], r"average pooling has no dilation"),
        (["--input", "[[1,2],[3]]", "--filter", "[[1]]"], r"rows of equal length"),
        (["--input", "[[1, 2]", "--filter", "[[1]]"], r"cannot read the nested lists"),
        (["--input", "nofile.csv"], r"neither nested lists .* nor a file"),
        (["--input", "[[1,2],[3,4]]"], r"needs a --filter"),
        (["--filter", "[[1]]"], r"give the input size"),
        (["5", "--input", "[[1,2],[3,4]]", "--filter", "[[1]]"], r"disagrees with the --input matrix"),
        (["--input", '[["a"]]', "--filter", "[[1]]"], r"nested lists of numbers"),
        ([], r"give the input size"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(run_cli, args, message):
    import re

    code, out, err = run_cli("conv", *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_calculate_rejects_unknown_operation():
    with pytest.raises(UsageError, match="unknown operation 'sum'"):
        calculate(5, 3, op="sum")


# -- the course's notation, groups, depthwise, 'same' ------------------------------------------


@pytest.mark.parametrize(
    ("args", "channels"),
    [
        (["28x28x3"], 3),  # H x W x C, as the course writes a volume
        (["3x28x28", "--chw"], 3),  # C x H x W, as PyTorch does
        (["28x28", "-c", "3"], 3),
        (["28x28x3", "-c", "3"], 3),  # the same number twice is fine
    ],
)
def test_size_with_channels(run_cli, args, channels):
    code, out, err = run_cli("conv", *args, "-k", "5", "--filters", "6", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["input"] == [28, 28] and data["channels"] == channels
    # 6 filters of 3x5x5 weights and a bias each: 6*(3*25) + 6 = 456; 24*24 positions x 6 x 75
    assert data["params"] == 6 * (3 * 25) + 6
    assert data["macs"] == 24 * 24 * 6 * 75


def test_depthwise_counts_one_filter_per_channel(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # one line a statement
    # MobileNet's first depthwise layer: 32 channels at 112x112, 3x3, stride 1, 'same' padding:
    # 32 filters of 1x3x3 (288 weights) and 32 biases; 112*112 positions x 32 x 9 MACs.
    code, out, err = run_cli("conv", "112x112x32", "-k", "3", "-p", "same", "--depthwise", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["groups"] == 32 and data["output_shape"] == [1, 32, 112, 112]
    assert (data["weights"], data["biases"]) == (288, 32)
    assert data["macs"] == 112 * 112 * 32 * 9
    code, out, _ = run_cli("conv", "112x112x32", "-k", "3", "-p", "same", "--depthwise")
    assert "groups: 32 (depthwise: each filter reads 1 of the 32 input channels; 1 filter per group)" in out
    assert "params: 320 = 32 x (1 x 3 x 3) weights + 32 biases" in out


def test_groups_against_torch(run_cli):
    torch = pytest.importorskip("torch")
    code, out, err = run_cli("conv", "9x9x4", "-k", "3", "--filters", "6", "-g", "2", "-s", "2", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    layer = torch.nn.Conv2d(4, 6, 3, stride=2, groups=2)
    y = layer(torch.zeros(1, 4, 9, 9))
    assert data["output_shape"] == list(y.shape)
    assert data["params"] == sum(p.numel() for p in layer.parameters())  # 6*2*9 + 6 = 114


def test_depthwise_values_against_numpy(run_cli):
    image = [[[3, 0, 1], [1, 5, 8], [2, 7, 2]], [[1, 1, 1], [2, 2, 2], [3, 3, 3]]]
    filt = [[[1, 0], [0, -1]], [[2, 0], [0, 1]]]  # one 2x2 filter per channel
    code, out, err = run_cli(
        "conv", "--input", json.dumps(image), "--filter", json.dumps(filt), "--depthwise", "-f", "json"
    )
    assert code == 0, err
    expected = [_numpy_correlate(i, f).tolist() for i, f in zip(image, filt, strict=True)]
    assert json.loads(out)["values"] == expected


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "said"),
    [
        ("28", "5", "1", "padding 'same': 2 on each side"),  # (5 - 1) = 4 split evenly
        # an even kernel: 3 rows of padding, the extra one after (PyTorch and TensorFlow)
        ("28", "4", "1", "padding 'same': top 1, bottom 2, left 1, right 2"),
        # stride 2 on 28: ceil(28/2) = 14 outputs need (14 - 1)*2 + 3 = 29 rows: 1 of padding
        ("28", "3", "2", "padding 'same': top 0, bottom 1, left 0, right 1"),
        ("28x31", "3", "2", "padding 'same': top 0, bottom 1, left 1, right 1"),  # 15*2+1 = 31+2-2
    ],
)
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
def test_same_padding_says_what_it_chose(run_cli, size, kernel, stride, said, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    code, out, err = run_cli("conv", size, "-k", kernel, "-s", stride, "-p", "same")
    assert code == 0, err
    assert said in out.splitlines()
    torch = pytest.importorskip("torch")
    if stride == "1":  # torch's padding='same' (stride 1 only) puts its padding where we say
        h, w = (int(v) for v in (size.split("x") * 2)[:2])
        x = torch.arange(h * w, dtype=torch.float64).reshape(1, 1, h, w)
        conv = torch.nn.Conv2d(1, 1, int(kernel), padding="same", bias=False).double()
        data = json.loads(
            run_cli(
                "conv",
                "--input",
                json.dumps(x[0, 0].tolist()),
                "--filter",
                json.dumps(conv.weight[0, 0].tolist()),
                "-p",
                "same",
                "-f",
                "json",
            )[1]
        )
        assert np.allclose(data["values"], conv(x)[0, 0].detach().numpy())


def test_json_values_are_exact_past_64_bits(run_cli):
    # 2**100 and 2**1000 are held exactly by float64: printed as exact integers, not wrapped
    # to int64; 1e300 is not (the float is 10**300 - 5.2e283 or so): refused, not misprinted
    code, out, err = run_cli("conv", "--input", f"[[{2**100}, 2]]", "--filter", "[[1]]", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["values"] == [[2**100, 2]]
    assert "-9223372036854775808" not in out
    code, out, err = run_cli("conv", "--input", f"[[{2**1000}]]", "--filter", "[[3]]", "-f", "json")
    assert code == 0 and json.loads(out)["values"] == [[3 * 2**1000]], err
    code, out, err = run_cli("conv", "--input", "[[1e300, 2]]", "--filter", "[[1]]", "-f", "json")
    assert code == 2 and "1e300 is not held exactly by a float64" in err and out == ""


@pytest.mark.parametrize(
    ("image", "filt", "expected"),
    [
        # 2**53 + 1: float64 would print 9007199254740992
        ("[[9007199254740992, 1]]", "[[1, 1]]", [[9007199254740993]]),
        # 2 * (2**52 + 1) = 2**53 + 2, and a window that subtracts: 2**53 - 3
        ("[[4503599627370497, 4503599627370497]]", "[[1, 1]]", [[9007199254740994]]),
        ("[[9007199254740992, 3]]", "[[1, -1]]", [[9007199254740989]]),
        # 2 x 2 of 5e18 summed: 2e19, past int64
        ("[[5e18, 5e18], [5e18, 5e18]]", "[[1, 1], [1, 1]]", [[20000000000000000000]]),
    ],
)
def test_whole_numbers_past_2_to_the_53_are_exact(image, filt, expected, run_cli):
    code, out, err = run_cli("conv", "--input", image, "--filter", filt, "-f", "json")
    assert code == 0, err
    assert json.loads(out)["values"] == expected
    code, out, err = run_cli("conv", "--input", image, "--filter", filt)
    assert code == 0 and out.rstrip().endswith(str(expected[0][0])), out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # integers float64 would round before any arithmetic: refused, not computed
        (["--input", "[[99999999999999999999]]", "--filter", "[[1]]"], "99999999999999999999 is not held"),
        # an average of sums past 2**53 would be rounded
        (["--input", "[[9007199254740992, 2], [2, 2]]", "-k", "2", "--pool", "avg"], "averages would not"),
    ],
)
def test_values_float64_would_round_are_refused(args, message, run_cli):
    code, out, err = run_cli("conv", *args)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1, err


def test_a_file_of_rows_with_an_integer_float64_would_round_is_refused(run_cli, tmp_path):
    import numpy as np

    (tmp_path / "x.csv").write_text("9223372036854775807,1\n1,1\n")
    np.save(tmp_path / "x.npy", np.array([[2**53 + 1, 1]], dtype=np.int64))
    for path, value in (("x.csv", "9223372036854775807"), ("x.npy", str(2**53 + 1))):
        code, out, err = run_cli("conv", "--input", str(tmp_path / path), "--filter", "[[2]]")
        assert code == 2 and out == "" and f"{value} is not held exactly" in err, err
    # and within 2**53 a CSV's integers are read exactly: 3 * 2**51 + 1 (odd), doubled
    (tmp_path / "y.csv").write_text(f"{3 * 2**51 + 1},1\n")
    code, out, err = run_cli("conv", "--input", str(tmp_path / "y.csv"), "--filter", "[[2]]", "-f", "json")
    assert code == 0 and json.loads(out)["values"] == [[2 * (3 * 2**51 + 1), 2]], err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["28x28x3", "-c", "4", "-k", "3"], "size 28x28x3 gives 3 channel(s), --channels 4"),
        (["28", "-c", "4", "-g", "3"], "groups = 3 must divide the input channels 4"),
        (["28", "-c", "4", "--filters", "5", "-g", "2"], "must divide"),
        (["28", "--pool", "max", "-g", "2"], "groups apply to convolutions"),
        (["28", "--pool", "max", "--depthwise"], "--depthwise applies to convolutions"),
        (["28x28x3", "--depthwise", "-g", "2"], "--depthwise means groups = the 3 input channel(s)"),
        (["28", "-g", "0"], "groups must be at least 1"),
    ],
)
def test_groups_mistakes(run_cli, args, message):
    code, out, err = run_cli("conv", *args)
    assert code == 2 and message in err and out == ""


def test_an_output_of_more_values_than_are_shown_is_refused_before_any_work(run_cli, tmp_path):
    import numpy as np

    np.save(tmp_path / "in.npy", np.ones((1000, 1000)))
    # padding 3000 on each side: (1000 + 6000 - 1)/1 + 1 = 7000 per axis, 49,000,000 values
    code, out, err = run_cli("conv", "--input", str(tmp_path / "in.npy"), "--filter", "[[1]]", "-p", "3000")
    assert code == 2 and out == "" and "the output has 49,000,000 values (1x7000x7000)" in err
    # 1,000 x 1,000 values are shown
    code, out, err = run_cli("conv", "--input", str(tmp_path / "in.npy"), "--filter", "[[2]]", "-f", "json")
    assert code == 0 and json.loads(out)["values"][999][999] == 2, err
