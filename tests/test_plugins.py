"""Custom layers: one class in the user's module, loaded with --plugin, checked by the toolkit."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings

from cnncalc.layers import REGISTRY
from cnncalc.testing import cases, check_layer

PLUGIN = '''
"""A custom layer: a 1x1 convolution without bias."""
from cnncalc import dims
from cnncalc.layers import Int, Layer, Param, register


@register
class Pointwise(Layer):
    """1x1 convolution to ``out`` channels, no bias.

    MACs: N*out*H*W*C_in. FLOPs: 2*MACs.
    """

    kind = "test_pointwise"
    out: Int

    def output_shape(self, x):
        return (x[0], self.out, x[2], x[3])

    def weights(self, x):
        return {"weight": Param((self.out, x[1], 1, 1), "weight")}

    def macs(self, x, *, out):
        return dims.mul(dims.prod(out), x[1])

    def flops(self, x, *, out):
        return dims.mul(2, self.macs(x, out=out))

    def forward(self, xs, weights, out):
        from cnncalc.kernels.conv import conv2d_nchw

        return conv2d_nchw(xs[0], weights["weight"], None, out)

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st
        from cnncalc.testing import Case, shapes

        return st.builds(lambda x, o: Case({cls.kind: {"out": o}}, x, (x[0], o, *x[2:])),
                         shapes(), st.integers(1, 4))
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "my_layers.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "net.yaml").write_text("input: [1, 3, 8, 8]\nlayers:\n  - test_pointwise: {out: 4}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    REGISTRY.pop("test_pointwise", None)
    import sys

    sys.modules.pop("my_layers", None)


def test_a_spec_never_loads_python_by_itself(plugin, run_cli):
    code, _, err = run_cli("analyze", "net.yaml")
    assert code == 2 and "unknown layer kind 'test_pointwise'" in err


def test_plugin_layer_is_analysed_and_verified(plugin, run_cli):
    code, out, _ = run_cli("analyze", "net.yaml", "--plugin", "my_layers", "-f", "json")
    assert code == 0
    layer = json.loads(out)["layers"][0]
    assert layer["output_shape"] == [1, 4, 8, 8]
    assert layer["macs"] == 4 * 8 * 8 * 3  # every output takes 3 products
    code, out, _ = run_cli("verify", "net.yaml", "--plugin", "my_layers", "-f", "json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_plugin_layer_meets_the_contract(plugin):
    import my_layers  # noqa: F401  (registers the layer)

    @settings(max_examples=10)
    @given(cases("test_pointwise"))
    def run(case):
        check_layer(case)

    run()


def test_missing_plugin(run_cli):
    code, _, err = run_cli("analyze", "vgg16", "--plugin", "no_such_module_here")
    assert code == 2 and "--plugin no_such_module_here: cannot import it" in err
