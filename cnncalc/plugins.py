"""Loading custom layer kinds: ``--plugin MODULE`` and installed ``cnncalc.layers`` entry points.

The public interface of :mod:`cnncalc.layers._plugins` (docs/custom-layers.md, "Public names").
"""

from __future__ import annotations

from .layers._plugins import ENTRY_POINT_GROUP, installed, load, load_plugin

__all__ = ["ENTRY_POINT_GROUP", "installed", "load", "load_plugin"]
