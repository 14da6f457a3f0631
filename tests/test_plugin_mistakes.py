"""Mistakes plugin authors make, planted one at a time in two correct plugins, and what catches
each: ``@register``, the analysis, or the contract test (cnncalc.testing).

The two plugins (``tests/data/plugins``) were written from docs/custom-layers.md apart from
cnncalc's own layers: ``pixel_shuffle`` (channels into blocks of pixels, no parameters) and
``coord_conv`` (two coordinate channels, then a convolution). Each mistake is an exact text
edit of one of them (it must match once), so that a change to a plugin that voids a mistake
is noticed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from cnncalc.errors import LayerDefinitionError, PluginError
from cnncalc.layers import REGISTRY
from cnncalc.testing import ContractFailure, contract_test

from .helpers import DATA

PLUGINS = DATA / "plugins"
PS, CC = "pixel_shuffle", "coord_conv"


def _without(method: str):
    """An edit deleting a method (and the blank line after it)."""

    def edit(text: str) -> str:
        start = text.index(f"    def {method}(")
        ends = [
            i
            for i in (text.find("\n    def ", start + 1), text.find("\n    @classmethod", start + 1))
            if i > 0
        ]
        return text[:start] + text[min(ends) + 1 :]

    return edit


def _checks_as_comparisons(text: str) -> str:
    """coord_conv's checks() returning ``padded >= k`` (a bool) instead of ``at_least(...)``."""
    start = text.index("            found.append(\n                at_least(")
    end = text.index("        return found")
    return text[:start] + "            found.append(padded >= k)\n" + text[end:]


_PARTIAL_WRITE = (
    "        for i in range(r):\n"
    "            for j in range(1, r):\n"
    "                out[:, :, i::r, j::r] = x[:, i * r + j :: r * r]\n"
)
_BLOCKS = (
    "        blocks = x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)\n"
    "        out[...] = blocks.reshape(implied)\n"
)

# (name, kind, edits, the message it gives): refused by @register
REGISTER = [
    (
        "check_misspelt",
        PS,
        [("def checks(", "def check(")],
        r"check\(\) is not part of the layer contract.*checks\(\)\?",
    ),
    ("window_misspelt", PS, [("def windows(", "def window(")], r"did you mean windows\(\)\?"),
    (
        "mac_misspelt",
        CC,
        [("def macs(", "def mac("), ("self.macs(x,", "self.mac(x,")],
        r"did you mean macs\(\)\?",
    ),
    ("weight_misspelt", CC, [("def weights(", "def weight(")], r"did you mean weights\(\)\?"),
    (
        "flop_misspelt",
        PS,
        [("def flops(", "def flop(")],
        r"flop\(\) is not part of the layer contract.*flops\(\)\?",
    ),
]
# (name, kind, edits, options of analyze, the message): one message from the analysis, exit 2
ANALYZE = [
    (
        "truediv",
        PS,
        [("dims.floordiv(x[1], dims.mul(r, r))", "x[1] / (r * r)")],
        [],
        r"the output shape \[1, 3\.0, 8, 10\] is impossible: axis 1 \(the channels\) is 3\.0, a float \(a "
        r"division with /\)",
    ),
    (
        "name_error",
        PS,
        [("dims.mul(x[2], r)", "dims.mul(x[2], upscale)")],
        [],
        r"its rule output_shape\(\) \(the output shape\) raised NameError: name 'upscale' is not defined "
        r"\(at mistake_name_error\.py:44\)$",  # the file as named from the current directory
    ),
    (
        "int_on_size",
        PS,
        [("dims.mul(x[2], r)", "int(x[2]) * r")],
        ["--symbolic"],
        r"raised TypeError: Cannot convert symbols to int \(a size is a formula when symbols are open",
    ),
    (
        "checks_returns_bool",
        CC,
        [_checks_as_comparisons],
        [],
        r"its rule checks\(\) \(the conditions on its inputs\) returned \[True, True\] \(list\): each "
        r"check must be built with at_least",
    ),
    (
        "message_format",
        CC,
        [("{dims.fmt(padded)}", "{padded:,}")],
        ["--symbolic"],
        r"a check of the layer failed, and the function giving its message raised TypeError: "
        r"unsupported format string",
    ),
    (
        "attr_typo",
        CC,
        [
            (
                "dims.add(x[1], 2), *self.kernel)\n\n    def flops",
                "dims.add(x[1], 2), *self.kernal)\n\n    def flops",
            )
        ],
        [],
        r"its rule macs\(\) \(the MAC count\) raised AttributeError: 'CoordConv' object has no attribute "
        r"'kernal'",
    ),
    (
        "windows_testing_window",
        CC,
        [
            (
                "from cnncalc.layers import",
                "from cnncalc.strategies import WindowGeometry\nfrom cnncalc.layers import",
            ),
            ("return tuple(Window(k, s,", "return tuple(WindowGeometry(k, s,"),
        ],
        [],
        r"layer 'coordconv1' \(coord_conv\): its rule windows\(\) .* raised TypeError: .*a rule's window is "
        r"cnncalc\.layers\.Window",
    ),
]
# (name, kind, edits, the message): caught by the contract test
TOOLKIT = [
    (
        "no_checks",
        PS,
        [_without("checks")],
        r"\(upscale 1 -> 2 from the valid .*\):\n  missing check \(or a wrong shape rule\): the checks "
        r"accept this configuration, but .*the output shape \[1, 0, 2, 2\] is impossible",
    ),
    (
        "no_fit_check",
        CC,
        [_without("checks")],
        r"missing check \(or a wrong shape rule\): the checks accept this configuration, but layer "
        r"'coordconv1' \(coord_conv\): the "
        r"output shape \[1, 1, 0, 1\] is impossible",
    ),
    (
        "windows_stride",
        PS,
        [("step = dims.div(1, self.upscale)", "step = self.upscale")],
        r"windows\(\): moving input position 0 of axis 2 \(the height\) changed the outputs at 0, 1",
    ),
    (
        "windows_offset_sign",
        CC,
        [("Window(k, s, dims.mul(-1, p))", "Window(k, s, p)")],
        r"windows\(\): moving input position 0 of axis 3",
    ),
    (
        "flops_no_factor2",
        CC,
        [("dims.mul(2, self.macs(x, out=out))", "self.macs(x, out=out)")],
        r"FLOPs: the rule gives 3, less than 2 per MAC the kernel counted \(2\*3 = 6\)",
    ),
    (
        "unused_weight",
        CC,
        [("        return w\n", '        w["scale"] = Param((self.out,), "norm")\n        return w\n')],
        r"'scale' \(norm, shape \[1\]\) is never read by the kernel",
    ),
    (
        "kernel_partial_write",
        PS,
        [(_BLOCKS, _PARTIAL_WRITE)],
        r"forward left \d+ of \d+ output elements unwritten \(the first at \[0, 0, 0, [01]\]\)",
    ),
    (
        "kernel_rebinds_out",
        PS,
        [("        out[...] = blocks.reshape(implied)", "        out = blocks.reshape(implied)")],
        r"forward left 1 of 1 output elements unwritten",
    ),
    (
        "windows_testing_window",
        CC,
        [
            (
                "from cnncalc.layers import",
                "from cnncalc.strategies import WindowGeometry\nfrom cnncalc.layers import",
            ),
            ("return tuple(Window(k, s,", "return tuple(WindowGeometry(k, s,"),
        ],
        r"coordconv1 \(coord_conv\): its rule windows\(\) .* raised TypeError: .*a rule's window is "
        r"cnncalc\.layers\.Window.* \(at mistake_windows_testing_window\.py:\d+\)",
    ),
    (
        "examples_not_called",
        PS,
        [("        return build()\n", "        return build\n")],
        r"examples\(\) returned the function build itself.*call it \(return build\(\), not build\)",
    ),
    (
        "case_bare_string",
        PS,
        [('Case({cls.kind: {"upscale": r}}, x,', "Case(cls.kind, x,")],
        r"the configuration is not a valid spec entry: .*missing required argument 'upscale'",
    ),
]
#: What no contract of shapes and counts can see (docs/custom-layers.md says so): values in the
#: wrong places, and a role that is only intent.
BLIND = [
    ("kernel_permutes", PS, [("transpose(0, 1, 4, 2, 5, 3)", "transpose(0, 1, 4, 3, 5, 2)")]),
    ("bias_as_buffer", CC, [('Param((self.out,), "bias")', 'Param((self.out,), "buffer")')]),
]


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """Write a plugin with a mistake planted as module ``mistake_<name>`` in a fresh current
    directory (with its kind's specs); unregister and forget it afterwards."""
    monkeypatch.chdir(tmp_path)
    made: list[str] = []

    def plant(name: str, kind: str, edits: list[tuple[str, str]]) -> str:
        text = (PLUGINS / f"{kind}_plugin.py").read_text()
        for edit in edits:
            if callable(edit):
                text = edit(text)
                continue
            old, new = edit
            assert text.count(old) == 1, f"{name}: the edit no longer matches once: {old[:60]!r}"
            text = text.replace(old, new)
        module = f"mistake_{name}"
        (tmp_path / f"{module}.py").write_text(text)
        for spec in (f"{kind}.yaml", f"{kind}_bad.yaml"):
            (tmp_path / spec).write_text((PLUGINS / spec).read_text())
        made.append(module)
        return module

    yield plant
    for module in made:
        sys.modules.pop(module, None)
    for kind in (PS, CC):
        REGISTRY.pop(kind, None)


def _ids(rows):
    return [row[0] for row in rows]


@pytest.mark.parametrize(("name", "kind", "edits", "match"), REGISTER, ids=_ids(REGISTER))
def test_a_misspelt_rule_is_refused_by_register(planted, name, kind, edits, match):
    module = planted(name, kind, edits)
    with pytest.raises(PluginError, match=match):
        contract_test(kind, plugin=module)


@pytest.mark.parametrize(("name", "kind", "edits", "options", "match"), ANALYZE, ids=_ids(ANALYZE))
def test_a_mistake_inside_a_rule_is_one_message(planted, run_cli, name, kind, edits, options, match):
    module = planted(name, kind, edits)
    code, out, err = run_cli("analyze", f"{kind}.yaml", "--plugin", module, *options)
    assert code == 2 and out == "", err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert re.search(match, err), err


@pytest.mark.parametrize(("name", "kind", "edits", "match"), TOOLKIT, ids=_ids(TOOLKIT))
def test_the_contract_test_catches_it(planted, name, kind, edits, match):
    module = planted(name, kind, edits)
    with pytest.raises((ContractFailure, LayerDefinitionError)) as caught:
        contract_test(kind, plugin=module, max_examples=40)()
    assert re.search(match, str(caught.value)), str(caught.value)


@pytest.mark.parametrize(("name", "kind", "edits"), BLIND, ids=_ids(BLIND))
def test_what_no_contract_can_see(planted, name, kind, edits):
    module = planted(name, kind, edits)
    contract_test(kind, plugin=module, max_examples=30)()


@pytest.mark.parametrize("kind", [PS, CC])
def test_the_correct_plugins_pass(planted, run_cli, kind):
    module = planted("none", kind, [])
    contract_test(kind, plugin=module, max_examples=60)()
    code, _, err = run_cli("verify", f"{kind}.yaml", "--plugin", module)
    assert code == 0, err
    # The input the layer must refuse: one message, exit 2.
    code, out, err = run_cli("analyze", f"{kind}_bad.yaml", "--plugin", module)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("command", [["analyze"], ["bounds"], ["report", "-o", "page.html"]])
def test_a_rule_failing_after_the_analysis_is_located_in_every_command(planted, run_cli, command):
    """windows() runs after the shapes (receptive fields, exact downsampling): its failure is
    still one message at the layer's line, with the layer's name."""
    (name, kind, edits, _, _) = next(row for row in ANALYZE if row[0] == "windows_testing_window")
    module = planted(name, kind, edits)
    code, out, err = run_cli(command[0], f"{kind}.yaml", *command[1:], "--plugin", module)
    assert code == 2 and out == "", err
    assert re.match(
        r"cnncalc: error: coord_conv\.yaml:\d+:\d+: layer 'coordconv1' \(coord_conv\): its rule windows\(\)",
        err,
    ), err
    assert len(err.strip().splitlines()) == 1


SWEPT = """symbols: {C: 4}
input: [1, C, 3, 3]
layers:
  - pixel_shuffle: {upscale: 2, when: "C > 1"}
"""


def test_a_sweep_marks_the_sizes_a_layer_refuses(planted, run_cli):
    """A point where the layer's own check refuses its input is a row, invalid, with the check's
    message."""
    module = planted("none", PS, [])
    Path("swept.yaml").write_text(SWEPT)
    code, out, err = run_cli("sweep", "swept.yaml", "--range", "C=1,2,4", "--plugin", module, "-f", "csv")
    assert code == 0 and err == "", err
    # C = 1: no layer, nothing counted; C = 2: 2 channels are not blocks of 2*2; C = 4: one
    # channel of 6x6, copied: no MAC, no FLOP, 6*6 values
    assert out.splitlines()[1:] == [
        "1,true,0,0,0,0,0,",
        "2,false,,,,,,layer 'shuffle1' (pixel_shuffle): upscale*upscale = 4 must divide the channels 2",
        f"4,true,0,0,0,0,{6 * 6},",
    ]


@pytest.mark.parametrize(
    ("name", "edits", "match"),
    [
        ("no_checks", [_without("checks")], r"the output shape \[1, 0, 6, 6\] is impossible"),
        ("name_error", next(row[2] for row in ANALYZE if row[0] == "name_error"), r"raised NameError"),
    ],
)
def test_a_sweep_stops_at_a_mistake_in_a_layer_s_rules(planted, run_cli, name, edits, match):
    """A mistake in the layer's rules (a size no tensor has, a rule that raises) is not a
    property of the size: the sweep stops with its message, instead of marking the point."""
    module = planted(name, PS, edits)
    Path("swept.yaml").write_text(SWEPT)
    code, out, err = run_cli("sweep", "swept.yaml", "--range", "C=1,2,4", "--plugin", module, "-f", "csv")
    assert code == 2 and out == "" and "Traceback" not in err
    assert re.search(match, err), err
