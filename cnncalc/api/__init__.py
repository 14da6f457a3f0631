"""The Python API: what the commands do, as functions returning records that render themselves.

>>> import cnncalc
>>> a = cnncalc.analyze("lenet5")
>>> a.totals.params
61706
>>> a.layers[0].name, a.layers[0].output_shape
('conv1', (1, 6, 28, 28))

Every function takes a spec as :func:`load` reads it (a path, a bundled spec's name, YAML text,
a mapping, or a spec already loaded) and symbol values as keywords (``H=160``), or as a mapping
``values={...}`` for names that are not Python identifiers or that clash with an option. Numbers
come back exact: Python ``int``\\s, ``Fraction``\\s for rational symbols, and sympy expressions
where a symbol is left open, never floats. A mistake raises a :class:`cnncalc.CnncalcError`
whose attributes say what and where (``file``, ``line``, ``column``, ``message``, ``hint``).
"""

from ..errors import Diagnostic
from ._analysis import Analysis, Comparison, Convolution, Verification, analyze, compare, conv, verify
from ._base import from_torch, load
from ._domain import Bounds, BudgetSolve, ShapeSolve, Sweep, bounds, solve, sweep

__all__ = [
    "Analysis",
    "Bounds",
    "BudgetSolve",
    "Comparison",
    "Convolution",
    "Diagnostic",
    "ShapeSolve",
    "Sweep",
    "Verification",
    "analyze",
    "bounds",
    "compare",
    "conv",
    "from_torch",
    "load",
    "solve",
    "sweep",
    "verify",
]
