"""ONNX import and export (the optional ``onnx`` extra).

:func:`cnncalc.onnx.export.export` writes an analysed spec as an ONNX model with seeded random
weights; :func:`cnncalc.onnx.importer.import_model` reads an ONNX model back into a spec, and
:func:`cnncalc.onnx.pytorch.from_torch` a live PyTorch module (through torch.export and torch's
ONNX exporter). Each layer kind writes its own ONNX nodes (``Layer.to_onnx``); the operators
read back are in :mod:`cnncalc.onnx.ops`, one function per operator, and the shape arithmetic
the exporters write in :mod:`cnncalc.onnx.values`.

Nothing here imports ``onnx`` until a function runs, so ``cnncalc --help`` and ``analyze``
never pay for it.
"""

from __future__ import annotations

from ..errors import UsageError

INSTALL_HINT = 'pip install "cnncalc[onnx]" (or: pip install onnx onnxruntime)'


def require(module: str = "onnx"):
    """Import ``onnx`` (or ``onnxruntime``), or say how to install it.

    Raises:
        UsageError: when the package is not installed.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"this command needs the {module!r} package: {INSTALL_HINT}") from None
