"""The emulator's GraphQL schema, its drifted variants, and query inspection.

``schema.graphql`` is Linear's whole published schema (the one its SDK is generated from).
Three data faults change the schema itself, the way an upstream schema change would:
``rename_field`` renames an ``Issue`` field (and the same input field), so a query asking
for the old name fails validation; ``drop_field`` makes the field nullable (it then
always comes back null); ``change_type`` gives it the ``JSON`` type so any JSON value can
come back. Variants are built from the parsed SDL and cached by their :class:`SchemaDrift`.

The module also reads what a request asks for: its root field (the operation name the
journal and the fault engine use) and its complexity, estimated with the rules Linear
publishes (0.1 point per scalar, 1 per object, connections multiply by ``first``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    IntValueNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    build_ast_schema,
    parse,
    validate,
)

DEFAULT_PAGE_SIZE = 50
_ISSUE_INPUTS = frozenset({"IssueCreateInput", "IssueUpdateInput"})
_FieldNode = TypeVar("_FieldNode", FieldDefinitionNode, InputValueDefinitionNode)
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


@cache
def _document() -> DocumentNode:
    return parse(_sdl(), no_location=True)


@lru_cache(maxsize=32)
def schema_for(drift: SchemaDrift) -> GraphQLSchema:
    """The schema as served under ``drift`` (the undrifted one for ``SchemaDrift()``).

    Building Linear's whole schema takes a second or two, so each variant is built once
    per process.
    """
    schema = build_ast_schema(_drifted(drift), assume_valid=True, assume_valid_sdl=True)
    timeless = schema.type_map["TimelessDate"]
    assert isinstance(timeless, GraphQLScalarType)
    # build_schema gives custom scalars pass-through parsers; Linear refuses non-dates.
    timeless.parse_value = _parse_timeless_date  # type: ignore[method-assign]
    timeless.coerce_input_value = _parse_timeless_date
    timeless.parse_literal = _parse_timeless_literal  # type: ignore[method-assign,assignment]
    return schema


def _drifted(drift: SchemaDrift) -> DocumentNode:
    """Linear's SDL with the ``Issue`` fields (and issue input fields) changed by ``drift``."""
    if drift == SchemaDrift():
        return _document()
    renames = dict(drift.renamed)
    definitions = []
    for definition in _document().definitions:
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value == "Issue":
            fields = tuple(_drift_field(f, drift) for f in definition.fields or ())
            definition = replace(definition, fields=fields)
        elif (
            isinstance(definition, InputObjectTypeDefinitionNode)
            and definition.name.value in _ISSUE_INPUTS
        ):
            inputs = tuple(_renamed(f, renames) for f in definition.fields or ())
            definition = replace(definition, fields=inputs)
        definitions.append(definition)
    return DocumentNode(definitions=tuple(definitions))


def _drift_field(field: FieldDefinitionNode, drift: SchemaDrift) -> FieldDefinitionNode:
    name = field.name.value
    changed = _renamed(field, dict(drift.renamed))
    if name in drift.retyped:
        return replace(changed, type=NamedTypeNode(name=NameNode(value="JSON")))
    if name in drift.dropped and isinstance(field.type, NonNullTypeNode):
        return replace(changed, type=field.type.type)
    return changed


def _renamed(field: _FieldNode, renames: dict[str, str]) -> _FieldNode:
    if field.name.value in renames:
        return replace(field, name=NameNode(value=renames[field.name.value]))
    return field


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
