"""The analysis of a spec, designs compared, verification by execution, one convolution."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ..core.engine import Analysis as AnalysisRecord

from ._base import _pandas, _Result, _values, load


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
    2087321600
    >>> cnncalc.analyze("lenet5", symbolic=True).totals.params
    1920*floor((H - 12)/4)*floor((W - 12)/4) + 13706
    """
    from ..core.engine import analyze as run

    record = run(load(spec), _values(values, symbols), symbolic=symbolic)
    if convention is not None:
        from ..analysis.conventions import CONVENTIONS, apply

        if convention not in CONVENTIONS:
            raise UsageError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
        record = apply(record, convention)
    return Analysis(record, convention)


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
        from ..report.structured import to_dict

        data = to_dict(self.record, dtype, optimizer)
        if self.convention not in (None, "cnncalc"):
            data["macs_convention"] = self.convention
        return data

    def to_csv(self, *, dtype: str = "float32") -> str:
        """The CSV of ``cnncalc analyze --format csv``."""
        from ..report.structured import to_csv

        return to_csv(self.record, dtype)

    def to_markdown(self, *, depth: int | None = None, dtype: str = "float32") -> str:
        """The Markdown of ``cnncalc analyze --format markdown``."""
        from ..report.structured import to_markdown

        return to_markdown(self.record, depth, dtype)

    def to_pandas(self) -> Any:
        """A pandas DataFrame, one row per layer (exact values, in object columns).

        Raises:
            UsageError: when pandas is not installed, naming the extra to install.
        """
        pd = _pandas()
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
        from ..report.layout import output_width
        from ..report.table import View, render

        return render(self.record, View(width=width or output_width()))

    def _repr_html_(self) -> str:
        from ..report.notebook import analysis_html

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
    Fraction(15925, 31198)
    """
    from ..analysis.compare import compare as run
    from ..core.engine import analyze as analyze_spec

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
        from ..report.compare import comparison_dict

        return comparison_dict(self.record)

    def renderable(self, width: int | None = None) -> Any:
        from ..report.compare import comparison_render
        from ..report.layout import output_width

        return comparison_render(self.record, width or output_width(), "auto")

    def _repr_html_(self) -> str:
        from ..report.notebook import comparison_html

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
    (True, 13)
    """
    from ..analysis.verify import check_budget, default_budget
    from ..analysis.verify import verify as run
    from ..core.engine import analyze as analyze_spec

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
        from ..report.verify import verification_dict

        return verification_dict(self.record)

    def renderable(self, width: int | None = None) -> Any:
        from ..report.layout import output_width
        from ..report.verify import verification_render

        return verification_render(self.record, width or output_width())

    def _repr_html_(self) -> str:
        from ..report.notebook import verification_html

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
    from ..analysis.calc import calculate

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
        from ..report.conv import summary_lines

        return "\n".join(summary_lines(self.record))

    def __repr__(self) -> str:
        return self.renderable()

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(repr(self))}</pre>"
