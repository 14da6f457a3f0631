"""`cnncalc schema` describes the spec format as the loader reads it: a spec using every construct
(tables, lists, derived symbols, references, templates, tensor arguments, use:), the specs of
earlier releases and the bundled ones validate, and what the loader refuses for a reason the
schema can see, the schema refuses too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cnncalc.core.engine import analyze
from cnncalc.lang.spec import load_spec

from .helpers import CONSTRUCTS as DATA

jsonschema = pytest.importorskip("jsonschema")

COMPAT = Path(__file__).resolve().parent / "compat"


@pytest.fixture
def validator(run_cli):
    code, out, _ = run_cli("schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator, data) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:160]}" for e in validator.iter_errors(data)]


def test_a_spec_with_every_construct_loads_and_validates(validator):
    for path in (DATA / "every_construct.yaml", DATA / "lib" / "heads.yaml"):
        assert _errors(validator, yaml.safe_load(path.read_text())) == [], path.name
    a = analyze(load_spec(DATA / "every_construct.yaml"))
    by_name = {layer.name: layer for layer in a.layers}
    # C0 = make_divisible(32 * 3/4, 8) = 24, C1 = 2 * 24; the stem's 3x3 kernel is ks[0].
    assert by_name["stem"].output_shape == (1, 24, 32, 32)
    assert by_name["stem"].params == 24 * 3 * 3 * 3 + 24
    # low: C1 = 48 channels, kernel ks[1] = 1x3, on the dense block's 16 + 3*4 = 28 channels.
    assert by_name["dense.cat"].output_shape == (1, 16 + 3 * 4, 16, 16)
    assert by_name["low"].params == 48 * 28 * 1 * 3 + 48
    # The head resizes high (8 channels at 8x8) to low's 16x16; the last resize reads stem.H
    # and network.W (32) on x1's widths[1] = 16 channels.
    assert by_name["head.up"].output_shape == (1, 8, 16, 16)
    assert by_name["up"].output_shape == (1, 16, 32, 32)
    # The used classifier has K + 2 = 12 outputs on 8 channels.
    assert by_name["lib.classifier1.fc1"].params == 8 * 12 + 12


@pytest.mark.parametrize("path", sorted(COMPAT.glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_specs_of_earlier_releases_validate(validator, path):
    assert _errors(validator, yaml.safe_load(path.read_text())) == []


BASE = {"input": [1, 3, 8, 8]}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"conv2d": {"out": 4, "kernel": 1, "repeat": 2, "first": {"kernel": 3}}},
            "'first' applies to repeated blocks",
        ),
        ({"relu": {"for": 3}}, "for:"),
        ("conv2d x", "conv2d x"),
        ("conv2d", "missing required argument 'out'"),
    ],
    ids=["first on a layer", "for not a text", "not a name", "a kind with required arguments bare"],
)
def test_what_the_loader_refuses_the_schema_refuses(validator, tmp_path, entry, expected):
    from cnncalc.errors import SpecError

    spec = {**BASE, "layers": [entry]}
    assert _errors(validator, spec)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert expected in str(info.value)


def test_a_used_spec_s_symbols_and_lists_validate(validator):
    spec = {
        **BASE,
        "use": {
            "lib": {"spec": "lib/heads.yaml", "symbols": {"K": "2*C", "widths": [8, "C"], "rows": [[1, 2]]}}
        },
        "layers": ["lib.classifier"],
    }
    assert _errors(validator, spec) == []
    assert _errors(validator, {**spec, "use": {"lib": {"symbols": {"K": 1}}}}) == [
        "['use', 'lib']: 'spec' is a required property"
    ]


def test_a_later_format_version_is_refused_by_both(validator, tmp_path):
    from cnncalc.errors import SpecError

    spec = {**BASE, "cnncalc": 2, "layers": ["relu"]}
    assert _errors(validator, spec) == ["['cnncalc']: 2 is greater than the maximum of 1"]
    assert _errors(validator, {**spec, "cnncalc": 1}) == []
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match="written for version 2"):
        load_spec(path)
