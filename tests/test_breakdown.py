"""The breakdown by category reproduces MobileNet v1's Table 2 (Howard et al. 2017).

The paper counts MACs of convolutions and the FC layer, and parameters as weights only (no
bias, no batch norm): 1x1 conv 94.86% of MACs and 74.59% of parameters, depthwise 3.06% /
1.06%, the first 3x3 convolution 1.91% / 0.02% (the paper prints 1.19%, a transposed typo:
only 1.91 makes the shares sum to 100%), FC 0.18% / 24.33%.
"""

from __future__ import annotations

import json

from cnncalc.analysis.breakdown import breakdown, share
from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec

from .helpers import SPECS


def test_mobilenet_v1_table_2():
    a = analyze(load_spec(SPECS / "mobilenet_v1.yaml"))
    assert a.totals.params == 4_231_976
    rows = {r.category: r for r in breakdown(a)}
    weights = sum(r.weights for r in rows.values())
    # conv+FC weights: 4,210,088 (conv and FC weights plus the FC bias) minus the 1,000 FC biases
    assert weights == 4_210_088 - 1_000
    table_2 = {
        "conv2d 1x1": ("94.86%", "74.59%"),
        "conv2d 3x3 depthwise": ("3.06%", "1.06%"),
        "conv2d 3x3": ("1.91%", "0.02%"),
        "linear": ("0.18%", "24.33%"),
    }
    for category, (mac_share, weight_share) in table_2.items():
        r = rows[category]
        assert f"{float(share(r.macs, a.totals.macs)) * 100:.2f}%" == mac_share, category
        assert f"{float(share(r.weights, weights)) * 100:.2f}%" == weight_share, category
    # The first convolution: 112*112 outputs, 32 filters of 3*3*3.
    assert rows["conv2d 3x3"].macs == 112 * 112 * 32 * 3 * 3 * 3
    assert rows["linear"].biases == 1000
    assert rows["batch_norm2d"].norm == 4_231_976 - 4_210_088


def test_breakdown_in_every_report(run_cli):
    code, out, _ = run_cli("analyze", "mobilenet_v1", "-f", "json")
    d = json.loads(out)
    rows = {r["category"]: r for r in d["breakdown"]}
    assert rows["conv2d 1x1"]["macs_share"] == round(539_492_352 / 568_740_352, 6)
    assert rows["linear"]["weights"] == 1024 * 1000
    code, out, _ = run_cli("analyze", "mobilenet_v1", "-f", "markdown")
    assert code == 0
    assert "| conv2d 1x1 | 13 | 539,492,352 | 94.86% |" in out
    code, out, _ = run_cli("analyze", "mobilenet_v1", "--width", "150")
    assert code == 0
    assert "conv2d 3x3 depthwise" in out and "74.59%" in out


def test_symbolic_breakdown_has_formulas_and_formula_shares(run_cli):
    code, out, _ = run_cli("analyze", "mobilenet_v1", "--symbolic", "-f", "json")
    assert code == 0
    rows = {r["category"]: r for r in json.loads(out)["breakdown"]}
    assert isinstance(rows["conv2d 1x1"]["macs"], str)
    share = rows["conv2d 1x1"]["macs_share"]
    assert isinstance(share, str)
    # The share formula, read back at the defaults, is the concrete share: 539,492,352 of
    # 568,740,352 MACs (Table 2's 94.86%).
    import sympy

    values = {"N": 1, "H": 224, "W": 224, "alpha": 1, "K": 1000}
    syms = {n: sympy.Symbol(n, positive=True) for n in values}
    at_defaults = sympy.sympify(share, locals=syms).subs({syms[k]: v for k, v in values.items()})
    assert at_defaults == sympy.Rational(539_492_352, 568_740_352)
