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
