"""Two layer kinds cnncalc does not have: space-to-depth and a squeeze-and-excitation block.

Importing this package registers them (``--plugin extra_layers``, or the installed entry point
of the same name).
"""

from .space_to_depth import SpaceToDepth
from .squeeze_excite import SqueezeExcite

__all__ = ["SpaceToDepth", "SqueezeExcite"]
