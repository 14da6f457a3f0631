"""Every layer kind is complete: documented formulas, README row, schema entry, kernel."""

from __future__ import annotations

import pytest

from cnncalc.layers import REGISTRY, Layer, register
from cnncalc.schema import spec_schema

from .helpers import ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_layer_kind_is_complete(kind):
    cls = REGISTRY[kind]
    doc = cls.__doc__ or ""
    assert "MACs" in doc and "FLOPs" in doc
    assert f"| `{kind}` |" in README, f"README's layer table has no row for {kind}"
    assert kind in spec_schema()["$defs"]
    assert cls.forward is not Layer.forward, f"{kind} has no reference kernel"
    assert cls.examples.__func__ is not Layer.examples.__func__, f"{kind} has no examples()"
    assert cls.flops is not Layer.flops


def test_register_refuses_incomplete_layers():
    class NoDoc(Layer):
        kind = "no_doc"

        def output_shape(self, x):
            return x

        def flops(self, x, *, out):
            return 0

    with pytest.raises(TypeError, match="must state its MACs and FLOPs"):
        register(NoDoc)

    class Taken(NoDoc):
        """MACs: 0. FLOPs: 0."""

        kind = "conv2d"

    with pytest.raises(TypeError, match="already registered"):
        register(Taken)

    class BadTag(Taken):
        """MACs: 0. FLOPs: 0."""

        kind = "Bad-Tag"

    with pytest.raises(TypeError, match="snake_case"):
        register(BadTag)
