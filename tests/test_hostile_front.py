"""Hostile input to the front ends (tui, compare, --plot, conv): each case ends in one message and
exit status 2, never a traceback, a hang or a crash, and no control character reaches the
terminal. One row per case, run as tests/test_hostile.py runs its own: the command line in a
forked child under a timeout and an address-space limit.
"""

from __future__ import annotations

import re

import pytest

from .helpers import run_forked

TIMEOUT = 600
MEMORY = 4 * 2**30

ESCAPES = "\x1b[31m\u202e"  # a colour escape and a right-to-left override


def run(args, tmp_path, stdin=None):
    return run_forked(args, stdin, tmp_path, timeout=TIMEOUT, memory=MEMORY)


def case(id_: str, args: list[str], match: str):
    return pytest.param(args, match, id=id_)


BIG = "9" * 5000  # past Python's 4,300-digit limit of int(str)

CASES = [
    # the terminal UI with no terminal: it would wait for keys that never come
    case(
        "tui-no-terminal", ["tui", "lenet5"], r"tui needs a terminal, and standard input and standard output"
    ),
    case("tui-no-terminal-new-file", ["tui", "{tmp}/new.yaml"], r"tui needs a terminal"),
    # --plot that cannot be written, refused before any work
    case(
        "plot-empty", ["analyze", "lenet5", "--plot", ""], r"--plot needs a file name .* found an empty one"
    ),
    case("plot-blank", ["analyze", "lenet5", "--plot", "  "], r"found an empty one"),
    case("plot-pdf", ["analyze", "lenet5", "--plot", "x.pdf"], r"--plot x\.pdf: write a \.png or an \.svg"),
    case(
        "sweep-plot-empty", ["sweep", "lenet5", "--range", "H=16:32:16", "--plot", ""], r"found an empty one"
    ),
    # conv: numbers too long to read, Unicode digits, floats past the float range
    case("conv-huge-size", ["conv", BIG, "-k", "3"], r"size: a number of 5,000 digits; at most 30"),
    case("conv-huge-stride", ["conv", "28", "-k", "3", "-s", BIG], r"--stride: a number of 5,000 digits"),
    case("conv-huge-channels", ["conv", "28", "-c", BIG], r"--channels: a number of 5,000 digits"),
    case("conv-huge-groups", ["conv", "28", "-c", "4", "-g", BIG], r"--groups: a number of 5,000 digits"),
    case("conv-superscript-size", ["conv", "2²", "-k", "3"], r"size: expected n, HxW or HxWxC .*'2²'"),
    case("conv-superscript-channels", ["conv", "28", "-c", "3²"], r"--channels: expected a whole number"),
    case("conv-arabic-digit", ["conv", "٣٢", "-k", "3"], r"size: expected n, HxW or HxWxC"),
    case("conv-huge-matrix", ["conv", "--input", f"[[{BIG}]]", "--filter", "[[1]]"], r"5,000 digits"),
    case("conv-huge-int-matrix", ["conv", "--input", f"[[{'9' * 309}]]", "--filter", "[[1]]"], r"finite"),
    case("conv-inf-matrix", ["conv", "--input", "[[1e309]]", "--filter", "[[1]]"], r"finite number"),
    case("conv-inf-csv", ["conv", "--input", "{tmp}/inf.csv", "--filter", "[[1]]"], r"finite number"),
    case(
        "conv-inf-product",
        ["conv", "--input", f"[[{2**1023}, {2**1023}]]", "--filter", f"[[{2**1023}, {2**1023}]]"],
        r"overflow the float range",
    ),
    # conv: allocations of many gigabytes refused with the budget, not attempted
    case("conv-huge-padding", ["conv", "--input", "[[1]]", "--filter", "[[1]]", "-p", "200000"], r"budget"),
    case(
        "conv-huge-windows",
        ["conv", "--input", "[[1]]", "--filter", "[[1]]", "-p", "60000x60000", "-s", "1"],
        r"computing the values needs about .* over the budget",
    ),
    case(
        "conv-huge-padding-strided",
        ["conv", "--input", "[[1]]", "--filter", "[[1]]", "-p", "150000", "-s", "100000"],
        r"the padded input .* is the largest",
    ),
    # conv: .npy arrays that are not real numbers
    case("conv-npy-complex", ["conv", "--input", "{tmp}/complex.npy", "--filter", "[[1]]"], r"complex128"),
    case("conv-npy-datetime", ["conv", "--input", "{tmp}/dates.npy", "--filter", "[[1]]"], r"datetime64"),
    # names too long for the system to look up: the text is not a file, never a traceback
    case("conv-rows-of-5000-digits", ["conv", "--input", f"{BIG} 1; 1 1", "--pool", "max"], r"nor a file"),
    case("compare-binding-of-5000-digits", ["compare", "lenet5", f"lenet5@H={BIG}"], r"at most 500"),
    # options that do not apply are refused, not ignored
    case(
        "conv-pool-filters", ["conv", "28", "--pool", "max", "--filters", "4"], r"--filters applies to conv"
    ),
    case(
        "solve-shape-within", ["solve", "resnet50", "--shape", "7x7", "--within", "macs=1"], r"--within does"
    ),
    case("solve-shape-step", ["solve", "resnet50", "--shape", "7x7", "--step", "1/32"], r"--step does not"),
    case(
        "solve-largest-layer",
        ["solve", "lenet5", "--largest", "H", "--within", "macs=1e6", "--layer", "conv1"],
        r"--layer does not apply to --largest",
    ),
    case("analyze-chart-json", ["analyze", "lenet5", "--chart", "-f", "json"], r"--format json has no table"),
]


def _files(tmp_path) -> None:
    np = pytest.importorskip("numpy")
    np.save(tmp_path / "complex.npy", np.ones((3, 3), dtype=complex))
    (tmp_path / "inf.csv").write_text("1e309,1\n1,1\n")
    np.save(tmp_path / "dates.npy", np.array([["2020-01-01"] * 3] * 3, dtype="datetime64[D]"))


@pytest.mark.parametrize(("args", "match"), CASES)
def test_hostile_front(args, match, tmp_path):
    _files(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run(args, tmp_path)
    assert "Traceback" not in err, err[-2000:]
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("cnncalc: error: "), err
    assert re.search(match, err), err
    assert out == ""


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "json"])
def test_a_spec_file_named_with_escapes_is_shown_escaped(fmt, tmp_path):
    from cnncalc.lang.zoo import find_spec

    path = tmp_path / f"le{ESCAPES}net.yaml"
    path.write_text(find_spec("lenet5").read_text())
    code, out, err = run(["compare", "lenet5", str(path), "-f", fmt], tmp_path)
    assert code == 0, err
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[31m" in out or "\\u001b[31m" in out  # escaped, as messages show it
    assert "\\u202e" in out


def test_an_output_file_named_with_escapes_is_shown_escaped_and_whole(tmp_path):
    pytest.importorskip("onnx")
    model, spec = f"m{ESCAPES}.onnx", f"s{ESCAPES}.yaml"
    code, out, err = run(["export", "lenet5", "-o", str(tmp_path / model)], tmp_path)
    assert code == 0 and (tmp_path / model).exists(), err
    code, out2, err2 = run(["import", str(tmp_path / model), "-o", str(tmp_path / spec)], tmp_path)
    assert code == 0 and (tmp_path / spec).exists(), err2
    for text in (out, err, out2, err2):
        assert "\x1b" not in text and "\u202e" not in text
    out = out.replace("\n  ", "")  # export wraps its line at the terminal's width
    assert "\\x1b[31m" in out and ".onnx:" in out  # escaped, and the name's end not cut
    assert "\\x1b[31m" in err2 and ".yaml:" in err2


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("yaml", ["analyze", "lenet5", "-f", "csv"]),
        ("numpy", ["sweep", "lenet5", "--range", "H=32:33", "-f", "csv"]),
    ],
)
def test_a_module_named_like_a_dependency_in_the_current_folder_does_not_run(module, args, tmp_path):
    import subprocess
    import sys

    from .helpers import ROOT

    (tmp_path / f"{module}.py").write_text("open('pwned', 'w').write('x')\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "cnncalc", *args], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "pwned").exists()
    # LeNet-5's first layer: 6 x (5 x 5 + 1) = 156 parameters, at H = 32 and at H = 33
    assert ",156," in done.stdout or "\n32," in done.stdout, done.stdout
