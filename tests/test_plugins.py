"""Custom layers: one class in the user's module, loaded with --plugin, checked by the toolkit."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings

from cnncalc.layers import REGISTRY
from cnncalc.testing import cases, check_layer

PLUGIN = '''
"""A custom layer: a 1x1 convolution without bias."""
from cnncalc import dims
from cnncalc.layers import Int, Layer, Param, register


@register
class Pointwise(Layer):
    """1x1 convolution to ``out`` channels, no bias.

    MACs: N*out*H*W*C_in. FLOPs: 2*MACs.
    """

    kind = "test_pointwise"
    out: Int

    def output_shape(self, x):
        return (x[0], self.out, x[2], x[3])

    def weights(self, x):
        return {"weight": Param((self.out, x[1], 1, 1), "weight")}

    def macs(self, x, *, out):
        return dims.mul(dims.prod(out), x[1])

    def flops(self, x, *, out):
        return dims.mul(2, self.macs(x, out=out))

    def forward(self, xs, weights, out):
        from cnncalc.kernels.conv import conv2d_nchw

        return conv2d_nchw(xs[0], weights["weight"], None, out)

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st
        from cnncalc.testing import Case, shapes

        return st.builds(lambda x, o: Case({cls.kind: {"out": o}}, x, (x[0], o, *x[2:])),
                         shapes(), st.integers(1, 4))
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "my_layers.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "net.yaml").write_text("input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    REGISTRY.pop("test_pointwise", None)
    import sys

    sys.modules.pop("my_layers", None)


def test_a_spec_never_loads_python_by_itself(plugin, run_cli):
    code, _, err = run_cli("analyze", "net.yaml")
    assert code == 2 and "unknown layer kind 'test_pointwise'" in err
    hint = "; a custom layer kind is loaded with --plugin MODULE (docs/custom-layers.md)"
    assert err.rstrip().endswith(hint)


def test_plugin_layer_is_analysed_and_verified(plugin, run_cli):
    code, out, _ = run_cli("analyze", "net.yaml", "--plugin", "my_layers", "-f", "json")
    assert code == 0
    layer = json.loads(out)["layers"][0]
    assert layer["output_shape"] == [1, 4, 8, 8]
    assert layer["macs"] == 4 * 8 * 8 * 3  # every output takes 3 products
    code, out, _ = run_cli("verify", "net.yaml", "--plugin", "my_layers", "-f", "json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_plugin_layer_meets_the_contract(plugin):
    import my_layers  # noqa: F401  (registers the layer)

    @settings(max_examples=10)
    @given(cases("test_pointwise"))
    def run(case):
        check_layer(case)

    run()


def test_missing_plugin(run_cli):
    code, _, err = run_cli("analyze", "vgg16", "--plugin", "no_such_module_here")
    assert code == 2
    assert "--plugin no_such_module_here: no module named 'no_such_module_here' on the Python path" in err


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("", r"--plugin needs the name of a module .* found ''"),
        ("   ", r"--plugin needs the name of a module .* found '   '"),
        (".foo", r"--plugin \.foo: a relative module name has no package to be relative to"),
        ("my_layers.py", r"--plugin my_layers\.py: no such file \(/.*/my_layers\.py\)"),
        ("dir/my_layers", r"name a module as an import would \(--plugin dir\.my_layers\), or a plugin file"),
        ("my-layers", r"--plugin 'my-layers': not a module name"),
    ],
    ids=["empty", "blank", "relative", "file", "path", "dash"],
)
def test_malformed_plugin_names_are_refused(run_cli, name, match):
    import re

    code, out, err = run_cli("analyze", "vgg16", "--plugin", name)
    assert code == 2 and out == ""
    assert re.search(match, err), err
    assert err.startswith("cnncalc: error: ") and "Traceback" not in err


@pytest.fixture
def cwd_only(tmp_path, monkeypatch):
    """A directory holding plugins, made the current directory but not put on sys.path."""
    monkeypatch.chdir(tmp_path)
    added: list[str] = []

    def write(name: str, text: str) -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        added.append(name.split("/")[0].removesuffix(".py"))

    yield write
    import sys

    for top in added:
        for mod in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[mod]
    for kind in [k for k in REGISTRY if k.startswith("test_")]:
        del REGISTRY[kind]


def test_plugin_found_in_the_current_directory_without_touching_sys_path(cwd_only, run_cli):
    import sys

    cwd_only("cwd_layers.py", PLUGIN)
    cwd_only("net.yaml", "input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n")
    before = list(sys.path)
    code, out, err = run_cli("analyze", "net.yaml", "--plugin", "cwd_layers", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["layers"][0]["macs"] == 4 * 8 * 8 * 3
    assert sys.path == before


def test_plugin_package_in_the_current_directory(cwd_only, run_cli):
    cwd_only("cwd_pkg/__init__.py", "")
    cwd_only("cwd_pkg/layers.py", PLUGIN)
    cwd_only("net.yaml", "input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n")
    code, out, err = run_cli("analyze", "net.yaml", "--plugin", "cwd_pkg.layers", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["layers"][0]["output_shape"] == [1, 4, 8, 8]
    code, _, err = run_cli("analyze", "net.yaml", "--plugin", "cwd_pkg.nothing")
    assert code == 2 and "--plugin cwd_pkg.nothing: no module named 'cwd_pkg.nothing'" in err


def test_a_module_beside_the_spec_does_not_shadow_an_installed_one(tmp_path):
    """A yaml.py in the current directory: the spec is still read by PyYAML (a fresh process
    run with -P, so that Python itself does not put the directory first)."""
    import os
    import subprocess
    import sys

    from .helpers import ROOT

    (tmp_path / "yaml.py").write_text("raise RuntimeError('the yaml.py beside the spec was imported')\n")
    (tmp_path / "my_layers.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "net.yaml").write_text("input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-P", "-m", "cnncalc", "analyze", "net.yaml", "--plugin", "my_layers", "-f", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["layers"][0]["output_shape"] == [1, 4, 8, 8]


BROKEN_CLASS = """
from cnncalc.layers import Layer, register


@register
class NoFormulas(Layer):
    kind = "test_no_formulas"

    def output_shape(self, x):
        return x
"""


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            BROKEN_CLASS,
            r"^cnncalc: error: --plugin broken_plugin: layer class broken_plugin\.NoFormulas: must state its "
            r"MACs and FLOPs formulas in its docstring \(has no docstring\)",
        ),
        (
            BROKEN_CLASS.replace('kind = "test_no', '"""MACs: 0. FLOPs: 0."""\n    kind = "test_no'),
            r"layer class broken_plugin\.NoFormulas: must implement flops\(\)",
        ),
        (
            "import numpy\nx = 1 / 0\n",
            r"--plugin broken_plugin: importing it failed at .*broken_plugin\.py:2: "
            r"ZeroDivisionError: division by zero",
        ),
        (
            "import not_installed_dependency\n",
            r"importing it failed at .*broken_plugin\.py:1: "
            r"ModuleNotFoundError: No module named 'not_installed_dependency'",
        ),
        ("def f(:\n", r"--plugin broken_plugin: .*broken_plugin\.py:1: syntax error: "),
    ],
    ids=["no-docstring", "no-flops", "raises", "missing-dependency", "syntax"],
)
def test_a_broken_plugin_is_one_message_and_exit_2(cwd_only, run_cli, text, match):
    import re

    cwd_only("broken_plugin.py", text)
    code, out, err = run_cli("analyze", "vgg16", "--plugin", "broken_plugin")
    assert code == 2 and out == ""
    assert re.search(match, err), err
    assert len(err.strip().splitlines()) == 1


def test_a_module_that_registers_nothing_is_refused(cwd_only, run_cli):
    cwd_only("not_a_plugin.py", "VALUE = 1\n")
    code, _, err = run_cli("analyze", "vgg16", "--plugin", "not_a_plugin")
    assert code == 2
    assert "--plugin not_a_plugin: imported, but it registers no layer kind" in err
    code, _, err = run_cli("analyze", "vgg16", "--plugin", "json")
    assert code == 2 and "--plugin json: imported, but it registers no layer kind" in err


def test_analysis_with_a_plugin_imports_neither_numba_nor_hypothesis():
    import subprocess
    import sys

    from .helpers import ROOT

    script = (
        "import sys\n"
        "from cnncalc.cli import main\n"
        "code = main(['analyze', 'net.yaml', '--plugin', 'extra_layers', '-f', 'json'])\n"
        "heavy = sorted(m for m in ('numba', 'hypothesis', 'textual', 'numpy') if m in sys.modules)\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT / "examples" / "custom_layer",
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.stderr.strip().splitlines()[-1] == "0 []", run.stderr


def test_installed_plugin_by_entry_point(tmp_path, monkeypatch, run_cli):
    """A distribution declaring [cnncalc.layers] demo = demo_layers is loaded by --plugin demo,
    and only then."""
    import sys

    from cnncalc.layers._plugins import installed

    dist = tmp_path / "demo_layers-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-layers\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[cnncalc.layers]\ndemo = demo_layers\n")
    (tmp_path / "demo_layers.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "net.yaml").write_text("input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    try:
        assert installed()["demo"] == "demo_layers"
        code, _, err = run_cli("analyze", "net.yaml")
        assert code == 2 and "unknown layer kind 'test_pointwise'" in err
        code, out, err = run_cli("analyze", "net.yaml", "--plugin", "demo", "-f", "json")
        assert code == 0, err
        assert json.loads(out)["layers"][0]["params"] == 4 * 3
        code, _, err = run_cli("analyze", "net.yaml", "--plugin", "nothing_like_it")
        assert code == 2 and "installed plugins (cnncalc.layers): demo" in err
    finally:
        REGISTRY.pop("test_pointwise", None)
        sys.modules.pop("demo_layers", None)


def test_the_worked_example_of_the_contract_page_works(cwd_only, run_cli):
    """docs/custom-layers.md's first Python block, as a plugin: it loads, analyses, verifies
    and meets the contract (its kind renamed, the example package may hold the tag)."""
    import re

    from .helpers import ROOT

    page = (ROOT / "docs" / "custom-layers.md").read_text()
    code = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    cwd_only("doc_layers.py", code.replace('"space_to_depth"', '"test_doc_s2d"'))
    cwd_only("net.yaml", "input: [1, 3, 8, 8]\nlayers:\n  - test_doc_s2d: {block: 4}\n")
    status, out, err = run_cli("verify", "net.yaml", "--plugin", "doc_layers", "-f", "json")
    assert status == 0, err
    (layer,) = json.loads(out)["layers"]
    assert layer["observed_shape"] == [1, 3 * 4 * 4, 2, 2]
    from cnncalc.testing import contract_test

    contract_test("test_doc_s2d", max_examples=10)()


# -- naming the plugin by its file -------------------------------------------------------------


def test_a_plugin_named_by_its_path(cwd_only, run_cli):
    cwd_only("cwd_layers.py", PLUGIN)
    cwd_only("net.yaml", "input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n")
    for name in ("./cwd_layers.py", "cwd_layers.py"):
        code, out, err = run_cli("analyze", "net.yaml", "--plugin", name, "-f", "json")
        assert code == 0, err
        assert json.loads(out)["layers"][0]["macs"] == 4 * 8 * 8 * 3


@pytest.mark.parametrize(
    ("files", "name", "match"),
    [
        ({}, "./nothing.py", r"--plugin \./nothing\.py: no such file \(/.*/nothing\.py\)$"),
        (
            {"pkg/__init__.py": ""},
            "./pkg",
            r"--plugin \./pkg: /.*/pkg is a directory; a package is named by its module name, from its "
            r"parent directory \(--plugin pkg\)",
        ),
        (
            {"my-layers.py": PLUGIN},
            "./my-layers.py",
            r"'my-layers' cannot be a module name .*rename the file, e\.g\. my_layers\.py",
        ),
        (
            {"code.py": PLUGIN},
            "./code.py",
            r"--plugin \./code\.py: its module name 'code' is taken by .*code\.py; rename the file, "
            r"e\.g\. code_layers\.py",
        ),
    ],
    ids=["missing", "directory", "not-a-name", "taken"],
)
def test_a_plugin_path_that_cannot_be_loaded_says_why(cwd_only, run_cli, files, name, match):
    import re

    for path, text in files.items():
        cwd_only(path, text)
    code, out, err = run_cli("analyze", "vgg16", "--plugin", name)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert re.search(match, err.strip()), err


def test_a_plugin_file_named_like_an_installed_module_is_explained(cwd_only, run_cli):
    cwd_only("code.py", PLUGIN)  # the standard library's code module is found first
    code, _, err = run_cli("analyze", "vgg16", "--plugin", "code")
    assert code == 2
    assert "--plugin code: imported, but it registers no layer kind" in err
    assert "'code' is the module " in err and "found on the Python path before " in err
    assert "rename your file, e.g. code_layers.py, or give its path, --plugin ./code_layers.py" in err


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "import sys\nsys.exit(3)\n",
            r"--plugin exiting: importing it failed at .*exiting\.py:2: SystemExit: 3$",
        ),
        (
            "raise BaseException('\\x1b[31mred')\n",
            r"importing it failed at .*exiting\.py:1: BaseException: \\x1b\[31mred$",
        ),
        ("raise KeyError\n", r"importing it failed at .*exiting\.py:1: KeyError$"),
    ],
    ids=["sys-exit", "base-exception", "no-message"],
)
def test_a_plugin_import_that_exits_is_one_message(cwd_only, run_cli, text, match):
    import re

    cwd_only("exiting.py", text)
    code, out, err = run_cli("analyze", "vgg16", "--plugin", "exiting")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert re.search(match, err.strip()), err


def test_python_m_cnncalc_does_not_import_from_the_current_directory(tmp_path):
    """Without -P, Python puts the current directory first for -m; cnncalc takes it off, so a
    yaml.py beside the spec is not read in place of PyYAML (a plugin there still loads)."""
    import os
    import subprocess
    import sys

    from .helpers import ROOT

    (tmp_path / "yaml.py").write_text("raise RuntimeError('the yaml.py beside the spec was imported')\n")
    (tmp_path / "numpy.py").write_text("raise RuntimeError('the numpy.py beside the spec was imported')\n")
    (tmp_path / "my_layers.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "net.yaml").write_text("input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    env["PYTHONPATH"] = str(ROOT)
    for command in ("analyze", "verify"):
        run = subprocess.run(
            [sys.executable, "-m", "cnncalc", command, "net.yaml", "--plugin", "my_layers", "-f", "json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr
        layer = json.loads(run.stdout)["layers"][0]
        assert layer["output_shape" if command == "analyze" else "predicted_shape"] == [1, 4, 8, 8]


# -- a plugin written against the page as it stood before ------------------------------------


def _legacy(tmp_path):
    from .helpers import DATA

    (tmp_path / "legacy_layers.py").write_text((DATA / "plugins" / "legacy_layers.py").read_text())
    (tmp_path / "net.yaml").write_text(
        "symbols: {N: 1, H: 8, W: 8}\ninput: [N, 4, H, W]\nlayers:\n"
        "  - legacy_space_to_depth: {block: 2}\n"
        "  - legacy_gain_pool: {gain: 0.5, kernel: 2, stride: 2, mode: max}\n"
    )


def test_a_plugin_written_against_the_earlier_page_analyses_and_verifies(tmp_path, monkeypatch, run_cli):
    import sys

    _legacy(tmp_path)
    monkeypatch.chdir(tmp_path)
    try:
        code, out, err = run_cli("analyze", "net.yaml", "--plugin", "legacy_layers", "-f", "json")
        assert code == 0, err
        s2d, pool = json.loads(out)["layers"]
        assert s2d["output_shape"] == [1, 4 * 2 * 2, 4, 4]
        assert (pool["output_shape"], pool["params"], pool["macs"]) == ([1, 16, 2, 2], 16, 0)
        # 16*4*4 multiplications by the gain, and 2*2 + 1 per output of 16*2*2.
        assert pool["flops"] == 16 * 4 * 4 + 16 * 2 * 2 * (2 * 2 + 1)
        code, out, err = run_cli("verify", "net.yaml", "--plugin", "legacy_layers", "-f", "json")
        assert code == 0 and json.loads(out)["ok"] is True, out + err
        code, _, err = run_cli("analyze", "net.yaml", "--plugin", "legacy_layers", "--set", "H=9")
        assert code == 2 and "block = 2 must divide the height 9" in err
    finally:
        for kind in ("legacy_space_to_depth", "legacy_gain_pool"):
            REGISTRY.pop(kind, None)
        sys.modules.pop("legacy_layers", None)


def test_a_plugin_written_against_the_earlier_page_meets_the_contract_with_warnings(tmp_path):
    """In a process of its own, so that every deprecation warning is emitted afresh."""
    import subprocess
    import sys

    from .helpers import ROOT

    _legacy(tmp_path)
    script = textwrap.dedent(
        """
        import warnings
        from cnncalc.testing import contract_test
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for kind in ("legacy_space_to_depth", "legacy_gain_pool"):
                contract_test(kind, plugin="legacy_layers", max_examples=25)()
        for w in caught:
            print(w.category.__name__, str(w.message).splitlines()[0])
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "", "HYPOTHESIS_PROFILE": "default"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    said = set(run.stdout.splitlines())
    assert (
        "DeprecationWarning cnncalc.fields is deprecated: write `from cnncalc.layers import ArgumentError, "
        "Parse, Range`"
    ) in said
    assert any(
        line.startswith("DeprecationWarning cnncalc.testing.Window is now cnncalc.testing.WindowGeometry")
        for line in said
    )
    # space-to-depth had no windows(): its receptive fields were wrong, and the contract says so.
    assert any(
        line.startswith("ContractWarning s2d1 (legacy_space_to_depth): windows(): moving input position")
        and "define windows()" in line
        for line in said
    )
    assert not any("legacy_gain_pool" in line for line in said)


def test_the_kernels_a_plugin_may_call_are_documented_with_their_signatures():
    """Every call the docs' table of kernels shows matches the function's parameters, and every
    public kernel function is in the table."""
    import importlib
    import inspect
    import re

    from .helpers import ROOT

    page = (ROOT / "docs" / "custom-layers.md").read_text()
    table = page[page.index("## Kernels a plugin may call") :]
    table = table[: table.index("\n## ")]
    modules = "conv|dense|pool|norm|axes|elementwise|shape_ops"
    shown = re.findall(rf"`({modules})\.(\w+)\(([^`]*)\)`", table)
    assert len(shown) >= 15
    for module, name, args in shown:
        function = getattr(importlib.import_module(f"cnncalc.kernels.{module}"), name)
        params = inspect.signature(function).parameters
        if any(p.kind is p.VAR_POSITIONAL for p in params.values()):
            continue  # add(*arrays, out): written out in words
        documented = [a.strip().split("=")[0] for a in args.split(",") if a.strip()]
        assert documented == list(params), f"{module}.{name}: documented {documented}, is {list(params)}"
        defaults = {a.split("=")[0].strip(): a.split("=")[1].strip() for a in args.split(",") if "=" in a}
        for key, value in defaults.items():
            assert repr(params[key].default) == value, (
                f"{module}.{name}: {key}={value}, is {params[key].default!r}"
            )
    listed = {name for _, name, _ in shown} | set(re.findall(r"`(\w+)`", table))
    from cnncalc.kernels import __doc__ as overview

    for line in overview.split("Calling convention")[0].splitlines():
        m = re.match(r"\* ``(\w+)``\s+(.*)", line.strip())
        names = m.group(2) if m else line.strip() if line.startswith("                   ") else ""
        for name in re.findall(r"(\w+)", names.split("(")[0]):
            assert name in listed, f"{name} is not in the docs' table of kernels"


def test_the_docs_show_the_example_s_hypothesis_profiles():
    """The profiles the docs recommend are the example's conftest.py, statement by statement;
    its CI profile is derandomised."""
    import ast

    from .helpers import ROOT

    page = (ROOT / "docs" / "custom-layers.md").read_text()
    shown = page[page.index("the example's `conftest.py`:") :]
    shown = shown[shown.index("```python\n") + 10 :]
    shown = shown[: shown.index("\n```")]
    conftest = (ROOT / "examples" / "custom_layer" / "conftest.py").read_text()

    def statements(text: str) -> list[str]:
        body = ast.parse(text).body
        return [
            ast.dump(s)
            for s in body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))  # the docstring
            and not (isinstance(s, ast.ImportFrom) and s.module == "__future__")
        ]

    assert statements(shown) == statements(conftest)
    assert "derandomize=True" in shown.replace(" ", "")


def test_the_docs_missing_check_example_is_what_the_contract_test_says(cwd_only):
    """The worked example without its two divides checks fails its contract test with the
    report the page shows (the tag renamed: the example package may hold it)."""
    import re

    from cnncalc.testing import ContractFailure, contract_test

    from .helpers import ROOT

    page = (ROOT / "docs" / "custom-layers.md").read_text()
    code = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    start = code.index("        return [\n            divides(")
    end = code.index("        ]\n", start) + len("        ]\n")
    code = code[:start] + "        return []\n" + code[end:]
    cwd_only("doc_nochecks.py", code.replace('"space_to_depth"', '"test_doc_nochecks"'))
    shown = page[page.index("Without the two `divides` checks above, it reports:") :]
    shown = shown[shown.index("```\n") + 4 :]
    shown = shown[: shown.index("\n```")]
    with pytest.raises(ContractFailure) as caught:
        contract_test("test_doc_nochecks", plugin="doc_nochecks", max_examples=30)()
    said = str(caught.value).split("\nFalsifying")[0].replace("test_doc_nochecks", "space_to_depth")
    assert said == shown


@pytest.mark.parametrize(
    ("plugin", "shown_from"),
    [
        (
            '''
            from cnncalc.layers import Int, Layer, register


            @register
            class Patchify(Layer):
                """Cuts the image into patches."""

                kind = "patchify"
                patch: Int

                def output_shape(self, x):
                    return x

                def flops(self, x, *, out):
                    return 0

                def forward(self, xs, weights, out):
                    return 0
            ''',
            "layer class my_layers.Patchify",
        ),
        ("pixel_shuffle", "layer class my_layers.PixelShuffle"),
    ],
    ids=["docstring", "misspelt-rule"],
)
def test_the_docs_register_messages_are_what_the_command_prints(cwd_only, run_cli, plugin, shown_from):
    from .helpers import DATA, ROOT

    if plugin == "pixel_shuffle":
        plugin = (
            (DATA / "plugins" / "pixel_shuffle_plugin.py").read_text().replace("def checks(", "def check(")
        )
    cwd_only("my_layers.py", plugin)
    cwd_only("net.yaml", "input: [1, 3, 8, 8]\nlayers:\n  - relu\n")
    page = (ROOT / "docs" / "custom-layers.md").read_text()
    line = next(
        x for x in page.splitlines() if x.startswith(f"cnncalc: error: --plugin my_layers: {shown_from}")
    )
    code, out, err = run_cli("analyze", "net.yaml", "--plugin", "my_layers")
    assert (code, out, err) == (2, "", line + "\n")


def test_plugins_load_takes_one_name_alone_and_the_api_then_knows_the_kind(cwd_only):
    import cnncalc
    from cnncalc.plugins import load

    cwd_only("one_layers.py", PLUGIN)
    (module,) = load("one_layers")
    assert module.__name__ == "one_layers"
    result = cnncalc.analyze(cnncalc.load("input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n"))
    assert result.to_dict()["totals"]["macs"] == 4 * 8 * 8 * 3  # out * H * W * C_in, by hand
