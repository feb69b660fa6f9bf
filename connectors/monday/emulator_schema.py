"""The Monday emulator's GraphQL schema, its application errors and its query costs.

The SDL (``emulator_schema.graphql``) mirrors Monday's names for the subset steptrace
uses; graphql-core executes it with resolvers from :mod:`.emulator_resolvers`, whose
root and node objects expose each field as an attribute or a method (graphql-core's
default resolver calls a method with ``info`` and the field's arguments).

:func:`app_error` builds Monday's application error (HTTP 200, ``extensions.code``,
``error_data``, ``status_code``). :func:`query_cost` estimates Monday's complexity
points: every field costs one point, multiplied by the size of each enclosing list
(``limit``, the number of ``ids``, or Monday's default page size).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    build_schema,
    value_from_ast_untyped,
)

# Item mutations are expensive in Monday (tens of thousands of points each).
MUTATION_COST = 10_000
# Monday's default page sizes for lists asked without a limit.
_DEFAULT_LIST_SIZES = {
    "boards": 25,
    "items": 25,
    "users": 50,
    "columns": 10,
    "column_values": 10,
    "groups": 5,
    "persons_and_teams": 5,
}
_PAGED_FIELDS = frozenset({"items_page", "next_items_page", "items_page_by_column_values"})


def app_error(
    code: str, message: str, *, error_data: dict[str, Any] | None = None, status_code: int = 200
) -> GraphQLError:
    """Monday's application error: answered with HTTP 200 and ``extensions.code``."""
    return GraphQLError(
        message,
        extensions={"code": code, "error_data": error_data or {}, "status_code": status_code},
    )


def json_argument(value: Any) -> Any:
    """A JSON-typed argument as Monday takes it: a JSON-encoded string is decoded (a bad one
    is Monday's ``JsonParseException``); any other value is already decoded."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise app_error(
            "JsonParseException", "Syntax error in JSON input", status_code=400
        ) from None


@cache
def monday_schema() -> GraphQLSchema:
    """The executable schema (built once per process; resolvers live on the root value)."""
    sdl = resources.files("connectors.monday").joinpath("emulator_schema.graphql").read_text()
    schema = build_schema(sdl)
    for name in ("JSON", "Date", "CompareValue"):
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        scalar.serialize = _identity  # type: ignore[method-assign]
        scalar.parse_value = _identity  # type: ignore[method-assign]
        scalar.parse_literal = _literal  # type: ignore[method-assign]
    column_value = schema.type_map["ColumnValue"]
    assert isinstance(column_value, GraphQLInterfaceType)
    column_value.resolve_type = _typename
    return schema


@cache
def column_types() -> frozenset[str]:
    """The values of Monday's ``ColumnType`` enum."""
    enum = monday_schema().type_map["ColumnType"]
    assert isinstance(enum, GraphQLEnumType)
    return frozenset(enum.values)


def _identity(value: Any) -> Any:
    return value


def _literal(node: Any, variables: dict[str, Any] | None = None) -> Any:
    return value_from_ast_untyped(node, variables)


def _typename(value: Any, *_: Any) -> str:
    return str(value["__typename"])


def query_cost(document: DocumentNode, variables: dict[str, Any]) -> int:
    """Monday-style complexity points of the document's operation."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    total = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        cost = _selection_cost(definition.selection_set, fragments, variables, page=None)
        if definition.operation == OperationType.MUTATION:
            cost += MUTATION_COST * len(definition.selection_set.selections)
        total += cost
    return total


def _selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    page: int | None,
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(selection, fragments, variables, page)
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, variables, page)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            fragment = fragments[selection.name.value]
            total += _selection_cost(fragment.selection_set, fragments, variables, page)
    return total


def _field_cost(
    field: FieldNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    page: int | None,
) -> int:
    name = field.name.value
    if name == "__typename":
        return 0
    args = {a.name.value: _arg_value(a.value, variables) for a in field.arguments or ()}
    if name in _PAGED_FIELDS:  # the page size multiplies the nested ``items`` list
        limit = args.get("limit")
        inner_page = limit if isinstance(limit, int) else 25
        return 1 + _selection_cost(field.selection_set, fragments, variables, inner_page)
    size = _list_size(name, args, page)
    return 1 + size * _selection_cost(field.selection_set, fragments, variables, None)


def _list_size(name: str, args: dict[str, Any], page: int | None) -> int:
    if name == "items" and page is not None:
        return page
    if isinstance(args.get("limit"), int):
        return int(args["limit"])
    ids = args.get("ids") or args.get("emails")
    if isinstance(ids, list):
        return max(1, len(ids))
    return _DEFAULT_LIST_SIZES.get(name, 1)


def _arg_value(node: Any, variables: dict[str, Any]) -> Any:
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, ListValueNode):
        return [_arg_value(v, variables) for v in node.values]
    return None
