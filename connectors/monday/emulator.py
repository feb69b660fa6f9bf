"""The Monday.com emulator: GraphQL API v2 at ``POST /v2``, in memory, seeded.

It speaks Monday's wire format: ``Authorization: <token>`` (no Bearer), an optional
``API-Version: yyyy-mm`` header (a quarterly month; anything else is refused with 400),
a JSON body ``{"query", "variables"}``, and answers ``{"data", "errors", "account_id"}``.
Application errors (a bad column value, an unknown column, board or item) arrive with
HTTP 200 and ``errors[].extensions.code``; transport errors use 400/401/429/5xx and
always carry ``Retry-After``.

The shared layer (:mod:`connectors.sandbox.app`) handles tokens and transport faults and
asks :meth:`MondayEmulator.error_response` for Monday's shapes. Data faults are applied
per request (:mod:`.emulator_values` for the schema ones, :mod:`.emulator_resolvers` for
``corrupt_value`` and ``concurrent_edit``). With ``rate_limits=True`` the complexity
budget is enforced (:class:`ComplexityBudget`): ``COMPLEXITY_BUDGET_EXHAUSTED`` with
``retry_in_seconds``, HTTP 429. A single query above 5,000,000 points is always refused
(``ComplexityException``, HTTP 200), and 502/503/504 arrive as the edge's HTML page.

Modules: ``emulator_state`` (stored objects, seed), ``emulator_values`` (column values
and schema faults), ``emulator_schema`` (SDL, errors, costs), ``emulator_resolvers`` (queries),
``emulator_mutations`` (writes) and ``emulator_hooks`` (``create_webhook``: the challenge,
then signed deliveries of the board's changes).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors.monday.emulator_hooks import BoardHooks
from connectors.monday.emulator_mutations import Root
from connectors.monday.emulator_resolvers import Cursors, RequestContext
from connectors.monday.emulator_schema import monday_schema, query_cost
from connectors.monday.emulator_state import MondayState, seed_state
from connectors.sandbox.app import ASGIApp, Operation, RequestInfo, TransportError
from connectors.sandbox.faults import FaultEngine, FaultKind, Service
from connectors.sandbox.seed import SeedData
from connectors.sandbox.webhooks import MondayHooks

# A personal token on a paid plan: 10M complexity points per minute.
COMPLEXITY_BUDGET = 10_000_000
BUDGET_WINDOW_SECONDS = 60.0
DEFAULT_RETRY_SECONDS = 30.0
# Monday refuses any single query estimated above this many points.
MAX_QUERY_COMPLEXITY = 5_000_000
# Monday's edge answers these with an HTML page, not JSON (monday-sdk-js branches on it).
_GATEWAY_PAGES = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}
_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")
_SCHEMA_FAULTS: tuple[FaultKind, ...] = (
    "rename_field",
    "drop_field",
    "change_type",
    "remove_option",
)


@dataclass
class ComplexityBudget:
    """Monday's per-minute complexity budget: points spent in a window that resets."""

    limit: int = COMPLEXITY_BUDGET
    window: float = BUDGET_WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    _spent: int = 0
    _window_start: float = field(default=-math.inf)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(self, cost: int, *, enforce: bool) -> float | None:
        """Spend ``cost`` points; when enforced and over budget, the seconds to wait."""
        with self._lock:
            now = self.clock()
            if now - self._window_start >= self.window:
                self._window_start, self._spent = now, 0
            if enforce and self._spent + cost > self.limit:
                return max(1.0, math.ceil(self._window_start + self.window - now))
            self._spent += cost
            return None

    def report(self, cost: int) -> dict[str, int]:
        """The ``complexity`` field: points before and after this query, and the reset."""
        with self._lock:
            after = max(0, self.limit - self._spent)
            started = self._window_start if math.isfinite(self._window_start) else self.clock()
            reset = started + self.window - self.clock()
            return {
                "before": after + cost,
                "after": after,
                "query": cost,
                "reset_in_x_seconds": max(0, math.ceil(reset)),
            }


@lru_cache(maxsize=512)
def _parsed(query: str) -> DocumentNode | GraphQLError:
    try:
        return parse(query)
    except GraphQLError as exc:
        return exc


@lru_cache(maxsize=512)
def _problems(query: str) -> tuple[GraphQLError, ...]:
    """Validation errors of a parsed query (cached: clients repeat a few queries)."""
    document = _parsed(query)
    assert isinstance(document, DocumentNode)
    return tuple(validate(monday_schema(), document))


class MondayEmulator:
    """Monday's API v2 over the seeded state; see the module docstring."""

    service: Service = "monday"

    def __init__(self, seed: SeedData, engine: FaultEngine, *, rate_limits: bool) -> None:
        self.seed = seed
        self.engine = engine
        self.rate_limits = rate_limits
        transport = MondayHooks()
        self.hooks = BoardHooks(transport)
        self.redelivery = transport.redelivery  # Sandbox(webhook_time_scale=…) sets its scale
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to the seeded world (state, cursors, budget) without restarting the server."""
        with self._lock:
            self.state: MondayState = seed_state(self.seed)
            self.budget = ComplexityBudget()
            self.cursors = Cursors()
            self._requests = 0

    # -- the Emulator protocol -------------------------------------------------------

    def routes(self) -> ASGIApp:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            request = Request(scope, receive)
            if request.url.path.rstrip("/") != "/v2":
                response: Response = _errors(404, "NotFound", f"No route {request.url.path}")
            elif request.method != "POST":
                response = _errors(405, "MethodNotAllowed", "Use POST /v2")
            else:
                response = self._graphql(request.headers.get("api-version"), await request.body())
            await response(scope, receive, send)

        return app

    def operation(self, request: RequestInfo) -> Operation:
        payload = request.json()
        query = payload.get("query") if isinstance(payload, dict) else None
        document = _parsed(query) if isinstance(query, str) else None
        if not isinstance(document, DocumentNode):
            return Operation("graphql")
        is_write = any(
            isinstance(d, OperationDefinitionNode) and d.operation == OperationType.MUTATION
            for d in document.definitions
        )
        return Operation(_root_name(document) or "graphql", is_write=is_write)

    def token(self, request: RequestInfo) -> str | None:
        return request.headers.get("authorization") or None

    def error_response(self, error: TransportError) -> Response:
        wait = error.retry_after
        if error.code == "malformed_json":
            return Response(
                '{"data":{"boards":[{"id":"18', error.status, media_type="application/json"
            )
        if error.kind in ("missing_token", "revoked_token"):
            return _errors(401, "Unauthorized", "Not Authenticated")
        if error.kind == "rate_limited" or error.status == 429:
            return _rate_limited(error.code, wait if wait is not None else DEFAULT_RETRY_SECONDS)
        if error.kind == "timeout":
            return _gateway_page(504, wait)
        if error.status in _GATEWAY_PAGES:
            return _gateway_page(error.status, wait)
        if error.status == 200 and error.code:
            return _app_error_body(error.code, self.state.account_id)
        message = "Internal server error" if error.status >= 500 else "Bad request"
        code = error.code or ("INTERNAL_SERVER_ERROR" if error.status >= 500 else "BAD_REQUEST")
        return _errors(error.status, code, message, retry_after=wait)

    def throttle(self, request: RequestInfo, operation: Operation) -> float | None:
        if not self.rate_limits:
            return None
        return self.budget.charge(self._cost(request), enforce=True)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.state.snapshot()

    # -- serving ---------------------------------------------------------------------

    def _graphql(self, version: str | None, body: bytes) -> Response:
        if version is not None and not _VERSION.match(version.strip()):
            return _errors(
                400,
                "InvalidApiVersionException",
                f"Invalid API version {version!r}: use a quarterly version like 2025-10",
            )
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _errors(400, "JsonParseException", "Syntax error in JSON input")
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str) or not query.strip():
            return _errors(400, "BAD_REQUEST", "No query string was present")
        variables = payload.get("variables") or {}
        document = _parsed(query)
        if isinstance(document, GraphQLError):
            return self._answer(ExecutionResult(None, [_coded(document, "GRAPHQL_PARSE_FAILED")]))
        problems = _problems(query)
        if problems:
            coded = [_coded(p, "GRAPHQL_VALIDATION_FAILED") for p in problems]
            return self._answer(ExecutionResult(None, coded))
        cost = query_cost(document, variables)
        if cost > MAX_QUERY_COMPLEXITY:
            return self._answer(ExecutionResult(None, [_too_complex(cost)]))
        return self._answer(self._execute(document, variables))

    def _execute(self, document: DocumentNode, variables: dict[str, Any]) -> ExecutionResult:
        cost = query_cost(document, variables)
        if not self.rate_limits:
            self.budget.charge(cost, enforce=False)
        operation = _root_name(document) or "graphql"
        with self._lock:
            context = RequestContext(
                state=self.state,
                engine=self.engine,
                cursors=self.cursors,
                operation=operation,
                complexity=self.budget.report(cost),
                schema_faults=self.engine.active("monday", _SCHEMA_FAULTS, operation=operation),
                hooks=self.hooks,
            )
            result = execute(monday_schema(), document, Root(), context, variable_values=variables)
        assert isinstance(result, ExecutionResult)  # every resolver is synchronous
        return result

    def _answer(self, result: ExecutionResult) -> Response:
        self._requests += 1
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        body["extensions"] = {"request_id": f"req-{self._requests:08d}"}
        body["account_id"] = self.state.account_id
        return JSONResponse(body)

    def _cost(self, request: RequestInfo) -> int:
        payload = request.json()
        query = payload.get("query") if isinstance(payload, dict) else None
        document = _parsed(query) if isinstance(query, str) else None
        if not isinstance(document, DocumentNode):
            return 1
        variables = payload.get("variables") if isinstance(payload, dict) else None
        return query_cost(document, variables if isinstance(variables, dict) else {})


def _root_name(document: DocumentNode) -> str | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                name = getattr(getattr(selection, "name", None), "value", None)
                if name and name != "complexity":
                    return str(name)
    return None


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        extensions={"code": code, "status_code": 400},
    )


def _errors(
    status: int, code: str, message: str, *, retry_after: float | None = None
) -> JSONResponse:
    """A transport error: Monday's ``errors`` list plus the legacy top-level fields."""
    body = {
        "errors": [{"message": message, "extensions": {"code": code, "status_code": status}}],
        "error_message": message,
        "error_code": code,
        "status_code": status,
    }
    wait = retry_after if retry_after is not None else (1.0 if status >= 500 else 0.0)
    return JSONResponse(body, status, headers={"Retry-After": f"{math.ceil(wait)}"})


def _too_complex(cost: int) -> GraphQLError:
    """The single-query ceiling: an application error (HTTP 200), never worth a retry."""
    return GraphQLError(
        f"Query has complexity of {cost}, which exceeds max complexity of {MAX_QUERY_COMPLEXITY}",
        extensions={
            "code": "ComplexityException",
            "error_data": {"complexity": cost, "max_complexity": MAX_QUERY_COMPLEXITY},
            "status_code": 200,
        },
    )


def _gateway_page(status: int, retry_after: float | None) -> Response:
    """What Monday's edge sends for 502/503/504: a small HTML page, not a JSON body."""
    title = f"{status} {_GATEWAY_PAGES[status]}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    wait = retry_after if retry_after is not None else 1.0
    return Response(
        page, status, headers={"Retry-After": f"{math.ceil(wait)}"}, media_type="text/html"
    )


def _rate_limited(code: str | None, wait: float) -> JSONResponse:
    seconds = math.ceil(wait)
    headers = {"Retry-After": str(seconds)}
    if code == "ComplexityException":  # the legacy shape, before API 2025-01
        message = (
            f"Complexity budget exhausted, query cost 30001 budget remaining 0 out of "
            f"{COMPLEXITY_BUDGET} reset in {seconds} seconds"
        )
        legacy = {"error_code": code, "status_code": 429, "error_message": message}
        return JSONResponse({**legacy, "errors": [{"message": message}]}, 429, headers=headers)
    code = code or "COMPLEXITY_BUDGET_EXHAUSTED"
    error = {
        "message": "Complexity budget exhausted" if "COMPLEXITY" in code else "Rate limit exceeded",
        "extensions": {"code": code, "retry_in_seconds": seconds, "status_code": 429},
    }
    return JSONResponse({"errors": [error]}, 429, headers=headers)


def _app_error_body(code: str, account_id: int) -> JSONResponse:
    """An ``http_error`` fault with status 200: an application error with ``code``."""
    error = {"message": f"{code} (injected)", "extensions": {"code": code, "error_data": {}}}
    return JSONResponse({"data": None, "errors": [error], "account_id": account_id})


def build_emulator(seed: SeedData, engine: FaultEngine, *, rate_limits: bool) -> MondayEmulator:
    """The factory the sandbox server imports."""
    return MondayEmulator(seed, engine, rate_limits=rate_limits)
