"""Every user mistake ends in one located message and exit status 2, never a traceback."""

from __future__ import annotations

import pytest

from cnncalc.core.engine import analyze
from cnncalc.errors import ShapeError, SpecError, UnknownLayerError
from cnncalc.lang.spec import parse_spec

HEAD = "input: [1, 3, 8, 8]\nlayers:\n"


def e(id_: str, text: str, match: str):
    return pytest.param(text, match, id=id_)


SPEC_ERRORS = [
    # YAML and structure
    e("broken-yaml", "input: [1, 3\nlayers: x\n", r"bad\.yaml:2:\d+: invalid YAML"),
    e("empty", "", r"bad\.yaml: the file is empty"),
    e("only-comment", "# nothing\n", r"the file is empty"),
    e("a-list", "- relu\n", r"a spec is a mapping .* found a list"),
    e("a-scalar", "hello\n", r"found a string"),
    e(
        "duplicate-key",
        "input: [1, 3, 8, 8]\ninput: [1, 3, 8, 8]\nlayers: [relu]\n",
        r"bad\.yaml:2:1: input: duplicate key 'input'",
    ),
    e("python-tag", HEAD + "  - !!python/object/apply:os.system [ls]\n", r"YAML tag .* not allowed"),
    e(
        "alias",
        "x: &a [1, 3, 8, 8]\ninput: *a\nlayers: [relu]\n",
        r"bad\.yaml:2:1: input: YAML aliases \(\*name\) are not supported",
    ),
    e(
        "unknown-top-key",
        "input: [1, 3, 8, 8]\nlayer:\n  - relu\n",
        r"unknown top-level key 'layer' \(did you mean 'layers'\?\)",
    ),
    e("missing-input", "layers: [relu]\n", r"bad\.yaml:1:1: a spec needs 'input' \(input: \[N, 3, H, W\]\)"),
    e("no-layers", "input: [1, 3, 8, 8]\nlayers: []\n", r"the network has no layers"),
    e("layers-not-list", "input: [1, 3, 8, 8]\nlayers: relu\n", r"layers: expected a list, found .relu."),
    e(
        "entry-two-keys",
        HEAD + "  - conv2d:\n    out: 4\n",
        r"bad\.yaml:3:5: layers\[0\]: a layer is written as `kind: \{arguments\}`.*indented",
    ),
    e("entry-number", HEAD + "  - 42\n", r"expected a layer .* found a number"),
    e("args-not-mapping", HEAD + "  - conv2d: 4\n", r"arguments of 'conv2d' must be a mapping"),
    # kinds and arguments
    e(
        "unknown-kind",
        HEAD + "  - conv2: {out: 4, kernel: 3}\n",
        r"bad\.yaml:3:5: layers\[0\]: unknown layer kind 'conv2' \(did you mean 'conv2d'\?\); known: .*max_pool2d",
    ),
    e(
        "typo-argument",
        HEAD + "  - conv2d: {out: 4, kernal: 3}\n",
        r"bad\.yaml:3:\d+: layers\[0\]\.conv2d\.kernal: conv2d has no argument 'kernal'; did you mean 'kernel'\?",
    ),
    e("missing-argument", HEAD + "  - conv2d: {out: 4}\n", r"missing required argument 'kernel'"),
    e(
        "bool-argument",
        HEAD + "  - conv2d: {out: 4, kernel: 3, bias: maybe}\n",
        r"conv2d\.bias: expected true or false, found 'maybe'",
    ),
    e(
        "pair-of-three",
        HEAD + "  - conv2d: {out: 4, kernel: [3, 3, 3]}\n",
        r"kernel: expected one value or a pair \[height, width\], found 3 values",
    ),
    e(
        "bad-padding-word",
        HEAD + "  - conv2d: {out: 4, kernel: 3, padding: full}\n",
        r"conv2d\.padding: 'full' is not defined",
    ),
    e("dropout-p", HEAD + "  - dropout: {p: 1.5}\n", r"dropout\.p: must be less than 1, found 1\.5$"),
    e("bad-name", HEAD + "  - relu: {name: 'a b'}\n", r"a layer name is letters"),
    e("freeze-not-bool", HEAD + "  - relu: {freeze: 3}\n", r"freeze is true or false"),
    # expressions
    e(
        "hostile-call",
        HEAD + "  - conv2d: {out: \"__import__('os').system('ls')\", kernel: 3}\n",
        r"conv2d\.out: in .*function .* is not allowed",
    ),
    e("attribute", HEAD + '  - conv2d: {out: "(4).real", kernel: 3}\n', r"attribute access is not allowed"),
    e("lambda", HEAD + '  - conv2d: {out: "(lambda: 4)()", kernel: 3}\n', r"not allowed"),
    e(
        "comprehension",
        HEAD + '  - conv2d: {out: "[i for i in (1,)]", kernel: 3}\n',
        r"a comprehension is not allowed",
    ),
    e("tower-power", HEAD + '  - conv2d: {out: "10**10**10", kernel: 3}\n', r"exponent .* is too large"),
    e(
        "undefined-symbol",
        HEAD + '  - conv2d: {out: "4*width", kernel: 3}\n',
        r"bad\.yaml:3:\d+: layers\[0\]\.conv2d\.out: '4\*width' uses 'width', which is not defined",
    ),
    e("undefined-in-input", "input: [N, 3, 8, 8]\nlayers: [relu]\n", r"input\[0\]: 'N' is not defined"),
    e(
        "symbol-typo",
        "symbols: {width: 4}\n" + HEAD + "  - conv2d: {out: widht, kernel: 3}\n",
        r"'widht' is not defined \(did you mean 'width'\?\)",
    ),
    e("division-by-zero", HEAD + '  - conv2d: {out: "4//0", kernel: 3}\n', r"division by zero"),
    # symbols
    e("symbol-zero", "symbols: {k: 0}\n" + HEAD + "  - relu\n", r"symbols\.k: default must be positive"),
    e(
        "symbol-float",
        "symbols: {k: 2.5}\n" + HEAD + "  - relu\n",
        r"is not an integer; declare `type: rational`",
    ),
    e("symbol-bad-name", "symbols: {floor: 2}\n" + HEAD + "  - relu\n", r"cannot be a symbol name"),
    e(
        "symbol-bounds",
        "symbols: {H: {default: 8, min: 10}}\n" + HEAD + "  - relu\n",
        r"default 8 is outside",
    ),
    e(
        "symbol-unknown-field",
        "symbols: {H: {defualt: 8}}\n" + HEAD + "  - relu\n",
        r"symbols\.H: unknown argument 'defualt'",
    ),
    e("symbol-list", "symbols: {H: true}\n" + HEAD + "  - relu\n", r"a symbol is a default value"),
]


@pytest.mark.parametrize(("text", "match"), SPEC_ERRORS)
def test_spec_errors(text, match, tmp_path, run_cli):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = run_cli("analyze", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith("cnncalc: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    import re

    assert re.search(match, err), err


SHAPE_ERRORS = [
    e(
        "kernel-too-large",
        "input: [1, 3, 5, 5]\nlayers:\n  - conv2d: {out: 4, kernel: 7}\n",
        r"bad\.yaml:3:\d+: layer 'conv1' \(conv2d\): the kernel height 7 must fit in the padded input height 5",
    ),
    e(
        "kernel-too-large-padded",
        "input: [1, 3, 5, 5]\nlayers:\n  - conv2d: {out: 4, kernel: 9, padding: 1}\n",
        r"kernel height 9 must fit in the padded input height 5 \+ 1 \+ 1 = 7",
    ),
    e(
        "groups",
        "input: [1, 64, 5, 5]\nlayers:\n  - conv2d: {out: 4, kernel: 1, groups: 3}\n",
        r"groups = 3 must divide the input channels 64",
    ),
    e(
        "zero-channels",
        "input: [1, 3, 8, 8]\nlayers:\n  - conv2d: {out: 0, kernel: 3}\n",
        r"layer 'conv1' \(conv2d\): out = 0 must be at least 1",
    ),
    e(
        "negative-stride",
        "input: [1, 3, 8, 8]\nlayers:\n  - conv2d: {out: 2, kernel: 3, stride: -1}\n",
        r"stride = -1 must be at least 1",
    ),
    e(
        "fractional-channels",
        "input: [1, 3, 8, 8]\nlayers:\n  - conv2d: {out: 4.5, kernel: 3}\n",
        r"out = 9/2 is not an integer",
    ),
    e(
        "zero-input",
        "input: [1, 3, 0, 8]\nlayers:\n  - relu\n",
        r"input\[2\]: input dimension 0 = 0 must be at least 1",
    ),
    e(
        "conv-after-flatten",
        "input: [1, 3, 8, 8]\nlayers:\n  - flatten\n  - conv2d: {out: 4, kernel: 3}\n",
        r"layer 'conv1' \(conv2d\): expects an input \(N, C, H, W\), got a rank-2 input \[1, 192\]",
    ),
    e(
        "pool-padding",
        "input: [1, 3, 8, 8]\nlayers:\n  - max_pool2d: {kernel: 2, padding: 2}\n",
        r"padding 2 must be at most half the kernel size 2",
    ),
    e(
        "add-mismatch",
        "input: [1, 3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1, name: a}\n"
        "  - conv2d: {out: 5, kernel: 1, name: b, from: input}\n  - add: {inputs: [a, b]}\n",
        r"layer 'add1' \(add\): axis 1 must match: 4 \(input 1\) vs 5 \(input 2\); inputs: 'a' \[1, 4, 8, 8\], 'b' \[1, 5, 8, 8\]",
    ),
    e(
        "concat-mismatch",
        "input: [1, 3, 8, 8]\nlayers:\n  - concat:\n      branches:\n"
        "        - [conv2d: {out: 4, kernel: 3}]\n        - []\n",
        r"\(concat\): axis 2 must match: 6 \(input 1\) vs 8 \(input 2\)",
    ),
    e(
        "symbolic-impossible",
        "symbols: {H: {default: 3, max: 4}}\ninput: [1, 3, H, H]\nlayers:\n  - conv2d: {out: 4, kernel: 7}\n",
        r"this needs H >= 7, but H <= 4",
    ),
]


@pytest.mark.parametrize(("text", "match"), SHAPE_ERRORS)
def test_shape_errors(text, match, tmp_path, run_cli):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = run_cli("analyze", str(path), "--symbolic")
    assert code == 2, out
    assert out == ""
    import re

    assert re.search(match, err), err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["analyze", "no_such_network"], r"no_such_network: no such file, and no bundled spec"),
        (["analyze", "vgg61"], r"did you mean vgg19 or vgg16"),
        (["analyze", "vgg16", "--set", "Q=3"], r"unknown symbol 'Q'"),
        (["analyze", "vgg16", "--set", "H"], r"--set expects NAME=VALUE, found 'H'"),
        (["analyze", "vgg16", "--set", "H=abc"], r"--set H=abc: expected a number, found 'abc'"),
        (["analyze", "vgg16", "--set", "H=0"], r"H must be in \[1, inf\]"),
        (["analyze", "vgg16", "--set", "H=2.5"], r"H is an integer symbol"),
        (
            ["analyze", "vgg16", "--set", "H=16"],
            r"layer 'pool5' \(max_pool2d\): the window height 2 must fit in the padded input height 1",
        ),
        (["analyze", "vgg16", "--set", "H=1e30", "W=1e30"], None),  # exact, no refusal
        (["analyze", "vgg16", "--set", "H=__import__('os')"], r"not allowed"),
    ],
)
def test_command_line_errors(args, match, run_cli):
    code, _out, err = run_cli(*args)
    if match is None:
        assert code == 0 and err == ""
        return
    assert code == 2
    import re

    assert re.search(match, err), err


def test_binary_and_unreadable_files(tmp_path, run_cli):
    binary = tmp_path / "net.yaml"
    binary.write_bytes(b"\x00\x01\x02\xff")
    code, _, err = run_cli("analyze", str(binary))
    assert code == 2 and "is a binary file" in err
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    code, _, err = run_cli("analyze", str(latin))
    assert code == 2 and "is not UTF-8 text" in err
    code, _, err = run_cli("analyze", str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_deep_nesting_is_refused(tmp_path, run_cli):
    path = tmp_path / "deep.yaml"
    path.write_text("input: " + "[" * 150 + "1" + "]" * 150 + "\nlayers: [relu]\n")
    code, _, err = run_cli("analyze", str(path))
    assert code == 2 and "nested more than" in err


def test_error_classes():
    with pytest.raises(UnknownLayerError, match="unknown layer kind 'conv'"):
        parse_spec(HEAD + "  - conv: {out: 1}\n", "x.yaml")
    with pytest.raises(SpecError, match=r"x.yaml:3:13: layers\[0\]\.conv2d: missing required"):
        parse_spec(HEAD + "  - conv2d: {out: 1}\n", "x.yaml")
    with pytest.raises(ShapeError, match="kernel height 9"):
        analyze(parse_spec(HEAD + "  - conv2d: {out: 1, kernel: 9}\n", "x.yaml"))
