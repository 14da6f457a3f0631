"""The documentation's examples as data: code blocks read from the Markdown pages, the commands
of their ``console`` blocks run in process, and the option tables of the command reference
generated from the parser. ``tests/test_docs.py`` checks the pages with it, and
``tools/docs_update.py`` rewrites what it generates.

The conventions of a page, which the site's pages follow:

- A ``console`` block shows commands and what they print, as a terminal does: a line starting
  with ``$ `` is a command (continued on the next line after a trailing backslash), and the lines
  up to the next command are its output, standard output and standard error together, as
  printed at 80 columns. A line ``...`` alone stands for one or more lines left out (a long
  table's rest); use it sparingly, and say in the text what it leaves out.
- The commands a console block may show: ``cnncalc ...`` (or ``python -m cnncalc ...``), run by
  :func:`cnncalc.cli.main` in the page's working folder; ``echo $?``, the exit status of the
  command before; and ``cat FILE``. ``> FILE`` after a command writes its standard output to FILE.
- A fenced block with a ``title="NAME"`` (``yaml title="convnet.yaml"``) is a file: it is
  written to the page's working folder where it stands, so the commands after it read it.
- ``python`` blocks whose lines start with ``>>>`` are doctests, run in order in one namespace
  per page.
- A ``cnncalc`` command shown anywhere else (a ``sh`` or ``yaml`` block, inline code) is not run,
  but its command and options must exist.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: The terminal width every example is shown at.
COLUMNS = 80
#: A line of expected output standing for one or more lines left out.
ELISION = "..."
#: Environment variables that change what rich or argparse print; removed while examples run.
_ENVIRONMENT = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE")


def pages() -> list[Path]:
    """Every Markdown page of the site, and the README, which follows the same conventions."""
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


# ---------------------------------------------------------------------------------------------
# Code blocks


@dataclass
class Block:
    """A fenced code block: its language, attributes, text and where it is."""

    lang: str
    attrs: dict[str, str]
    lines: list[str]  # the content, dedented to the fence
    start: int  # index (0-based) of the first content line in the file
    indent: str  # the fence's indentation, which every content line carries

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order."""
    lines = text.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m["indent"], m["fence"], m["info"].strip()
        lang = info.split()[0].lstrip(".").lower() if info else ""
        attrs = dict(_ATTR.findall(info))
        end = i + 1
        close = re.compile(rf"^{re.escape(indent)}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        content = [
            line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[i + 1 : end]
        ]
        out.append(Block(lang, attrs, content, i + 1, indent))
        i = end + 1
    return out


def inline_code(text: str) -> Iterator[str]:
    """The inline code spans of the prose (outside fenced blocks)."""
    fenced = {i for b in blocks(text) for i in range(b.start - 1, b.start + len(b.lines) + 1)}
    prose = "\n".join(line for i, line in enumerate(text.splitlines()) if i not in fenced)
    for m in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", prose, re.S):
        yield m.group(2).strip()


# ---------------------------------------------------------------------------------------------
# Console examples


@dataclass
class Example:
    """One command of a console block and the output shown under it."""

    command: str  # as written, continuation lines joined
    expected: list[str]
    line: int  # 1-based line of the command in the page
    output_start: int  # index (0-based) in the block's lines of the first output line
    output_end: int  # index after the last

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command, comments=True)

    @property
    def elided(self) -> bool:
        return ELISION in self.expected


def examples(block: Block) -> list[Example]:
    """The commands of a console block with the output shown for each."""
    out: list[Example] = []
    lines = block.lines
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            if out:
                i += 1
                continue
            raise ValueError(f"line {block.start + i + 1}: a console block starts with a command ($ ...)")
        first = i
        parts = [lines[i][2:]]
        while parts[-1].endswith("\\") and i + 1 < len(lines):
            i += 1
            parts[-1] = parts[-1][:-1]
            parts.append(lines[i].strip().removeprefix("> "))
        i += 1
        start = i
        while i < len(lines) and not lines[i].startswith("$ "):
            i += 1
        end = i
        while end > start and not lines[end - 1].strip():
            end -= 1
        out.append(
            Example(" ".join(p.strip() for p in parts), lines[start:end], block.start + first + 1, start, end)
        )
    return out


class _Stream(io.TextIOBase):
    """One of standard output and standard error, written into a shared record in order."""

    def __init__(self, record: list[tuple[str, str]], name: str):
        self._record, self._name = record, name

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        self._record.append((self._name, text))
        return len(text)


@dataclass
class Session:
    """A terminal in a working folder: runs the commands of a page one after the other."""

    folder: Path
    status: int = 0
    files: dict[str, str] = field(default_factory=dict)

    def write(self, name: str, text: str) -> None:
        path = self._inside(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def _inside(self, name: str) -> Path:
        path = (self.folder / name).resolve()
        if self.folder.resolve() not in path.parents:
            raise ValueError(f"{name}: the examples' files stay in the page's folder")
        return path

    def run(self, command: str) -> str:
        """What ``command`` prints, standard output and standard error as they interleave."""
        argv = shlex.split(command, comments=True)
        target = None
        if ">" in argv:
            at = argv.index(">")
            if at != len(argv) - 2:
                raise ValueError(f"{command}: '> FILE' must end the command")
            argv, target = argv[:at], argv[at + 1]
        if argv == ["echo", "$?"]:
            return f"{self.status}\n"
        if argv[:1] == ["cat"] and len(argv) >= 2:
            return "".join(self._inside(name).read_text(encoding="utf-8") for name in argv[1:])
        if argv[:3] == ["python", "-m", "cnncalc"]:
            argv = ["cnncalc", *argv[3:]]
        if argv[:1] != ["cnncalc"]:
            raise ValueError(f"{command}: a console example runs cnncalc, 'echo $?' or 'cat FILE'")
        record: list[tuple[str, str]] = []
        with (
            _terminal(self.folder),
            contextlib.redirect_stdout(_Stream(record, "out")),
            contextlib.redirect_stderr(_Stream(record, "err")),
        ):
            self.status = _main(argv[1:])
        if target is not None:
            self.write(target, "".join(text for name, text in record if name == "out"))
            record = [(name, text) for name, text in record if name == "err"]
        return "".join(text for _, text in record)


def _main(argv: list[str]) -> int:
    from cnncalc.cli import main

    try:
        return main(argv)
    except SystemExit as exc:  # argparse's usage errors and --help
        return exc.code if isinstance(exc.code, int) else 2


@contextlib.contextmanager
def _terminal(folder: Path):
    """The working folder, and an environment in which output is laid out for COLUMNS."""
    saved = {name: os.environ.get(name) for name in (*_ENVIRONMENT, "COLUMNS", "LINES")}
    cwd = Path.cwd()
    try:
        for name in _ENVIRONMENT:
            os.environ.pop(name, None)
        os.environ["COLUMNS"], os.environ["LINES"] = str(COLUMNS), "24"
        os.chdir(folder)
        yield
    finally:
        os.chdir(cwd)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def shown(text: str) -> list[str]:
    """Printed text as a page shows it: lines without trailing spaces, no blank lines at the end."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the output shown is what was printed, ``...`` lines standing for one or more."""
    pattern = "".join(
        "(?:.*\n)+?" if line == ELISION else re.escape(line.rstrip()) + "\n" for line in expected
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


@dataclass
class Outcome:
    """An example run: what the page shows and what the command printed."""

    page: Path
    block: Block
    example: Example
    actual: list[str]

    @property
    def ok(self) -> bool:
        return matches([line.rstrip() for line in self.example.expected], self.actual)

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.example.line}"


def run_page(path: Path, folder: Path, *, doctests: bool = True) -> tuple[list[Outcome], list[str]]:
    """Run a page's examples in ``folder``: the console examples' outcomes, and the failures
    of its Python examples (as doctest reports them)."""
    import doctest

    session = Session(folder)
    outcomes: list[Outcome] = []
    failures: list[str] = []
    globs: dict = {}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for block in blocks(path.read_text(encoding="utf-8")):
        if "title" in block.attrs:
            session.write(block.attrs["title"], block.text)
        if block.lang == "console":
            for example in examples(block):
                outcomes.append(Outcome(path, block, example, shown(session.run(example.command))))
        elif doctests and block.lang in ("python", "pycon") and ">>>" in block.text:
            test = doctest.DocTestParser().get_doctest(
                block.text, globs, f"{path.name}:{block.start}", str(path), block.start
            )
            report = io.StringIO()
            with _terminal(folder):
                runner.run(test, out=report.write, clear_globs=False)
            if report.getvalue():
                failures.append(report.getvalue())
    return outcomes, failures


# ---------------------------------------------------------------------------------------------
# Commands shown but not run


def shown_commands(text: str) -> Iterator[tuple[str, list[str]]]:
    """``(where, words)`` of each cnncalc command a page shows outside its console blocks: in
    shell and YAML blocks (whole commands, up to a pipe or a redirection) and in inline code
    (whole or in part)."""
    for block in blocks(text):
        if block.lang in ("console", "python", "pycon", "text"):
            continue
        for n, line in enumerate(block.lines):
            line = re.sub(r"(^|\s)#.*", "", line)  # a comment is prose: "where you install cnncalc from"
            for m in re.finditer(r"(?:^|[\s:$])cnncalc\s+([^\n]*)", line):
                words = _words(m.group(1))
                if words:
                    yield f"line {block.start + n + 1}", words
    for span in inline_code(text):
        if span.startswith("cnncalc "):
            words = _words(span[len("cnncalc ") :])
            if words:
                yield f"`{span}`", words


def _words(text: str) -> list[str]:
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        words = text.split()
    for i, w in enumerate(words):
        if w in ("|", ">", ">>", "&&", "||", ";", "2>", "<") or w.startswith(("|", ">", "&")):
            return words[:i]
    return words


def unknown_options(words: list[str]) -> list[str]:
    """What is not part of cnncalc's command line among ``words`` (a command and its options)."""
    from cnncalc.cli import COMMANDS

    if not words or re.fullmatch(r"[A-Z][A-Z_]*", words[0]):
        return []  # cnncalc, or cnncalc COMMAND --help: a placeholder
    if words[0].startswith("-"):  # cnncalc --help, cnncalc --version
        from cnncalc.cli import _parser

        top = {s for a in _parser("")._actions for s in a.option_strings}
        return [] if words[0] in top else [f"cnncalc has no option {words[0]}"]
    if words[0] not in COMMANDS:
        return [f"no command {words[0]!r}"]
    known = {s for a in subparser(words[0])._actions for s in a.option_strings}
    wrong = []
    for w in words[1:]:
        if w.startswith("-") and w != "-" and not re.fullmatch(r"-\d.*", w):
            name = w.split("=", 1)[0]
            if name not in known:
                wrong.append(f"{words[0]} has no option {name}")
    return wrong


# ---------------------------------------------------------------------------------------------
# The command reference, generated from the parser


def subparser(name: str) -> argparse.ArgumentParser:
    from cnncalc.cli import _parser

    parser = _parser(name)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def command_help(name: str) -> str:
    """The one-line help ``cnncalc --help`` lists for a command."""
    from cnncalc.cli import _parser

    parser = _parser(name)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return next(c.help for c in sub._choices_actions if c.dest == name)


#: What an option does, for the options whose parser gives no help text.
_UNDESCRIBED = {"format": "the output format"}


def _md(text: str) -> str:
    """Prose for a table cell: Markdown's special characters escaped."""
    text = " ".join(text.split())
    for ch in "\\*_[]|":
        text = text.replace(ch, "\\" + ch)
    return text.replace("<", "&lt;")


def _argument(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices is not None and not isinstance(action.choices, dict):
        values = " \\| ".join(f"`{c}`" for c in action.choices)
        return f"[{values}]" if action.nargs == "?" else values
    metavar = action.metavar or (action.dest if not action.option_strings else action.dest.upper())
    if not action.option_strings:  # a positional argument: its name is in the first column
        return "one or more" if action.nargs in ("+", "*") else ""
    if action.nargs in ("+", "*"):
        return f"`{metavar}` ..."
    if action.nargs == "?":
        return f"[`{metavar}`]"
    return f"`{metavar}`"


def _default(action: argparse.Action) -> str:
    d = action.default
    if d is None or d is False or d == [] or d == argparse.SUPPRESS or action.nargs == 0:
        return ""
    return f"`{d}`"


def _description(action: argparse.Action) -> str:
    text = action.help or _UNDESCRIBED.get(action.dest, "")
    if "%" in text:
        text = text % {**vars(action), "prog": ""}
    if action.option_strings and action.required:
        text = f"required; {text}"
    return _md(text)


def _usage(p: argparse.ArgumentParser) -> str:
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(COLUMNS)
    try:
        return p.format_usage().strip()
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


def option_table(name: str) -> str:
    """A command's usage, description and table of arguments, as its page shows them."""
    p = subparser(name)
    rows = ["| argument | value | default | what it does |", "|---|---|---|---|"]
    for a in p._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        if a.option_strings:
            flags = ", ".join(
                f"`{s}`" for s in sorted(a.option_strings, key=lambda s: (not s.startswith("--"), s))
            )
        else:
            flags = f"`{a.metavar or a.dest}`" + (" (optional)" if a.nargs == "?" else "")
        rows.append(f"| {flags} | {_argument(a)} | {_default(a)} | {_description(a)} |")
    return "\n".join(["```text", _usage(p), "```", "", _md(p.description or command_help(name)), "", *rows])


def commands_table() -> str:
    from cnncalc.cli import COMMANDS

    rows = ["| command | what it does |", "|---|---|"]
    rows += [f"| [`cnncalc {n}`](#cnncalc-{n}) | {_md(command_help(n))} |" for n in COMMANDS]
    return "\n".join(rows)


def generated(name: str) -> str:
    """The text a ``<!-- BEGIN generated: NAME -->`` section of the command reference holds."""
    return commands_table() if name == "commands" else option_table(name)


GENERATED = re.compile(
    r"(<!-- BEGIN generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(\n<!-- END generated: (?P=name) -->)", re.S
)


def generated_sections(text: str) -> dict[str, str]:
    return {m["name"]: m["body"] for m in GENERATED.finditer(text)}


def regenerate(text: str) -> str:
    """The command reference's text with every generated section written anew."""
    return GENERATED.sub(lambda m: m.group(1) + generated(m["name"]) + m.group(4), text)
