"""The ``cnncalc`` command line.

Each command is a module of this package with ``add_arguments(subparsers)`` and ``run(args)``,
listed once in :data:`COMMANDS`; only the module of the command being run is imported. A
command parses its arguments, calls the engine, and prints what the report module renders. A
mistake in the user's input (a :class:`~cnncalc.errors.CnncalcError`) prints one message and
exits with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import warnings
from importlib import import_module

from .. import __version__
from ..errors import CnncalcError
from . import options

#: Longest error message printed; longer ones are cut, saying how long they were.
MAX_MESSAGE_CHARS = 4000

#: Each command and the module that holds it, in the order ``--help`` lists them.
COMMANDS = {
    "analyze": "analyze",
    "verify": "verify",
    "compare": "compare",
    "check": "check",
    "report": "report",
    "schema": "schema",
    "zoo": "zoo",
    "export": "export",
    "import": "import_",
    "bounds": "bounds",
    "solve": "solve",
    "sweep": "sweep",
    "conv": "conv",
    "tui": "tui",
}


def command(name: str):
    """The module of the command ``name`` (imported on first use)."""
    return import_module(f"{__name__}.{COMMANDS[name]}")


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with ``only`` (a command's name) just that command's arguments, which
    is all parsing it needs (building every command's arguments is a noticeable part of a
    short run's start-up)."""
    p = argparse.ArgumentParser(
        prog="cnncalc",
        description="Shapes, parameters, MACs and FLOPs of convolutional networks, derived "
        "exactly (as numbers or formulas) from a spec file.",
        epilog="Examples: cnncalc analyze vgg16 | cnncalc analyze my.yaml --set H=160 W=160 "
        "--format json | cnncalc analyze resnet18 --symbolic",
    )
    p.add_argument("--version", action="version", version=f"cnncalc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    for name in COMMANDS:
        if only is None or name == only:
            command(name).add_arguments(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # pydantic looks for its plugins (observability hooks) in every installed package's entry
    # points the first time it builds a validator; the command line has none to report to.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _no_plugin_lookup()
    if sys.stdout is None:
        _error("cannot write the output: standard output is closed")
        return 1
    with _environment():
        return _main(argv)


#: The values of PYDANTIC_DISABLE_PLUGINS for which pydantic loads no plugin at all.
_ALL_PLUGINS_OFF = ("__all__", "1", "true")
_PLUGIN_LOADER = "pydantic.plugin._loader"


def _no_plugin_lookup() -> None:
    """With every pydantic plugin turned off, spare the import of pydantic's plugin loader: it
    imports importlib.metadata (and the email package with it) only to be told by the same
    environment variable that there is nothing to load, a tenth of ``cnncalc analyze``'s
    start-up. In its place, a module whose ``get_plugins()`` gives what pydantic's would, no
    plugin; any other name pydantic asks of it brings the real module back."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in _ALL_PLUGINS_OFF or _PLUGIN_LOADER in sys.modules:
        return
    import types

    stand_in = types.ModuleType(_PLUGIN_LOADER, "pydantic's plugin loader, with every plugin turned off")

    def get_plugins() -> tuple:
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in _ALL_PLUGINS_OFF:  # turned on since
            return _real_loader().get_plugins()
        return ()

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real_loader(), name)

    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
    stand_in.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules[_PLUGIN_LOADER] = stand_in


def _real_loader():
    """pydantic's own plugin loader, imported in place of the stand-in."""
    import importlib

    if "__file__" not in vars(sys.modules.get(_PLUGIN_LOADER, sys)):
        del sys.modules[_PLUGIN_LOADER]
    return importlib.import_module(_PLUGIN_LOADER)


@contextlib.contextmanager
def _environment():
    """What the process's environment says, made safe for the run: a terminal size that is not
    a plain number is ignored (``COLUMNS`` of 5,000 digits, or ``²``, which str.isdigit accepts
    and int refuses: rich and the layout read it); an output whose encoding cannot hold the
    tables' line drawing (``PYTHONIOENCODING=ascii``) gets ASCII look-alikes; a warning is one
    line. Restored afterwards."""
    saved = {k: os.environ[k] for k in ("COLUMNS", "LINES") if k in os.environ}
    for name, value in saved.items():
        if not re.fullmatch(r"[0-9]{1,6}", value.strip()):
            del os.environ[name]
    streams = [(s, s.errors) for s in (sys.stdout, sys.stderr) if _narrow(s)]
    for stream, _ in streams:
        stream.reconfigure(errors=_REPLACE)
    show = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        yield
    finally:
        warnings.showwarning = show
        for stream, errors in streams:
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors=errors)
        os.environ.update(saved)


#: Characters of the reports that an ASCII output writes as look-alikes of the same width.
_ASCII = {"─": "-", "━": "=", "│": "|", "┃": "|", "…": "~", "×": "x", "≤": "<", "≥": ">", "→": ">", "−": "-"}
_REPLACE = "cnncalc.replace"


def _replace(exc: UnicodeEncodeError) -> tuple[str, int]:
    text = exc.object[exc.start : exc.end]
    return "".join(_ASCII.get(c, "+" if "\u2500" <= c <= "\u257f" else "?") for c in text), exc.end


def _narrow(stream) -> bool:
    """Whether ``stream`` writes in an encoding that cannot hold the reports' line drawing."""
    import codecs

    encoding = getattr(stream, "encoding", None)
    if not encoding or not hasattr(stream, "reconfigure"):
        return False
    try:
        "─…".encode(encoding)
    except UnicodeEncodeError:
        codecs.register_error(_REPLACE, _replace)
        return True
    except LookupError:
        return False
    return False


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from ..errors import clean_message

    text = str(message).strip().splitlines()
    with contextlib.suppress(OSError, AttributeError, ValueError):
        print(f"cnncalc: warning: {clean_message(text[0] if text else category.__name__)}", file=sys.stderr)


def _main(argv: list[str] | None) -> int:
    stdout = sys.stdout
    sys.stdout = _Output(stdout)
    try:
        words = sys.argv[1:] if argv is None else argv
        parser = _parser(words[0] if words and words[0] in COMMANDS else None)
        args = parser.parse_args(words)
        if args.command is None:
            parser.print_help()
            return 2
        options.load_plugins(getattr(args, "plugin", []))
        status = command(args.command).run(args)
        sys.stdout.flush()
        return status
    except CnncalcError as exc:
        _error(render(exc.diagnostic))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`cnncalc zoo | head`): stop quietly, as Unix tools do.
        _silence(stdout)
        return 0
    except _OutputError as exc:
        _error(f"cannot write the output: {exc.error.strerror or exc.error}")
        _silence(stdout)
        return 1
    finally:
        sys.stdout = stdout


def render(diagnostic) -> str:
    """A diagnostic in the command line's words: a symbol's value is given with ``--set``."""
    return diagnostic.render(setting="--set ", how=" with --set")


class _OutputError(Exception):
    """Writing the output failed (a full disk, a closed descriptor): not a bug, exit 1."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


class _Output:
    """Standard output, with failures to write it told apart from every other OSError."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _silence(stream) -> None:
    """Point standard output at /dev/null, so that the interpreter's final flush of what could
    not be written does not fail again."""
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _error(message: str) -> None:
    from ..errors import clean_message

    text = clean_message(message)
    if len(text) > MAX_MESSAGE_CHARS:
        text = f"{text[:MAX_MESSAGE_CHARS]}... ({len(text):,} characters)"
    with contextlib.suppress(OSError, AttributeError, ValueError):  # stderr closed: the status tells
        print(f"cnncalc: error: {text}", file=sys.stderr)
