"""The Python API: its public names, the numbers it returns (against published figures and
torch), its results' renderings, its errors' fields, and the reference page's examples."""

from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy

import cnncalc

from .helpers import ROOT

#: The stable surface. A change here is a change of the public API: say so in the docs.
PUBLIC = [
    "Analysis",
    "Bounds",
    "BudgetSolve",
    "CnncalcError",
    "Comparison",
    "Convolution",
    "Diagnostic",
    "ExpressionError",
    "LayerDefinitionError",
    "PluginError",
    "ShapeError",
    "ShapeSolve",
    "SpecError",
    "Sweep",
    "UnknownLayerError",
    "UsageError",
    "Verification",
    "VerificationError",
    "__version__",
    "analyze",
    "bounds",
    "compare",
    "conv",
    "from_torch",
    "load",
    "solve",
    "sweep",
    "verify",
]


def test_the_public_names_are_pinned_and_each_is_documented():
    assert sorted(cnncalc.__all__) == sorted(PUBLIC)
    page = (ROOT / "docs" / "reference" / "python-api.md").read_text()
    for name in PUBLIC:
        if name != "__version__":
            assert f"cnncalc.{name}" in page, name
        assert getattr(cnncalc, name) is not None


def test_tab_completion_offers_the_public_names_only():
    """``dir(cnncalc)``, which IPython and the REPL complete from, lists what ``__all__`` does
    and none of the helpers the package imports for itself (``Any``, ``import_module``)."""
    cnncalc.analyze  # noqa: B018 -- a name loaded on first use stays listed once
    assert dir(cnncalc) == sorted(PUBLIC)


def test_the_version_is_the_package_s():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cnncalc.__version__ == project["version"]


def _reference_sections() -> dict[str, str]:
    """The reference page's sections by heading (the text before the first under "")."""
    page = (ROOT / "docs" / "reference" / "python-api.md").read_text()
    parts = re.split(r"^## (.*)$", page, flags=re.M)
    return {"": parts[0], **dict(zip(parts[1::2], parts[2::2], strict=True))}


def _run_examples(text: str, name: str) -> doctest.TestResults:
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    runner.run(parser.get_doctest(text, {}, name, "docs/reference/python-api.md", 0))
    return runner.summarize(verbose=False)


def test_every_example_of_the_reference_page_runs():
    pytest.importorskip("pandas")
    sections = _reference_sections()
    text = "".join(body for heading, body in sections.items() if "from_torch" not in heading)
    results = _run_examples(text, "python-api")
    assert results.attempted > 20 and results.failed == 0


def test_the_reference_page_s_from_torch_example_runs():
    """Runs torch.export and torch's ONNX exporter on a five-layer module (a few seconds)."""
    pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    (text,) = (body for heading, body in _reference_sections().items() if "from_torch" in heading)
    results = _run_examples(">>> import cnncalc\n\n" + text, "python-api.from_torch")
    assert results.attempted >= 6 and results.failed == 0


def test_from_torch_without_torch_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "import cnncalc\n"
        "try:\n"
        "    cnncalc.from_torch(object(), object())\n"
        "except cnncalc.UsageError as e:\n"
        "    print(e.message)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True)
    assert 'pip install "cnncalc[torch]"' in out.stdout, out.stdout


@pytest.mark.parametrize(
    "module", ["cnncalc", "cnncalc.api", "cnncalc.api._base", "cnncalc.api._analysis", "cnncalc.api._domain"]
)
def test_every_docstring_example_runs(module):
    import importlib

    pytest.importorskip("pandas")
    mod = importlib.import_module(module)
    results = doctest.testmod(mod, extraglobs={"cnncalc": cnncalc}, raise_on_error=False)
    assert results.failed == 0 and (results.attempted > 0 or module == "cnncalc.api._base")


def test_the_readme_s_python_examples_run():
    import re

    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(>>> .*?)```", readme, re.S)
    assert blocks
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README[{i}]", "README.md", 0))
    assert runner.summarize(verbose=False).failed == 0


def test_importing_cnncalc_loads_nothing_heavy():
    code = (
        "import sys, cnncalc\n"
        "heavy = {'sympy', 'numba', 'rich', 'pydantic', 'yaml', 'textual', 'numpy'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "cnncalc.analyze('lenet5')\n"
        "assert not {'sympy', 'numba', 'textual'} & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# -- load ----------------------------------------------------------------------------------------


SMALL = "input: [1, 3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n"


def test_load_takes_a_path_a_name_text_a_mapping_or_a_spec(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    as_mapping = {"input": [1, 3, 8, 8], "layers": [{"conv2d": {"out": 4, "kernel": 3}}]}
    loaded = [cnncalc.load(path), cnncalc.load(str(path)), cnncalc.load(SMALL), cnncalc.load(as_mapping)]
    # 4 filters x 6 x 6 positions x 3 x 3 x 3 taps
    assert {cnncalc.analyze(s).totals.macs for s in loaded} == {4 * 6 * 6 * 3 * 3 * 3}
    assert cnncalc.load(loaded[0]) is loaded[0]
    assert cnncalc.load("lenet5").symbols.keys() >= {"H", "W"}


def test_load_reads_the_spec_language_from_a_file_text_or_a_mapping(tmp_path):
    """Derived symbols, tables, references and use: through the API's load, which calls the
    command's loader: a used file is found beside the spec read from a path."""
    from .helpers import CONSTRUCTS

    for source in (CONSTRUCTS / "every_construct.yaml", str(CONSTRUCTS / "every_construct.yaml")):
        a = cnncalc.analyze(source)
        # C0 = make_divisible(32 * 3/4, 8) = 24; the used classifier has K + 2 = 12 outputs
        assert (a.symbols["C0"], a.symbols["C1"]) == (24, 48)
        assert a.layers[-1].name == "lib.classifier1.fc1" and a.layers[-1].params == 8 * 12 + 12
    table = {
        "symbols": {
            "alpha": {"default": "1/2", "type": "rational"},
            "c0": "8*alpha*2",
            "rows": [[8, 2], [16, 1]],
        },
        "input": [1, 3, 16, 16],
        "layers": [
            {"conv2d": {"out": "c0", "kernel": 1, "name": "stem"}},
            {"conv2d": {"for": "c, s in rows", "out": "c", "kernel": 3, "stride": "s", "padding": 1}},
            {"upsample": {"size": ["stem.H", "network.W"], "name": "up"}},
        ],
    }
    a = cnncalc.analyze(table, alpha="3/4")
    # stem: 8*3/4*2 = 12 channels; then 8 channels at stride 2 (8x8), 16 at stride 1; resized to 16x16
    assert [r.output_shape for r in a.layers] == [
        (1, 12, 16, 16),
        (1, 8, 8, 8),
        (1, 16, 8, 8),
        (1, 16, 16, 16),
    ]
    assert a.totals.params == (12 * 3 + 12) + (8 * 12 * 9 + 8) + (16 * 8 * 9 + 16)
    text = (CONSTRUCTS / "every_construct.yaml").read_text()
    with pytest.raises(cnncalc.SpecError, match="not read from a file, so it has no folder"):
        cnncalc.load(text)


def test_load_reads_a_bundled_spec_that_uses_another():
    torchvision = pytest.importorskip("torchvision")
    weights = next(iter(torchvision.models.segmentation.FCN_ResNet50_Weights))
    a = cnncalc.analyze("fcn_resnet50")  # its backbone is resnet50_dilated's, by use:
    assert a.totals.params == weights.meta["num_params"]


def test_load_refuses_what_is_not_a_spec():
    with pytest.raises(cnncalc.UsageError, match="a spec is a path, a bundled spec's name"):
        cnncalc.load(3)
    with pytest.raises(cnncalc.UsageError, match="no bundled spec of that name"):
        cnncalc.load("no_such_network")


def test_a_mistake_in_a_mapping_is_located_inside_it_not_in_text_never_seen():
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.load({"input": [1, 3, 8, 8], "layers": [{"conv2d": {"out": 4, "kernal": 3}}]})
    e = info.value
    assert (e.file, e.line, e.column, e.where) == ("<mapping>", None, None, "layers[0].conv2d.kernal")
    assert "did you mean 'kernel'?" in e.message


# -- analyze -------------------------------------------------------------------------------------


def test_analyze_gives_torchvision_s_published_figures(published):
    a = cnncalc.analyze("resnet50")
    row = published["resnet50"]
    assert (a.totals.params, a.totals.macs) == (row["params"], row["macs"])
    assert cnncalc.analyze("lenet5").totals.params == 61_706  # LeCun et al. 1998, as the course counts


def test_symbol_values_as_keywords_or_a_mapping():
    assert cnncalc.analyze("resnet50", H=160, W=160).totals.macs == (
        cnncalc.analyze("resnet50", values={"H": 160, "W": "160"}).totals.macs
    )
    with pytest.raises(cnncalc.UsageError, match="H is given twice"):
        cnncalc.analyze("resnet50", values={"H": 160}, H=160)


def test_analyze_at_another_size_matches_torch():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from .helpers import torch_macs

    model = torchvision.models.resnet50(weights=None).eval()
    expected = torch_macs(model, torch.zeros(1, 3, 160, 192))
    assert cnncalc.analyze("resnet50", H=160, W=192).totals.macs == expected


def test_numbers_are_exact_never_floats():
    a = cnncalc.analyze("mobilenet_v1", alpha="3/4")
    assert a.symbols["alpha"] == Fraction(3, 4)
    values = [a.totals.params, a.totals.macs, a.totals.flops, *(r.macs for r in a.layers)]
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    open_ = cnncalc.analyze("lenet5", symbolic=True)
    assert isinstance(open_.totals.macs, sympy.Expr) and not isinstance(open_.totals.macs, sympy.Float)
    at = {s: {"N": 1, "H": 32, "W": 32}[s.name] for s in open_.totals.macs.free_symbols}
    assert open_.totals.macs.subs(at) == cnncalc.analyze("lenet5").totals.macs


def test_to_dict_is_the_command_line_s_json(run_cli):
    code, out, _ = run_cli("analyze", "resnet18", "--format", "json", "--set", "H=97", "W=131")
    assert code == 0
    assert cnncalc.analyze("resnet18", H=97, W=131).to_dict() == json.loads(out)
    code, out, _ = run_cli("analyze", "resnet18", "--format", "json", "--convention", "torchinfo")
    assert cnncalc.analyze("resnet18", convention="torchinfo").to_dict() == json.loads(out)


def test_an_unknown_convention_is_refused_with_the_known_ones():
    with pytest.raises(cnncalc.UsageError, match=r"unknown convention 'torch'; known: .*torchvision"):
        cnncalc.analyze("lenet5", convention="torch")


def test_to_pandas_has_a_row_per_layer_with_exact_values():
    pytest.importorskip("pandas")
    a = cnncalc.analyze("vgg16")
    frame = a.to_pandas()
    assert list(frame.index) == [r.name for r in a.layers]
    assert sum(frame["macs"]) == a.totals.macs and type(frame["macs"].iloc[0]) is int


def test_to_pandas_without_pandas_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(cnncalc.UsageError, match=r"pip install 'cnncalc\[pandas\]'"):
        cnncalc.analyze("lenet5").to_pandas()


def test_the_result_renders_as_the_command_s_table_and_as_html(console):
    a = cnncalc.analyze("lenet5")
    console.print(a)
    text = console.file.getvalue()
    assert "conv1" in text and "61,706" in text
    assert "61,706" in repr(a)
    html = a._repr_html_()
    assert html.count("<tr>") == len(a.layers) + 2  # header, layers, totals
    assert all(f">{r.name}<" in html for r in a.layers) and ">61,706<" in html


def test_html_of_formulas_says_where_they_hold():
    """LeNet-5's second pool needs H >= 16 and W >= 16; a symbolic analysis's HTML (a notebook's
    view of it) says so, as the table does, and so does a comparison's; with every size given
    there is nothing to say."""
    html = cnncalc.analyze("lenet5", symbolic=True)._repr_html_()
    assert "<p>Valid when:</p><ul><li>H &gt;= 16 (avgpool2: the window height 2 must fit" in html
    assert "<li>W &gt;= 16 (avgpool2:" in html
    assert "Valid when" not in cnncalc.analyze("lenet5")._repr_html_()
    html = cnncalc.compare("lenet5", "vgg16", symbolic=True)._repr_html_()
    assert "<p>vgg16:</p><p>Valid when:</p><ul><li>H &gt;= 32 (pool5:" in html


def test_html_escapes_what_the_spec_wrote():
    spec = cnncalc.load('name: "<script>x</script>"\ninput: [1, 1, 4, 4]\nlayers: [relu]\n')
    html = cnncalc.analyze(spec)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_warnings_are_diagnostics():
    a = cnncalc.analyze("input: [1, 3, 8, 8]\nlayers:\n  - max_pool2d: {kernel: 1}\n")
    (w,) = a.warnings
    assert isinstance(w, cnncalc.Diagnostic) and w.severity == "warning" and w.line == 3


# -- errors --------------------------------------------------------------------------------------


def test_errors_carry_the_fields_the_command_line_prints(run_cli, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("input: [1, 3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 9}\n")
    with pytest.raises(cnncalc.ShapeError) as info:
        cnncalc.analyze(path)
    e = info.value
    # the entry's arguments start at line 3, column 13 (after "  - conv2d: ")
    assert (e.line, e.column, e.where, e.code) == (3, 13, "layer 'conv1' (conv2d)", "shape")
    assert e.file.endswith("net.yaml")
    code, _, err = run_cli("analyze", str(path))
    assert code == 2 and err.strip() == f"cnncalc: error: {e}"


def test_a_symbol_s_value_is_named_as_given_and_the_command_line_adds_its_option(run_cli):
    with pytest.raises(cnncalc.UsageError) as info:
        cnncalc.analyze("lenet5", H=0)
    assert str(info.value) == "H=0: H must be in [1, inf]"
    code, _, err = run_cli("analyze", "lenet5", "--set", "H=0")
    assert code == 2 and err.strip() == "cnncalc: error: --set H=0: H must be in [1, inf]"


# -- compare and verify --------------------------------------------------------------------------


def test_compare_gives_ratios_to_the_baseline(published):
    c = cnncalc.compare("resnet50", "resnet18", labels=["r50", "r18"])
    r50, r18 = published["resnet50"], published["resnet18"]
    assert c.ratios[1]["params"] == Fraction(r18["params"], r50["params"])
    assert c.ratios[1]["macs"] == Fraction(r18["macs"], r50["macs"])
    assert c.to_dict()["designs"][1]["label"] == "r18"
    assert "r18" in c._repr_html_()


def test_compare_takes_designs_with_values_of_their_own():
    c = cnncalc.compare("resnet50", ("resnet50", {"H": 112, "W": 112}))
    assert c.designs[1].totals.macs == cnncalc.analyze("resnet50", H=112, W=112).totals.macs
    with pytest.raises(cnncalc.UsageError, match="two or more designs"):
        cnncalc.compare("resnet50")
    with pytest.raises(cnncalc.UsageError, match="no design declares a symbol 'alpha'"):
        cnncalc.compare("resnet50", "resnet18", alpha=1)


def test_verify_runs_the_kernels():
    v = cnncalc.verify("lenet5", seed=3)
    assert v.ok and bool(v)
    assert all(c.counted_macs == c.predicted_macs for c in v.layers)
    assert v.to_dict()["seed"] == 3 and "conv1" in v._repr_html_()


def test_verify_refuses_open_symbols_and_runs_over_the_budget():
    with pytest.raises(cnncalc.UsageError, match="verification runs at concrete sizes; give K a value"):
        cnncalc.verify("input: [1, 3, 8, 8]\nsymbols: {K: null}\nlayers:\n  - conv2d: {out: K, kernel: 3}\n")
    with pytest.raises(cnncalc.VerificationError, match=r"over the budget of 1\.0 KiB"):
        cnncalc.verify("vgg16", memory_budget=1024)


# -- conv ----------------------------------------------------------------------------------------


def test_conv_is_the_course_s_arithmetic():
    # floor((28 + 2*2 - 5)/3) + 1 = 10, floor((31 + 2*2 - 5)/3) + 1 = 11
    c = cnncalc.conv((28, 31), 5, padding=2, stride=3)
    assert (c.output_shape, c.params, c.macs) == ((1, 1, 10, 11), 5 * 5 + 1, 10 * 11 * 5 * 5)
    assert repr(c).splitlines()[0] == "10x11" and "floor(27/3) + 1 = 10" in repr(c)
    assert c.to_dict()["output"] == [10, 11]


def test_conv_depthwise_and_pooling():
    d = cnncalc.conv(32, 3, padding=1, channels=16, depthwise=True)
    # 16 filters of 1 x 3 x 3, one per channel, plus 16 biases; 32 x 32 x 16 outputs x 9 taps
    assert (d.groups, d.params, d.macs) == (16, 16 * 9 + 16, 32 * 32 * 16 * 9)
    p = cnncalc.conv(7, 3, pool="max", ceil_mode=True)  # ceil((7 - 3)/3) + 1 = 3
    assert (p.size_text, p.params, p.macs) == ("3x3", 0, 0)
    with pytest.raises(cnncalc.UsageError, match="pool is 'max' or 'avg'"):
        cnncalc.conv(7, 3, pool="min")


# -- bounds, solve, sweep ------------------------------------------------------------------------


def test_bounds_names_resnet_s_downsampling():
    # five stride-2 stages (stem conv, max-pool, layer2..4): 2**5 = 32
    b = cnncalc.bounds("resnet50")
    exact = {s.name: s.exact for s in b.symbols if s.exact}
    assert exact == {"H": "H % 32 == 0", "W": "W % 32 == 0"}
    assert b.to_dict()["symbols"]["H"]["exact"] == "H % 32 == 0" and "H % 32 == 0" in repr(b)


def test_solve_shape_is_the_inverse_of_the_stride(run_cli):
    # ResNet's last feature map is ceil(H/32) wide: 7 for 6*32 < H <= 7*32
    s = cnncalc.solve("resnet50", shape=(7, 7))
    assert [x.interval for x in s.solutions] == [(193, 224), (193, 224)]
    assert cnncalc.solve("resnet50", shape="7x7").to_dict() == s.to_dict()
    code, out, _ = run_cli("solve", "resnet50", "--shape", "7x7", "--format", "json")
    assert code == 0 and json.loads(out) == s.to_dict()
    assert "193 <= H <= 224" in repr(s)


def test_solve_largest_within_a_budget_matches_torch():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from .helpers import torch_macs

    s = cnncalc.solve("resnet50", largest=("H", "W"), within="macs=1G")
    model = torchvision.models.resnet50(weights=None).eval()
    at = {n: torch_macs(model, torch.zeros(1, 3, n, n)) for n in (s.best, s.best + 1)}
    assert at[s.best] <= 10**9 < at[s.best + 1]
    assert (s.best_cost, s.next_cost) == (at[s.best], at[s.best + 1])
    assert cnncalc.solve("resnet50", largest="H,W", within={"macs": 10**9}).best == s.best


def test_solve_refuses_what_it_cannot_prove_and_bad_arguments():
    # MACs that fall at H = 51: not monotone over H, answered by splitting the range there
    spec = (
        "input: [1, 1, H, H]\nsymbols: {H: 64}\nlayers:\n"
        "  - conv2d: {out: 1, kernel: 3, bias: false}\n"
        "  - conv2d: {out: 1000 if H <= 50 else 1, kernel: 1, bias: false}\n"
    )
    answer = cnncalc.solve(spec, largest="H", within={"macs": 10**6})
    # (9 + 1000) * (H - 2)**2 up to H = 50, (9 + 1) * (H - 2)**2 above: 10 * 316**2 = 998,560
    # at H = 318, 10 * 317**2 = 1,004,890 at 319 (H = 33 is the best below 50: a local answer)
    assert (answer.best, answer.best_cost, answer.next_cost) == (318, 10 * 316**2, 10 * 317**2)
    with pytest.raises(cnncalc.UsageError, match="one of shape= or largest="):
        cnncalc.solve("resnet50")
    with pytest.raises(cnncalc.UsageError, match="within holds one budget"):
        cnncalc.solve("resnet50", largest="H", within={"macs": 1, "params": 2})
    with pytest.raises(cnncalc.UsageError, match="shape is"):
        cnncalc.solve("resnet50", shape=(0, 7))


def test_sweep_gives_torch_s_counts_at_every_point():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from .helpers import torch_macs

    s = cnncalc.sweep("resnet50", {"H": range(160, 225, 32)}, W=192)
    assert s.points["H"] == (160, 192, 224) and len(s) == 3
    model = torchvision.models.resnet50(weights=None).eval()
    assert s.totals["macs"] == tuple(torch_macs(model, torch.zeros(1, 3, h, 192)) for h in (160, 192, 224))
    assert s.totals["params"] == (25_557_032,) * 3  # torchvision's published count


def test_sweep_ranges_as_text_sequences_or_ranges_and_its_pareto_front():
    by_text = cnncalc.sweep("mobilenet_v1", {"alpha": "1/4:1:1/4"})
    by_list = cnncalc.sweep("mobilenet_v1", {"alpha": [Fraction(1, 4), "1/2", "3/4", 1]})
    assert by_text.to_dict() == by_list.to_dict()
    # the paper's Table 6 at 224: 569 M MACs at alpha 1, 325 M at 3/4, 149 M at 1/2, 41 M at 1/4
    assert [round(m, -6) // 10**6 for m in by_text.totals["macs"]] == [41, 149, 325, 569]
    front = cnncalc.sweep("mobilenet_v1", {"alpha": "1/4:1:1/4", "H": [128, 224]}, pareto="macs,alpha")
    # alpha up and MACs down: at 128 every alpha beats the same alpha at 224
    assert set(front.points["H"]) == {128} and len(front) == 4
    frame = front.to_pandas() if _has_pandas() else None
    assert frame is None or list(frame["alpha"]) == [Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), 1]
    with pytest.raises(cnncalc.UsageError, match="ranges maps each swept symbol"):
        cnncalc.sweep("resnet50", {})


def _has_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def test_the_domain_s_messages_name_no_command_line_option():
    for call, message in [
        (lambda: cnncalc.sweep("resnet50", {"Q": [1]}), "unknown symbol 'Q'"),
        (lambda: cnncalc.sweep("resnet50", {"H": [64]}, H=3), "H is both given a value and swept"),
        (lambda: cnncalc.sweep("resnet50", {"H": [0]}), "the sweep of H: H must be in [1, inf], found 0"),
        (lambda: cnncalc.solve("resnet50", largest="H", within="macs=1G", H=3), "H is both given a value"),
    ]:
        with pytest.raises(cnncalc.UsageError) as info:
            call()
        assert message in str(info.value) and "--" not in str(info.value)
