"""Reuse between files: a spec uses the blocks of another (``use:``), found by bundled name or
by a path relative to it, never outside the folder tree of the spec being read unless bundled."""

from __future__ import annotations

import os
from pathlib import Path

from .model import MAX_USED_FILES
from .source import Path_, Source, display_path
from .zoo import bundled, zoo_dir


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def shown(path: Path) -> str:
    """A used file's name in messages: relative to the working directory when under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return display_path(path)
    return display_path(rel if not rel.startswith("..") else path)


def find_used(
    text: str, origin: Path | None, root: Path | None, source: Source, path: Path_
) -> tuple[Path, bool]:
    """The file a ``use:`` entry names, and whether it is bundled.

    ``text`` with a ``/`` or ending in ``.yaml`` is a path relative to the using file
    (``origin``), which must stay inside ``root`` (the folder of the spec being read) unless it
    is in the bundled zoo; any other text is a bundled spec's name.

    Raises:
        SpecError: located at ``path``, when there is no such spec or it is out of bounds.
    """
    zoo = zoo_dir().resolve()
    if "/" not in text and not text.endswith((".yaml", ".yml")):
        specs = bundled()
        if text in specs:
            return specs[text].resolve(), True
        import difflib

        close = difflib.get_close_matches(text, list(specs), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise source.error(
            path,
            f"no bundled spec is named {text!r}{hint}; a spec in a file is named by its path, "
            f"such as ./{text}.yaml (`cnncalc zoo` lists the bundled ones)",
        )
    if origin is None:
        raise source.error(
            path,
            f"{text!r} is a path, but this spec is not read from a file, so it has no folder; "
            f"use a bundled spec by name, or save the spec beside the one it uses",
        )
    if os.path.isabs(text):
        raise source.error(path, f"{text!r} is an absolute path; name a used spec relative to this one")
    target = (origin.parent / text).resolve()
    base = root if root is not None else origin.parent.resolve()
    if not (_inside(target, base) or _inside(target, zoo)):
        raise source.error(
            path,
            f"{text!r} is outside the folder of {shown(origin)} ({shown(base)}); a spec uses only "
            f"specs in its own folder tree, or bundled ones",
        )
    if not target.is_file():
        raise source.error(path, f"no spec file {text!r} beside {shown(origin)} (looked for {shown(target)})")
    return target, _inside(target, zoo)


class Files:
    """The files read for one spec: the chain being loaded (for cycles) and the count."""

    def __init__(self, origin: Path | None):
        self.chain: list[Path] = [origin.resolve()] if origin is not None else []
        self.count = 0

    def enter(self, target: Path, name: str, source: Source, path: Path_) -> None:
        if target in self.chain:
            start = self.chain.index(target)
            cycle = " -> ".join(shown(p) for p in [*self.chain[start:], target])
            raise source.error(path, f"specs use each other in a cycle: {cycle}")
        self.count += 1
        if self.count > MAX_USED_FILES:
            raise source.error(
                path,
                f"the spec uses more than {MAX_USED_FILES} spec files, counting the files they "
                f"use (the limit of used files)",
            )
        self.chain.append(target)

    def leave(self) -> None:
        self.chain.pop()
