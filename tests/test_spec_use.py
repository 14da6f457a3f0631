"""Reuse between files (use:): bundled specs and paths inside the spec's folder tree, symbols
given, cycles refused with the chain, locations naming the file they come from; the format's
version."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cnncalc.core.engine import analyze
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.lang.spec import load_spec, parse_spec

LIBRARY = """
symbols:
  width: 4
  wide: "2*width"
  widths: [4, 8]
input: [1, 3, 16, 16]
blocks:
  unit:
    args: {out: null}
    layers:
      - conv2d: {out: out, kernel: 3, padding: 1, name: conv}
      - relu: {name: act}
  pair:
    layers:
      - unit: {out: wide, name: first}
      - unit: {out: "widths[1]", name: second}
layers:
  - pair
"""


def _write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_spec_uses_the_blocks_of_another_by_path_with_its_symbols_given(tmp_path):
    _write(tmp_path, "lib/blocks.yaml", LIBRARY)
    net = _write(
        tmp_path,
        "net.yaml",
        """
symbols: {C: 6}
use:
  lib: {spec: lib/blocks.yaml, symbols: {width: "C"}}
input: [1, 3, 16, 16]
layers:
  - lib.pair: {name: p}
  - lib.unit: {out: 5, name: u}
""",
    )
    a = analyze(load_spec(net))
    assert [(r.name, r.output_shape[1]) for r in a.layers if r.kind == "conv2d"] == [
        ("p.first.conv", 12),  # wide = 2*width, width = C = 6
        ("p.second.conv", 8),
        ("u.conv", 5),
    ]
    assert a.totals.params == (3 * 12 * 9 + 12) + (12 * 8 * 9 + 8) + (8 * 5 * 9 + 5)
    assert analyze(load_spec(net), {"C": 2}).layers[0].output_shape[1] == 4


def test_a_used_spec_s_list_takes_the_list_given(tmp_path):
    _write(tmp_path, "lib/blocks.yaml", LIBRARY)
    net = _write(
        tmp_path,
        "net.yaml",
        """
symbols: {C: 6}
use:
  lib: {spec: lib/blocks.yaml, symbols: {widths: [C, "C + 4"]}}
input: [1, 3, 16, 16]
layers:
  - lib.pair: {name: p}
""",
    )
    a = analyze(load_spec(net))
    # first: wide = 2*4 = 8 (width keeps its default); second: widths[1] = C + 4 = 10
    assert [r.output_shape[1] for r in a.layers if r.kind == "conv2d"] == [8, 10]
    assert a.totals.params == (3 * 8 * 9 + 8) + (8 * 10 * 9 + 10)
    assert analyze(load_spec(net), {"C": 1}).layers[-1].output_shape[1] == 5


def test_a_bundled_spec_is_used_by_name():
    text = """
use:
  r: {spec: resnet50}
input: [1, 64, 56, 56]
layers:
  - r.bottleneck: {width: 64, name: block}
"""
    a = analyze(parse_spec(text, "net.yaml"))
    # torchvision's layer1.0: 1x1 64->64, 3x3 64->64, 1x1 64->256, projection 64->256, 4 norms
    convs = 64 * 64 + 64 * 64 * 9 + 64 * 256 + 64 * 256
    assert a.totals.params == convs + 2 * (64 + 64 + 256 + 256)


def test_an_error_in_a_used_spec_names_its_file(tmp_path):
    _write(tmp_path, "lib.yaml", LIBRARY.replace("name: second}", "name: second, kernel: 3}"))
    net = _write(
        tmp_path, "net.yaml", "use:\n  lib: {spec: lib.yaml}\ninput: [1, 3, 8, 8]\nlayers: [lib.pair]\n"
    )
    with pytest.raises(SpecError) as info:
        load_spec(net)
    assert info.value.file.endswith("lib.yaml") and info.value.line == 16
    assert "block 'unit' has no argument 'kernel'" in info.value.message
    # and an error found while expanding it, in the used file too
    _write(tmp_path, "lib.yaml", LIBRARY.replace('out: "widths[1]"', 'out: "widths[2]"'))
    with pytest.raises(SpecError) as info:
        analyze(load_spec(net))
    assert info.value.file.endswith("lib.yaml") and info.value.line == 16
    assert "index 2 is out of range for widths" in info.value.message


@pytest.mark.parametrize(
    ("use", "match"),
    [
        ("{spec: ../outside.yaml}", r"'../outside.yaml' is outside the folder of .*net.yaml"),
        ("{spec: /etc/passwd.yaml}", r"is an absolute path"),
        ("{spec: missing.yaml}", r"no spec file 'missing.yaml' beside"),
        ("{spec: resnet5}", r"no bundled spec is named 'resnet5' \(did you mean 'resnet50'\?\)"),
        ("{spec: net.yaml}", r"specs use each other in a cycle: .*net.yaml -> .*net.yaml"),
        ("{spec: resnet50, symbols: {Q: 1}}", r"'Q' is not declared in .*resnet50.yaml"),
        ("{spec: lib.yaml, symbols: {widths: 4}}", r"'widths' is a list in .*; give it a list"),
        ("{spec: lib.yaml, symbols: {width: [4]}}", r"'width' is a number in .*; give it a number"),
    ],
)
def test_use_mistakes_are_located(tmp_path, use, match):
    (tmp_path / "outside.yaml").write_text(LIBRARY)
    _write(tmp_path, "sub/lib.yaml", LIBRARY)
    net = _write(tmp_path, "sub/net.yaml", f"use:\n  lib: {use}\ninput: [1, 3, 8, 8]\nlayers: [relu]\n")
    with pytest.raises(SpecError, match=match) as info:
        load_spec(net)
    assert info.value.line == 2


def test_a_cycle_through_several_files_is_refused_with_the_chain(tmp_path):
    _write(tmp_path, "a.yaml", "use:\n  b: {spec: b.yaml}\ninput: [1, 3, 8, 8]\nlayers: [relu]\n")
    _write(tmp_path, "b.yaml", "use:\n  a: {spec: a.yaml}\ninput: [1, 3, 8, 8]\nlayers: [relu]\n")
    with pytest.raises(SpecError, match=r"specs use each other in a cycle: .*a.yaml -> .*b.yaml -> .*a.yaml"):
        load_spec(tmp_path / "a.yaml")


def test_text_without_a_file_uses_bundled_specs_only():
    with pytest.raises(SpecError, match="is a path, but this spec is not read from a file"):
        parse_spec("use:\n  l: {spec: lib.yaml}\ninput: [1, 3, 8, 8]\nlayers: [relu]\n", "<stdin>")


def test_fcn_and_deeplab_share_one_dilated_resnet():
    fcn, deeplab = load_spec("specs/fcn_resnet50.yaml"), load_spec("specs/deeplabv3_resnet50.yaml")
    assert "resnet.backbone" in fcn.blocks and "resnet.backbone" in deeplab.blocks
    assert fcn.blocks["resnet.backbone"].path[0].source.filename.endswith("resnet50_dilated.yaml")


def test_the_format_version():
    ok = "cnncalc: 1\ninput: [1, 3, 8, 8]\nlayers: [relu]\n"
    assert parse_spec(ok, "net.yaml").version == 1
    with pytest.raises(
        SpecError, match="written for version 2 of the spec format; this cnncalc reads version 1"
    ):
        parse_spec(ok.replace("1\n", "2\n", 1), "net.yaml")
    with pytest.raises(CnncalcError, match="the format version is a whole number"):
        parse_spec(ok.replace("1\n", "one\n", 1), "net.yaml")


def test_the_command_line_reads_a_used_spec_beside_the_one_named(tmp_path):
    _write(tmp_path, "lib.yaml", LIBRARY)
    _write(tmp_path, "net.yaml", "use:\n  lib: {spec: lib.yaml}\ninput: [1, 3, 8, 8]\nlayers: [lib.pair]\n")
    p = subprocess.run(
        [sys.executable, "-m", "cnncalc", "analyze", str(tmp_path / "net.yaml"), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr
    assert '"params": ' + str((3 * 8 * 9 + 8) + (8 * 8 * 9 + 8)) in p.stdout
