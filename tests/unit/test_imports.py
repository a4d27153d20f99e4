"""The import graph of the package and of the test support: no cycles (imports inside functions and under
TYPE_CHECKING included), and the app is a leaf."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "server" / "notesboard"
SUPPORT = ROOT / "tests" / "support"


def _module_name(path: Path, top: Path) -> str:
    parts = path.relative_to(top).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    **{_module_name(p, PACKAGE.parent): p for p in sorted(PACKAGE.rglob("*.py"))},
    **{_module_name(p, ROOT): p for p in sorted(SUPPORT.rglob("*.py"))},
}


def _imports(tree: ast.Module, module: str, *, lazy: bool) -> set[str]:
    """notesboard modules imported by `tree`; with `lazy`, also those imported inside functions."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and not lazy:
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name in MODULES)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: resolve against this module's package
                    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
                    for _ in range(child.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    found.add(target if target in MODULES else base)
            visit(child)

    visit(tree)
    found.discard(module)
    return {m for m in found if m in MODULES}


def _graph(*, lazy: bool) -> dict[str, set[str]]:
    return {m: _imports(ast.parse(p.read_text()), m, lazy=lazy) for m, p in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_the_walk_sees_the_package() -> None:
    graph = _graph(lazy=False)
    assert "notesboard.runtime.assembly" in graph and "notesboard.storage" in graph["notesboard.runtime.assembly"]
    assert "notesboard.runtime.uvicorn_adapter" in graph["notesboard.ingress.connection"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    """Imports form no cycle: module-level ones, those under `if TYPE_CHECKING:`, and those inside functions
    (a function-level import hides a cycle from Python, not from a reader)."""
    assert _cycles(_graph(lazy=True)) == []


def test_the_walk_sees_function_level_imports() -> None:
    """`serve`'s start-up checks import the broker lookup inside a function: the lazy walk must see it."""
    assert "notesboard.cluster" not in _graph(lazy=False)["notesboard.cli.startup_errors"]
    assert "notesboard.cluster" in _graph(lazy=True)["notesboard.cli.startup_errors"]


def test_the_test_support_is_walked_too() -> None:
    assert "tests.support.launcher" in _graph(lazy=False)["tests.support.process"]


def test_only_the_server_and_the_cli_import_the_app() -> None:
    importers = {m for m, deps in _graph(lazy=True).items() if "notesboard.runtime.app" in deps}
    assert importers <= {"notesboard.runtime.server", "notesboard.cli.main"}, importers


def test_only_the_adapter_touches_uvicorn_internals() -> None:
    """uvicorn's protocol objects are reached from one module (the server subclasses uvicorn.Server)."""
    needles = ("__self__", "close_sent", "close_timer", "pong_timer", "pending_ping_payload", "loaded_app")
    users = {m for m, p in MODULES.items() if any(n in p.read_text() for n in needles)}
    assert users == {"notesboard.runtime.uvicorn_adapter"}, users


def test_only_storage_imports_the_database_layer() -> None:
    """`databases` (archived upstream) stays behind one package, so replacing it touches storage/ alone."""
    users = {m for m, deps in _external().items() if deps & {"databases"}}
    assert users and all(m.startswith("notesboard.storage") for m in users), users


def _external() -> dict[str, set[str]]:
    """The top-level names of every module's imports, those inside functions included (rules about libraries)."""
    found: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.partition(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.partition(".")[0])
        found[module] = names
    return found
