"""The emulator's GraphQL schema, its drifted variants, and query inspection.

``schema.graphql`` mirrors Linear's own names. Three data faults change the schema itself,
the way an upstream schema change would: ``rename_field`` renames an ``Issue`` field (and
the same input field), so a query asking for the old name fails validation;
``drop_field`` makes the field nullable (it then always comes back null);
``change_type`` gives it the ``JSON`` type so any JSON value can come back. Variants are
built from the SDL text and cached by their :class:`SchemaDrift`.

The module also reads what a request asks for: its root field (the operation name the
journal and the fault engine use) and its complexity, estimated with the rules Linear
publishes (0.1 point per scalar, 1 per object, connections multiply by ``first``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    build_schema,
    parse,
    validate,
)

DEFAULT_PAGE_SIZE = 50
_ISSUE_BLOCK = "type Issue {"
_INPUT_BLOCKS = ("input IssueCreateInput {", "input IssueUpdateInput {")
_FIELD_LINE = re.compile(r"^(?P<indent>\s+)(?P<name>\w+)(?P<args>\([^)]*\))?:\s*(?P<type>\S+)\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class SchemaDrift:
    """How the served schema differs from Linear's, by ``Issue`` field name."""

    renamed: tuple[tuple[str, str], ...] = ()
    dropped: frozenset[str] = frozenset()
    retyped: frozenset[str] = frozenset()

    def rename_of(self, field: str) -> str:
        """The name ``field`` is served under."""
        return dict(self.renamed).get(field, field)


@cache
def _sdl() -> str:
    return resources.files("connectors.linear").joinpath("schema.graphql").read_text("utf-8")


@lru_cache(maxsize=32)
def schema_for(drift: SchemaDrift) -> GraphQLSchema:
    """The schema as served under ``drift`` (the undrifted one for ``SchemaDrift()``)."""
    schema = build_schema(_drift_sdl(_sdl(), drift))
    timeless = schema.type_map["TimelessDate"]
    assert isinstance(timeless, GraphQLScalarType)
    # build_schema gives custom scalars pass-through parsers; Linear refuses non-dates.
    timeless.parse_value = _parse_timeless_date  # type: ignore[method-assign]
    timeless.coerce_input_value = _parse_timeless_date
    timeless.parse_literal = _parse_timeless_literal  # type: ignore[method-assign,assignment]
    return schema


def _drift_sdl(sdl: str, drift: SchemaDrift) -> str:
    if drift == SchemaDrift():
        return sdl
    renames = dict(drift.renamed)
    lines: list[str] = []
    block = ""
    for line in sdl.splitlines():
        if line.endswith("{"):
            block = line.strip()
        elif line.strip() == "}":
            block = ""
        match = _FIELD_LINE.match(line)
        if match is None or block not in (_ISSUE_BLOCK, *_INPUT_BLOCKS):
            lines.append(line)
            continue
        name, gql_type = match["name"], match["type"]
        if block == _ISSUE_BLOCK and name in drift.retyped:
            gql_type = "JSON"
        elif block == _ISSUE_BLOCK and name in drift.dropped:
            gql_type = gql_type.removesuffix("!")
        lines.append(f"{match['indent']}{renames.get(name, name)}{match['args'] or ''}: {gql_type}")
    return "\n".join(lines)


def _parse_timeless_date(value: Any) -> str:
    if isinstance(value, str) and _DATE.match(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise GraphQLError(f"TimelessDate cannot represent {value!r}: expected YYYY-MM-DD.")


def _parse_timeless_literal(node: ValueNode, _variables: Any = None) -> str:
    if isinstance(node, StringValueNode):
        return _parse_timeless_date(node.value)
    raise GraphQLError("TimelessDate must be a string literal (YYYY-MM-DD).")


@lru_cache(maxsize=256)
def validation_errors(drift: SchemaDrift, query: str) -> tuple[GraphQLError, ...]:
    """Why ``query`` is invalid under ``drift`` (cached: validation is the costly step)."""
    return tuple(validate(schema_for(drift), parse_document(query)))


@lru_cache(maxsize=256)
def parse_document(query: str) -> DocumentNode:
    """``query`` parsed (cached: clients send the same few documents again and again)."""
    return parse(query)


def operation_of(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs: the named one, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        return next((op for op in operations if op.name and op.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def root_field(operation: OperationDefinitionNode) -> str:
    """The first root field, which names the operation (``issue``, ``issueUpdate``…)."""
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            return selection.name.value
    return "graphql"


def is_mutation(operation: OperationDefinitionNode) -> bool:
    return operation.operation == OperationType.MUTATION


def complexity(
    document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> int:
    """Linear's published complexity estimate for one query, rounded up."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return math.ceil(_cost(operation.selection_set, variables, fragments))


def _cost(
    selections: SelectionSetNode,
    variables: dict[str, Any],
    fragments: dict[str, FragmentDefinitionNode],
) -> float:
    total = 0.0
    for node in selections.selections:
        if isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            total += _cost(fragments[node.name.value].selection_set, variables, fragments)
        elif isinstance(node, InlineFragmentNode):
            total += _cost(node.selection_set, variables, fragments)
        elif isinstance(node, FieldNode) and node.selection_set is None:
            total += 0.1
        elif isinstance(node, FieldNode) and node.selection_set is not None:
            inner = 1.0 + _cost(node.selection_set, variables, fragments)
            total += inner * _page_size(node, variables) if _is_connection(node) else inner
    return total


def _is_connection(node: FieldNode) -> bool:
    children = node.selection_set.selections if node.selection_set else ()
    return any(isinstance(c, FieldNode) and c.name.value in ("nodes", "edges") for c in children)


def _page_size(node: FieldNode, variables: dict[str, Any]) -> int:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode) and isinstance(variables.get(value.name.value), int):
            return int(variables[value.name.value])
    return DEFAULT_PAGE_SIZE
