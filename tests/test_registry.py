"""Every layer kind is complete: documented formulas, README row, schema entry, kernel."""

from __future__ import annotations

import re

import pytest

from cnncalc.errors import LayerDefinitionError
from cnncalc.lang.schema import spec_schema
from cnncalc.layers import BUILTIN_KINDS, REGISTRY, RESERVED_KINDS, Layer, Param, register
from cnncalc.layers._registry import _contract_problems

from .helpers import ROOT

README = (ROOT / "docs" / "reference" / "conventions.md").read_text()


@pytest.mark.parametrize("kind", sorted(BUILTIN_KINDS))
def test_layer_kind_is_complete(kind):
    cls = REGISTRY[kind]
    doc = cls.__doc__ or ""
    assert "MACs" in doc and "FLOPs" in doc
    assert f"| `{kind}` |" in README, f"the conventions page's layer table has no row for {kind}"
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


# -- names one slip from the contract --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("check", "checks()"),
        ("mac", "macs()"),
        ("weight", "weights()"),
        ("window", "windows()"),
        ("example", "examples()"),
        ("output_shapes", "output_shape()"),
        ("outputShape", "output_shape()"),
        ("forwrad", "forward()"),
        ("Flops", "flops()"),
    ],
)
def test_a_method_one_slip_from_a_rule_is_refused(name, meant):
    cls = _variant("Slip", **{name: lambda self, *xs, **kw: 0})
    with pytest.raises(
        LayerDefinitionError,
        match=rf"Slip: {name}\(\) is not part of the layer contract, and is never used "
        rf"\(did you mean {re.escape(meant)}\?\)",
    ):
        register(cls)


def test_an_attribute_one_slip_from_the_contract_is_refused():
    with pytest.raises(
        LayerDefinitionError, match=r"prefx is not part of the layer contract.*did you mean prefix\?"
    ):
        register(_variant("Prefx", prefx="pf"))


@pytest.mark.parametrize(
    "name", ["maps", "find", "flips", "_check", "window_size", "scale", "checked", "kinds_of"]
)
def test_names_of_ones_own_are_not_taken_for_slips(name):
    cls = _variant("Own" + name.title().replace("_", ""), **{name: lambda self: 0})
    try:
        assert register(cls) is cls
    finally:
        REGISTRY.pop(cls.kind, None)


# -- the rules of a custom kind, guarded -------------------------------------------------------


def _analyze_one(kind: str, shape=(1, 2, 4, 4), symbolic: bool = False):
    from cnncalc.core.engine import analyze
    from cnncalc.lang.spec import parse_spec

    names = ", ".join(f"{n}: {v}" for n, v in zip("NCHW", shape, strict=True))
    text = f"symbols: {{{names}}}\ninput: [N, C, H, W]\nlayers:\n  - {kind}\n"
    return analyze(parse_spec(text, "net.yaml"), symbolic=symbolic)


@pytest.fixture
def guarded():
    made: list[str] = []

    def make(name: str, **rules):
        cls = _variant(name, **rules)
        made.append(cls.kind)
        return register(cls)

    yield make
    for kind in made:
        REGISTRY.pop(kind, None)


def test_an_exception_in_a_rule_is_one_message_with_the_line(guarded, monkeypatch, tmp_path):
    from pathlib import Path

    from cnncalc.errors import RuleError

    def output_shape(self, x):
        return (x[0], upscale, x[2], x[3])  # noqa: F821 - the mistake under test

    guarded("Typo", output_shape=output_shape)
    line = output_shape.__code__.co_firstlineno + 1
    # The file as the user names it: relative to the current directory when under it.
    for cwd, shown in ((Path(__file__).parent, "test_registry.py"), (tmp_path, __file__)):
        monkeypatch.chdir(cwd)
        with pytest.raises(RuleError) as err:
            _analyze_one("test_typo")
        assert str(err.value) == (
            f"net.yaml:4:5: layer 'test_typo1' (test_typo): its rule output_shape() (the output shape) "
            f"raised NameError: name 'upscale' is not defined (at {shown}:{line})"
        )


def test_a_rule_that_recurses_forever_is_one_message(guarded):
    from cnncalc.errors import RuleError

    def macs(self, x, *, out):
        return self.macs(x, out=out)

    guarded("Recurse", macs=macs)
    with pytest.raises(
        RuleError,
        match=r"its rule macs\(\) \(the MAC count\) raised RecursionError: .*\(the rule calls itself "
        r"without end\)",
    ):
        _analyze_one("test_recurse")


def test_control_characters_of_a_rule_s_message_are_escaped(guarded):
    from cnncalc.errors import RuleError

    def output_shape(self, x):
        raise ValueError("\x1b[2J\x1b[31mred\u202e")

    guarded("Escapes", output_shape=output_shape)
    with pytest.raises(RuleError) as err:
        _analyze_one("test_escapes")
    assert "raised ValueError: \\x1b[2J\\x1b[31mred\\u202e (at " in str(err.value)
    assert "\x1b" not in str(err.value)


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        (
            {"checks": lambda self, x: [x[2] >= 3]},
            r"its rule checks\(\) .* returned \[True\] \(list\): each check must be built with at_least",
        ),
        (
            {"weights": lambda self, x: {"w": Param((2,), "bais")}},
            r"its rule weights\(\) .*'w' has the role 'bais'; a role is one of weight, bias, norm, buffer",
        ),
        (
            {"macs": lambda self, x, *, out: 7 / 2},
            r"its rule macs\(\) .* returned 3\.5 \(float\): a count is an int, or a formula built with "
            r"cnncalc\.dims; divide with dims\.floordiv",
        ),
        (
            {"flops": lambda self, x, *, out: -1},
            r"its rule flops\(\) .* returned -1 \(int\): a count is never negative",
        ),
        (
            {"output_shape": lambda self, x: 5},
            r"its shape rule returned 5 \(int\); output_shape must return a tuple of sizes",
        ),
    ],
    ids=["checks-bool", "weights-role", "macs-float", "flops-negative", "shape-int"],
)
def test_what_a_rule_returns_is_checked(guarded, rules, match):
    from cnncalc.errors import ShapeError

    guarded("Returns", **rules)
    with pytest.raises(ShapeError, match=match):
        _analyze_one("test_returns")


def test_a_check_whose_message_raises_is_named(guarded):
    from cnncalc.errors import RuleError
    from cnncalc.layers import at_least

    def checks(self, x):
        return [at_least(x[2], 100, lambda: f"too small: {x[2]:,.q}")]

    guarded("BadMessage", checks=checks)
    with pytest.raises(
        RuleError,
        match=r"a check of the layer failed, and the function giving its message raised ValueError: "
        r".*\(at .*test_registry\.py:\d+\)",
    ):
        _analyze_one("test_badmessage")


def test_windows_returning_the_testing_geometry_is_named(guarded):
    from cnncalc.errors import ShapeError
    from cnncalc.strategies import WindowGeometry

    guarded("Geometry", windows=lambda self, x: (WindowGeometry(4, 1, 1, 0, 1, 4),) * 2)
    from cnncalc.analysis.receptive import receptive_fields

    with pytest.raises(
        ShapeError,
        match=r"layer 'test_geometry1' \(test_geometry\): its rule windows\(\) .* each axis is a "
        r"cnncalc\.layers\.Window\(size, stride, offset\), found .*cnncalc\.testing's geometry",
    ):
        receptive_fields(_analyze_one("test_geometry"))


def test_builtin_kinds_are_not_wrapped():
    from cnncalc.layers import BUILTIN_KINDS

    for kind in BUILTIN_KINDS:
        for rule in ("checks", "output_shape", "macs", "flops", "windows"):
            assert not getattr(getattr(REGISTRY[kind], rule), "__cnncalc_guarded__", False), (kind, rule)


def test_kind_modules_says_what_each_module_registers():
    """The table the registry imports modules by is what the modules register, kind for kind
    and in order, and names every module of the package that defines kinds."""
    from cnncalc.layers import KIND_MODULES, all_kinds, kind_modules

    registered: dict[str, list[str]] = {}
    for kind, cls in all_kinds().items():
        module = cls.__module__.removeprefix("cnncalc.layers.")
        if module != cls.__module__:
            registered.setdefault(module, []).append(kind)
    assert sorted(kind_modules()) == sorted(registered), (
        "every module of cnncalc/layers/ without a leading underscore defines layer kinds"
    )
    for module, kinds in registered.items():
        assert KIND_MODULES.get(module) == tuple(kinds), (
            f'add "{module}": {tuple(kinds)!r} to KIND_MODULES in cnncalc/layers/__init__.py'
        )
    assert set(KIND_MODULES) == set(registered)
    assert list(REGISTRY)[: len(BUILTIN_KINDS)] == [k for ks in KIND_MODULES.values() for k in ks]


def _fresh(code: str) -> str:
    """What ``code`` prints, run in a fresh interpreter (where no layer module is imported yet)."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


#: Prints the kind modules imported so far.
_IMPORTED = (
    "print(sorted(m.rpartition('.')[2] for m in sys.modules\n"
    "             if m.startswith('cnncalc.layers.') and '._' not in m))\n"
)


def test_a_spec_imports_the_modules_of_the_kinds_it_uses_only():
    from cnncalc.layers import KIND_MODULES

    # lenet5: conv2d, relu (activation), max_pool2d (pool2d), flatten, linear.
    shown = _fresh(
        "import cnncalc\na = cnncalc.analyze('lenet5')\nassert a.totals.params == 61706\n" + _IMPORTED
    )
    assert shown == str(["activation", "conv2d", "flatten", "linear", "pool2d"])
    # Knowing the kinds imports none of them; all_kinds() imports every one.
    shown = _fresh(
        "from cnncalc.layers import REGISTRY, BUILTIN_KINDS, all_kinds\n"
        "assert 'conv2d' in REGISTRY and 'conv3d' not in REGISTRY and len(REGISTRY) == len(BUILTIN_KINDS)\n"
        "assert sorted(REGISTRY) == sorted(BUILTIN_KINDS)\n"
        + _IMPORTED
        + "assert len(all_kinds()) == len(REGISTRY)\n"
        + _IMPORTED
    )
    assert shown.splitlines() == ["[]", str(sorted(KIND_MODULES))]


def test_a_custom_kind_cannot_take_the_tag_of_a_builtin_kind_not_yet_imported():
    shown = _fresh(
        "from cnncalc.layers import Layer, register\n"
        "from cnncalc.errors import LayerDefinitionError\n"
        "class Mine(Layer):\n"
        "    '''MACs: 0. FLOPs: 0.'''\n"
        "    kind = 'global_avg_pool2d'\n"
        "    def output_shape(self, x): return x\n"
        "    def flops(self, x, *, out): return 0\n"
        "    def forward(self, xs, weights, out): return 0\n"
        "try:\n"
        "    register(Mine)\n"
        "except LayerDefinitionError as exc:\n"
        "    print(exc)\n"
    )
    assert shown == (
        "layer class __main__.Mine: kind 'global_avg_pool2d' is already registered by "
        "cnncalc.layers.pool2d.GlobalAvgPool2d; choose another tag"
    )
