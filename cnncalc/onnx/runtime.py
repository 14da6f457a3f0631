"""A second execution oracle: the exported model run by onnxruntime.

:func:`check` exports the spec (input symbols dynamic where ONNX allows), asks onnxruntime for
every layer's output tensor (tensors are named after the layers) at the sizes in force, and
compares each shape with cnncalc's prediction. onnxruntime infers and computes the shapes
itself: the shapes cnncalc wrote into the graph are removed before the run.

An opaque layer (an operator cnncalc does not know) is not in the exported graph: its output is
an input of the graph, fed with a seeded random tensor of its declared shape, and it is reported
as not verified.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..core.engine import Analysis, analyze
from ..errors import UsageError, VerificationError
from ..lang.model import INPUT, Spec
from . import require
from .export import export

#: Why an opaque layer is not verified.
OPAQUE_REASON = "opaque: an unknown operator; a random tensor of its declared shape stood in"


@dataclass(frozen=True)
class RuntimeCheck:
    name: str
    kind: str
    predicted_shape: tuple[int, ...]
    observed_shape: tuple[int, ...] | None
    not_verified: str | None = None  # why the layer was not run (an opaque layer)

    @property
    def ok(self) -> bool:
        return self.not_verified is None and self.observed_shape == self.predicted_shape


@dataclass(frozen=True)
class RuntimeVerification:
    name: str
    symbols: dict[str, Any]
    runtime: str
    dynamic: tuple[str, ...]  # symbols the model took as dynamic dimensions
    layers: tuple[RuntimeCheck, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """True when every layer run agrees (layers not verified do not count)."""
        return all(c.ok for c in self.layers if c.not_verified is None)

    @property
    def not_verified(self) -> tuple[RuntimeCheck, ...]:
        return tuple(c for c in self.layers if c.not_verified is not None)


def check(spec: Spec, values: dict[str, Any] | None = None, *, seed: int = 0) -> RuntimeVerification:
    """Run the exported spec in onnxruntime and compare every layer's output shape.

    Raises:
        UsageError: when a symbol is open, or onnx/onnxruntime is missing.
        ExportError: when the spec cannot be written as ONNX.
    """
    require()
    ort = require("onnxruntime")
    import numpy as np
    from onnx import TensorProto, helper

    analysis: Analysis = analyze(spec, values)
    if not analysis.concrete:
        raise UsageError(
            f"onnxruntime runs at concrete sizes: give {', '.join(analysis.open_symbols)} a value with --set"
        )
    exported = export(spec, values, seed=seed, opaque_inputs=True)
    model = exported.model
    del model.graph.value_info[:]
    del model.graph.output[:]
    run = [r for r in analysis.layers if r.kind != "opaque"]
    fed = [r for r in analysis.layers if r.kind == "opaque"]
    for r in run:
        model.graph.output.append(helper.make_tensor_value_info(r.name, TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    start = time.perf_counter()
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(seed)
        feeds = {INPUT: rng.random(tuple(int(d) for d in analysis.input_shape), dtype=np.float32)}
        for r in fed:
            feeds[r.name] = rng.random(tuple(int(d) for d in r.output_shape), dtype=np.float32)
        outputs = session.run(None, feeds) if run else []
    except Exception as exc:  # onnxruntime's errors come as its own classes: report them
        raise VerificationError(f"onnxruntime could not run the exported model: {exc}") from None
    observed = {r.name: tuple(y.shape) for r, y in zip(run, outputs, strict=True)}
    checks = tuple(
        RuntimeCheck(
            r.name,
            r.kind,
            tuple(int(d) for d in r.output_shape),
            observed.get(r.name),
            None if r.kind != "opaque" else OPAQUE_REASON,
        )
        for r in analysis.layers
    )
    return RuntimeVerification(
        name=analysis.name,
        symbols=analysis.symbols,
        runtime=f"onnxruntime {ort.__version__}",
        dynamic=exported.dynamic,
        layers=checks,
        seconds=time.perf_counter() - start,
    )
