"""cnncalc: shapes, parameters and MACs of convolutional networks, derived and verified.

>>> import cnncalc
>>> cnncalc.analyze("lenet5").totals.params
61706

The public names are listed in ``__all__``; each is documented in docs/reference/python-api.md.
They load on first use, so ``import cnncalc`` costs nothing until one is called.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (
        Analysis,
        Bounds,
        BudgetSolve,
        Comparison,
        Convolution,
        ShapeSolve,
        Sweep,
        Verification,
        analyze,
        bounds,
        compare,
        conv,
        from_torch,
        load,
        solve,
        sweep,
        verify,
    )
    from .errors import (
        CnncalcError,
        Diagnostic,
        ExpressionError,
        LayerDefinitionError,
        PluginError,
        ShapeError,
        SpecError,
        UnknownLayerError,
        UsageError,
        VerificationError,
    )

__version__ = "0.2.0"

#: Where each public name is defined.
_HOMES = {
    "Analysis": "api",
    "Bounds": "api",
    "BudgetSolve": "api",
    "ShapeSolve": "api",
    "Sweep": "api",
    "bounds": "api",
    "solve": "api",
    "sweep": "api",
    "Comparison": "api",
    "Convolution": "api",
    "conv": "api",
    "from_torch": "api",
    "Verification": "api",
    "analyze": "api",
    "compare": "api",
    "load": "api",
    "verify": "api",
    "CnncalcError": "errors",
    "Diagnostic": "errors",
    "ExpressionError": "errors",
    "LayerDefinitionError": "errors",
    "PluginError": "errors",
    "ShapeError": "errors",
    "SpecError": "errors",
    "UnknownLayerError": "errors",
    "UsageError": "errors",
    "VerificationError": "errors",
}

__all__ = [
    "Analysis",
    "Bounds",
    "BudgetSolve",
    "CnncalcError",
    "Comparison",
    "Convolution",
    "Diagnostic",
    "ExpressionError",
    "LayerDefinitionError",
    "PluginError",
    "ShapeError",
    "ShapeSolve",
    "SpecError",
    "Sweep",
    "UnknownLayerError",
    "UsageError",
    "Verification",
    "VerificationError",
    "__version__",
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (what tab completion offers), not the helpers this module imports."""
    return sorted(__all__)
