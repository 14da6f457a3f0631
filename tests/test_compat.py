"""The compatibility corpus (tests/compat/): specs written against the README at each earlier
release load today and give the totals that release printed for them (recorded by running the
release's own code)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec

CORPUS = Path(__file__).resolve().parent / "compat"


def _cases():
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        cases = json.loads((folder / "cases.json").read_text())
        totals = json.loads((folder / "totals.json").read_text())
        for spec, sets in cases.items():
            for values in sets:
                key = spec + (" " + " ".join(f"{k}={v}" for k, v in values.items()) if values else "")
                yield pytest.param(folder / spec, values, totals[key], id=f"{folder.name}/{key}")


@pytest.mark.parametrize(("path", "values", "recorded"), list(_cases()))
def test_an_earlier_release_spec_gives_the_same_numbers(path, values, recorded):
    a = analyze(load_spec(path), {k: str(v) for k, v in values.items()})
    t = a.totals
    assert {
        "params": t.params,
        "trainable_params": t.trainable_params,
        "frozen_params": t.frozen_params,
        "macs": t.macs,
        "flops": t.flops,
        "output_shape": list(a.output_shape),
        "layers": len(a.layers),
    } == recorded


def test_every_spec_of_the_corpus_is_recorded():
    for folder in (p for p in CORPUS.iterdir() if p.is_dir()):
        written = {p.name for p in folder.glob("*.yaml")}
        assert written == set(json.loads((folder / "cases.json").read_text()))


def test_what_a_new_rule_says_of_an_old_spec_is_a_warning_with_the_fix():
    shadow = load_spec(CORPUS / "2026-11-28" / "shadow.yaml")
    assert [m for _, m in shadow.warnings] == [
        "argument 'se' of block 'unit' has the name of a block: `- se` in 'unit' invokes block "
        "'se', and se in expressions is the argument; rename the argument (such as use_se) to "
        "keep the two apart"
    ]
    names = load_spec(CORPUS / "2026-11-28" / "names.yaml")
    assert [m for _, m in names.warnings] == [
        f"argument {arg!r} of block {block!r} is a number, and a reference in {block!r} has its name: "
        f"that reference names a layer {arg!r}, as before block arguments could name tensors; rename "
        f"the argument (such as {arg}_n) to keep the two apart"
        for block, arg in (("unit", "here"), ("unit", "proj"), ("stem", "conv1"))
    ]
    lint = [w.message for w in analyze(load_spec(CORPUS / "2026-11-30" / "expressions.yaml")).warnings]
    assert lint == [
        "input.C = 3 (arriving here: 30): at top level input.* is the network's input, not the "
        "tensor arriving here; write here.C for the tensor arriving here, or network.C to say "
        "that the network's input is meant"
    ]
