"""Where an exception out of a custom layer happened, and how messages say it."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..errors import clean_message


def origin(exc: BaseException, prefer: str | None = None) -> str:
    """``file:line`` where ``exc`` happened (the file relative to the current directory when
    under it): the innermost frame in ``prefer`` (the plugin's
    file), else the innermost frame outside cnncalc, else the innermost one; empty when the
    traceback is gone."""
    import traceback  # only when a custom layer failed

    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # .../cnncalc/
    picked = next((f for f in reversed(frames) if prefer and f.filename == prefer), None)
    if picked is None:
        picked = next((f for f in reversed(frames) if not f.filename.startswith(package)), frames[-1])
    return f"{shown_path(picked.filename)}:{picked.lineno}"


def shown_path(path: str) -> str:
    """A file as a message shows it: relative to the current directory when it is under it
    (``my_layers.py``, as the user named it), else as it is."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if relative.startswith(os.pardir) or os.path.isabs(relative) else relative


def failure(what: str, exc: BaseException, prefer: str | None = None) -> str:
    """``output_shape() (the output shape) raised NameError: name 'r' is not defined (at
    my_layers.py:41)``, control characters escaped."""
    where = origin(exc, prefer)
    at = f" (at {where})" if where else ""
    text = clean_message(str(exc))
    if len(text) > 300:
        text = text[:300] + "..."
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, RecursionError):
        detail += " (the rule calls itself without end)"
    elif isinstance(exc, TypeError):
        detail += _type_hint(text)
    return f"{what} raised {detail}{at}"


def _type_hint(text: str) -> str:
    """What a TypeError out of a rule usually means."""
    if (
        "truth value of Relational" in text
        or "convert symbols to int" in text
        or "format string passed" in text
    ):
        return (
            " (a size is a formula when symbols are open: do not use if, int(), min, max or a "
            "format spec such as {:,} on it; use checks, cnncalc.dims (dmin, dmax, floordiv) and dims.fmt)"
        )
    if "Window" in text:
        return (
            " (a rule's window is cnncalc.layers.Window(size, stride, offset); cnncalc.testing's "
            "geometry, which examples() draws, is another class)"
        )
    return ""


def source_file(obj: Any) -> str | None:
    """The file a class (or an instance's class) was defined in, when known."""
    cls = obj if isinstance(obj, type) else type(obj)
    module = sys.modules.get(cls.__module__)
    return getattr(module, "__file__", None)
