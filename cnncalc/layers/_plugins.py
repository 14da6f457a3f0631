"""Loading custom layers: ``--plugin NAME`` and the ``cnncalc.layers`` entry-point group.

A custom layer kind is a class registered with :func:`cnncalc.layers.register` when its module
is imported. cnncalc imports such a module only when asked, by name:

- ``--plugin my_layers`` imports the module ``my_layers`` (or ``mypackage.layers``), found on
  the Python path or, failing that, in the current directory;
- ``--plugin NAME`` where an installed distribution declares ``NAME`` in the entry-point group
  ``cnncalc.layers`` imports what that entry point names.

Entry points are **not** loaded automatically. What a spec means, and what ``cnncalc analyze``
prints, then depends only on the command line, not on what happens to be installed; a broken
or slow package cannot break or slow every run; and a spec naming a layer kind from a package
says so on its command line (``--plugin``), where a reader sees it. A spec file never loads
Python code by itself.

The current directory is searched for the named module only, after the Python path and without
adding the directory to ``sys.path``: a ``yaml.py`` or ``numpy.py`` lying beside the spec cannot
shadow the real module. A single-file plugin in the current directory therefore cannot import
its sibling files; make it a package (a directory with ``__init__.py``) if it needs several.

Every failure is a :class:`~cnncalc.errors.PluginError` naming the plugin: a name that is not a
module name, a module that cannot be found, an exception raised while importing it (with the
file and line), or a layer class that breaks the contract of ``register`` (naming the class and
the rule).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from ..errors import LayerDefinitionError, PluginError

__all__ = ["ENTRY_POINT_GROUP", "installed", "load", "load_plugin"]

#: The entry-point group an installed package declares its layer modules in.
ENTRY_POINT_GROUP = "cnncalc.layers"


def installed() -> dict[str, str]:
    """The installed plugins: entry-point name -> what it loads (``module`` or ``module:attr``)."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load(names: Iterable[str]) -> list[Any]:
    """Load every plugin named, in order (see :func:`load_plugin`)."""
    return [load_plugin(name) for name in names]


def load_plugin(name: str) -> Any:
    """Load one plugin: an installed entry point of that name, else the module of that name.

    Returns:
        the imported module (or the object an entry point names).

    Raises:
        PluginError: naming the plugin and what went wrong.
    """
    _check_name(name)
    from importlib.metadata import entry_points

    from ._registry import REGISTRY

    before = set(REGISTRY.values())
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if found:
        ep = found[0]
        where = f"--plugin {name} (entry point {ep.value!r} of group {ENTRY_POINT_GROUP})"
        loaded, module = _guarded(where, ep.load), ep.module
    else:
        where = f"--plugin {name}"
        loaded, module = _guarded(where, lambda: _import(name)), name
    new = set(REGISTRY.values()) - before
    if not new and not any(_within(cls.__module__, module) for cls in REGISTRY.values()):
        raise PluginError(
            f"{where}: imported, but it registers no layer kind (a plugin module defines classes "
            "decorated with @cnncalc.layers.register, or imports the modules that do)"
        )
    return loaded


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise PluginError(
            "--plugin needs the name of a module (--plugin my_layers) or of an installed plugin; "
            f"found {name!r}"
        )
    if name.startswith("."):
        raise PluginError(
            f"--plugin {name}: a relative module name has no package to be relative to; "
            "name the module in full (my_layers, or mypackage.layers)"
        )
    if name.endswith(".py") or "/" in name or os.sep in name:
        stem = os.path.splitext(os.path.basename(name))[0]
        raise PluginError(
            f"--plugin {name}: give the module name as an import would (--plugin {stem}), not a "
            "file path; the module is looked up on the Python path, then in the current directory"
        )
    if not all(part.isidentifier() for part in name.split(".")):
        raise PluginError(
            f"--plugin {name!r}: not a module name; write it as an import would "
            "(my_layers, or mypackage.layers)"
        )


def _import(name: str) -> ModuleType:
    """Import ``name`` from the Python path, or its top-level package from the current
    directory (registered in ``sys.modules`` alone: ``sys.path`` is left as it is)."""
    if name in sys.modules:
        return sys.modules[name]
    top = name.partition(".")[0]
    if top not in sys.modules and importlib.util.find_spec(top) is None:
        cwd = os.getcwd()
        spec = importlib.machinery.PathFinder.find_spec(top, [cwd])
        if spec is None or spec.loader is None:
            raise _NotFound(
                f"no module named {top!r} on the Python path or in the current directory ({cwd})"
                + _installed_hint()
            )
        module = importlib.util.module_from_spec(spec)
        sys.modules[top] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(top, None)
            raise
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name) and exc.name.startswith(top):
            raise _NotFound(f"no module named {exc.name!r}") from None
        raise


class _NotFound(Exception):
    """The named module itself does not exist (as opposed to failing while it is imported)."""


def _installed_hint() -> str:
    names = sorted(installed())
    return f"; installed plugins ({ENTRY_POINT_GROUP}): {', '.join(names)}" if names else ""


def _guarded(where: str, load_it: Callable[[], Any]) -> Any:
    try:
        return load_it()
    except _NotFound as exc:
        raise PluginError(f"{where}: {exc}") from None
    except LayerDefinitionError as exc:
        raise PluginError(f"{where}: {exc}") from None
    except PluginError:
        raise
    except SyntaxError as exc:
        raise PluginError(f"{where}: {exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}"
        raise PluginError(f"{where}: importing it failed{_origin(exc)}: {failure}") from None


def _origin(exc: BaseException) -> str:
    """`` at file:line`` of the innermost frame outside importlib, or nothing."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename and f.filename
    ]
    if not frames or frames[-1].filename == __file__:
        return ""
    last = frames[-1]
    return f" at {last.filename}:{last.lineno}"
