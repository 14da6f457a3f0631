"""mkdocs hooks of the documentation site (mkdocs.yml: ``hooks:``).

A page may link a file of the repository outside docs/ (``../examples/custom_layer/``): the
link works where the Markdown is read in the repository, but the site does not hold that file.
On the site such a link goes to the repository when mkdocs.yml names one (``repo_url``), and
is otherwise written as the file's path in the repository, so that no link of the site is
broken. A link to a file that does not exist is left alone, and mkdocs --strict reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")


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

    return _LINK.sub(outside, markdown)
