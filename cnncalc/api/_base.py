"""What the API's functions share: how a spec is given, symbol values, and the result base."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CnncalcError, UsageError
from ..lang.source import exists

if TYPE_CHECKING:
    from ..lang.model import Spec

#: How a spec can be given: a path, a bundled spec's name, YAML text, a mapping, or a Spec.
Source = "str | os.PathLike[str] | Mapping[str, Any] | Spec"


def load(source: Any) -> Spec:
    """A spec, loaded and validated.

    Args:
        source: a path to a spec file; the name of a bundled spec (``"resnet50"``; ``cnncalc
            zoo`` lists them); YAML text (anything holding a newline or a ``:``); a mapping
            with the same structure as the YAML; or a spec already loaded (returned as is).
            The spec's ``use:`` finds files beside a spec read from a path; text and a mapping
            use bundled specs only.

    Raises:
        SpecError: for anything wrong in the spec, with the file, line and column.
        UsageError: for a name that is neither a file nor a bundled spec.

    >>> spec = cnncalc.load("input: [1, 3, 32, 32]\\nlayers:\\n  - conv2d: {out: 8, kernel: 3}\\n")
    >>> spec.name, [e.kind for e in spec.layers]
    ('<spec>', ['conv2d'])
    """
    from ..lang.model import Spec
    from ..lang.spec import load_spec, parse_spec
    from ..lang.zoo import find_spec

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
    if "\n" in source or (":" in source and not exists(source)):
        return parse_spec(source)
    return load_spec(find_spec(source))


def _from_mapping(data: Mapping[str, Any]) -> Spec:
    """A spec written as Python data: its errors name the place inside the mapping."""
    import dataclasses

    import yaml

    from ..lang.spec import parse_spec

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

        from ..report.layout import output_width

        console = Console(width=output_width(), color_system=None, record=True, file=_Null())
        console.print(self.renderable(console.width))
        return console.export_text().rstrip("\n")


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _pandas() -> Any:
    """pandas, or an error naming the extra that installs it."""
    try:
        import pandas
    except ImportError:
        raise UsageError(
            "to_pandas needs pandas: pip install 'cnncalc[pandas]'", code="usage.missing-extra"
        ) from None
    return pandas


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
    from ..onnx.pytorch import from_torch as read

    return read(module, example_input, dynamic, name=name)
