"""What every field of Linear's schema resolves to, modelled or not.

The emulator serves Linear's whole published schema, but models only the objects an ops
automation touches (issues, teams, workflow states, labels, users, comments, projects,
webhooks, the organization). Every object it returns is a plain ``dict`` keyed by field
name; :func:`resolve_field` is graphql-core's field resolver for all of them:

- a key that is present is the field's value; a callable value is a field with arguments
  (a connection such as ``team.issues(filter:, first:)``) and is called with them;
- a key that is absent is a field the emulator does not model, and resolves to what an
  empty Linear workspace would show (a root query by ``id``, such as ``cycle(id:)``,
  answers the stub with that id): ``null`` where the schema allows it, otherwise an
  empty list, an empty connection, ``0``/``""``/``false``, the first enum value, a fixed
  timestamp, or a stub object with a stable id whose own fields follow the same rules.

So every query Linear's SDK generates validates and runs; what it reads beyond the modelled
fields is empty, never invented. The root :class:`~.emulator_resolvers.Resolvers` object
answers the modelled root fields; an unmodelled query field resolves like an absent key,
and an unmodelled mutation is refused (:func:`not_emulated`), since pretending a write
succeeded would lose it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    OperationType,
    is_abstract_type,
)

from connectors.linear.emulator_errors import extensions

# What an unmodelled non-null timestamp or date reads as: the Unix epoch, plainly a default.
EPOCH = "1970-01-01T00:00:00.000Z"
_SCALAR_DEFAULTS: dict[str, Any] = {
    "String": "",
    "Float": 0.0,
    "Int": 0,
    "Boolean": False,
    "DateTime": EPOCH,
    "DateTimeOrDuration": EPOCH,
    "TimelessDate": EPOCH[:10],
    "TimelessDateOrDuration": EPOCH[:10],
    "Duration": "P0D",
    "JSON": {},
    "JSONObject": {},
    "UUID": "00000000-0000-0000-0000-000000000000",
}
Info = GraphQLResolveInfo
_STUB_NAMESPACE = uuid.UUID("5b1f3d52-6c1e-4d8e-9a51-7c2f0e6d4a10")


def resolve_field(source: Any, info: Info, **args: Any) -> Any:
    """graphql-core's field resolver for the whole schema (see the module docstring)."""
    name = info.field_name
    if isinstance(source, Mapping):
        if name in source:
            value = source[name]
            return value(**args) if callable(value) else value
        return default_value(info.return_type, _stub_key(source, name), info)
    method = getattr(source, name, None)
    if callable(method):
        return method(info, **args)
    if info.operation.operation == OperationType.MUTATION:
        raise not_emulated(name)
    value = default_value(info.return_type, name, info)
    if isinstance(value, dict) and isinstance(args.get("id"), str) and "nodes" not in value:
        value["id"] = args["id"]  # ``cycle(id: X)`` answers the stub X a parent pointed to
    return value


def default_value(kind: GraphQLOutputType, key: str, info: Info) -> Any:
    """What an unmodelled field of type ``kind`` resolves to (``key`` seeds stub ids)."""
    if not isinstance(kind, GraphQLNonNull):
        return None
    inner = kind.of_type
    if isinstance(inner, GraphQLList):
        return []
    if isinstance(inner, GraphQLScalarType):
        if inner.name == "ID":
            return stub_id(key)
        return _SCALAR_DEFAULTS.get(inner.name, "")
    if isinstance(inner, GraphQLEnumType):
        return next(iter(inner.values))
    if isinstance(inner, GraphQLObjectType) and inner.name.endswith("Connection"):
        return empty_connection()
    if is_abstract_type(inner):
        possible = info.schema.get_possible_types(inner)
        return {"__typename": possible[0].name, "id": stub_id(key)}
    return {"__typename": getattr(inner, "name", ""), "id": stub_id(key)}


def stub_id(key: str) -> str:
    """A stable UUID for an unmodelled object, the same on every request."""
    return str(uuid.uuid5(_STUB_NAMESPACE, key))


def empty_connection() -> dict[str, Any]:
    return {
        "nodes": [],
        "edges": [],
        "pageInfo": {
            "hasPreviousPage": False,
            "hasNextPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


def not_emulated(field: str) -> GraphQLError:
    """The answer to a mutation the sandbox does not model (it would otherwise be lost)."""
    message = (
        f"The steptrace sandbox does not emulate the mutation {field!r}; "
        "see docs/sandbox.md for what it models."
    )
    return GraphQLError(message, extensions=extensions("INVALID_INPUT", 400, message))


def _stub_key(source: Mapping[str, Any], field: str) -> str:
    return f"{source.get('__typename', '')}:{source.get('id', '')}:{field}"
