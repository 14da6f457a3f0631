"""How the package's modules depend on each other, read from their source.

- The package is built in tiers (:data:`TIERS`), lowest first: a module imports modules of its
  own tier or of lower ones, never of a higher one, and no two modules import each other,
  directly or through others. Every import counts: at module level, inside a function, and
  under ``TYPE_CHECKING``. A cycle makes the order of imports matter (the ONNX operator tables
  once registered half their operators from the bottom of a module that the other half
  imported) and hides which part a change can break.
- No module is longer than :data:`MAX_LINES`.
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


#: The tiers of the package, lowest first. A module belongs to the tier of the longest name on
#: these lines that is it or contains it.
TIERS = (
    ("cnncalc.errors",),  # the errors and their messages
    ("cnncalc.core.dims", "cnncalc.dims"),  # exact symbolic integers
    # the expression language
    (
        "cnncalc.lang.surd",
        "cnncalc.lang.conditional",
        "cnncalc.lang.literals",
        "cnncalc.lang.refnames",
        "cnncalc.lang.expr",
        "cnncalc.lang.source",
    ),
    ("cnncalc.kernels", "cnncalc.strategies"),  # numba loops; hypothesis strategies
    ("cnncalc.layers", "cnncalc.plugins", "cnncalc.fields"),  # the layer kinds and their registry
    ("cnncalc.lang",),  # the spec: loader, schema, zoo
    ("cnncalc.core",),  # constraints, graph expansion, the engine
    ("cnncalc.analysis",),  # questions asked of an analysis; verification by execution
    ("cnncalc.testing", "cnncalc.onnx", "cnncalc.report"),  # the contract, ONNX, renderables
    ("cnncalc.api", "cnncalc"),  # the Python API
    ("cnncalc.cli", "cnncalc.tui", "cnncalc.__main__"),  # the front ends
)
#: The longest a module may be.
MAX_LINES = 700
#: Modules still being split (each by the change that rewrites it).
SPLITTING: set[str] = set()


def _tier(module: str) -> int:
    best, tier = "", None
    for i, names in enumerate(TIERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > len(best):
                best, tier = name, i
    assert tier is not None, f"{module} is in no tier: add it to TIERS"
    return tier


def _graph() -> dict[str, set[str]]:
    """Each module and the package modules it imports, however and wherever it imports them.

    ``from a import b`` imports the module ``a.b`` when there is one, else ``a``. A package
    importing its own modules is how a package is built and is left out.
    """
    modules = _modules()
    graph = {}
    for m, path in modules.items():
        is_package = path.name == "__init__.py"
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, m, is_package)
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != m and not (is_package and name.startswith(m + ".")):
                    targets.add(name)
        graph[m] = targets
    return graph


def test_every_import_goes_down_the_tiers():
    graph = _graph()
    upward = sorted(
        f"{m} (tier {_tier(m)}) imports {t} (tier {_tier(t)})"
        for m, targets in graph.items()
        for t in targets
        if _tier(t) > _tier(m)
    )
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    graph = _graph()

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


def test_the_tiers_are_read_from_real_imports():
    """The rules above see lazy and TYPE_CHECKING imports, and a module importing its package."""
    graph = _graph()
    assert "cnncalc.analysis.verify" in graph["cnncalc.testing"]  # inside check_layer
    assert "cnncalc.layers._registry" in graph["cnncalc.layers.conv2d"]
    assert "cnncalc.strategies" in graph["cnncalc.layers.conv2d"]  # inside examples()


def test_no_module_is_too_long():
    long = sorted(
        (n, str(p.relative_to(PACKAGE.parent)))
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(p.relative_to(PACKAGE.parent)) not in SPLITTING
    )
    assert not long, f"modules over {MAX_LINES} lines: {long}"


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
