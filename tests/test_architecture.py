"""The house rules of docs/architecture.md, read from the code itself.

- imports point one way (sources → territory → analyses → datasets → present → report);
- no import cycle between modules, lazy imports inside functions included;
- no private name (``_x``) imported from another module;
- modules under about 600 code lines, functions under about 80 (declared exceptions
  are listed below with the reason; the list may only shrink).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"

#: Layer of each top-level room; a module may import its own layer or a lower one.
LAYERS: dict[str, int] = {
    "errors": 0,
    "paths": 0,
    "lands": 0,
    "files": 0,
    "names": 0,
    "provenance": 0,
    "prepared": 1,
    "sources": 1,
    "privacy.ingest": 1,
    "territory": 2,
    "geometry": 2,
    "regions": 3,
    "champions": 3,
    "sales": 3,
    "market": 3,
    "privacy": 3,
    "datasets": 4,
    "present": 5,
    "notebook": 6,
    "report": 6,
    "demo": 6,
    "cli": 7,
}

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: Modules that are mostly data (label tables, catalogue entries, specs).
DATA_MODULES: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported, line) for every analysis import, lazy ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "analysis" or node.module.startswith("analysis."):
                found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("analysis."):
                    found.append((alias.name, [], node.lineno))
    return found


def _resolve(module: str, names: list[str], modules: dict[str, Path]) -> list[str]:
    """Modules a statement depends on (``from analysis.x import y`` may name a module)."""
    targets = []
    for name in names:
        if f"{module}.{name}" in modules:
            targets.append(f"{module}.{name}")
    if len(targets) < len(names) or not names:
        targets.append(module)
    return targets


def _layer(module: str) -> int | None:
    relative = module.removeprefix("analysis").lstrip(".")
    if not relative:
        return 0
    parts = relative.split(".")
    for depth in range(len(parts), 0, -1):
        key = ".".join(parts[:depth])
        if key in LAYERS:
            return LAYERS[key]
    return None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for module, names, _ in _imports(path):
            for target in _resolve(module, names, modules):
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def test_every_room_has_a_layer():
    unknown = sorted(m for m in _modules() if _layer(m) is None)
    assert unknown == [], f"add these rooms to LAYERS (and docs/architecture.md): {unknown}"


def test_imports_point_one_way():
    wrong = []
    for name, targets in _graph().items():
        if name == "analysis":  # the package door lazily re-exports the notebook helpers
            continue
        for target in targets:
            if target == "analysis":  # the package door: notebook helpers only
                continue
            if _layer(target) > _layer(name):
                wrong.append(f"{name} (layer {_layer(name)}) imports {target} ({_layer(target)})")
    assert wrong == [], "\n".join(sorted(wrong))


def test_no_import_cycle():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            # A package's __init__ re-exporting its own modules is not a cycle of rooms.
            real = [m for m in component if not any(o.startswith(m + ".") for o in component)]
            if len(real) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_no_private_name_crosses_a_module():
    crossing = []
    modules = _modules()
    for name, path in modules.items():
        for module, names, line in _imports(path):
            for imported in names:
                if imported.startswith("_") and module != name:
                    crossing.append(f"{path.relative_to(PACKAGE.parent)}:{line} {imported}")
    assert crossing == []


def _code_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def _function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    """Code lines of a function's body: docstring, blank and comment lines not counted."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    return _code_lines("\n".join(lines[body[0].lineno - 1 : node.end_lineno]))


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_and_function_sizes(name):
    path = _modules()[name]
    text = path.read_text(encoding="utf-8")
    if name not in DATA_MODULES:
        assert _code_lines(text) <= MAX_MODULE_LINES, f"{name}: divide the room"
    lines = text.splitlines()
    long = [
        f"{node.name} ({_function_lines(node, lines)} code lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and _function_lines(node, lines) > MAX_FUNCTION_LINES
    ]
    assert long == [], f"{name}: {long}"
