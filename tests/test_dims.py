"""The integer-aware rules of ``dims``, checked against concrete integers.

Oracles: window positions counted by enumeration, PyTorch's pooling-size algorithm written
out in integer arithmetic, and evaluation at many concrete values.
"""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.core import dims
from cnncalc.lang.expr import evaluate, parse

H = dims.symbol("H")


def count_windows(size: int, k: int, s: int, pb: int, pa: int, d: int) -> int:
    """Window positions by enumeration: starts 0, s, 2s, ... whose dilated span fits."""
    n, start = 0, 0
    while start + d * (k - 1) <= size + pb + pa - 1:
        n += 1
        start += s
    return n


def torch_pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """aten's pooling_output_shape, transcribed in integer arithmetic."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


layer = st.tuples(
    st.integers(1, 7),  # kernel
    st.integers(1, 4),  # stride
    st.integers(0, 3),  # padding
    st.integers(1, 3),  # dilation
)


@given(st.lists(layer, min_size=1, max_size=12), st.integers(1, 400))
def test_floor_chain_equals_enumeration(chain, size):
    h = H
    n = size
    for k, s, p, d in chain:
        h = dims.window_out(h, k, s, p, p, d)
        if n >= 1:
            n = count_windows(n, k, s, p, p, d)
    concrete = size
    for k, s, p, d in chain:
        concrete = dims.window_out(concrete, k, s, p, p, d)
    if n >= 1 and concrete >= 1:
        assert concrete == n
        assert h.subs(H, size) == n


@given(st.lists(layer, min_size=1, max_size=60))
def test_floor_chain_stays_one_floor(chain):
    h = H
    for k, s, p, d in chain:
        h = dims.window_out(h, k, s, p, p, d)
    assert len(h.atoms(sympy.floor)) <= 1
    assert sympy.count_ops(h) <= 6


def test_deep_mixed_chain_is_one_floor():
    # 200 layers, 134 of them strided: sympy alone would nest 134 floors and hit the
    # recursion limit near 130 (../shared/reference/performance-baselines.md).
    mixed = [(7, 2, 3), (3, 2, 1), (3, 1, 0), (5, 3, 2), (2, 2, 0), (3, 1, 1)]
    h, n = H, 10**50
    m = n
    for i in range(200):
        k, s, p = mixed[i % 6]
        h = dims.window_out(h, k, s, p, p)
        m = (m + 2 * p - k) // s + 1
    assert len(h.atoms(sympy.floor)) == 1
    assert h.subs(H, n) == m


def test_the_ten_layer_chain_lambdify_gets_wrong():
    # The mixed ten-layer chain: math-mode lambdify is wrong for 364 of H = 1..2000.
    mixed = [(7, 2, 3), (3, 2, 1), (3, 1, 0), (5, 3, 2), (2, 2, 0), (3, 1, 1)]
    h = H
    for i in range(10):
        k, s, p = mixed[i % 6]
        h = dims.window_out(h, k, s, p, p)
    assert dims.fmt(h) == "floor((H + 75)/288)"
    for n in range(213, 2000, 7):
        m = n
        for i in range(10):
            k, s, p = mixed[i % 6]
            m = (m + 2 * p - k) // s + 1
        assert h.subs(H, n) == m


@given(
    st.integers(1, 7),
    st.integers(1, 4),
    st.integers(0, 3),
    st.integers(1, 2),
    st.booleans(),
    st.integers(1, 300),
)
def test_pool_size_matches_torch_algorithm(k, s, p, d, ceil_mode, size):
    p = min(p, k // 2)
    if size + 2 * p < d * (k - 1) + 1:
        return
    expected = torch_pool_size(size, k, s, p, d, ceil_mode)
    assert dims.window_out(size, k, s, p, p, d, ceil_mode) == expected
    assert dims.window_out(H, k, s, p, p, d, ceil_mode).subs(H, size) == expected


@given(st.integers(-50, 500), st.integers(1, 9), st.integers(1, 9))
def test_nested_floor_and_ceiling_fold(x, a, b):
    inner_floor = dims.floordiv(H + x, a)
    inner_ceil = dims.ceildiv(H + x, a)

    def ceil_div(p: int, q: int) -> int:
        return -(-p // q)

    for n in (1, 2, 3, 17, 250):
        assert dims.floordiv(inner_floor, b).subs(H, n) == ((n + x) // a) // b
        assert dims.ceildiv(inner_ceil, b).subs(H, n) == ceil_div(ceil_div(n + x, a), b)
    assert len(dims.floordiv(inner_floor, b).atoms(sympy.floor, sympy.ceiling)) <= 1


def test_readable_forms():
    assert dims.fmt(dims.window_out(H, 3, 2, 1, 1)) == "ceiling(H/2)"
    assert dims.fmt(dims.window_out(H, 7, 2, 3, 3)) == "ceiling(H/2)"
    assert dims.fmt(dims.window_out(H, 2, 2, 0, 0)) == "floor(H/2)"
    assert dims.fmt(dims.window_out(H, 3, 2, 0, 0)) == "floor((H - 1)/2)"
    assert dims.fmt(dims.floordiv(H - 213, 288) + 1) == "floor((H - 213)/288) + 1"


exprs = st.sampled_from(
    [
        "floor((H - 1)/2)",
        "ceiling(H/2)",
        "floor(H/2) - 6",
        "Max(1, H - 6)",
        "Mod(H, 4)",
        "9408*ceiling(H/2)**2",
        "floor((H + 75)/288)",
        "H**2/4",
        "min(H, 7) + floor(H/3)",
    ]
)


@given(exprs, st.integers(1, 1000))
def test_printed_form_reads_back(text, n):
    e = evaluate(parse(text), {"H": H})
    printed = dims.fmt(e)
    again = evaluate(parse(printed), {"H": H})
    by_sympy = sympy.sympify(printed, locals={"H": H})
    assert again.subs(H, n) == e.subs(H, n) == by_sympy.subs(H, n)


def test_concrete_arithmetic_never_imports_sympy():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from cnncalc import dims\n"
        "assert dims.window_out(224, 7, 2, 3, 3) == 112\n"
        "from cnncalc.lang.spec import load_spec\n"
        "from cnncalc.core.engine import analyze\n"
        "import cnncalc.report\n"
        f"a = analyze(load_spec({str(__import__('tests.helpers').helpers.SPECS / 'vgg16.yaml')!r}))\n"
        "assert a.totals.macs == 15470264320\n"
        "assert 'sympy' not in sys.modules and 'numba' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ceil_mode_correction_stays_one_floor():
    # kernel 2, stride 2, padding 1: the last window may start in the right padding and is
    # dropped (PyTorch); torch_pool_size gives 3 for H = 4 and 5, i.e. floor(H/2) + 1.
    out = dims.window_out(H, 2, 2, 1, 1, ceil_mode=True)
    assert dims.fmt(out) == "floor(H/2) + 1"
    assert [out.subs(H, n) for n in (4, 5)] == [
        torch_pool_size(4, 2, 2, 1, 1, True),
        torch_pool_size(5, 2, 2, 1, 1, True),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (lambda H: dims.floordiv(dims.add(H, 1), 2), "ceiling(H/2)"),
        (lambda H: dims.window_out(H, 3, 2, 1, 1), "ceiling(H/2)"),
        (lambda H: dims.window_out(H, 3, 4, 0, 0), "floor((H + 1)/4)"),
        (lambda H: dims.mul(32, dims.ceildiv(H, 4)), "32*ceiling(H/4)"),
    ],
)
def test_a_formula_prints_the_same_from_python_as_on_the_command_line(value, text):
    v = value(dims.symbol("H"))
    assert dims.fmt(v) == text
    assert str(v) == text and repr((v,)) == f"({text},)" and f"{v}" == text
