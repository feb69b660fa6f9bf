"""The layout of DESIGN §1 holds: no import cycles, and every arrow points downward."""

from __future__ import annotations

from tests.architecture.imports import Edge, cycles, edges

# What each top-level package may import (besides itself).
PACKAGE_RULES = {
    "connectors": set(),
    "tracer": set(),
    "rubrics": {"tracer"},
    "orchestrator": {"connectors", "tracer", "rubrics"},
    "bench": {"connectors", "tracer", "rubrics", "orchestrator"},
}

# Rooms of orchestrator/, by level: a room imports only rooms of a lower level.
ROOM_LEVELS = {
    "config": 0,
    "observability": 1,
    "tools": 1,
    "spec": 2,
    "runtime": 3,
    "triggers": 4,
    "qc": 4,
    "diagnosis": 5,
    "insights": 6,
    "humanloop": 7,
    "service": 8,
    "console": 9,
    "scenarios": 9,
    "cli": 10,
}


def _package(module: str) -> str:
    return module.split(".")[0]


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "orchestrator" and len(parts) > 1 else None


def test_no_module_level_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for edge in edges():
        if edge.module_level:
            graph.setdefault(edge.source, set()).add(edge.target)
    assert cycles(graph) == []


def test_packages_import_downward_only() -> None:
    wrong = [
        f"{e.source} -> {e.target}"
        for e in edges()
        if _package(e.target) != _package(e.source)
        and _package(e.target) not in PACKAGE_RULES[_package(e.source)]
    ]
    assert wrong == []


def test_orchestrator_rooms_import_downward_only() -> None:
    wrong: list[str] = []
    for edge in edges():
        source, target = _room(edge.source), _room(edge.target)
        if source is None or target is None or source == target:
            continue
        if source not in ROOM_LEVELS or target not in ROOM_LEVELS:
            wrong.append(f"{edge.source} -> {edge.target}: room not in ROOM_LEVELS")
        elif ROOM_LEVELS[target] >= ROOM_LEVELS[source]:
            wrong.append(f"{edge.source} -> {edge.target}")
    assert wrong == []


def test_every_orchestrator_module_lives_in_a_room() -> None:
    loose = {e.source for e in edges() if e.source.count(".") == 1 and _room(e.source)}
    assert sorted(loose - {f"orchestrator.{room}" for room in ROOM_LEVELS}) == []


def test_the_graph_is_not_empty() -> None:
    # A walker that reads nothing would pass every test above.
    found = edges()
    assert any(isinstance(e, Edge) and e.source.startswith("orchestrator.cli") for e in found)
    assert any(not e.module_level for e in found)
