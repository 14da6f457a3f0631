"""cnncalc check: budgets from the command line and the spec, compared exactly; ranges proved."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cnncalc.errors import SpecError
from cnncalc.lang.budget import parse_amount
from cnncalc.lang.spec import parse_spec

from .helpers import ROOT

# torchvision's ResNet-50 (weights metadata): 25,557,032 params, 4.089184256 G MACs at 224x224
RESNET50_PARAMS = 25_557_032
RESNET50_MACS = 4_089_184_256


@pytest.mark.parametrize(
    ("text", "metric", "value"),
    [
        ("4.1G", "macs", 4 * 10**9 + 100 * 10**6),
        ("26M", "params", 26 * 10**6),
        ("4100000000", "macs", 41 * 10**8),
        ("4.1e9", "macs", 41 * 10**8),
        ("1.5k", "flops", 1500),
        ("512MiB", "peak_bytes", 512 * 1024 * 1024),
        ("64e6", "peak_bytes", 64 * 10**6),
        (25557032, "params", 25_557_032),
        (4.1e9, "macs", 41 * 10**8),
        ("0", "macs", 0),
    ],
)
def test_amounts_are_exact(text, metric, value):
    assert parse_amount(text, metric) == value


@pytest.mark.parametrize(
    ("text", "metric", "message"),
    [
        ("1.2345k", "macs", "not a whole number"),
        ("4.1X", "macs", "'X' is not a unit of macs"),
        ("512MiB", "macs", "'MiB' is not a unit of macs"),
        ("-1", "params", "expected a number"),
        ("lots", "params", "expected a number"),
        ("", "params", "expected a number"),
        (True, "params", "expected a number"),
    ],
)
def test_bad_amounts(text, metric, message):
    with pytest.raises(ValueError, match=message):
        parse_amount(text, metric)


def test_within_and_over_by_one(run_cli):
    # A limit is an exact integer: the published count itself is within, one less is over.
    code, out, _ = run_cli("check", "resnet50", "--max-macs", str(RESNET50_MACS), "--width", "200")
    assert code == 0 and "Within every limit (1)" in out
    code, out, _ = run_cli("check", "resnet50", "--max-macs", str(RESNET50_MACS - 1), "--width", "200")
    assert code == 1 and "+1 " in out and "OVER" in out


def test_the_issue_s_gate(run_cli):
    code, out, _ = run_cli("check", "resnet50", "--max-params", "26M", "--max-macs", "4.1G", "-f", "json")
    data = json.loads(out)
    assert code == 0 and data["ok"]
    assert [(c["metric"], c["limit"], c["value"]) for c in data["checks"]] == [
        ("params", 26_000_000, RESNET50_PARAMS),
        ("macs", 4_100_000_000, RESNET50_MACS),
    ]
    # 4.08G is 9,184,256 below the count: over by exactly that
    code, out, _ = run_cli("check", "resnet50", "--max-macs", "4.08G", "-f", "json")
    (c,) = json.loads(out)["checks"]
    assert code == 1 and c["over"] and c["excess"] == RESNET50_MACS - 4_080_000_000 == 9_184_256


def test_published_figures_as_budgets(run_cli, published):
    for model in ("resnet18", "vgg16", "mobilenet_v2"):
        f = published[model]
        code, _, _ = run_cli("check", model, "--max-params", str(f["params"]), "--max-macs", str(f["macs"]))
        assert code == 0, model
        code, _, _ = run_cli("check", model, "--max-params", str(f["params"] - 1))
        assert code == 1, model


SPEC = """name: small
symbols:
  N: 1
  H: {default: 32, min: 4, max: 64}
input: [N, 3, H, H]
budget:
  - {params: 1k, macs: 600k}
  - at: {H: 64}
    macs: 2M
  - open: {H: [4, 40]}
    macs: 900k
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1}     # 8*3*9 + 8 = 224 params; 8*H*H*27 MACs
  - relu
  - global_avg_pool2d
  - flatten
  - linear: {out: 10}                            # 8*10 + 10 = 90 params; 80 MACs
"""


def test_spec_budgets(tmp_path, run_cli):
    path = tmp_path / "small.yaml"
    path.write_text(SPEC)
    code, out, _ = run_cli("check", str(path), "-f", "json")
    checks = json.loads(out)["checks"]
    assert [(c["metric"], c["limit"], c["value"], c["over"]) for c in checks] == [
        ("params", 1000, 224 + 90, False),
        ("macs", 600_000, 8 * 32 * 32 * 27 + 80, False),  # 221,264
        ("macs", 2_000_000, 8 * 64 * 64 * 27 + 80, False),  # 884,816
        ("macs", 900_000, 8 * 40 * 40 * 27 + 80, False),  # the largest over H in [4, 40]: 345,680
    ]
    assert checks[3]["ranges"] == {"H": [4, 40]} and checks[3]["symbols"]["H"] == 40
    assert checks[2]["declared"] == f"{path}:9:11"  # the limit's own line
    assert code == 0
    code, out, _ = run_cli("check", str(path), "--set", "H=48", "-f", "json")
    macs = [c["value"] for c in json.loads(out)["checks"] if c["metric"] == "macs"]
    assert code == 0 and macs[0] == 8 * 48 * 48 * 27 + 80  # --set moves the default sizes only
    assert macs[1] == 8 * 64 * 64 * 27 + 80  # at: wins over --set


def test_spec_budgets_and_command_line_together(tmp_path, run_cli):
    path = tmp_path / "small.yaml"
    path.write_text(SPEC)
    code, out, _ = run_cli("check", str(path), "--max-params", "300", "-f", "json")
    checks = json.loads(out)["checks"]
    assert code == 1 and checks[0]["declared"] == "command line" and checks[0]["excess"] == 14
    assert len(checks) == 5


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("{macs: 4.1G, parms: 1M}", r"budget: unknown budget 'parms'; did you mean 'params'\?"),
        ("{macs: 4.1Q}", r"budget\.macs: 'Q' is not a unit of macs"),
        ("{macs: 1.25k5}", r"budget\.macs: expected a number"),
        ("{at: {H: 64}}", "a budget limits at least one of params, macs"),
        ("[{macs: 1G, at: {X: 64}}]", r"budget\[0\]\.at: 'X' is not a declared symbol"),
        ("[{macs: 1G, open: {H: [64, 8]}}]", r"budget\[0\]\.open\.H: the range \[64, 8\] is empty"),
        ("[{macs: 1G, open: {H: 8}}]", r"a range is \[low, high\]"),
        ("[{macs: 1G, at: {H: 8}, open: [H]}]", "H is both given a value"),
        ("[3]", "a budget is a mapping"),
    ],
)
def test_budget_mistakes_are_located(budget, message):
    text = f"input: [1, 3, H, H]\nsymbols: {{H: 32}}\nbudget: {budget}\nlayers:\n  - relu\n"
    with pytest.raises(SpecError, match=message):
        parse_spec(text, "b.yaml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("resnet50", "--max-macs", "lots"), "--max-macs lots: expected a number"),
        (("resnet50", "--max-macs", "1G", "--open", "H"), "H is left open but has no declared maximum"),
        (("resnet50", "--max-macs", "1G", "--open", "H=224:32"), "the range is empty"),
        (("resnet50", "--max-macs", "1G", "--open", "H=0:32"), r"leaves its declared range \[1, inf\]"),
        (("resnet50", "--max-macs", "1G", "--open", "Q"), "declares no symbol 'Q'"),
        (("resnet50", "--open", "H=1:2"), "--open applies to the --max-\\* limits"),
        (("no-such-spec", "--max-macs", "1G"), "no-such-spec"),
        (("resnet50", "--max-macs", "1G", "--set", "H=0"), "H"),
    ],
)
def test_mistakes_exit_2(run_cli, args, message):
    import re

    code, out, err = run_cli("check", *args)
    assert code == 2 and out == "" and re.search(message, err), err
    assert "Traceback" not in err


def test_an_unprovable_range_is_refused(tmp_path, run_cli):
    # A stride of max(1, H % 3) makes the MACs go up and down with H: refused, not sampled.
    path = tmp_path / "dip.yaml"
    path.write_text(
        "symbols: {H: {min: 1, max: 10}}\ninput: [1, 1, H, H]\n"
        "budget: [{macs: 1M, open: [H]}]\nlayers:\n  - conv2d: {out: 1, kernel: 1, stride: 'max(1, H % 3)'}\n"
    )
    code, _, err = run_cli("check", str(path))
    assert code == 2 and "cannot be proved over H in [1, 10]" in err and "remainder" in err


# LeNet-5's params with H and W open: conv1 156, conv2 2,416, fc1 120 x (16 h w) + 120, fc2
# 84 x 120 + 84, fc3 10 x 84 + 10, where h = floor((H - 12)/4) and w alike: 13,706 + 1,920 h w.
# Its second pool needs H >= 16 and W >= 16. Below, the formula is no network's: at H = W = 1,
# h = w = -3 and it gives 13,706 + 1,920 x 9 = 30,986, more than at any size that exists.
def test_an_open_range_is_cut_to_where_the_network_exists(run_cli):
    args = ("check", "lenet5", "--open", "H=1:20", "--open", "W=1:20", "--max-params", "25000")
    code, out, err = run_cli(*args, "--width", "200")
    assert code == 0 and err == ""
    largest = 13_706 + 1_920 * ((20 - 12) // 4) ** 2  # 21,386, at H = W = 20
    assert f"{largest:,}" in out and "H=20 (of 16..20), W=20 (of 16..20)" in out
    cut = "H >= 16 (avgpool2); W >= 16 (avgpool2)"
    assert f"Ranges cut to where the network exists (beyond, no layer has an output): {cut}." in out
    code, out, _ = run_cli(*args, "--format", "json")
    (c,) = json.loads(out)["checks"]
    assert (c["value"], c["ranges"], c["narrowed_by"]) == (
        largest,
        {"H": [16, 20], "W": [16, 20]},
        ["H >= 16 (avgpool2)", "W >= 16 (avgpool2)"],
    )
    code, out, err = run_cli("check", "lenet5", "--open", "H=1:15", "--max-params", "25000")
    assert code == 2 and out == ""
    assert err.startswith(
        "cnncalc: error: command line: no H in [1, 15] has a network: avgpool2 needs H >= 16"
    )


def test_formats(tmp_path, run_cli):
    path = tmp_path / "small.yaml"
    path.write_text(SPEC.replace("macs: 2M", "macs: 800k"))
    code, out, _ = run_cli("check", str(path), "resnet50", "--format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["small", "resnet50"]
    cases = suites[0].findall("testcase")
    assert len(cases) == 4 and root.get("failures") == "1"
    (failed,) = [c for c in cases if c.find("failure") is not None]
    assert failed.get("line") == "9" and "over by 84,816" in failed.find("failure").get("message")
    assert suites[1].find("testcase/skipped") is not None  # resnet50 declares no budget
    code, out, _ = run_cli("check", str(path), "--format", "github")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith(f"::error file={path},line=9,col=11,title=small%3A macs over budget::")
    assert "(over by 84,816, 10.60%25)" in lines[0]  # % escaped as GitHub asks
    assert lines[1] == "cnncalc check: 3 of 4 limits within, 1 over"


def test_no_budget_is_a_note(run_cli):
    code, out, err = run_cli("check", "lenet5")
    assert code == 0 and "no budget" in out and "lenet5" in err


def test_pre_commit_hook_definition():
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "cnncalc-check"]
    assert hook["entry"] == "cnncalc check" and hook["language"] == "python"
    assert hook["types"] == ["yaml"] and hook.get("pass_filenames", True)


def test_the_docs_give_the_recipe():
    text = (ROOT / "docs" / "how-to" / "audit-and-gate.md").read_text()
    assert "cnncalc check" in text and "--format github" in text and "id: cnncalc-check" in text
    assert Path(ROOT / ".pre-commit-hooks.yaml").exists()


def test_warnings_and_strict(tmp_path, run_cli):
    path = tmp_path / "w.yaml"
    path.write_text(
        "input: [1, 3, 8, 8]\nbudget: {params: 1k}\nblocks:\n  unused: {layers: [relu]}\nlayers:\n  - relu\n"
    )
    code, _, err = run_cli("check", str(path))
    assert code == 0 and "warning" in err and "unused" in err
    code, out, err = run_cli("check", str(path), "--strict")
    assert code == 2 and out == "" and "errors with --strict" in err
