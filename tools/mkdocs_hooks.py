"""mkdocs hooks of the documentation site (mkdocs.yml: ``hooks:``).

A page may link a file of the repository outside docs/ (``../examples/custom_layer/``): the
link works where the Markdown is read in the repository, but the site does not hold that file.
On the site such a link goes to the repository when mkdocs.yml names one (``repo_url``), and
is otherwise written as the file's path in the repository, so that no link of the site is
broken. A link to a file that does not exist is left alone, and mkdocs --strict reports it.

Headings get GitHub's anchors (mkdocs.yml's ``slugify``), so that a link to a heading works in
the repository and on the site alike, except for a heading whose anchor another heading of the
page already has: GitHub numbers the second ``#name-1``, the site ``#name_1``. A link written
for GitHub (``#cnncalcbounds-1``, the second of ``cnncalc.bounds`` and ``cnncalc.Bounds``) is
written on the site as the site numbers it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")
_ANCHOR = re.compile(r"(?<=\]\()(?P<target>[^)\s#]*)#(?P<base>[^)\s]+)-(?P<n>\d+)(?=\))")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$")


def _anchors(markdown: str) -> list[str]:
    """The anchors of a page's headings as mkdocs.yml's slugify makes them, before numbering."""
    from pymdownx.slugs import slugify

    slug = slugify(case="lower")
    out, fence = [], None
    for line in markdown.splitlines():
        m = _FENCE.match(line)
        if m:
            fence = None if fence and m[1].startswith(fence) else (fence or m[1])
            continue
        h = None if fence else _HEADING.match(line)
        if h:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", h["text"]).replace("`", "")
            out.append(slug(text, "-"))
    return out


def _numbered(markdown: str, page_uri: str, files) -> str:
    """Links to GitHub's numbered anchors (``#name-1``) written as the site numbers them."""
    here = posixpath.dirname(page_uri)
    cache: dict[str, list[str]] = {}

    def anchors(target: str) -> list[str]:
        uri = page_uri if not target else posixpath.normpath(posixpath.join(here, target))
        if uri not in cache:
            f = None if uri == page_uri else files.get_file_from_path(uri)
            cache[uri] = _anchors(markdown if uri == page_uri else (f.content_string if f else ""))
        return cache[uri]

    def fix(m: re.Match) -> str:
        found = anchors(m["target"])
        n = int(m["n"])
        if f"{m['base']}-{n}" in found or found.count(m["base"]) <= n:
            return m.group(0)  # a heading of that name, or not GitHub's numbering
        return f"{m['target']}#{m['base']}_{n}"

    return _ANCHOR.sub(fix, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:
    docs = Path(config["docs_dir"]).resolve()
    root = Path(config["config_file_path"]).resolve().parent
    repo_url = (config.get("repo_url") or "").rstrip("/")
    here = posixpath.dirname(page.file.src_uri)

    def outside(m: re.Match) -> str:
        target = m["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return m.group(0)
        path = (docs / here / target).resolve()
        if docs in path.parents or path == docs or root not in path.parents or not path.exists():
            return m.group(0)
        rel = path.relative_to(root).as_posix() + ("/" if path.is_dir() else "")
        if repo_url:
            kind = "tree" if path.is_dir() else "blob"
            return f"[{m['text']}]({repo_url}/{kind}/HEAD/{rel}{m['anchor'] or ''})"
        if m["text"].strip("`").rstrip("/") == rel.rstrip("/"):
            return f"{m['text']} (in cnncalc's repository)"
        return f"{m['text']} (`{rel}` in cnncalc's repository)"

    return _LINK.sub(outside, _numbered(markdown, page.file.src_uri, files))
