"""The import graph of our packages, read from the source with :mod:`ast` (nothing imported)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("connectors", "tracer", "rubrics", "orchestrator", "bench")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    module_level: bool
    """False for an import inside a function (a lazy import)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, level: bool) -> list[tuple[str, bool]]:
    """(imported module, at module level) for every import, skipping TYPE_CHECKING blocks."""
    found: list[tuple[str, bool]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(f"{node.module}:{alias.name}", level) for alias in node.names]
        inner = level and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if not isinstance(node, ast.Import | ast.ImportFrom):
            found += _imports(node, inner)
    return found


def edges() -> list[Edge]:
    known = modules()
    result = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for imported, level in _imports(tree, True):
            target = _resolve(imported, known)
            # A module inside a package imports that package's __init__ implicitly; that is
            # the import system's order, not a dependency.
            if target is None or target == name or name.startswith(f"{target}."):
                continue
            result.append(Edge(name, target, level))
    return result


def _resolve(imported: str, known: dict[str, Path]) -> str | None:
    """``a.b:c`` (from a.b import c) is module a.b.c when it exists, else a.b."""
    module, _, name = imported.partition(":")
    if name and f"{module}.{name}" in known:
        return f"{module}.{name}"
    return module if module in known else None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
