"""Which upstream values each step reads, from the JMESPath expressions of a spec.

Every argument of a pipeline step is a JMESPath expression over the run context
``{trigger, <step id>: <that step's output>}``, so the paths an expression reads are
exact: ``fetch_issue.assignee.email`` reads ``("fetch_issue", "assignee", "email")``;
``fetch_issue.labels[*].name`` reads ``("fetch_issue", "labels", "*", "name")``. The
first segment names the step (or ``trigger``) a value came from.

This module walks the parsed expressions (``jmespath.compile(...).parsed``); it knows
nothing of the tools.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

Segment = str | int
Path = tuple[Segment, ...]
ANY_ITEM = "*"

_CONSUMING = {
    "comparator",
    "and_expression",
    "or_expression",
    "not_expression",
    "function_expression",
    "multi_select_dict",
    "multi_select_list",
    "key_val_pair",
}


@dataclass(frozen=True)
class ExpressionReads:
    """The context paths one expression reads, and the path its result is, if any."""

    reads: tuple[Path, ...]
    result: Path | None

    @property
    def roots(self) -> frozenset[str]:
        """The context keys read: ``trigger`` or step ids."""
        return frozenset(str(path[0]) for path in self.reads if path)


def expression_reads(expression: str) -> ExpressionReads:
    """The paths ``expression`` reads from the run context.

    Raises ``jmespath.exceptions.JMESPathError`` when the expression does not parse.
    """
    parsed: dict[str, Any] = dict(jmespath.compile(expression).parsed)
    reads: list[Path] = []
    result = _walk(parsed, (), reads)
    if result is not None and result:
        reads.append(result)
    return ExpressionReads(reads=tuple(_unique(reads)), result=result or None)


def is_valid_expression(expression: str) -> str | None:
    """``None`` when ``expression`` parses, else the parser's message."""
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        return str(exc).replace("\n", " ")
    return None


def _walk(node: dict[str, Any], base: Path | None, reads: list[Path]) -> Path | None:
    """Return the context path ``node`` evaluates to (``None`` if derived); record reads."""
    kind = node["type"]
    children: list[dict[str, Any]] = node.get("children", [])
    if kind == "field":
        return None if base is None else (*base, node["value"])
    if kind in ("current", "identity"):
        return base
    if kind == "literal":
        return None
    if kind == "subexpression":
        path = base
        for child in children:
            path = _walk(child, path, reads)
        return path
    if kind == "index_expression":
        left = _walk(children[0], base, reads)
        index = children[1]
        if index["type"] == "index" and left is not None:
            return (*left, int(index["value"]))
        return None if left is None else (*left, ANY_ITEM)
    if kind in ("projection", "value_projection", "filter_projection", "flatten"):
        return _walk_projection(kind, children, base, reads)
    if kind == "pipe":
        left = _walk(children[0], base, reads)
        return _walk(children[1], left, reads)
    if kind in _CONSUMING:
        for child in children:
            _consume(_walk(child, base, reads), reads)
        return None
    for child in children:  # slices and anything new: read conservatively
        _consume(_walk(child, base, reads), reads)
    return None


def _walk_projection(
    kind: str, children: list[dict[str, Any]], base: Path | None, reads: list[Path]
) -> Path | None:
    left = _walk(children[0], base, reads)
    items = None if left is None else (*left, ANY_ITEM)
    if kind == "flatten":
        return items
    if kind == "projection" and children[0]["type"] == "flatten":
        # ``x[]`` is parsed as a projection over a flatten: both stand for the same one
        # level of items, so ``x[].y`` reads ``x.*.y`` exactly as ``x[*].y`` does.
        items = left
    if kind == "filter_projection":
        _consume(_walk(children[2], items, reads), reads)
    return _walk(children[1], items, reads) if len(children) > 1 else items


def _consume(path: Path | None, reads: list[Path]) -> None:
    if path:
        reads.append(path)


def _unique(paths: Iterable[Path]) -> list[Path]:
    seen: dict[Path, None] = {}
    for path in paths:
        seen.setdefault(path, None)
    return list(seen)


# --- lineage of a whole pipeline -------------------------------------------------------

INPUT = "in"
OUTPUT = "out"


@dataclass(frozen=True)
class Node:
    """A value in one run: a path into a step's input (``in``) or output (``out``)."""

    step: str
    side: str
    path: Path

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path)
        prefix = f"{self.step}.$input" if self.side == INPUT else self.step
        return f"{prefix}.{where}" if where else prefix


@dataclass(frozen=True)
class Derivation:
    """An expression that computes a value, and whether it changes the value it reads."""

    expression: str
    derived: bool = False
    """``True`` when the value is mapped, formatted, capped or computed, not just copied."""
    domain: frozenset[str] | None = None
    """The source values a value map knows (as text); others fall to its default."""


@dataclass(frozen=True)
class StepExpressions:
    """What lineage needs to know of one step, whatever the spec format.

    ``outputs`` maps an output path to the expression that computes it (a ``transform``
    step's map); ``inputs`` maps an input path to the expression that computes it (a
    connector step's arguments). A connector step's output path that is also one of its
    input paths is the value it wrote there (``fields.Priority`` out came from
    ``fields.Priority`` in); any other output path originates at the tool.
    """

    step: str
    outputs: dict[Path, Derivation]
    inputs: dict[Path, Derivation]


@dataclass(frozen=True)
class Link:
    """``node`` was computed from ``source``; ``derived`` as in :class:`Derivation`."""

    node: Node
    source: Node
    derived: bool


class Lineage:
    """For any value of a run, the upstream values it was computed from.

    Step-level lineage (a hand-written workflow) is the degenerate case of no
    expressions: every value then links to nothing and the walk stops at its step.
    """

    def __init__(self, steps: Iterable[StepExpressions]) -> None:
        self._steps = {step.step: step for step in steps}
        self.order = list(self._steps)

    def step(self, step_id: str) -> StepExpressions | None:
        return self._steps.get(step_id)

    def sources(self, node: Node) -> list[Link]:
        """The values ``node`` was computed from, one link back."""
        step = self._steps.get(node.step)
        if step is None:
            return []
        if node.side == OUTPUT:
            return self._output_sources(step, node)
        return _expression_links(node, _closest(step.inputs, node.path))

    def _output_sources(self, step: StepExpressions, node: Node) -> list[Link]:
        derivation = _closest(step.outputs, node.path)
        if derivation is not None:
            return _expression_links(node, derivation)
        written = _longest_prefix(step.inputs, node.path)
        if written is None:  # `()` is a path too: the whole input
            written = _stem(step.inputs, node.path)
        if written is None:
            return []
        # A whole output from a whole input (step-level lineage) is computed, not copied.
        return [Link(node, Node(step.step, INPUT, written), derived=written == ())]

    def readers(self, node: Node) -> list[Node]:
        """The values computed by reading ``node`` exactly (one link forward)."""
        wanted = (node.step, *node.path)
        found: list[Node] = []
        for step in self._steps.values():
            for side, table in ((OUTPUT, step.outputs), (INPUT, step.inputs)):
                for path, derivation in table.items():
                    if wanted in expression_reads(derivation.expression).reads:
                        found.append(Node(step.step, side, path))
        return found

    def walk(self, start: Node) -> list[Link]:
        """Every link reachable backwards from ``start``, nearest first (breadth first)."""
        seen = {start}
        queue = [start]
        links: list[Link] = []
        while queue:
            node = queue.pop(0)
            for link in self.sources(node):
                links.append(link)
                if link.source not in seen:
                    seen.add(link.source)
                    queue.append(link.source)
        return links


def _closest(table: dict[Path, Derivation], path: Path) -> Derivation | None:
    """The derivation of ``path`` or of its nearest enclosing path (``()``: the whole)."""
    for size in range(len(path), -1, -1):
        found = table.get(path[:size])
        if found is not None:
            return found
    return None


def _longest_prefix(table: dict[Path, Derivation], path: Path) -> Path | None:
    for size in range(len(path), -1, -1):
        if path[:size] in table:
            return path[:size]
    return None


def _stem(table: dict[Path, Derivation], path: Path) -> Path | None:
    """The input a tool's derived output field stands for (``priority_label`` for the
    ``priority`` we wrote)."""
    if not path:
        return None
    last = str(path[-1])
    for candidate in table:
        if candidate and candidate[:-1] == path[:-1] and last.startswith(f"{candidate[-1]}_"):
            return candidate
    return None


def _expression_links(node: Node, derivation: Derivation | None) -> list[Link]:
    if derivation is None:
        return []
    reads = expression_reads(derivation.expression)
    plain_copy = not derivation.derived and reads.result is not None and len(reads.reads) == 1
    return [
        Link(node, Node(str(path[0]), OUTPUT, path[1:]), derived=not plain_copy)
        for path in reads.reads
    ]


def step_level_lineage(step_ids: Iterable[str]) -> Lineage:
    """Lineage of a hand-written workflow: each step's whole input came from the whole
    output of the step before it (the steps in the order they ran)."""
    ordered = list(step_ids)
    steps = [StepExpressions(ordered[0], {}, {})] if ordered else []
    for previous, step in itertools.pairwise(ordered):
        quoted = json.dumps(previous)  # a JMESPath quoted identifier is a JSON string
        steps.append(StepExpressions(step, {}, {(): Derivation(quoted)}))
    return Lineage(steps)
