"""The command line: every bundled spec in every format, zoo names, schema, compare."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
import sympy

from cnncalc.lang.expr import evaluate, parse

from .helpers import ROOT, SPECS, all_specs


@pytest.mark.parametrize("path", all_specs(), ids=lambda p: str(p.relative_to(SPECS)))
def test_every_format(path, run_cli):
    code, out, err = run_cli("analyze", str(path), "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    for key in ("name", "symbols", "layers", "totals", "constraints", "breakdown"):
        assert key in d
    for layer in d["layers"]:
        assert set(layer) >= {"name", "kind", "output_shape", "params", "macs", "flops", "trainable"}
    # Per-layer values add up to the totals (checked on the numbers, not on text).
    if all(isinstance(layer["macs"], int) for layer in d["layers"]):
        assert sum(layer["macs"] for layer in d["layers"]) == d["totals"]["macs"]
        assert sum(layer["params"] for layer in d["layers"]) == d["totals"]["params"]

    code, out, _ = run_cli("analyze", str(path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == len(d["layers"])
    assert [r["name"] for r in rows] == [layer["name"] for layer in d["layers"]]

    code, out, _ = run_cli("analyze", str(path), "--format", "markdown")
    assert code == 0 and "| | **total** |" in out

    code, out, _ = run_cli("analyze", str(path))
    assert code == 0 and "total" in out


def test_symbolic_json_reads_back(run_cli):
    code, out, _ = run_cli("analyze", "resnet18", "--symbolic", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["symbols"] == {"N": None, "H": None, "W": None, "K": None}
    macs = d["totals"]["macs"]
    assert isinstance(macs, str)
    values = {"N": 1, "H": 224, "W": 224, "K": 1000}
    # Parsed by cnncalc's own whitelist parser, and by sympy: both give torchvision's figure.
    assert evaluate(parse(macs), values) == 1_814_073_344
    syms = {n: sympy.Symbol(n) for n in values}
    assert sympy.sympify(macs, locals=syms).subs({syms[k]: v for k, v in values.items()}) == 1_814_073_344


def test_set_overrides_defaults(run_cli):
    code, out, _ = run_cli("analyze", "vgg16", "--set", "H=112", "W=112", "K=10", "-f", "json")
    assert code == 0
    d = json.loads(out)
    assert d["symbols"] == {"N": 1, "H": 112, "W": 112, "K": 10}
    assert d["input_shape"] == [1, 3, 112, 112]
    assert d["output_shape"] == [1, 10]


def test_zoo_names_work_from_anywhere(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("analyze", "vgg16", "-f", "json")
    assert code == 0 and json.loads(out)["totals"]["params"] == 138_357_544
    code, out, _ = run_cli("analyze", "examples/rgb_conv", "-f", "json")
    assert code == 0 and json.loads(out)["output_shape"] == [1, 2, 4, 4]
    code, out, _ = run_cli("analyze", "rgb_conv", "-f", "json")
    assert code == 0
    code, out, _ = run_cli("zoo")
    assert "vgg16" in out and "examples/edge_detection" in out


@pytest.mark.parametrize("columns", [40, 80])
def test_zoo_in_a_terminal_wraps_descriptions_under_their_column(columns, run_cli):
    """In a terminal (a pseudo-terminal here, COLUMNS wide) no line is wider than the terminal
    and every description reads as it does piped (one line a spec), words whole."""
    import os
    import subprocess
    import sys

    code, piped, _ = run_cli("zoo")
    assert code == 0
    expected = {line.split()[0]: " ".join(line.split()[1:]) for line in piped.splitlines()}
    leader, follower = os.openpty()
    env = {**os.environ, "COLUMNS": str(columns)}
    proc = subprocess.run(
        [sys.executable, "-m", "cnncalc", "zoo"],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        timeout=600,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end is closed: all read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.returncode == 0, proc.stderr
    lines = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
    assert max(len(line) for line in lines) <= columns
    shown: dict[str, list[str]] = {}
    name = ""
    for line in lines:
        if line.startswith(" "):
            shown[name].append(line.strip())
        else:
            name, *words = line.split()
            shown[name] = [" ".join(words)] if words else []
    assert {n: " ".join(w for w in parts if w) for n, parts in shown.items()} == expected


def test_schema_lists_every_layer_kind(run_cli):
    from cnncalc.layers import REGISTRY

    code, out, _ = run_cli("schema")
    schema = json.loads(out)
    assert code == 0
    assert set(REGISTRY) <= set(schema["$defs"])
    assert schema["$defs"]["conv2d"]["required"] == ["out", "kernel"]
    assert schema["$defs"]["conv2d"]["additionalProperties"] is False


def test_every_bundled_spec_validates_against_the_schema(run_cli):
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    from .helpers import all_specs

    _, out, _ = run_cli("schema")
    validator = jsonschema.Draft202012Validator(json.loads(out))
    for path in all_specs():
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert not errors, f"{path.name}: {errors[0].message[:200]} at {list(errors[0].path)}"


def test_compare_mobilenet_derivation(run_cli):
    code, out, _ = run_cli("compare", "examples/standard_conv", "examples/separable_conv", "-f", "json")
    assert code == 0
    d = json.loads(out)
    a, b = d["designs"]
    assert d["baseline"] == "examples/standard_conv"
    assert a["totals"]["macs"] == "F**2*K**2*M*N"
    assert b["totals"]["macs"] == "F**2*K**2*M + F**2*M*N"
    assert b["ratio"]["macs"] == "1/N + 1/K**2"
    assert a["ratio"]["macs"] == 1
    code, out, _ = run_cli("compare", "examples/standard_conv", "examples/separable_conv")
    assert code == 0 and "1/N + 1/K**2" in out


def test_compare_concrete_ratios(run_cli):
    code, out, _ = run_cli("compare", "inception_5x5", "inception_bottleneck", "-f", "json")
    d = json.loads(out)
    assert d["designs"][1]["ratio"]["macs"] == pytest.approx(12_443_648 / 120_422_400)
    cats = {row["category"]: row for row in d["by_category"]}
    assert cats["conv2d 1x1"]["macs"] == [0, 2_408_448]
    code, out, _ = run_cli("compare", "inception_5x5", "inception_bottleneck", "-f", "markdown")
    assert code == 0 and "| MACs | 120,422,400 | 12,443,648 |" in out


def test_compare_set_must_name_a_declared_symbol(run_cli):
    code, _, err = run_cli("compare", "vgg16", "resnet18", "--set", "alpha=2")
    assert code == 2 and "no spec declares a symbol 'alpha'" in err


def test_python_dash_m_and_help():
    out = subprocess.run(
        [sys.executable, "-m", "cnncalc", "--help"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    for command in ("analyze", "verify", "compare", "schema", "zoo"):
        assert command in out
    bare = subprocess.run([sys.executable, "-m", "cnncalc"], capture_output=True, text=True)
    assert bare.returncode == 2


def test_a_csv_of_formulas_says_where_they_hold(run_cli):
    """LeNet-5's second pool needs H >= 16 and W >= 16 (two 5x5 convolutions and a 2x2 pool
    before it leave floor((H - 12)/2) rows); below that its formulas give no network's numbers
    (params 13706 - 9600*3 = -15,094 at H = 1). A CSV has no place for the conditions: standard
    error says them, and standard output stays the CSV it was."""
    code, out, err = run_cli("analyze", "lenet5", "--symbolic", "--format", "csv")
    assert code == 0
    assert out.splitlines()[0].startswith("name,kind,output_shape,params,macs")
    assert err == (
        "cnncalc: note: the formulas hold where H >= 16 (avgpool2); W >= 16 (avgpool2); "
        "--format json lists these conditions as constraints\n"
    )
    code, out, err = run_cli("analyze", "lenet5", "--format", "csv")  # numbers: nothing to say
    assert code == 0 and err == ""


def test_a_symbolic_comparison_says_where_each_design_s_formulas_hold(run_cli):
    """LeNet-5 needs H, W >= 16 at its second pool (see above); VGG-16 halves the size five
    times and needs H, W >= 32 at pool5. Every format says so; the CSV on standard error."""
    lenet = "lenet5: valid when H >= 16 (avgpool2); W >= 16 (avgpool2)"
    vgg = "vgg16: valid when H >= 32 (pool5); W >= 32 (pool5)"
    args = ("compare", "lenet5", "vgg16", "--symbolic")
    code, out, err = run_cli(*args, "--format", "csv")
    assert (
        code == 0
        and out.startswith("label,spec,params")
        and err == f"cnncalc: note: {lenet}\ncnncalc: note: {vgg}\n"
    )
    code, out, _ = run_cli(*args, "--format", "markdown")
    assert f"- {lenet}\n- {vgg}\n" in out
    code, out, _ = run_cli(*args, "--width", "200")
    assert f"{lenet}\n{vgg}\n" in out
    code, out, _ = run_cli(*args, "--format", "json")
    first, second = json.loads(out)["designs"]
    assert [k["condition"] for k in first["constraints"]] == ["H >= 16", "W >= 16"]
    assert [(k["condition"], k["layer"]) for k in second["constraints"]] == [
        ("H >= 32", "pool5"),
        ("W >= 32", "pool5"),
    ]
    code, out, err = run_cli(
        "compare", "lenet5", "vgg16", "--format", "json"
    )  # at their sizes: nothing to hold
    assert all(d["constraints"] == [] for d in json.loads(out)["designs"]) and err == ""


def test_version():
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    run = subprocess.run(
        [sys.executable, "-m", "cnncalc", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, f"cnncalc {version}\n", "")


def test_pydantic_plugins_are_looked_for_only_when_some_are_turned_on():
    """The command line turns pydantic's plugins off (unless PYDANTIC_DISABLE_PLUGINS says
    otherwise) and then does not import the machinery that would look for them; with the
    variable naming one plugin only, pydantic's own loader looks for the others as before."""
    import subprocess
    import sys

    from .helpers import ROOT

    script = (
        "import sys\n"
        "from cnncalc.cli import main\n"
        "code = main(['analyze', 'lenet5', '-f', 'csv'])\n"
        "from pydantic.plugin import _loader\n"
        "print(code, 'importlib.metadata' in sys.modules, list(_loader.get_plugins()), file=sys.stderr)\n"
    )
    for setting, looked in ((None, False), ("__all__", False), ("true", False), ("some_plugin", True)):
        env = {"PYTHONPATH": str(ROOT), "PATH": ""}
        if setting is not None:
            env["PYDANTIC_DISABLE_PLUGINS"] = setting
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
        )
        assert run.stderr.strip().splitlines()[-1] == f"0 {looked} []", (setting, run.stderr)
