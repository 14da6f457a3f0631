"""Deprecated: the argument markers are in :mod:`cnncalc.layers`.

Custom layers written before arguments became pydantic models import ``Range``, ``Parse`` and
``ArgumentError`` from here; they keep working, with a ``DeprecationWarning`` naming the new
spelling: ``from cnncalc.layers import ArgumentError, Parse, Range``.
"""

from __future__ import annotations

import warnings

from .layers._fields import ArgumentError, Parse, Range, describe

__all__ = ["ArgumentError", "Parse", "Range", "describe"]

warnings.warn(
    "cnncalc.fields is deprecated: write `from cnncalc.layers import ArgumentError, Parse, Range`",
    DeprecationWarning,
    stacklevel=2,
)
