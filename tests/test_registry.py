"""Every layer kind is complete: documented formulas, README row, schema entry, kernel."""

from __future__ import annotations

import pytest

from cnncalc.errors import LayerDefinitionError
from cnncalc.lang.schema import spec_schema
from cnncalc.layers import BUILTIN_KINDS, REGISTRY, RESERVED_KINDS, Layer, register
from cnncalc.layers._registry import _contract_problems

from .helpers import ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("kind", sorted(BUILTIN_KINDS))
def test_layer_kind_is_complete(kind):
    cls = REGISTRY[kind]
    doc = cls.__doc__ or ""
    assert "MACs" in doc and "FLOPs" in doc
    assert f"| `{kind}` |" in README, f"README's layer table has no row for {kind}"
    assert kind in spec_schema()["$defs"]
    assert cls.forward is not Layer.forward, f"{kind} has no reference kernel"
    assert cls.examples.__func__ is not Layer.examples.__func__, f"{kind} has no examples()"
    assert cls.flops is not Layer.flops
    assert list(_contract_problems(cls)) == []  # register skips the signature checks for these


class _Fine(Layer):
    """MACs: 0. FLOPs: 0."""

    kind = "test_fine"

    def output_shape(self, x):
        return x

    def flops(self, x, *, out):
        return 0

    def forward(self, xs, weights, out):
        return 0


def _variant(name: str, doc: str | None = "MACs: 0. FLOPs: 0.", **attrs):
    """A subclass of _Fine with a docstring and attributes changed (``None`` deletes nothing)."""
    attrs.setdefault("kind", "test_" + name.lower())
    return type(name, (_Fine,), {"__doc__": doc, "__module__": __name__, "__qualname__": name, **attrs})


def _e(name, match, **kw):
    return pytest.param(name, kw, match, id=name)


BROKEN = [
    _e(
        "NoDoc",
        r"NoDoc: must state its MACs and FLOPs formulas in its docstring \(has no docstring\)",
        doc=None,
    ),
    _e("NoFlopsDoc", r"its docstring does not mention FLOPs", doc="MACs: 0."),
    _e(
        "NoFormulas",
        r"NoFormulas: must state its MACs and FLOPs formulas in its docstring \(its docstring "
        r"does not mention MACs or FLOPs\); write e\.g\. 'MACs: N\*out\*H\*W\*C\. FLOPs: 2\*MACs\.' "
        r"\(a layer without products says 'MACs: 0\.'\)$",
        doc="A layer without its formulas.",
    ),
    _e(
        "UnreadableArgument",
        r"UnreadableArgument: its arguments cannot be read \(.*NotDefinedAnywhere.*\): annotate "
        r"arguments with the types of docs/custom-layers\.md",
        __annotations__={"x": "NotDefinedAnywhere"},
    ),
    _e("Taken", r"Taken: kind 'conv2d' is already registered by cnncalc.layers.conv2d.Conv2d", kind="conv2d"),
    _e("BadTag", r"BadTag: kind = 'Bad-Tag' must be a snake_case tag", kind="Bad-Tag"),
    _e("NoTag", r"NoTag: kind = '' must be a snake_case tag", kind=""),
    _e("Reserved", r"kind = 'residual' is reserved by the spec format", kind="residual"),
    _e("NoKernel", r"NoKernel: must implement forward\(\) \(the reference kernel", forward=Layer.forward),
    _e("NoFlops", r"NoFlops: must implement flops\(\)", flops=Layer.flops),
    _e("NoShape", r"NoShape: must implement output_shape\(\)", output_shape=Layer.output_shape),
    _e(
        "FlopsWithoutOut",
        r"flops\(self, x, y\) cannot be called as flops\(x, \*, out\)",
        flops=lambda self, x, y: 0,
    ),
    _e("MacsWithoutOut", r"macs\(self, x\) cannot be called as macs\(x, \*, out\)", macs=lambda self, x: 0),
    _e(
        "ForwardTwoArgs",
        r"forward\(self, xs, out\) cannot be called as forward\(xs, weights, out\)",
        forward=lambda self, xs, out: 0,
    ),
    _e(
        "ShapeNoInput",
        r"output_shape\(self\) cannot be called as output_shape\(x\)",
        output_shape=lambda self: (),
    ),
    _e("BadArity", r"arity = 2 must be 1 \(one input\) or None", arity=2),
    _e("BadMinInputs", r"min_inputs = 3 must be 1 or 2", arity=None, min_inputs=3),
    _e("StaticExamples", r"examples\(\) must be a @classmethod", examples=lambda: None),
]


@pytest.mark.parametrize(("name", "attrs", "match"), BROKEN)
def test_register_names_the_class_and_the_rule_broken(name, attrs, match):
    cls = _variant(name, **attrs)
    with pytest.raises(LayerDefinitionError, match=match):
        register(cls)
    assert REGISTRY.get(cls.kind) is not cls


def test_a_reserved_argument_name_is_refused():
    from cnncalc.layers import Int

    class Named(_Fine):
        """MACs: 0. FLOPs: 0."""

        kind = "test_named"
        repeat: Int = 1

    with pytest.raises(LayerDefinitionError, match=r"Named: argument 'repeat' is a key the spec format"):
        register(Named)


def test_reserved_arguments_are_the_spec_keys():
    from cnncalc.lang.model import CONSTRUCTS, META_KEYS
    from cnncalc.layers import RESERVED_ARGUMENTS

    assert set(RESERVED_ARGUMENTS) == {*META_KEYS, "inputs", "branches"}
    assert set(CONSTRUCTS) <= set(RESERVED_KINDS)


def test_a_contract_error_is_also_a_type_error():
    assert issubclass(LayerDefinitionError, TypeError)
    with pytest.raises(TypeError, match=r"expects a subclass of cnncalc.layers.Layer, got <class 'int'>"):
        register(int)


def test_registering_the_same_class_again_replaces_it():
    first = register(_variant("Again"))
    second = register(_variant("Again"))  # the module imported a second time
    try:
        assert REGISTRY["test_again"] is second and first is not second
        assert second.prefix == "test_again"
    finally:
        del REGISTRY["test_again"]
