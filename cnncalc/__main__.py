"""``python -m cnncalc``: the command line.

Python puts the current directory first on ``sys.path`` for ``-m``; it is taken off before
anything else is imported, so that a ``yaml.py`` or ``numpy.py`` lying beside a spec is not
imported in place of the real module (the ``cnncalc`` console script never had the directory
there). A plugin in the current directory is still found when ``--plugin`` names it.
"""

import os
import sys

if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.curdir, os.getcwd()):
    del sys.path[0]

from .cli import main  # after sys.path is mended

sys.exit(main())
