"""The bundled specs (the zoo and the worked examples), found by name."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .source import display_path


def zoo_dir() -> Path:
    """Where the bundled specs are: inside the installed package, or beside it in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "specs", package.parent / "specs"):
        if candidate.is_dir():
            return candidate
    return package / "specs"


def bundled() -> dict[str, Path]:
    """Bundled spec names (``vgg16``, ``examples/rgb_conv``) and their paths."""
    root = zoo_dir()
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root).with_suffix("")): p for p in sorted(root.rglob("*.yaml"))}


def spec_argument(filename: str) -> str:
    """How a spec read from ``filename`` is named on a command line: a bundled spec by its name
    (``mobilenet_v1``, the same on every machine), any other file by its path."""
    try:
        root = zoo_dir().resolve()
        relative = Path(filename).resolve().relative_to(root)
    except (OSError, ValueError):  # not under the bundled specs, or no path at all (<stdin>)
        return filename
    name = str(relative.with_suffix(""))
    return name if bundled().get(name) is not None else filename


def find_spec(name_or_path: str) -> Path:
    """A spec path: the file itself if it exists, else a bundled spec of that name.

    Raises:
        UsageError: when neither exists, listing the bundled names.
    """
    p = Path(name_or_path)
    if name_or_path == "-":
        return p  # standard input
    try:
        if p.exists():
            return p
    except OSError:
        return p  # too long a name, a directory that cannot be searched: reading it says why
    specs = bundled()
    key = name_or_path.removesuffix(".yaml")
    for candidate in (key, f"examples/{key}"):
        if candidate in specs:
            return specs[candidate]
    import difflib

    close = difflib.get_close_matches(key, list(specs), n=2, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    raise UsageError(
        f"{display_path(name_or_path)}: no such file, and no bundled spec of that name{hint}. "
        f"Bundled: {', '.join(k for k in specs if '/' not in k)}; "
        f"`cnncalc zoo` lists them all"
    )
