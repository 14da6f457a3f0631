"""Hostile input: every case ends with one located message and exit status 2 (1 when the output
cannot be written), never a traceback, and quickly.

Each case runs the command line in a child process under a timeout and an address-space limit:
a hang or a runaway allocation fails the case instead of stalling the suite. The child is forked
from the test process, which has imported cnncalc, sympy and rich once, so a case costs its own
work only; cases about the process itself (a closed stdout) run ``python -m cnncalc``.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys

import pytest

from .helpers import ROOT, SPECS, run_forked

#: Every case must finish within this many seconds (a hang fails it).
TIMEOUT = 600
#: Address space of each run (a runaway allocation fails it).
MEMORY = 4 * 2**30

HEAD = "input: [1, 3, 8, 8]\nlayers:\n"
SYM = "symbols: {H: 32, W: 32}\ninput: [1, 3, H, W]\nlayers:\n"
LOC = r"hostile\.yaml:\d+:\d+: .*"  # a message located in the spec file


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(args, *, spec: str | None = None, stdin=None, tmp_path=None, shell: str | None = None):
    """(exit status, stdout, stderr) of ``cnncalc ARGS``; ``spec`` is written to hostile.yaml
    and ``{spec}`` in ARGS names it; ``shell`` wraps a real ``python -m cnncalc`` process in a
    shell redirection (``exec CNNCALC >&-``)."""
    if spec is not None:
        path = tmp_path / "hostile.yaml"
        path.write_text(spec)
        args = [a.replace("{spec}", str(path)) for a in args]
    if shell is None:
        return run_forked(args, stdin, tmp_path, timeout=TIMEOUT, memory=MEMORY)
    cmd = ["bash", "-c", shell.replace("CNNCALC", '"$@"'), "_", sys.executable, "-m", "cnncalc", *args]
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        preexec_fn=_limit,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def case(id_: str, spec: str | None, args: list[str], match: str, status: int = 2):
    return pytest.param(spec, args, match, status, id=id_)


def _chain(n: int) -> str:
    """``n`` blocks, each using the next: ``n`` levels of nesting."""
    blocks = "".join(f"  b{i}: {{layers: [{f'b{i + 1}' if i + 1 < n else 'relu'}]}}\n" for i in range(n))
    return f"input: [1, 3, 8, 8]\nblocks:\n{blocks}layers: [b0]\n"


def _pairs(n: int, conv: str, up: int) -> str:
    return SYM + f"  - conv2d: {{{conv}}}\n  - upsample: {{scale: {up}}}\n" * n


CASES = [
    # 1. unbounded reads: a device reports size 0
    case(
        "read-dev-zero",
        None,
        ["analyze", "/dev/zero"],
        r"/dev/zero: larger than the limit of 2,000,000 bytes",
    ),
    # 2. expansion that is not counted: nested repeats of a block that expands to nothing
    case(
        "expansion-empty-blocks",
        "input: [1, 3, 8, 8]\n"
        "blocks: {empty: {layers: [{relu: {when: 0}}]}, mid: {layers: [{empty: {repeat: 20000}}]}}\n"
        "layers: [{mid: {repeat: 20000}}, relu]\n",
        ["analyze", "{spec}"],
        LOC + r".*more than 200,000 steps \(the limit of expansion steps",
    ),
    case(
        "entries-written-out",
        HEAD + "  - relu\n" * 20_001,
        ["analyze", "{spec}"],
        LOC + r"layers: the spec writes out more than 20,000 layer entries \(the limit of entries\)",
    ),
    # 3. symbolic blow-up: a power of a sum with open symbols, in analyze and compare
    case(
        "power-of-sum",
        "symbols: {a: null, b: null, c: null}\n"
        + HEAD
        + '  - conv2d: {out: "(a+b+c+1)**64 // 2", kernel: 1}\n',
        ["analyze", "{spec}"],
        LOC
        + r"layer 'conv1' \(conv2d\): out: .*polynomial of degree 64 with 47,905 terms \(at most degree 8",
    ),
    case(
        "power-of-eight-symbols",
        "symbols: {a: null, b: null, c: null, d: null, e: null, f: null, g: null, h: null}\n"
        + HEAD
        + '  - conv2d: {out: "(a+b+c+d+e+f+g+h)**64", kernel: 1}\n',
        ["compare", "{spec}", "lenet5", "--symbolic"],
        # degree-64 monomials in 8 symbols: C(64 + 7, 7) = 1,329,890,705
        LOC + r".*polynomial of degree 64 with 1,329,890,705 terms",
    ),
    # 4. exact numbers out of range
    case(
        "tiny-fraction-power",
        HEAD + '  - conv2d: {out: "ceil(((1/7)**64)**64)", kernel: 1}\n',
        ["analyze", "{spec}"],
        LOC + r".*the power is too large \(limit 10\*\*100\)",
    ),
    case(
        "tiny-fraction-denominator",
        HEAD + '  - conv2d: {out: "ceil(1/10**64/10**64)", kernel: 1}\n',
        ["analyze", "{spec}"],
        LOC + r".*a fraction too fine to be a size \(denominator above 10\*\*100\)",
    ),
    case(
        "total-beyond-printing",
        "input: [" + ", ".join(["1" + "0" * 100] * 45) + "]\nlayers: [relu]\n",
        ["analyze", "{spec}", "-f", "json"],
        LOC + r"input: the input has a number of elements of 4,501 digits \(at most 300",
    ),
    case(
        "number-of-100000-digits",
        HEAD + "  - conv2d: {out: " + "9" * 100_000 + ", kernel: 1}\n",
        ["analyze", "{spec}"],
        LOC + r"layers\[0\]\.conv2d\.out: the number 9{24}\.\.\.\(100,000 characters\) is longer than 120",
    ),
    # 5. recursion
    case(
        "block-cycle-through-first",
        "input: [1, 3, 8, 8]\nblocks:\n"
        "  a: {layers: [{b: {repeat: 2, first: {block: c}}}]}\n  b: {layers: [relu]}\n  c: {layers: [a]}\n"
        "layers: [a]\n",
        ["analyze", "{spec}"],
        LOC + r"blocks\.a: blocks use each other in a cycle: a -> c -> a",
    ),
    case("nesting-400", _chain(400), ["analyze", "{spec}"], LOC + r"400 levels deep \(at most 100"),
    case("nesting-1200", _chain(1200), ["analyze", "{spec}"], LOC + r"1200 levels deep \(at most 100"),
    case(
        "formula-nesting",
        _pairs(100, "out: 3, kernel: 2, stride: 2", 3),
        ["analyze", "{spec}", "--symbolic"],
        LOC + r"layer 'conv\d+' \(conv2d\): the output shape is a formula nested more than 40 levels",
    ),
    # 7. an impossible network is an error in every mode
    case(
        "impossible-symbolic",
        SYM + "  - concat: {branches: [[], [{max_pool2d: {kernel: 2}}]]}\n",
        ["analyze", "{spec}", "--symbolic"],
        LOC
        + r"layer 'concat1' \(concat\): axis 2 must match.*-H \+ floor\(H/2\) == 0 holds for no value of H",
    ),
    case(
        "impossible-bound",
        SYM + "  - concat: {branches: [[], [{max_pool2d: {kernel: 2}}]]}\n",
        ["analyze", "{spec}"],
        LOC + r"layer 'concat1' \(concat\): axis 2 must match: 32 \(input 1\) vs 16 \(input 2\)",
    ),
    # 8. command-line mistakes
    case(
        "seed-negative", None, ["verify", "lenet5", "--seed", "-1"], r"the seed is a whole number from 0 to"
    ),
    case(
        "export-seed-negative",
        None,
        ["export", "lenet5", "-o", "/nonexistent/x.onnx", "--seed", "-1"],
        r"the seed is a whole number from 0 to",
    ),
    case(
        "schema-indent",
        None,
        ["schema", "--indent", "100000000"],
        r"the indentation is a whole number from 0 to 16",
    ),
    case(
        "path-5000",
        None,
        ["analyze", "a/" * 2500],
        r"\(4,999 characters\).*cannot be read \(File name too long\)",
    ),
    case(
        "first-block-list",
        "input: [1, 3, 8, 8]\nblocks: {b: {layers: [relu]}}\n"
        "layers: [{b: {repeat: 2, first: {block: [1, 2]}}}]\n",
        ["analyze", "{spec}"],
        LOC
        + r"layers\[0\]\.b\.first\.block: first: block names the block of the first repetition, found a list",
    ),
    case(
        "memory-budget-empty",
        None,
        ["verify", "lenet5", "--memory-budget", ""],
        r"--memory-budget '': expected",
    ),
    case("compare-stdin-twice", None, ["compare", "-", "-"], r"only one design can be -"),
    # 9. YAML 1.1 reinterpretations: numbers mean what their text says
    case(
        "yaml-octal",
        HEAD + "  - conv2d: {out: 010, kernel: 1}\n",
        ["analyze", "{spec}"],
        LOC + r"010 has a leading zero.*write 10 \(or 8",
    ),
    case(
        "yaml-sexagesimal",
        HEAD + "  - conv2d: {out: 1:20, kernel: 1}\n",
        ["analyze", "{spec}"],
        LOC + r"1:20 is read by YAML 1\.1 as a base-60",
    ),
    case(
        "yaml-binary",
        HEAD + "  - conv2d: {out: 0b101, kernel: 1}\n",
        ["analyze", "{spec}"],
        LOC + r"0b101 is a binary literal; write the number in decimal: 5",
    ),
    case(
        "expr-hex",
        HEAD + '  - conv2d: {out: "2*0x10", kernel: 1}\n',
        ["analyze", "{spec}"],
        LOC + r"'0x10' is a hexadecimal literal; write it in decimal: 16",
    ),
    case(
        "yaml-yes",
        HEAD + "  - conv2d: {out: 4, kernel: 1, bias: yes}\n",
        ["analyze", "{spec}"],
        LOC + r"yes is read by YAML 1\.1 as true; write true",
    ),
    case(
        "decimal-not-rounded",
        HEAD + "  - conv2d: {out: 8.0000000000000000001, kernel: 1}\n",
        ["analyze", "{spec}"],
        LOC + r"out = 8\.0000000000000000001 = 80000000000000000001/10000000000000000000 is not an integer",
    ),
    case(
        "float-argument-as-text",
        HEAD + "  - leaky_relu: {negative_slope: 1e400}\n",
        ["verify", "{spec}"],
        LOC + r"layers\[0\]\.leaky_relu\.negative_slope: expected a finite number, found '1e400'",
    ),
    # 10. terminal escapes
    case(
        "escape-in-name",
        'name: "\\e[31mred"\n' + HEAD + "  - relu\n",
        ["analyze", "{spec}"],
        LOC + r"name: the text \\x1b\[31mred holds the control character U\+001B",
    ),
    case(
        "bidi-in-description",
        'description: "a\\u202eb"\n' + HEAD + "  - relu\n",
        ["analyze", "{spec}"],
        LOC + r"description: .*U\+202E",
    ),
    # 12. message wording
    case(
        "found-once",
        "symbols: {H: {type: float}}\n" + HEAD + "  - relu\n",
        ["analyze", "{spec}"],
        LOC + r"symbols\.H\.type: expected 'integer' or 'rational', found 'float'$",
    ),
    case(
        "about-once",
        HEAD + '  - conv2d: {out: "10**60", kernel: 1}\n  - conv2d: {out: "10**60", kernel: 1}\n',
        ["verify", "{spec}"],
        r"needs about 10\^1\d\d bytes, over the budget",
    ),
    case(
        "set-long-number",
        None,
        ["analyze", "lenet5", "--set", "H=" + "9" * 5000],
        r"--set H=9{24}\.\.\.\(5,000 characters\): expression is 5000 characters long \(at most 500\)",
    ),
    case(
        "freeze-until-empty",
        'freeze_until: ""\n' + HEAD + "  - relu\n",
        ["analyze", "{spec}"],
        LOC + r"freeze_until: no layer or block is named ''",
    ),
]


@pytest.mark.parametrize(("spec", "args", "match", "status"), CASES)
def test_hostile(spec, args, match, status, tmp_path):
    code, out, err = run(args, spec=spec, tmp_path=tmp_path)
    if args[0] == "verify":
        assert "compiling" not in err
    assert "Traceback" not in err, err[-2000:]
    assert code == status, err
    assert (err.count("\n") == 1 and err.startswith("cnncalc: error: ")) or err.startswith("usage: "), err
    assert re.search(match, err.splitlines()[-1]), err
    assert len(err) < 5000
    assert out == ""


# -- standard input -----------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_stdin_device_refused(device, tmp_path):
    with open(device, "rb") as f:
        code, _out, err = run(["analyze", "-"], stdin=f, tmp_path=tmp_path)
    assert code == 2
    limit = "larger than the limit of 2,000,000 bytes for a spec (a spec is a page of text)"
    assert err == f"cnncalc: error: <stdin>: {limit}\n"


def test_stdin_endless_pipe_refused(tmp_path):
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        code, _out, err = run(["analyze", "-"], stdin=yes.stdout, tmp_path=tmp_path)
    finally:
        yes.kill()
        yes.wait()
    assert code == 2
    assert "<stdin>: larger than the limit of 2,000,000 bytes" in err


def test_named_pipe_without_writer(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    code, _out, err = run(["analyze", str(fifo)], tmp_path=tmp_path)
    assert code == 2
    assert err == f"cnncalc: error: {fifo}: the file is empty; a spec needs at least 'input' and 'layers'\n"


def test_stdin_spec_analysed(tmp_path):
    (tmp_path / "in.yaml").write_text((SPECS / "lenet5.yaml").read_text())
    with open(tmp_path / "in.yaml", "rb") as f:
        code, out, err = run(["analyze", "-", "-f", "json"], stdin=f, tmp_path=tmp_path)
    assert code == 0, err
    import json

    doc = json.loads(out)
    assert doc["spec"] == "<stdin>"
    # LeNet-5 of the course: 61,706 parameters (the README's published figure).
    assert doc["totals"]["params"] == 61706


def test_stdin_errors_located(tmp_path):
    (tmp_path / "in.yaml").write_text(HEAD + "  - conv2d: {out: 4, kernal: 3}\n")
    with open(tmp_path / "in.yaml", "rb") as f:
        code, _out, err = run(["verify", "-"], stdin=f, tmp_path=tmp_path)
    assert code == 2
    assert err.startswith(
        "cnncalc: error: <stdin>:3:30: layers[0].conv2d.kernal: conv2d has no argument 'kernal'"
    )


# -- output that cannot be written: exit 1 and a message -------------------------------------


@pytest.mark.parametrize(
    ("shell", "message"),
    [
        ("exec CNNCALC > /dev/full", "cannot write the output: No space left on device"),
        ("exec CNNCALC >&-", "cannot write the output: standard output is closed"),
    ],
    ids=["dev-full", "closed-stdout"],
)
@pytest.mark.parametrize(
    "args", [["analyze", "lenet5"], ["analyze", "lenet5", "-f", "json"], ["zoo"], ["schema"]]
)
def test_output_failure(shell, message, args):
    code, _out, err = run(args, shell=shell)
    assert code == 1, err
    assert err == f"cnncalc: error: {message}\n"


# -- what must keep working --------------------------------------------------------------------


def test_deep_valid_nesting_works(tmp_path):
    code, out, err = run(["analyze", "{spec}", "-f", "csv"], spec=_chain(99), tmp_path=tmp_path)
    assert code == 0, err
    # 3*8*8 = 192 FLOPs and output elements, 768 bytes at float32; no parameters, so no trainable
    assert out.splitlines()[1].endswith(',relu,"[1, 3, 8, 8]",0,0,192,,192,768,0')


def test_stride_and_upsample_pairs_stay_flat(tmp_path):
    # conv 3x3 stride 2 padding 1: floor((H + 2 - 3)/2) + 1 = ceiling(H/2); upsample x2 doubles it,
    # and the next conv halves it back: every pair ends at 2*ceiling(H/2).
    spec = _pairs(100, "out: 3, kernel: 3, stride: 2, padding: 1", 2)
    code, out, err = run(["analyze", "{spec}", "--symbolic", "-f", "csv"], spec=spec, tmp_path=tmp_path)
    assert code == 0, err
    assert out.splitlines()[-1].startswith('up100,upsample,"[1, 3, 2*ceiling(H/2), 2*ceiling(W/2)]"')


def test_markup_in_name_shown_as_written(tmp_path):
    code, out, err = run(
        ["analyze", "{spec}"], spec='name: "[/]x[bold]"\n' + HEAD + "  - relu\n", tmp_path=tmp_path
    )
    assert code == 0, err
    assert "[/]x[bold]" in out


def test_set_keeps_every_digit(tmp_path):
    args = ["analyze", "mobilenet_v1", "--set", "alpha=0.3333333333333333333333", "-f", "json"]
    code, out, err = run(args, tmp_path=tmp_path)
    assert code == 0, err
    import json

    assert json.loads(out)["symbols"]["alpha"] == "3333333333333333333333/10000000000000000000000"


def test_memory_guard_refuses_a_long_chain_quickly(tmp_path):
    spec = "symbols: {N: 1, H: 224, W: 224}\ninput: [N, 3, H, W]\nlayers:\n  - conv2d: {out: 8, kernel: 1}\n"
    spec += "  - relu: {repeat: 19990}\n"
    args = [
        "verify",
        "{spec}",
        "--set",
        "N=64",
        "H=1000000000000",
        "W=1000000000000",
        "--memory-budget",
        "1GiB",
    ]
    code, _out, err = run(args, spec=spec, tmp_path=tmp_path)
    assert code == 2, err
    # 64 x 8 x 10^12 x 10^12 float32 = 2.048 * 10^27 bytes for conv1's output alone.
    assert (
        "the largest tensor is the output of 'conv1', [64, 8, 1000000000000, 1000000000000] = 10^27 bytes"
        in err
    )
    assert "; sizes that fit: --set N=1 H=" in err


# -- in-process: a directory that cannot be read, ratios beyond float range ----------------------


def test_unreadable_directory(tmp_path, monkeypatch, run_cli):
    # Tests may run as root, whom permissions do not stop: the refusal is simulated where the
    # file is opened.
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "spec.yaml").write_text(HEAD + "  - relu\n")
    target = str(tmp_path / "locked" / "spec.yaml")
    real_open = os.open

    def guarded(path, *args, **kwargs):
        if str(path) == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded)
    code, _out, err = run_cli("analyze", target)
    assert code == 2
    assert err == f"cnncalc: error: {target}: cannot be read (Permission denied)\n"


def test_compare_ratio_beyond_float_range():
    from fractions import Fraction

    from cnncalc.report.compare import ratio_json, ratio_text

    huge = Fraction(10**400, 3)  # 3.3 * 10^399: no float holds it
    assert ratio_text(huge) == "about 10^400"
    assert ratio_text(1 / huge) == "about 10^-400"
    assert ratio_json(huge) == f"{10**400}/3"
