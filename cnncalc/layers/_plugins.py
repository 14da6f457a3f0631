"""Loading custom layers: ``--plugin NAME`` and the ``cnncalc.layers`` entry-point group.

A custom layer kind is a class registered with :func:`cnncalc.layers.register` when its module
is imported. cnncalc imports such a module only when asked, by name:

- ``--plugin my_layers`` imports the module ``my_layers`` (or ``mypackage.layers``), found on
  the Python path or, failing that, in the current directory;
- ``--plugin NAME`` where an installed distribution declares ``NAME`` in the entry-point group
  ``cnncalc.layers`` imports what that entry point names;
- ``--plugin ./my_layers.py`` (a path: it ends in ``.py`` or holds a ``/``) imports that file
  as the module ``my_layers``, a name no other module may have.

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
module name, a module or file that cannot be found, a file whose name is taken by another module,
an exception (``SystemExit`` included) raised while importing it (with the file and line), or a
layer class that breaks the contract of ``register`` (naming the class and the rule).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import keyword
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from ..errors import LayerDefinitionError, PluginError, clean_message
from ._origin import shown_path

__all__ = ["ENTRY_POINT_GROUP", "installed", "load", "load_plugin"]

#: The entry-point group an installed package declares its layer modules in.
ENTRY_POINT_GROUP = "cnncalc.layers"


def installed() -> dict[str, str]:
    """The installed plugins: entry-point name -> what it loads (``module`` or ``module:attr``)."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load(names: str | Iterable[str]) -> list[Any]:
    """Load every plugin named, in order (see :func:`load_plugin`); one name may be given
    alone (``load("my_layers")``, not each of its letters)."""
    if isinstance(names, str):
        names = [names]
    return [load_plugin(name) for name in names]


def load_plugin(name: str) -> Any:
    """Load one plugin: an installed entry point of that name, else the module of that name.

    Returns:
        the imported module (or the object an entry point names).

    Raises:
        PluginError: naming the plugin and what went wrong.
    """
    from ._registry import REGISTRY

    before = set(REGISTRY.values())
    if isinstance(name, str) and _is_path(name):
        where = f"--plugin {name}"
        module = _file_module_name(name)
        loaded = _guarded(where, lambda: _import_file(name, module))
    else:
        _check_name(name)
        from importlib.metadata import entry_points

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
            + _shadowed(name, loaded)
        )
    return loaded


def _is_path(name: str) -> bool:
    return name.endswith(".py") or "/" in name or os.sep in name


def _shadowed(name: str, loaded: Any) -> str:
    """When the module imported is not the file of that name in the current directory (a
    ``code.py`` beside the spec, while ``code`` is a module of the standard library)."""
    top = name.partition(".")[0]
    here = [
        p
        for p in (os.path.join(os.getcwd(), top + ".py"), os.path.join(os.getcwd(), top))
        if os.path.exists(p)
    ]
    used = getattr(sys.modules.get(top), "__file__", None) or getattr(loaded, "__file__", None)
    if not here or not used or os.path.dirname(os.path.abspath(used)) == os.getcwd():
        return ""
    return (
        f"; {top!r} is the module {used}, found on the Python path before {here[0]} (a module "
        f"beside the spec cannot take the name of an installed one): rename your file, e.g. "
        f"{top}_layers.py, or give its path, --plugin ./{top}_layers.py"
    )


def _file_module_name(path: str) -> str:
    """The module name a plugin file is imported under: its stem, which must be free."""
    stem = os.path.splitext(os.path.basename(path.rstrip("/" + os.sep)))[0]
    if os.path.isdir(path):
        raise PluginError(
            f"--plugin {path}: {os.path.abspath(path)} is a directory; a package is named by its "
            f"module name, from its parent directory (--plugin {stem})"
        )
    if not path.endswith(".py"):
        dotted = path.strip("./" + os.sep).replace("/", ".").replace(os.sep, ".")
        raise PluginError(
            f"--plugin {path}: name a module as an import would (--plugin {dotted}), or a plugin "
            "file by its path, ending in .py"
        )
    if not os.path.isfile(path):
        raise PluginError(f"--plugin {path}: no such file ({os.path.abspath(path)})")
    if not stem.isidentifier() or keyword.iskeyword(stem):
        fixed = "".join(c if c.isalnum() or c == "_" else "_" for c in stem)
        fixed = fixed if fixed.isidentifier() and not keyword.iskeyword(fixed) else "my_layers"
        raise PluginError(
            f"--plugin {path}: {stem!r} cannot be a module name (letters, digits and '_', not "
            f"starting with a digit); rename the file, e.g. {fixed}.py"
        )
    return stem


def _import_file(path: str, name: str) -> ModuleType:
    """Import the file ``path`` as the module ``name``, unless another module has that name."""
    real = os.path.realpath(path)
    other = sys.modules.get(name)
    other_file = getattr(other, "__file__", None) if other is not None else None
    if other is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        other_file = spec.origin if spec is not None else None
    if other_file and os.path.realpath(other_file) == real and other is not None:
        return other
    if other is not None or other_file:
        where = other_file if other_file and other_file not in ("built-in", "frozen") else "a built-in module"
        raise PluginError(
            f"--plugin {path}: its module name {name!r} is taken by {where}; rename the file, "
            f"e.g. {name}_layers.py"
        )
    spec = importlib.util.spec_from_file_location(name, real)
    if spec is None or spec.loader is None:
        raise PluginError(f"--plugin {path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


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
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit and the like too: the plugin's, not ours
        text = clean_message(str(exc))
        failure = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        raise PluginError(f"{where}: importing it failed{_origin(exc)}: {failure}") from None


def _origin(exc: BaseException) -> str:
    """`` at file:line`` of the innermost frame outside importlib, or nothing."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename and f.filename
    ]
    if not frames or frames[-1].filename == __file__:
        return ""
    last = frames[-1]
    return f" at {shown_path(last.filename)}:{last.lineno}"
