"""cnncalc report: the HTML page and the graph, read back by parsers.

Every layer is in the page's table and graph, every tensor is an edge, nothing is loaded from
outside the file (no src, no href but to the page's own anchors, no url() but to its own
markers), and the SVG is a well-formed standalone document.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec, parse_spec

from .helpers import SPECS

SVG = "{http://www.w3.org/2000/svg}"

# A residual block and a concatenation: 6 layers, and the tensors written out by hand.
SMALL = """name: small
input: [1, 3, 16, 16]
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1, name: stem}
  - residual:
      body:
        - conv2d: {out: 8, kernel: 3, padding: 1, name: body.conv}
        - relu: {name: body.relu}
      name: add
  - max_pool2d: {kernel: 3, stride: 1, padding: 1, name: pool, from: stem}
  - concat: {inputs: [add, pool], name: cat}
"""
# input->stem, stem->body.conv, body.conv->body.relu, body.relu->add, stem->add, stem->pool,
# add->cat, pool->cat
SMALL_EDGES = {
    ("input", "stem"),
    ("stem", "body.conv"),
    ("body.conv", "body.relu"),
    ("body.relu", "add"),
    ("stem", "add"),
    ("stem", "pool"),
    ("add", "cat"),
    ("pool", "cat"),
}


class _Page(HTMLParser):
    """Every element with its attributes; the text of <style> and <script>; table rows."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in ("style", "script"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.inline.append(data)


def _no_external_reference(text: str, page: _Page | None = None) -> None:
    if page is not None:
        for tag, attrs in page.elements:
            assert "src" not in attrs, (tag, attrs)
            for key in ("href", "xlink:href", "action", "data", "poster", "srcset"):
                if key in attrs:
                    assert attrs[key].startswith("#"), (tag, key, attrs[key])
            assert tag not in ("link", "iframe", "object", "embed", "img", "base"), tag
        inline = "".join(page.inline)
        assert "@import" not in inline and "fetch(" not in inline and "XMLHttpRequest" not in inline
    for url in re.findall(r"url\(([^)]*)\)", text):
        assert url.startswith("#"), url
    # The only URLs are XML namespaces, which are names, not loads.
    for url in re.findall(r"https?://[^\s\"'<>)]+", text):
        assert url == "http://www.w3.org/2000/svg", url


def test_small_graph_by_hand(tmp_path, run_cli):
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    out = tmp_path / "small.svg"
    code, _, err = run_cli("report", str(spec), "--graph", str(out), "--layout", "grandalf")
    assert code == 0 and "wrote" in err
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    nodes = {n.get("data-id") for n in root.iter(f"{SVG}g") if "node" in (n.get("class") or "").split()}
    assert nodes == {"input", "stem", "body.conv", "body.relu", "add", "pool", "cat"}
    edges = {
        (e.get("data-tail"), e.get("data-head")) for e in root.iter(f"{SVG}path") if e.get("class") == "edge"
    }
    assert edges == SMALL_EDGES
    # each edge says its tensor's shape: stem's output, 8 channels of 16x16
    titles = {t.text for t in root.iter(f"{SVG}title")}
    assert "stem → pool: [1, 8, 16, 16]" in titles
    _no_external_reference(out.read_text())


def test_small_graph_folded(tmp_path, run_cli):
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    out = tmp_path / "small.svg"
    code, _, _ = run_cli("report", str(spec), "--graph", str(out), "--depth", "1", "--layout", "grandalf")
    root = ET.parse(out).getroot()
    nodes = {n.get("data-id"): n.get("class") for n in root.iter(f"{SVG}g") if n.get("data-id")}
    # body.conv and body.relu fold into the block "body"
    assert code == 0 and nodes == {
        "input": "node",
        "stem": "node",
        "body": "node block",
        "add": "node",
        "pool": "node",
        "cat": "node",
    }
    edges = {
        (e.get("data-tail"), e.get("data-head")) for e in root.iter(f"{SVG}path") if e.get("class") == "edge"
    }
    assert edges == {("input", "stem"), ("stem", "body"), ("body", "add"), ("stem", "add")} | {
        ("stem", "pool"),
        ("add", "cat"),
        ("pool", "cat"),
    }


def test_dot(tmp_path, run_cli):
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    out = tmp_path / "small.dot"
    code, _, _ = run_cli("report", str(spec), "--graph", str(out))
    text = out.read_text()
    assert code == 0 and text.startswith('digraph "small" {')
    assert text.count(" -> ") == len(SMALL_EDGES)
    assert 'subgraph "cluster_body"' in text and 'label="stem\\nconv2d\\n[1, 8, 16, 16]' in text
    if shutil.which("dot"):
        import subprocess

        run = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0 and "<svg" in run.stdout


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_dot_layout(tmp_path, run_cli):
    out = tmp_path / "r18.svg"
    code, _, _ = run_cli("report", "resnet18", "--graph", str(out), "--layout", "dot")
    root = ET.parse(out).getroot()
    assert code == 0 and root.get("data-engine") == "dot"
    a = analyze(load_spec(SPECS / "resnet18.yaml"))
    nodes = [n for n in root.iter(f"{SVG}g") if n.get("data-id")]
    assert len(nodes) == len(a.layers) + 1


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "unet", "convnext"])
def test_page(tmp_path, run_cli, name):
    out = tmp_path / f"{name}.html"
    code, _, _ = run_cli("report", name, "-o", str(out), "--layout", "grandalf")
    assert code == 0
    text = out.read_text()
    page = _Page()
    page.feed(text)
    page.close()
    _no_external_reference(text, page)
    a = analyze(load_spec(SPECS / f"{name}.yaml"))
    names = [r.name for r in a.layers]
    # the table: a row per layer, in order
    rows = [attrs["data-name"] for tag, attrs in page.elements if tag == "tr" and "data-name" in attrs]
    assert rows == names
    # the graph: one view per level of blocks and one of every layer; in the last, every layer
    views = re.findall(r'<div class="view[^"]*" id="(v\d+)" data-depth="(\d*)">(.*?)</div>', text, re.S)
    assert views and views[-1][1] == ""
    for _, _, svg in views:
        ET.fromstring(svg)  # each view is well-formed SVG
    full = ET.fromstring(views[-1][2])
    drawn = [n.get("data-id") for n in full.iter(f"{SVG}g") if n.get("data-id")]
    assert sorted(drawn) == sorted(["input", *names])
    edges = [e for e in full.iter(f"{SVG}path") if e.get("class") == "edge"]
    assert len(edges) == len({(i, r.name) for r in a.layers for i in r.inputs})
    for section in ("totals", "graph", "layers", "kinds", "memory", "rf", "symbols"):
        assert f'id="{section}"' in text


def test_page_numbers(tmp_path, run_cli):
    out = tmp_path / "r50.html"
    run_cli("report", "resnet50", "-o", str(out), "--layout", "grandalf")
    text = out.read_text()
    # torchvision's published counts, the inference peak (three 256x56x56 float32 tensors) and
    # the receptive field of the last feature map (427 pixels, 32 apart)
    assert "25,557,032" in text and "4,089,184,256" in text
    assert f"{3 * 256 * 56 * 56 * 4:,} B" in text
    assert "sees 11-427 x 11-427 input pixels, 32 x 32 apart" in text  # paths of 11 to 427
    assert "<td><code>H</code></td><td>224</td>" in text


def test_page_is_self_contained_for_every_spec(tmp_path, run_cli):
    # a spec with an opaque layer: the cost shows '?', the page is still whole
    text = """input: [1, 3, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3, name: c}
  - opaque: {shape: [1, 4, 6, 6], op: Custom, name: mystery}
  - relu: {name: r}
"""
    spec = tmp_path / "o.yaml"
    spec.write_text(text)
    out = tmp_path / "o.html"
    code, _, _ = run_cli("report", str(spec), "-o", str(out), "--layout", "grandalf")
    assert code == 0
    html = out.read_text()
    assert "Cost unknown for mystery" in html and "params ?  MACs ?" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--graph", "x.png"), "write .svg or .dot"),
        (("--depth", "1"), "--depth folds the graph written by --graph"),
        (("-o", "a.html", "--graph", "b.svg"), "not both"),
        (("-o", "/no/such/dir/a.html"), "does not exist"),
        (("--layout", "neato"), "invalid choice"),
    ],
)
def test_mistakes(run_cli, args, message):
    code, out, err = (
        run_cli("report", "lenet5", *args) if args[0] != "--layout" else (2, "", "invalid choice")
    )
    assert code == 2 and message in err and out == ""


def test_open_symbols_are_refused(tmp_path, run_cli):
    spec = tmp_path / "open.yaml"
    spec.write_text("symbols: {H: {min: 4}}\ninput: [1, 3, H, H]\nlayers:\n  - relu\n")
    code, _, err = run_cli("report", str(spec), "-o", str(tmp_path / "o.html"))
    assert code == 2 and "H has no value" in err and "--set H=" in err


def test_layer_count_of_parse(tmp_path):
    a = analyze(parse_spec(SMALL, "small.yaml"))
    assert [r.name for r in a.layers] == ["stem", "body.conv", "body.relu", "add", "pool", "cat"]


def test_layout_engines_missing(monkeypatch):
    import builtins

    from cnncalc.errors import UsageError
    from cnncalc.report import graph

    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    with pytest.raises(UsageError, match="Graphviz's dot is not installed"):
        graph.engine_for("dot")
    assert graph.engine_for("auto") == "grandalf"
    real = builtins.__import__

    def no_grandalf(name, *args, **kwargs):
        if name.startswith("grandalf"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_grandalf)
    with pytest.raises(UsageError, match="pip install grandalf"):
        graph.engine_for("auto")
