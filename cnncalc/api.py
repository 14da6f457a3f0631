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

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CnncalcError, Diagnostic, UsageError

if TYPE_CHECKING:
    from .core.engine import Analysis as AnalysisRecord
    from .lang.model import Spec

#: How a spec can be given: a path, a bundled spec's name, YAML text, a mapping, or a Spec.
Source = "str | os.PathLike[str] | Mapping[str, Any] | Spec"


def load(source: Any) -> Spec:
    """A spec, loaded and validated.

    Args:
        source: a path to a spec file; the name of a bundled spec (``"resnet50"``; ``cnncalc
            zoo`` lists them); YAML text (anything holding a newline or a ``:``); a mapping
            with the same structure as the YAML; or a spec already loaded (returned as is).

    Raises:
        SpecError: for anything wrong in the spec, with the file, line and column.
        UsageError: for a name that is neither a file nor a bundled spec.

    >>> spec = cnncalc.load("input: [1, 3, 32, 32]\\nlayers:\\n  - conv2d: {out: 8, kernel: 3}\\n")
    >>> spec.name, [e.kind for e in spec.layers]
    ('<spec>', ['conv2d'])
    """
    from .lang.model import Spec
    from .lang.spec import load_spec, parse_spec
    from .lang.zoo import find_spec

    if isinstance(source, Spec):
        return source
    if isinstance(source, Mapping):
        return _from_mapping(source)
    if isinstance(source, os.PathLike):
        return load_spec(Path(source))
    if not isinstance(source, str):
        raise UsageError(
            f"a spec is a path, a bundled spec's name, YAML text or a mapping, not {type(source).__name__}"
        )
    if "\n" in source or (":" in source and not Path(source).exists()):
        return parse_spec(source)
    return load_spec(find_spec(source))


def _from_mapping(data: Mapping[str, Any]) -> Spec:
    """A spec written as Python data: its errors name the place inside the mapping."""
    import dataclasses

    import yaml

    from .lang.spec import parse_spec

    try:
        text = yaml.safe_dump(_plain(data), sort_keys=False)
    except yaml.YAMLError as exc:
        raise UsageError(f"the mapping cannot be read as a spec: {exc}") from None
    try:
        return parse_spec(text, "<mapping>")
    except CnncalcError as exc:
        # Lines and columns would point into text the caller never saw.
        d = dataclasses.replace(exc.diagnostic, line=None, column=None)
        raise type(exc)(d) from None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _values(values: Mapping[str, Any] | None, symbols: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values or {})
    for name, value in symbols.items():
        if name in out:
            raise UsageError(f"{name} is given twice: as a keyword and in values")
        out[name] = value
    return out


def analyze(
    spec: Any,
    /,
    *,
    symbolic: bool = False,
    convention: str | None = None,
    values: Mapping[str, Any] | None = None,
    **symbols: Any,
) -> Analysis:
    """Every layer's output shape, parameters, MACs and FLOPs, and the totals.

    Args:
        spec: what :func:`load` takes.
        symbolic: leave every symbol not given a value open: the results are formulas.
        convention: count MACs as another tool does (``torchvision``, ``torchinfo``,
            ``ptflops``, ``ptflops-aten``, ``fvcore`` for a model in eval mode,
            ``fvcore-train`` in training mode); params, FLOPs and the training estimate stay
            cnncalc's.
        values, **symbols: symbol values (numbers, or text such as ``"3/4"``).

    Raises:
        SpecError, ShapeError, UsageError: with the place and the reason.

    >>> a = cnncalc.analyze("resnet50", H=160, W=160)
    >>> a.totals.macs
    2095975424
    >>> cnncalc.analyze("lenet5", symbolic=True).totals.params
    61706
    """
    from .core.engine import analyze as run

    record = run(load(spec), _values(values, symbols), symbolic=symbolic)
    if convention is not None:
        from .analysis.conventions import CONVENTIONS, apply

        if convention not in CONVENTIONS:
            raise UsageError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
        record = apply(record, convention)
    return Analysis(record, convention)


class _Result:
    """What every result shares: the engine's record behind it (its fields read through), a
    rich renderable in a terminal, text in a plain REPL, HTML in a notebook. Subclasses define
    :meth:`renderable` and :meth:`_repr_html_`."""

    def __init__(self, record: Any):
        self.record = record

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.record, name)

    def renderable(self, width: int | None = None) -> Any:
        raise NotImplementedError

    def __rich__(self) -> Any:
        return self.renderable()

    def __repr__(self) -> str:
        from rich.console import Console

        from .report.layout import output_width

        console = Console(width=output_width(), color_system=None, record=True, file=_Null())
        console.print(self.renderable(console.width))
        return console.export_text().rstrip("\n")


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class Analysis(_Result):
    """The result of :func:`analyze`: the engine's record, and its reports.

    Attributes:
        name, filename, symbols, input_shape, output_shape: the spec and the values in force.
        layers: per layer: ``name``, ``kind``, ``output_shape``, ``params``, ``macs``,
            ``flops``, ``trainable``, ``buffers``, ``weights``, ...
        totals: ``params``, ``trainable_params``, ``frozen_params``, ``buffers``, ``macs``,
            ``flops``, ``activations``.
        warnings: :class:`Diagnostic`\\ s of valid but suspicious things.
        convention: the MAC convention the counts follow (None: cnncalc's own).
    """

    def __init__(self, record: AnalysisRecord, convention: str | None = None):
        super().__init__(record)
        self.convention = convention

    def to_dict(self, *, dtype: str = "float32", optimizer: str = "adam") -> dict[str, Any]:
        """The JSON of ``cnncalc analyze --format json`` (the same keys, the same values)."""
        from .report.structured import to_dict

        data = to_dict(self.record, dtype, optimizer)
        if self.convention not in (None, "cnncalc"):
            data["macs_convention"] = self.convention
        return data

    def to_csv(self, *, dtype: str = "float32") -> str:
        """The CSV of ``cnncalc analyze --format csv``."""
        from .report.structured import to_csv

        return to_csv(self.record, dtype)

    def to_markdown(self, *, depth: int | None = None, dtype: str = "float32") -> str:
        """The Markdown of ``cnncalc analyze --format markdown``."""
        from .report.structured import to_markdown

        return to_markdown(self.record, depth, dtype)

    def to_pandas(self) -> Any:
        """A pandas DataFrame, one row per layer (exact values, in object columns).

        Raises:
            UsageError: when pandas is not installed, naming the extra to install.
        """
        try:
            import pandas as pd
        except ImportError:
            raise UsageError(
                "to_pandas needs pandas: pip install 'cnncalc[pandas]'", code="usage.missing-extra"
            ) from None
        rows = [
            {
                "name": r.name,
                "kind": r.kind,
                "output_shape": tuple(r.output_shape),
                "params": r.params,
                "macs": r.macs,
                "flops": r.flops,
                "trainable": r.trainable,
            }
            for r in self.record.layers
        ]
        frame = pd.DataFrame(
            rows, columns=["name", "kind", "output_shape", "params", "macs", "flops", "trainable"]
        )
        return frame.astype({c: object for c in ("params", "macs", "flops")}).set_index("name")

    def renderable(self, width: int | None = None) -> Any:
        """The table ``cnncalc analyze`` prints, for ``width`` columns."""
        from .report.layout import output_width
        from .report.table import View, render

        return render(self.record, View(width=width or output_width()))

    def _repr_html_(self) -> str:
        from .report.notebook import analysis_html

        return analysis_html(self.record, self.convention)


def compare(
    *designs: Any,
    labels: Iterable[str] | None = None,
    symbolic: bool = False,
    values: Mapping[str, Any] | None = None,
    **symbols: Any,
) -> Comparison:
    """Designs side by side: totals, the ratio of each to the first, and MACs and params by
    category.

    Args:
        designs: two or more; each what :func:`load` takes, or a pair ``(spec, {name: value})``
            with values of its own. The first is the baseline.
        labels: a name for each design (default: the specs' names).
        symbolic: leave symbols without a value open: ratios are formulas.
        values, **symbols: values for every design that declares the symbol.

    >>> c = cnncalc.compare("resnet50", ("resnet50", {"H": 160, "W": 160}), labels=["224", "160"])
    >>> c.ratios[1]["macs"]
    Fraction(25, 49)
    """
    from .analysis.compare import compare as run
    from .core.engine import analyze as analyze_spec

    if len(designs) < 2:
        raise UsageError("compare needs two or more designs (the first is the baseline)")
    common = _values(values, symbols)
    analyses = []
    for design in designs:
        source, own = design if isinstance(design, tuple) else (design, {})
        spec = load(source)
        given = {k: v for k, v in common.items() if k in spec.symbols}
        analyses.append(analyze_spec(spec, {**given, **own}, symbolic=symbolic))
    unknown = [n for n in common if not any(n in a.symbols for a in analyses)]
    if unknown:
        raise UsageError(f"no design declares a symbol {unknown[0]!r}")
    return Comparison(run(analyses, list(labels) if labels is not None else None))


class Comparison(_Result):
    """The result of :func:`compare`: ``designs`` (engine records), ``labels``, ``ratios`` (per
    design, metric -> ratio to the baseline) and ``categories``."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cnncalc compare --format json``."""
        from .report.compare import comparison_dict

        return comparison_dict(self.record)

    def renderable(self, width: int | None = None) -> Any:
        from .report.compare import comparison_render
        from .report.layout import output_width

        return comparison_render(self.record, width or output_width(), "auto")

    def _repr_html_(self) -> str:
        from .report.notebook import comparison_html

        return comparison_html(self.record)


def verify(
    spec: Any,
    /,
    *,
    seed: int = 0,
    memory_budget: int | None = None,
    values: Mapping[str, Any] | None = None,
    **symbols: Any,
) -> Verification:
    """Run the spec through the reference kernels on random tensors and compare every layer's
    predicted output shape, MACs and parameters with what the kernel computed, counted and
    accepted.

    Args:
        spec: what :func:`load` takes; every symbol must have a value (default or given).
        seed: seed of the random input and weights.
        memory_budget: bytes the run may use (default: half the physical memory).
        values, **symbols: symbol values.

    Raises:
        UsageError: a symbol without a value.
        VerificationError: the run would need more memory than the budget.

    >>> v = cnncalc.verify("lenet5")
    >>> v.ok, len(v.layers)
    (True, 12)
    """
    from .analysis.verify import check_budget, default_budget
    from .analysis.verify import verify as run
    from .core.engine import analyze as analyze_spec

    loaded = load(spec)
    given = _values(values, symbols)
    a = analyze_spec(loaded, given)
    if not a.concrete:
        raise UsageError(
            "verification runs at concrete sizes", hint=f"give {', '.join(a.open_symbols)} a value"
        )
    check_budget(loaded, a, given, memory_budget if memory_budget is not None else default_budget())
    return Verification(run(a, seed=seed))


class Verification(_Result):
    """The result of :func:`verify`: ``ok``, and per layer the predicted and observed shape,
    MACs and parameters (``layers``)."""

    def __bool__(self) -> bool:
        return bool(self.record.ok)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cnncalc verify --format json``."""
        from .report.verify import verification_dict

        return verification_dict(self.record)

    def renderable(self, width: int | None = None) -> Any:
        from .report.layout import output_width
        from .report.verify import verification_render

        return verification_render(self.record, width or output_width())

    def _repr_html_(self) -> str:
        from .report.notebook import verification_html

        return verification_html(self.record)


def conv(
    size: int | tuple[int, int],
    kernel: int | tuple[int, int] = 3,
    *,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    channels: int = 1,
    filters: int | None = None,
    groups: int = 1,
    depthwise: bool = False,
    bias: bool = True,
    pool: str | None = None,
    ceil_mode: bool = False,
) -> Convolution:
    """One convolution (or pooling) window: the output size with its arithmetic, the params and
    the MACs, as ``cnncalc conv`` prints them.

    Args:
        size: the input's ``n`` or ``(h, w)``.
        kernel: ``f`` or ``(kh, kw)``.
        stride: ``s`` or a pair (default 1; for pooling, the kernel).
        padding: ``p``, a pair, ``"same"`` (output ``ceil(n/s)``) or ``"valid"``.
        dilation: the dilation, or a pair.
        channels: input channels.
        filters: output channels (default 1; ``channels`` for ``depthwise``).
        groups: the convolution's groups; ``depthwise=True`` sets them to ``channels``.
        bias: one bias per filter.
        pool: ``"max"`` or ``"avg"`` for a pooling window instead of a convolution.
        ceil_mode: pooling rounds its division up (PyTorch's rule).

    >>> c = cnncalc.conv((28, 31), 5, padding=2, stride=3)
    >>> c.size_text, c.params, c.macs
    ('10x11', 26, 2750)
    """
    from .analysis.calc import calculate

    if pool not in (None, "max", "avg"):
        raise UsageError(f"pool is 'max' or 'avg', found {pool!r}")
    op = "conv" if pool is None else f"{pool}_pool"
    if depthwise:
        if pool is not None:
            raise UsageError("depthwise applies to convolutions")
        if groups not in (1, channels):
            raise UsageError(
                f"depthwise means groups = the {channels} input channels; groups = {groups} disagrees"
            )
        groups = channels
        filters = channels if filters is None else filters
    if stride is None:
        stride = 1 if pool is None else kernel
    calculation = calculate(
        size,
        kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        op=op,
        channels=channels,
        filters=1 if filters is None else filters,
        bias=bias,
        groups=groups,
    )
    return Convolution(calculation)


class Convolution(_Result):
    """The result of :func:`conv`: ``output_shape``, ``size_text`` (``10x11``), ``params``,
    ``weights``, ``biases``, ``macs``, ``flops``, and per axis (``height``, ``width``) the
    ``formula`` and its ``worked`` arithmetic."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cnncalc conv --format json``."""
        return self.record.as_dict()

    def renderable(self, width: int | None = None) -> Any:
        from .report.conv import summary_lines

        return "\n".join(summary_lines(self.record))

    def __repr__(self) -> str:
        return self.renderable()

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(repr(self))}</pre>"


def from_torch(
    module: Any,
    example_input: Any,
    dynamic: tuple[str, ...] | dict[str, int] = ("N", "H", "W"),
    *,
    name: str | None = None,
) -> Spec:
    """The spec of a live PyTorch module, the same kind of object :func:`load` returns.

    The module is traced by ``torch.export`` (in eval mode; its mode is restored after), written
    by torch's ONNX exporter in memory and read as ``cnncalc import`` reads a file: layer names
    are the module's qualified names (``layer1.0.conv1``), the parameters are the module's, and
    the axes named in ``dynamic`` are symbols with the example's sizes as defaults wherever
    torch.export keeps them dynamic (a size it cannot, or that the weights fix, stays at the
    example's size with a note in the spec's header).

    Args:
        module: a ``torch.nn.Module``.
        example_input: a tensor the module accepts, (N, C, H, W) for the names N, C, H, W.
        dynamic: the axes to keep as symbols: names among N, C, H, W, or ``{name: axis}``.
        name: the spec's name (default: the module's class name, in lower case).

    torch is optional (``pip install "cnncalc[torch]"``): it is imported only when this runs.

    Raises:
        UsageError: torch is not installed, or the arguments are not a module and a tensor.
        CnncalcError: torch cannot export the module (the message gives the step and the first
            line of torch's error), or the graph holds an operator with no layer kind (named).
    """
    from .onnx.pytorch import from_torch as read

    return read(module, example_input, dynamic, name=name)


__all__ = [
    "Analysis",
    "Comparison",
    "Convolution",
    "Diagnostic",
    "Verification",
    "analyze",
    "compare",
    "conv",
    "from_torch",
    "load",
    "verify",
]
