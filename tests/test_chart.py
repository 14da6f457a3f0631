"""Terminal bars and plots."""

from __future__ import annotations

import sys

import pytest

from cnncalc.report.chart import bar

NET = """input: [1, 1, 8, 8]
layers:
  - conv2d: {out: 2, kernel: 3, padding: 1, bias: false, name: big}    # 2*8*8*9 = 1,152 MACs
  - relu: {name: act}
  - conv2d: {out: 1, kernel: 1, bias: false, name: small}             # 1*8*8*2 = 128 MACs
"""


def test_bar_lengths():
    assert bar(1, 2, 10) == "█" * 5
    assert bar(3, 16, 4) == "▊"  # 8*4*3/16 = 6 eighths: the three-quarter block
    assert bar(0, 5, 10) == ""


def test_chart_in_the_report(tmp_path, run_cli):
    path = tmp_path / "net.yaml"
    path.write_text(NET)
    code, out, _ = run_cli("analyze", str(path), "--depth", "0", "--chart", "--width", "60")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("big ", "small "))}
    # the largest value fills the room; 128/1152 of it is one ninth
    big, small = lines["big"].count("█"), lines["small"].count("█")
    assert big >= 40 and small == big // 9
    assert "act" not in lines and "(1 layer with 0 MACs not shown)" in out


def test_chart_needs_numbers():
    from cnncalc.core.engine import analyze
    from cnncalc.errors import UsageError
    from cnncalc.lang.spec import parse_spec
    from cnncalc.report.chart import chart

    text = "symbols: {H: null}\n" + NET.replace("[1, 1, 8, 8]", "[1, 1, H, 8]")
    a = analyze(parse_spec(text, "net.yaml"), symbolic=True)
    with pytest.raises(UsageError, match="a chart needs numbers: give H a value"):
        chart(a)


def test_plot_files(tmp_path, run_cli):
    pytest.importorskip("matplotlib")
    png, svg = tmp_path / "layers.png", tmp_path / "sweep.svg"
    assert run_cli("analyze", "lenet5", "--plot", str(png), "-f", "json")[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run_cli("sweep", "lenet5", "--range", "H=16:64:16", "--plot", str(svg), "-f", "csv")[0] == 0
    assert b"<svg" in svg.read_bytes()[:2000]


@pytest.mark.parametrize("command", [("analyze", "lenet5"), ("sweep", "lenet5", "--range", "H=16:64:16")])
def test_plot_without_matplotlib_is_refused_before_any_work(tmp_path, run_cli, monkeypatch, command):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    import cnncalc.core.engine as engine

    def no_work(*args, **kwargs):
        raise AssertionError("the analysis ran")

    monkeypatch.setattr(engine, "analyze", no_work)
    code, out, err = run_cli(*command, "--plot", str(tmp_path / "x.png"))
    assert code == 2 and "--plot needs matplotlib" in err and "cnncalc[plot]" in err
    assert out == "" and "Traceback" not in err and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(("value", "message"), [("", "found an empty one"), ("   ", "found an empty one")])
def test_plot_refuses_an_empty_name(run_cli, value, message):
    code, out, err = run_cli("analyze", "lenet5", "--plot", value, "-f", "json")
    assert code == 2 and message in err and out == ""


def test_plot_refuses_other_formats(run_cli):
    code, _, err = run_cli("analyze", "lenet5", "--plot", "out.pdf", "-f", "json")
    assert code == 2 and "write a .png or an .svg file" in err
