"""Reports: an analysis, a comparison or a verification turned into text or renderables.

Nothing here prints and nothing here computes a count: functions take the records of
:mod:`cnncalc.engine`, :mod:`cnncalc.analysis` and :mod:`cnncalc.verify` and return rich
renderables or text; the command line and the terminal UI write them.

- :mod:`.text`: how numbers, shapes and names are written;
- :mod:`.layout`: fitting a table to a width without cutting a number;
- :mod:`.table`: the terminal report of ``analyze``;
- :mod:`.structured`: JSON, CSV and Markdown;
- :mod:`.compare` and :mod:`.verify`: the reports of those commands;
- :mod:`.domain`: the reports of ``bounds``, ``solve`` and ``sweep``;
- :mod:`.chart`: per-layer bars in the terminal and plots in files.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .compare import comparison_csv, comparison_dict, comparison_markdown, comparison_render
    from .structured import to_csv, to_dict, to_markdown
    from .table import DEFAULT_WIDTH, View, render
    from .text import CONVENTION, human, human_bytes, json_value, number, shape_text, short
    from .verify import runtime_dict, runtime_render, verification_dict, verification_render

#: Where each name is defined: a command imports only the reports it writes (``analyze`` never
#: imports the comparison or verification reports).
_HOMES = {
    "comparison_csv": "compare",
    "comparison_dict": "compare",
    "comparison_markdown": "compare",
    "comparison_render": "compare",
    "to_csv": "structured",
    "to_dict": "structured",
    "to_markdown": "structured",
    "DEFAULT_WIDTH": "table",
    "View": "table",
    "render": "table",
    "CONVENTION": "text",
    "human": "text",
    "human_bytes": "text",
    "json_value": "text",
    "number": "text",
    "shape_text": "text",
    "short": "text",
    "runtime_dict": "verify",
    "runtime_render": "verify",
    "verification_dict": "verify",
    "verification_render": "verify",
}

__all__ = [
    "CONVENTION",
    "DEFAULT_WIDTH",
    "View",
    "comparison_csv",
    "comparison_dict",
    "comparison_markdown",
    "comparison_render",
    "human",
    "human_bytes",
    "json_value",
    "number",
    "render",
    "runtime_dict",
    "runtime_render",
    "shape_text",
    "short",
    "to_csv",
    "to_dict",
    "to_markdown",
    "verification_dict",
    "verification_render",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
