"""Sweep, solve and check with a derived symbol: a width derived from a swept or opened
multiplier follows it, as analyze --set gives it, instead of keeping its value at the
multiplier's default (C = make_divisible(16*alpha, 8): 8 channels at alpha 1/2, 16 at 1, 24 at
3/2; a 1x1 convolution on 3 channels has 3*C weights and C biases)."""

from __future__ import annotations

import json

SPEC = """\
symbols:
  alpha: {default: 0.5, type: rational}
  C: "make_divisible(16*alpha, 8)"
input: [1, 3, 8, 8]
layers:
  - conv2d: {out: C, kernel: 1}
"""


def test_a_sweep_over_a_multiplier_moves_the_width_derived_from_it(run_cli, tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(SPEC)
    code, out, _ = run_cli("sweep", str(path), "--range", "alpha=0.5,1,1.5", "-f", "json")
    assert code == 0
    d = json.loads(out)
    assert [p["params"] for p in d["points"]] == [3 * 8 + 8, 3 * 16 + 16, 3 * 24 + 24]
    assert "C" not in d["fixed"]  # it follows the points


def test_a_budget_over_a_range_of_the_multiplier_is_not_proved_at_its_default(run_cli, tmp_path):
    # over alpha in [1/2, 1] the params reach 64 (alpha = 1), over the limit of 32: the check must
    # not pass with C at its value at alpha's default (8)
    path = tmp_path / "d.yaml"
    path.write_text(SPEC + "budget:\n  - open: {alpha: [0.5, 1]}\n    params: 32\n")
    code, out, err = run_cli("check", str(path))
    assert code == 2 and "ok" not in out
    assert "params <= 32 cannot be proved over alpha in [1/2, 1]" in err


def test_the_largest_multiplier_within_a_budget_is_not_answered_from_the_default_width(run_cli, tmp_path):
    # with C kept at 8 the params would be 32 at every alpha, and the search would run to its
    # end; with C following alpha (64 at alpha = 1) the formula is piecewise in alpha, which
    # solve does not prove monotone: it refuses rather than state an answer
    path = tmp_path / "d.yaml"
    path.write_text(SPEC)
    code, out, err = run_cli("solve", str(path), "--largest", "alpha", "--within", "params=40")
    assert code == 2 and out == ""
    assert "no answer is stated" in err
