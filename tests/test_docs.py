"""The documentation site (docs/, mkdocs.yml): what it shows is what the code does.

- Every command of a ``console`` block is run in process at 80 columns and prints exactly what
  the page shows under it (conventions in :mod:`tests.docs_pages`); every Python example runs;
  every other ``cnncalc`` command a page shows names a command and options that exist.
- The command reference's tables are the parser's, every command and option in them.
- The JSON reference names every key ``analyze --format json`` writes, and nothing else.
- The counting conventions have a row per layer kind, and the FLOPs per element they state for
  the elementwise kinds are what an analysis counts.
- The figures the tutorial cites are the published ones.
- The terminal UI's screenshots show what the app shows now.
- ``mkdocs build --strict`` passes: no broken link, no page left out of the navigation
  (skipped when mkdocs-material is not installed; the ``test`` extra installs it).

After a deliberate change of what the commands print: ``python tools/docs_update.py`` (then
read the diff); of the terminal UI: ``python tools/docs_screenshots.py``.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

from . import docs_pages as dp
from .helpers import ROOT, screenshots_tool

PAGES = dp.pages()
#: Pages whose Python examples another test runs (tests/test_api.py runs the API reference's).
DOCTESTED_ELSEWHERE = {"reference/python-api.md", "README.md"}


def _id(path) -> str:
    return str(path.relative_to(dp.DOCS if path.is_relative_to(dp.DOCS) else dp.ROOT))


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_example_prints_what_the_page_shows(page, tmp_path):
    outcomes, failures = dp.run_page(page, tmp_path, doctests=_id(page) not in DOCTESTED_ELSEWHERE)
    wrong = []
    for o in outcomes:
        if not o.ok:
            diff = difflib.unified_diff(o.example.expected, o.actual, "the page", "printed", lineterm="", n=2)
            wrong.append(f"{o.where()}: $ {o.example.command}\n" + "\n".join(diff))
    assert not wrong, "\n\n".join(wrong) + "\n\n(after a deliberate change: python tools/docs_update.py)"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("page", dp.pages(), ids=_id)
def test_no_page_shows_a_path_of_this_machine(page):
    """An output that holds the checkout's path passes here and fails on every other clone."""
    text = page.read_text(encoding="utf-8")
    assert str(ROOT) not in text and "/work/" not in text and "/tmp/pytest" not in text


def test_the_examples_are_many_and_few_are_cut():
    """The pages show commands with their output, and leave lines out (``...``) sparingly."""
    shown = [
        e for p in PAGES for b in dp.blocks(p.read_text()) if b.lang == "console" for e in dp.examples(b)
    ]
    assert len(shown) >= 60
    assert sum(e.elided for e in shown) <= len(shown) // 4


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_other_command_shown_exists(page):
    wrong = [
        f"{_id(page)} {where}: {problem}"
        for where, words in dp.shown_commands(page.read_text())
        for problem in dp.unknown_options(words)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_conventions_of_examples():
    """The reader of the examples' rules: commands, continuations, elisions, files."""
    text = (
        "```console\n$ cnncalc conv 6 -k 3 \\\n    -p 1\n6x6\n...\n\n$ echo $?\n0\n```\n"
        '```yaml title="a.yaml"\ninput: [1, 1, 6, 6]\n```\n'
    )
    console, spec = dp.blocks(text)
    first, second = dp.examples(console)
    assert first.argv == ["cnncalc", "conv", "6", "-k", "3", "-p", "1"] and first.line == 2
    assert first.expected == ["6x6", "..."] and first.elided
    assert second.command == "echo $?" and second.expected == ["0"]
    assert spec.attrs == {"title": "a.yaml"} and spec.text == "input: [1, 1, 6, 6]\n"
    assert dp.matches(["6x6", "...", "end"], ["6x6", "a", "b", "end"])
    assert not dp.matches(["6x6", "...", "end"], ["6x6", "end"])  # ... is at least one line
    assert not dp.matches(["6x6"], ["6x6", "more"])
    assert dp.unknown_options(["conv", "6", "--kernal", "3"]) == ["conv has no option --kernal"]
    assert dp.unknown_options(["analyse", "x"]) == ["no command 'analyse'"]
    assert dp.unknown_options(["COMMAND", "--help"]) == []  # a placeholder
    shown = (
        "```yaml\n- repo: x   # where you install cnncalc from\n  entry: cnncalc check --max-parms 1M\n```\n"
    )
    assert [problem for _, words in dp.shown_commands(shown) for problem in dp.unknown_options(words)] == [
        "check has no option --max-parms"
    ]


# The figures the tutorial cites, as the course and the papers publish them, with their arithmetic:
# (page, the command printing it, a line of its output, the published figures).
_CITED = [
    # The course's worked example: floor((28 + 2*2 - 5)/3) + 1 = 10, floor((31 + 2*2 - 5)/3) + 1 = 11
    ("tutorial/one-convolution.md", "cnncalc conv 28x31 -k 5 -p 2 -s 3", "{}x{}", (10, 11)),
    # LeNet-5: 6*(5*5*1 + 1) + 16*(5*5*6 + 1) + 120*(400 + 1) + 84*(120 + 1) + 10*(84 + 1)
    ("tutorial/lenet5.md", "cnncalc analyze lenet5", "total {} {:,} ", ("[1, 10]", 61_706)),
    # Inception's 5x5 on 28x28x192 to 32 channels: 28*28*32 * 5*5*192; with a 1x1 bottleneck to
    # 16 channels first: 28*28*16 * 192 + 28*28*32 * 5*5*16
    (
        "tutorial/inception.md",
        "cnncalc compare examples/inception_5x5 examples/inception_bottleneck",
        "MACs {:,} {:,}",
        (120_422_400, 12_443_648),
    ),
    # MobileNet (Howard et al. 2017, eq. 5): (D_K²·M·D_F² + M·N·D_F²) / (D_K²·M·N·D_F²) = 1/N + 1/D_K²
    (
        "tutorial/mobilenet.md",
        "cnncalc compare examples/standard_conv examples/separable_conv",
        "{}",
        ("1/N + 1/K**2",),
    ),
]


@pytest.mark.parametrize(("page", "command", "line", "values"), _CITED, ids=[c[0] for c in _CITED])
def test_the_tutorial_s_figures_are_the_published_ones(page, command, line, values):
    """The course's numbers are what the page shows a command print (which the test above
    checks against the command itself)."""
    shown = [
        " ".join(" ".join(out.split()) for out in e.expected)
        for b in dp.blocks((dp.DOCS / page).read_text())
        if b.lang == "console"
        for e in dp.examples(b)
        if e.command == command
    ]
    assert shown, f"{page} shows no {command}"
    wanted = " ".join(line.format(*values).split())
    assert any(wanted in out for out in shown), f"{page}: {command} does not print {wanted}"


#: Pages that show torchvision's models: (page, command, the models whose params and MACs it prints).
_TORCHVISION = [
    ("tutorial/alexnet.md", "cnncalc compare examples/alexnet_227 alexnet", ["alexnet"]),
    ("tutorial/vgg16.md", "cnncalc analyze vgg16 --depth 1", ["vgg16"]),
    (
        "tutorial/resnet.md",
        "cnncalc compare resnet18 resnet34 resnet50",
        ["resnet18", "resnet34", "resnet50"],
    ),
]


@pytest.mark.parametrize(("page", "command", "models"), _TORCHVISION, ids=[c[0] for c in _TORCHVISION])
def test_the_tutorial_s_torchvision_figures_are_the_published_ones(page, command, models):
    """torchvision's published parameter counts and MACs (tests/data/published_figures.json)
    are what the page shows."""
    published = {
        f["model"]: f for f in json.loads((ROOT / "tests" / "data" / "published_figures.json").read_text())
    }
    shown = "\n".join(
        "\n".join(e.expected)
        for b in dp.blocks((dp.DOCS / page).read_text())
        if b.lang == "console"
        for e in dp.examples(b)
        if e.command == command
    )
    assert shown, f"{page} shows no {command}"
    for model in models:
        for key in ("params", "macs"):
            assert f"{published[model][key]:,}" in shown, f"{page}: {model}'s {key}"


def test_a_command_prints_what_a_terminal_would_show(tmp_path):
    session = dp.Session(tmp_path)
    assert session.run("cnncalc conv 28x31 -k 5 -p 2 -s 3").splitlines()[0] == "10x11"
    assert session.run("echo $?") == "0\n"
    out = session.run("cnncalc analyze nothing.yaml")
    assert out.startswith("cnncalc: error: ") and session.run("echo $?") == "2\n"
    assert session.run("cnncalc schema > schema.json") == ""
    assert json.loads((tmp_path / "schema.json").read_text())["title"]
    with pytest.raises(ValueError, match="runs cnncalc"):
        session.run("rm -rf /")
    with pytest.raises(ValueError, match="stay in the page's folder"):
        session.run("cat ../secret")


# ---------------------------------------------------------------------------------------------
# The command reference

COMMANDS_PAGE = dp.DOCS / "reference" / "commands.md"


def test_the_command_reference_is_the_parser_s():
    from cnncalc.cli import COMMANDS

    text = COMMANDS_PAGE.read_text()
    sections = dp.generated_sections(text)
    assert sorted(sections) == sorted(["commands", *COMMANDS]), "a command has no section, or one is gone"
    for name, body in sections.items():
        assert body == dp.generated(name), (
            f"the table of {name} is not the parser's: run python tools/docs_update.py\n"
            + "\n".join(difflib.unified_diff(body.splitlines(), dp.generated(name).splitlines(), lineterm=""))
        )
    for name in COMMANDS:
        assert f"## `cnncalc {name}`" in text
        for action in dp.subparser(name)._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # -h, --help: said once for every command
            for flag in action.option_strings:
                assert f"`{flag}`" in sections[name], f"{name} {flag}"


# ---------------------------------------------------------------------------------------------
# The JSON reference

JSON_PAGE = dp.DOCS / "reference" / "json.md"

# Specs that make every optional key appear: a shared layer, an opaque layer (unknown cost), a
# warning, a condition on an open symbol, merged paths whose receptive fields differ.
_JSON_SPECS = {
    "shared.yaml": """
input: [1, 3, 16, 16]
blocks:
  unused: {layers: [relu]}
  mix: {layers: [{opaque: {shape: [1, 3, 16, 16], op: Einsum, name: mystery}}]}
layers:
  - conv2d: {out: 3, kernel: 3, padding: 1, name: a}
  - conv2d: {out: 3, kernel: 3, padding: 1, share: a}
  - mix: {name: m}
  - residual:
      body: [{conv2d: {out: 3, kernel: 3, padding: 1}}]
""",
    "open.yaml": """
symbols: {H: {}}
input: [1, 3, H, H]
layers:
  - conv2d: {out: 4, kernel: 5}
""",
}


def _json_keys(data, path: str = "") -> set[str]:
    """Every key path of a JSON value (``layers[].name``), symbols and axes written generically."""
    out: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            p = f"{path}.{k}" if path else k
            if path == "symbols":
                p = "symbols.NAME"
            elif path.endswith(".receptive_field"):
                p = f"{path}.AXIS"
            out.add(p)
            out |= _json_keys(v, p)
    elif isinstance(data, list):
        for v in data:
            out |= _json_keys(v, path + "[]")
    return out


def test_the_json_reference_names_every_key_and_no_other(tmp_path):
    session = dp.Session(tmp_path)
    for name, text in _JSON_SPECS.items():
        session.write(name, text)
    keys: set[str] = set()
    for command in (
        "cnncalc analyze resnet18 --format json",
        "cnncalc analyze shared.yaml --format json",
        "cnncalc analyze open.yaml --format json --convention fvcore",
    ):
        session.run(command + " > out.json")
        assert session.status == 0, command
        keys |= _json_keys(json.loads((tmp_path / "out.json").read_text()))
    documented = set(re.findall(r"^\| `([\w.\[\]]+)` \|", JSON_PAGE.read_text(), re.M))
    assert keys - documented == set(), "keys the JSON holds that the page does not name"
    assert documented - keys == set(), "keys the page names that the JSON does not hold"


# ---------------------------------------------------------------------------------------------
# The counting conventions

CONVENTIONS_PAGE = dp.DOCS / "reference" / "conventions.md"


def _kind_rows() -> dict[str, list[str]]:
    """The rows of the table of layer kinds: kind -> cells after it."""
    section = CONVENTIONS_PAGE.read_text().split("\n## Per layer kind\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"^\| `(\w+)` \|(.*)\|$", line)
        if m:
            rows[m[1]] = [c.strip() for c in m[2].split("|")]
    return rows


def test_every_layer_kind_has_its_row():
    from cnncalc.layers import BUILTIN_KINDS

    assert sorted(BUILTIN_KINDS) == sorted(k for k in _kind_rows() if k in BUILTIN_KINDS)
    assert set(_kind_rows()) - set(BUILTIN_KINDS) == set()


def test_the_flops_per_element_stated_are_counted():
    """``k per element`` in the FLOPs column: an input of 2*3*4*5 = 120 elements costs 120*k
    (the arguments at their defaults)."""
    import cnncalc

    checked = 0
    for kind, cells in _kind_rows().items():
        m = re.fullmatch(r"(\d+) per element", cells[-1])
        if m:  # at the arguments' defaults
            spec = {"input": [2, 3, 4, 5], "layers": [kind]}
            assert cnncalc.analyze(spec).totals.flops == 120 * int(m[1]), kind
            checked += 1
    assert checked >= 10


# ---------------------------------------------------------------------------------------------
# The terminal UI's screenshots


def test_every_screenshot_shown_is_made_by_the_tool():
    shots = screenshots_tool().SHOTS
    shown = {m for p in PAGES for m in re.findall(r"\]\((?:\.\./)*assets/tui/([\w-]+\.svg)\)", p.read_text())}
    assert shown and shown == {f"{name}.svg" for name in shots}
    for name in shots:
        assert (dp.DOCS / "assets" / "tui" / f"{name}.svg").is_file(), name


@pytest.mark.slow
def test_the_screenshots_show_what_the_app_shows(tmp_path):
    """Each screenshot's text, row by row, is the app's now (the colours may vary with
    textual's version; what the reader reads may not)."""
    pytest.importorskip("textual")
    tool = screenshots_tool()
    tool.write_all(tmp_path)
    for name in tool.SHOTS:
        committed = tool.svg_text(dp.DOCS / "assets" / "tui" / f"{name}.svg")
        fresh = tool.svg_text(tmp_path / f"{name}.svg")
        assert committed == fresh, (
            f"{name}.svg is not what the app shows now: run python tools/docs_screenshots.py\n"
            + "\n".join(difflib.unified_diff(committed, fresh, lineterm=""))
        )


# ---------------------------------------------------------------------------------------------
# The site


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    site = tmp_path / "site"
    config = ROOT / "mkdocs.yml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(config),
            "--site-dir",
            str(site),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (site / "index.html").is_file()


def test_links_to_github_s_numbered_anchors_work_on_the_site():
    """GitHub numbers a page's second ``cnncalc.bounds`` heading ``#cnncalcbounds-1``, the site
    ``#cnncalcbounds_1``: the site's hook writes such links as the site numbers them."""
    pytest.importorskip("pymdownx")
    spec = importlib.util.spec_from_file_location("docs_mkdocs_hooks", ROOT / "tools" / "mkdocs_hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = (
        "## `cnncalc.bounds`\n\nSee [`Bounds`](#cnncalcbounds-1) and [the step](#step-1).\n\n"
        "```text\n## not a heading\n```\n\n## `cnncalc.Bounds`\n\n## Step 1\n"
    )
    assert hooks._anchors(page) == ["cnncalcbounds", "cnncalcbounds", "step-1"]
    fixed = hooks._numbered(page, "reference/api.md", files=None)
    assert "[`Bounds`](#cnncalcbounds_1)" in fixed
    assert "[the step](#step-1)" in fixed  # a heading of that name: left alone
