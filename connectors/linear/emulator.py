"""A faithful Linear GraphQL API on loopback, for tests and the demo.

``POST /graphql`` runs the request with graphql-core over ``schema.graphql``, Linear's
whole published schema, so every query its SDK generates validates. Pieces, each in its
own module:

- :mod:`.emulator_schema` — the schema, its drifted variants, operation names, complexity
  (a query above 10,000 points is refused, as Linear refuses it);
- :mod:`.emulator_state` — the seeded team, users, workflow states, labels and issues,
  plus comments, projects and webhooks;
- :mod:`.emulator_views` — those objects as the API shows them, linked to each other;
- :mod:`.emulator_query` — filters, ordering and pagination of connections;
- :mod:`.emulator_defaults` — what every field the emulator does not model resolves to;
- :mod:`.emulator_resolvers`, :mod:`.emulator_mutations` — the root fields;
- :mod:`.emulator_faults` — data faults (rename/drop/change type/corrupt/remove option);
- :mod:`.emulator_errors` — Linear's error bodies and status codes;
- :mod:`.emulator_limits` — the request and complexity leaky buckets and their headers.

Authentication, transport faults and the request journal are the shared layer's
(:mod:`connectors.sandbox.app`); this module tells it how Linear names operations (the
first root field: ``issue``, ``issues``, ``issueCreate``…), where the key is (the
``Authorization`` header, with or without ``Bearer``) and how each error looks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, execute_sync
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.linear import emulator_errors as errors
from connectors.linear.emulator_defaults import resolve_field
from connectors.linear.emulator_faults import collect
from connectors.linear.emulator_limits import REQUESTS_PER_HOUR, LinearLimits, Usage, headers
from connectors.linear.emulator_resolvers import Resolvers
from connectors.linear.emulator_schema import (
    SchemaDrift,
    complexity,
    is_mutation,
    operation_of,
    parse_document,
    root_field,
    schema_for,
    validation_errors,
)
from connectors.linear.emulator_state import LinearStore
from connectors.sandbox.app import ASGIApp, Operation, RequestInfo, TransportError
from connectors.sandbox.faults import FaultEngine, Service
from connectors.sandbox.seed import SeedData
from connectors.sandbox.webhooks import LinearHooks, Subscription

DEFAULT_RETRY_AFTER_SECONDS = 60.0
# Linear refuses any single query whose estimated complexity is above this.
MAX_QUERY_COMPLEXITY = 10_000
_CUT_OFF_BODY = b'{"data":{"issue":{"id":"5f0c1d2e-'


@dataclass(frozen=True)
class GraphQLRequest:
    """A parsed ``POST /graphql`` body."""

    query: str
    document: DocumentNode
    operation: OperationDefinitionNode
    variables: dict[str, Any]
    operation_name: str | None


def read_request(payload: Any) -> GraphQLRequest:
    """The GraphQL request in ``payload``; a :class:`GraphQLError` if there is none."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise GraphQLError("Must provide a query string in the request body.")
    variables = payload.get("variables") or {}
    name = payload.get("operationName")
    if not isinstance(variables, dict) or not (name is None or isinstance(name, str)):
        raise GraphQLError("variables must be an object and operationName a string.")
    document = parse_document(payload["query"])
    operation = operation_of(document, name)
    if operation is None:
        raise GraphQLError(f"Unknown or ambiguous operation {name!r}.")
    return GraphQLRequest(payload["query"], document, operation, variables, name)


class LinearEmulator:
    """Linear's API over an in-memory, seeded workspace."""

    service: Service = "linear"

    def __init__(self, seed: SeedData, engine: FaultEngine, *, rate_limits: bool) -> None:
        self.seed = seed
        self.store = LinearStore(seed)
        self.engine = engine
        self.limits = LinearLimits(enforce=rate_limits)
        schema_for(SchemaDrift())  # built now, not by the first request (it takes seconds)
        self.hooks = LinearHooks(self._subscriptions)
        self.redelivery = self.hooks.redelivery  # Sandbox(webhook_time_scale=…) sets its scale

    def _subscriptions(self) -> list[Subscription]:
        """The registered webhooks that take issue events, as deliveries address them."""
        return [
            Subscription("linear", hook.url, hook.secret or "", hook.id)
            for hook in self.store.webhooks.values()
            if hook.enabled and "Issue" in hook.resource_types
        ]

    def reset(self) -> None:
        """Back to the seeded workspace, every write forgotten."""
        self.store = LinearStore(self.seed)

    def routes(self) -> ASGIApp:
        return Starlette(routes=[Route("/graphql", self._graphql, methods=["POST"])])

    def operation(self, request: RequestInfo) -> Operation:
        try:
            parsed = read_request(request.json())
        except GraphQLError:
            return Operation("graphql")
        return Operation(root_field(parsed.operation), is_write=is_mutation(parsed.operation))

    def token(self, request: RequestInfo) -> str | None:
        return api_key(request.headers.get("authorization", ""))

    def throttle(self, request: RequestInfo, operation: Operation) -> float | None:
        return self.limits.charge(self.token(request) or "", _cost(request.json()))

    def error_response(self, error: TransportError) -> Response:
        """Linear's answer for a transport-level error (auth, limits, injected faults).

        Rate limits answer 400 with ``RATELIMITED`` (see :mod:`.emulator_errors`), even
        when the fault asked for 429; ``malformed_json`` answers a cut-off body.
        """
        if error.kind in ("missing_token", "revoked_token"):
            return JSONResponse(errors.authentication_error(), status_code=401)
        if error.kind == "timeout":
            return JSONResponse(errors.gateway_timeout(), status_code=error.status)
        if error.kind == "rate_limited" or error.code == "RATELIMITED" or error.status == 429:
            return _rate_limited(error.retry_after)
        if error.code == "malformed_json":
            return Response(_CUT_OFF_BODY, error.status, media_type="application/json")
        extra = None
        if error.retry_after is not None:
            extra = {"retry-after": errors.retry_after_header(error.retry_after)}
        return JSONResponse(errors.server_error(error.status, error.code), error.status, extra)

    def snapshot(self) -> dict[str, Any]:
        return self.store.snapshot()

    async def _graphql(self, request: Request) -> Response:
        try:
            payload = await request.json()
        except ValueError:
            payload = None
        token = api_key(request.headers.get("authorization", "")) or ""
        status, body = self._run(payload)
        usage = self.limits.usage(token, _cost(payload))
        return JSONResponse(body, status, headers(usage))

    def _run(self, payload: Any) -> tuple[int, dict[str, Any]]:
        """Execute one GraphQL request: the HTTP status and the response body."""
        try:
            parsed = read_request(payload)
        except GraphQLError as exc:
            return 400, errors.request_errors([exc], "GRAPHQL_PARSE_FAILED")
        faults = collect(self.engine, root_field(parsed.operation))
        schema = schema_for(faults.drift)
        invalid = validation_errors(faults.drift, parsed.query)
        if invalid:
            return 400, errors.request_errors(list(invalid), "GRAPHQL_VALIDATION_FAILED")
        cost = complexity(parsed.document, parsed.operation, parsed.variables)
        if cost > MAX_QUERY_COMPLEXITY:
            return 400, errors.too_complex(cost, MAX_QUERY_COMPLEXITY)
        result = execute_sync(
            schema,
            parsed.document,
            root_value=Resolvers(self.store, self.engine, faults, self.hooks),
            variable_values=parsed.variables,
            operation_name=parsed.operation_name,
            field_resolver=resolve_field,
        )
        if result.errors and result.data is None and all(e.path is None for e in result.errors):
            return 400, errors.request_errors(list(result.errors), "BAD_USER_INPUT")
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        return 200, body


def build_emulator(seed: SeedData, engine: FaultEngine, *, rate_limits: bool) -> LinearEmulator:
    """The Linear emulator the sandbox server runs (imported by name)."""
    return LinearEmulator(seed, engine, rate_limits=rate_limits)


def api_key(authorization: str) -> str | None:
    """The key in an ``Authorization`` header: a bare API key or ``Bearer <OAuth token>``."""
    value = authorization.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def _cost(payload: Any) -> int:
    try:
        parsed = read_request(payload)
    except GraphQLError:
        return 0
    return complexity(parsed.document, parsed.operation, parsed.variables)


def _rate_limited(retry_after: float | None) -> Response:
    wait = DEFAULT_RETRY_AFTER_SECONDS if retry_after is None else retry_after
    reset_ms = int((time.time() + wait) * 1000)
    exhausted = Usage(0, reset_ms, 0, reset_ms, 0)
    extra = {**headers(exhausted), "retry-after": errors.retry_after_header(wait)}
    body = errors.ratelimited_error(REQUESTS_PER_HOUR, "requests")
    return JSONResponse(body, errors.RATE_LIMIT_STATUS, extra)
