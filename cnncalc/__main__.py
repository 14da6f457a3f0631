"""``python -m cnncalc``: the command line.

``python -m`` puts the current folder first on ``sys.path``, where a ``yaml.py`` or a
``numpy.py`` beside the user's specs would be imported instead of the real module, and run. The
package itself is imported by now, so the entry is dropped before anything else is imported
(as ``python -P`` and the ``cnncalc`` script do).
"""

import os
import sys

if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.curdir, os.getcwd()):
    del sys.path[0]

from .cli import main

sys.exit(main())
