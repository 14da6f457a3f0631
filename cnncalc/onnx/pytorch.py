"""A live PyTorch module read into a spec (:func:`from_torch`, ``cnncalc import --torch``).

The module is traced by ``torch.export`` with the batch and the spatial sizes dynamic, the
exported program is written as ONNX by torch's own (dynamo) exporter in memory, and that graph
is read by the ONNX importer: one path, the same shape arithmetic, the same checks of every
weight against its layer kind. The exporter's graph optimisation runs without folding batch
norms into convolutions, so the spec has the module's layers and the module's parameter count.

Layer names are the module's qualified names (``layer1.0.conv1``), from the exporter's
metadata. N, H and W are symbols wherever ``torch.export`` allows; where the module fixes one
(a flatten into a linear layer fixes H and W; a module that branches on the batch fixes N), the
size of the example input is kept and the spec's header says which and why. The symbols'
defaults are the example input's sizes.

torch is an optional extra (``pip install "cnncalc[torch]"``): nothing here imports it until a
function runs.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from ..errors import CnncalcError, UsageError

INSTALL_HINT = 'pip install "cnncalc[torch]" (or: pip install torch onnx onnxscript)'
#: The axes the names N, C, H, W stand for in an (N, C, H, W) input.
AXES = {"N": 0, "C": 1, "H": 2, "W": 3}
#: Rounds of torch.export's own suggested fixes tried before the sizes are fixed.
MAX_ROUNDS = 4


class TorchError(CnncalcError):
    """A module that cannot be read: what failed, and the first line of torch's error."""


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(exc).__name__


def _require():
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
        import torch
    except ImportError as exc:
        raise UsageError(f"reading a PyTorch module needs {exc.name or 'torch'}: {INSTALL_HINT}") from None
    return torch


def from_torch(
    module,
    example_input,
    dynamic: tuple[str, ...] | dict[str, int] = ("N", "H", "W"),
    *,
    name: str | None = None,
):
    """The spec of a PyTorch module: a :class:`cnncalc.lang.model.Spec`, as ``cnncalc.load``
    returns.

    Args:
        module: a ``torch.nn.Module`` (read in eval mode; its mode is restored after).
        example_input: a tensor the module accepts, (N, C, H, W) for the names N, C, H, W.
        dynamic: the axes to keep as symbols: names among N, C, H, W of an (N, C, H, W) input,
            or ``{name: axis}``. Their defaults are the example's sizes.
        name: the spec's name (default: the module's class name, in lower case).

    Raises:
        UsageError: torch is not installed, or the arguments are not a module and a tensor.
        TorchError: torch.export or the ONNX exporter fails on the module (the message names
            the step and gives the first line of torch's error).
        ModelError: the exported graph holds an operator with no layer kind (named).
    """
    return import_torch(module, example_input, dynamic, name=name).spec


def import_torch(
    module, example_input, dynamic=("N", "H", "W"), *, name=None, fold: bool = True, opaque: bool = False
):
    """:func:`from_torch`, returning the whole import (spec text, spec and analysis)."""
    torch = _require()
    if not isinstance(module, torch.nn.Module):
        raise UsageError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(example_input, torch.Tensor):
        raise UsageError(
            f"from_torch: the example input is a torch.Tensor, got {type(example_input).__name__}"
        )
    axes = _axes(dynamic, example_input.dim())
    label = name or type(module).__name__.lower()
    training = module.training
    module.eval()
    try:
        program, fixed = _export(torch, module, example_input, axes)
        proto = _onnx(torch, program)
    finally:
        module.train(training)
    from .importer import FixedByWeights, import_model

    for _ in range(len(axes) + 1):
        notes = _prepare(proto, example_input, axes, fixed, label)
        try:
            return import_model(
                proto, source=f"{label}.onnx", fold=fold, notes=notes, producer="from_torch", opaque=opaque
            )
        except FixedByWeights as exc:
            stuck = [n for n in axes if n in exc.symbols and n not in fixed]
            if not stuck:
                raise
            for n in stuck:  # torch.export deferred the check; the weights decide
                fixed[n] = f"the weights of {exc.layer!r} take one size only"
                d = proto.graph.input[0].type.tensor_type.shape.dim[axes[n]]
                d.Clear()
                d.dim_value = int(example_input.shape[axes[n]])
    raise AssertionError("unreachable: every axis fixed")


def _axes(dynamic, rank: int) -> dict[str, int]:
    if isinstance(dynamic, dict):
        axes = {str(k): int(v) for k, v in dynamic.items()}
    else:
        if isinstance(dynamic, str):
            dynamic = tuple(s.strip() for s in dynamic.split(",") if s.strip())
        unknown = [d for d in dynamic if d not in AXES]
        if unknown or (dynamic and rank != 4):
            raise UsageError(
                f"from_torch: dynamic names axes of an (N, C, H, W) input among N, C, H, W (found "
                f"{', '.join(map(str, unknown or dynamic))} for a rank-{rank} input); give {{name: axis}} "
                f"for others"
            )
        axes = {d: AXES[d] for d in dynamic}
    for n, axis in axes.items():
        if not n.isidentifier() or not 0 <= axis < rank:
            raise UsageError(f"from_torch: {n}: axis {axis} of a rank-{rank} input")
    if len(set(axes.values())) != len(axes):
        raise UsageError("from_torch: two names for one axis")
    return axes


def _export(torch, module, x, axes: dict[str, int]):
    """(exported program, {symbol: why it is fixed}) by torch.export: every axis dynamic, then
    torch's suggested fixes, then the example's sizes."""
    from torch.export import Dim

    fixed: dict[str, str] = {}
    specs: dict[int, Any] = {axis: Dim(n, min=1) for n, axis in axes.items()}
    error: BaseException | None = None
    for _ in range(MAX_ROUNDS + 1):
        try:
            program = _trace(torch, module, x, specs)
        except Exception as exc:  # torch's many export errors; the last is reported
            error = exc
            message = getattr(exc, "msg", None) or str(exc)
            if "Suggested fixes:" not in message:
                break
            try:
                from torch.export.dynamic_shapes import refine_dynamic_shapes_from_suggested_fixes

                (specs,) = refine_dynamic_shapes_from_suggested_fixes(message, (specs,))
            except Exception:  # a fix torch cannot apply to its own suggestion
                break
            for n, axis in axes.items():
                if isinstance(specs.get(axis), int) and n not in fixed:
                    fixed[n] = "torch.export specialises it to the example's size"
        else:
            if "N" not in fixed or len(fixed) < len(axes):
                return program, fixed
            break  # every axis specialised, the batch with the sizes: try it dynamic alone
    why = f"torch.export cannot keep it dynamic ({first_line(error)})" if error else "fixed"
    if "N" in axes and len(axes) > 1:
        # A model that holds at one image size (ViT's position embedding) keeps its batch.
        only = {axis: (Dim("N", min=1) if n == "N" else None) for n, axis in axes.items()}
        batch = axes["N"]
        # An example batch of 1 makes torch.export take the batch for 1: traced with two.
        pair = torch.cat([x, x], dim=batch) if x.shape[batch] == 1 else x
        try:
            program = _trace(torch, module, pair, only)
        except Exception:  # the batch cannot stay dynamic either
            pass
        else:
            return program, {n: why for n in axes if n != "N"}
    static = {axis: None for axis in axes.values()}
    try:
        program = _trace(torch, module, x, static)
    except Exception as exc:
        raise TorchError(f"torch.export cannot trace the module: {first_line(exc)}") from None
    for n in axes:
        fixed.setdefault(n, why)
    return program, fixed


def _trace(torch, module, x, specs: dict):
    shapes = None if all(v is None for v in specs.values()) else ({k: v for k, v in specs.items()},)
    with _quiet(), torch.fx.experimental._config.patch(backed_size_oblivious=True):
        return torch.export.export(
            module,
            (x,),
            dynamic_shapes=shapes,
            strict=False,
            prefer_deferred_runtime_asserts_over_guards=True,
        )


def _onnx(torch, program):
    """The exported program as an ONNX ModelProto, optimised without folding batch norms."""
    try:
        with _quiet():
            onnx_program = torch.onnx.export(program, dynamo=True, optimize=False, verbose=False)
    except Exception as exc:
        raise TorchError(f"torch's ONNX exporter fails on the module: {first_line(exc)}") from None
    try:
        from onnxscript import optimizer, rewriter

        rules = rewriter._DEFAULT_REWRITE_RULES
        kept = [r for r in rules if "BatchNorm" not in str(getattr(r, "name", "") or "")]
        rewriter._DEFAULT_REWRITE_RULES = kept
        try:
            with _quiet():
                optimizer.optimize(onnx_program.model)
        finally:
            rewriter._DEFAULT_REWRITE_RULES = rules
    except (ImportError, AttributeError):
        pass  # an onnxscript without these: the graph as exported (shape arithmetic is read anyway)
    return onnx_program.model_proto


@contextlib.contextmanager
def _quiet():
    """torch's exporters print progress and log warnings; a library call does not (an error
    is reported by what it raises)."""
    import logging
    import warnings

    level = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(level)


def _prepare(proto, x, axes: dict[str, int], fixed: dict[str, str], label: str) -> list[str]:
    """Name the input's dynamic axes after the symbols, record their defaults, and return the
    notes for the spec's header."""
    from .symbols import SYMBOLS_KEY

    dims = proto.graph.input[0].type.tensor_type.shape.dim
    recorded = {}
    notes = []
    for n, axis in axes.items():
        d = dims[axis]
        size = int(x.shape[axis])
        if d.HasField("dim_param"):
            d.dim_param = n
            recorded[n] = {"default": size}
        else:
            notes.append(f"{n} is fixed at {size}: {fixed.get(n, 'torch.export specialises it')}.")
    proto.graph.name = label
    for prop in proto.metadata_props:
        if prop.key == SYMBOLS_KEY:
            prop.value = json.dumps(recorded)
            break
    else:
        proto.metadata_props.add(key=SYMBOLS_KEY, value=json.dumps(recorded))
    return notes
