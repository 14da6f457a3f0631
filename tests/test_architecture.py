"""How the package's modules depend on each other, read from their source.

- No two modules import each other at module level, directly or through others: a cycle makes
  the order of imports matter (the ONNX operator tables once registered half their operators
  from the bottom of a module that the other half imported).
- The engine returns data and the reports and the terminal UI render it: nothing on the engine's
  side imports ``cnncalc.report``, ``cnncalc.tui``, rich or textual, even inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cnncalc

PACKAGE = Path(cnncalc.__file__).parent

#: Modules that compute (the rest, report/, tui/, cli/ and onnx/, present).
ENGINE_SIDE = ("analysis", "core", "dims", "errors", "kernels", "lang", "layers", "plugins")
RENDERING = ("cnncalc.report", "cnncalc.tui", "rich", "textual")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("cnncalc", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path, *, top_level_only: bool) -> set[str]:
    """Every module name ``module`` imports (``from a import b`` gives a and a.b)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node, module, path.name == "__init__.py")
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


def test_no_module_level_import_cycle():
    modules = _modules()
    graph = {
        m: {i for i in _imports(m, p, top_level_only=True) if i in modules and i != m}
        for m, p in modules.items()
    }
    # A package's __init__ importing its own submodules is how a package is built, not a cycle.
    for m in graph:
        graph[m] = {i for i in graph[m] if not (i.startswith(m + ".") and modules[m].name == "__init__.py")}

    def reaches(start: str, goal: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph[node]):
                if nxt == goal:
                    return [*path, nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [cycle for m in sorted(graph) if (cycle := reaches(m, m))]
    assert not cycles, " -> ".join(cycles[0])


def test_the_engine_never_imports_what_renders():
    modules = _modules()
    engine = {
        m: p
        for m, p in modules.items()
        if any(m == f"cnncalc.{e}" or m.startswith(f"cnncalc.{e}.") for e in ENGINE_SIDE)
    }
    assert "cnncalc.core.engine" in engine and "cnncalc.analysis.breakdown" in engine
    wrong = sorted(
        (m, i)
        for m, p in engine.items()
        for i in _imports(m, p, top_level_only=False)
        if any(i == r or i.startswith(r + ".") for r in RENDERING)
    )
    assert not wrong, wrong
