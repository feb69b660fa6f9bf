"""The Airtable emulator: Airtable's REST API (records and metadata) on loopback.

The shared layer (:mod:`connectors.sandbox.app`) checks tokens and applies transport
faults; this module serves Airtable's paths with Airtable's wire formats and status codes:

- ``GET /v0/meta/whoami``, ``GET /v0/meta/bases`` and ``GET /v0/meta/bases/{base}/tables``;
- ``GET /v0/{base}/{table}`` and ``POST …/listRecords`` (``pageSize``, ``offset``,
  ``filterByFormula``, ``fields[]``, ``sort``, ``cellFormat``, ``returnFieldsByFieldId``);
- ``POST`` create, ``PATCH``/``PUT`` update or upsert (``performUpsert``), ``DELETE``
  with ``records[]``, at most ten records per write;
- ``GET``/``PATCH``/``PUT``/``DELETE /v0/{base}/{table}/{record}``.

Errors come in Airtable's three shapes: ``{"error": {"type", "message"}}``,
``{"error": "NOT_FOUND"}`` and, for 429, ``{"errors": [{"error", "message"}]}``. With
``rate_limits`` on, each base allows 5 requests a second (going over blocks the base for
30 seconds, as Airtable does) and each token 50 a second across bases.

Data faults: schema faults through :func:`.emulator_schema.effective_table`,
``corrupt_value`` on reads and ``concurrent_edit`` on writes (see :mod:`.emulator_state`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from connectors.airtable.emulator_state import (
    SCHEMA_FAULTS,
    BaseStore,
    ListParams,
    Planned,
    RenderOptions,
    StoredRecord,
    TableView,
    check_batch,
)
from connectors.airtable.emulator_values import (
    MODEL_NOT_FOUND_MESSAGE,
    WireError,
    not_found,
    typed_error,
)
from connectors.airtable.emulator_wire import (
    Target,
    list_params_from_body,
    list_params_from_query,
    operation_for,
    parse_body,
    parse_path,
    query_pairs,
)
from connectors.sandbox.app import ASGIApp, Operation, RequestInfo, TransportError
from connectors.sandbox.faults import Fault, FaultEngine, FaultKind, Service
from connectors.sandbox.ratelimit import RateLimiter
from connectors.sandbox.seed import SeedData
from connectors.sandbox.webhooks import AirtableHooks

RATE_PER_BASE = 5.0
RATE_PENALTY_SECONDS = 30.0
RATE_PER_TOKEN = 50.0
SANDBOX_SCOPES = ("data.records:read", "data.records:write", "schema.bases:read")
_READS = frozenset({"list_records", "get_record"})
_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]
_DEFAULT_CODES = {
    401: "AUTHENTICATION_REQUIRED",
    403: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    413: "REQUEST_TOO_LARGE",
    422: "INVALID_REQUEST_UNKNOWN",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


class AirtableEmulator:
    """One Airtable workspace holding the seeded base."""

    service: Service = "airtable"

    def __init__(self, data: SeedData, engine: FaultEngine, *, rate_limits: bool) -> None:
        self.data = data
        self.store = BaseStore(data)
        self.hooks = AirtableHooks()
        self.redelivery = self.hooks.redelivery  # Sandbox(webhook_time_scale=…) sets its scale
        self.engine = engine
        self.limiter: RateLimiter | None = None
        self.token_limiter: RateLimiter | None = None
        if rate_limits:
            self.limiter = RateLimiter(RATE_PER_BASE, RATE_PER_BASE, penalty=RATE_PENALTY_SECONDS)
            self.token_limiter = RateLimiter(RATE_PER_TOKEN, RATE_PER_TOKEN)

    def reset(self) -> None:
        """Back to the seeded base, every write forgotten (between tests or scenarios)."""
        with self.store.lock:
            self.store = BaseStore(self.data)

    # --- the Emulator protocol ----------------------------------------------------

    def routes(self) -> ASGIApp:
        return Router([Route("/{path:path}", self._endpoint, methods=_METHODS)])

    def operation(self, request: RequestInfo) -> Operation:
        body = request.json()
        return operation_for(request.method, parse_path(request.path), body)

    def token(self, request: RequestInfo) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def error_response(self, error: TransportError) -> Response:
        headers = {}
        if error.retry_after is not None:
            headers["Retry-After"] = str(math.ceil(error.retry_after))
        if error.kind == "http_error" and error.code == "malformed_json":
            return Response('{"records": [{"id": "rec', error.status, headers, "application/json")
        if error.kind == "rate_limited" or error.status == 429:
            body: dict[str, Any] = {
                "errors": [
                    {
                        "error": "RATE_LIMIT_REACHED",
                        "message": "Rate limit exceeded. Please try again later",
                    }
                ]
            }
            return JSONResponse(body, 429, headers)
        if error.status == 404 and not error.code:
            return JSONResponse({"error": "NOT_FOUND"}, 404, headers)
        code = error.code or _DEFAULT_CODES.get(
            error.status, "SERVER_ERROR" if error.status >= 500 else "INVALID_REQUEST_UNKNOWN"
        )
        message = _MESSAGES.get(code, f"{error.kind.replace('_', ' ')} ({error.status})")
        return JSONResponse({"error": {"type": code, "message": message}}, error.status, headers)

    def throttle(self, request: RequestInfo, operation: Operation) -> float | None:
        """5 requests a second per base (then 30 s blocked), 50 a second per token."""
        if self.limiter is None or self.token_limiter is None:
            return None
        target = parse_path(request.path)
        wait = self.limiter.take(target.base or "meta")
        if wait is not None:
            return wait
        return self.token_limiter.take(self.token(request) or "")

    def snapshot(self) -> dict[str, Any]:
        with self.store.lock:
            return self.store.snapshot()

    # --- dispatch -----------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        target = parse_path(raw_path.decode("latin-1"))
        query = request.url.query
        try:
            body = parse_body(await request.body())
            operation = operation_for(request.method, target, body)
            with self.store.lock:
                result = self._handle(request.method, target, query, body, operation)
        except WireError as exc:
            return JSONResponse(exc.body, exc.status)
        return JSONResponse(result)

    def _handle(
        self, method: str, target: Target, query: str, body: Any, op: Operation
    ) -> dict[str, Any]:
        if target.kind == "bases" and method == "GET":
            return self._list_bases()
        if target.kind == "whoami" and method == "GET":
            # The token's user and scopes (GET /v0/meta/whoami), as a PAT with the scopes
            # the pipelines need would answer.
            return {"id": "usrSANDBOX0000001", "scopes": list(SANDBOX_SCOPES)}
        if target.kind in ("webhooks", "payloads"):
            return self._webhooks(method, target, query, body)
        if target.kind == "schema" and method == "GET":
            self.store.check_base(target.base)
            return self.store.schema_json(self._faults(op))
        if target.kind not in ("table", "list", "record"):
            raise not_found()
        view = self.store.view(target.base, target.table, self._faults(op))
        handler = _HANDLERS.get((target.kind, method))
        if handler is None:
            raise not_found()
        return handler(self, Call(method, target, view, query, body, op))

    def _faults(self, op: Operation) -> list[Fault]:
        return self.engine.active(self.service, SCHEMA_FAULTS, operation=op.name)

    def _fire_for_field(self, view: TableView, kind: FaultKind, op: Operation) -> Fault | None:
        """Fire a per-request data fault only when this table has its target field."""
        candidates = self.engine.active(self.service, [kind], operation=op.name)
        if not any(view.schema.field(f.target or "") for f in candidates):
            return None
        return self.engine.fire(self.service, [kind], operation=op.name)

    def _webhooks(self, method: str, target: Target, query: str, body: Any) -> dict[str, Any]:
        """Webhook creation and the payloads cursor (connectors/sandbox/webhooks.py)."""
        self.store.check_base(target.base)
        if target.kind == "webhooks" and method == "POST":
            url = _object(body).get("notificationUrl")
            if not isinstance(url, str):
                raise WireError(422, {"error": {"type": "INVALID_REQUEST_UNKNOWN"}})
            return self.hooks.create(target.base, url)
        cursor = int(dict(query_pairs(query)).get("cursor", "1"))
        found = self.hooks.payloads(target.record, cursor)
        if found is None:
            raise not_found()
        return found

    def _list_bases(self) -> dict[str, Any]:
        base = self.store.base
        return {"bases": [{"id": base.id, "name": base.name, "permissionLevel": "create"}]}

    # --- records ------------------------------------------------------------------

    def _render_options(self, call: Call, params: ListParams) -> RenderOptions:
        view = call.view
        only = self.store.field_ids(view, params.fields) if params.fields is not None else None
        corrupt = None
        if call.op.name in _READS:
            corrupt = self._fire_for_field(view, "corrupt_value", call.op)
        return RenderOptions(params.by_field_id, params.cell_format, only, corrupt)

    def _list(self, call: Call) -> dict[str, Any]:
        if call.target.kind == "list":
            params = list_params_from_body(call.body)
        else:
            params = list_params_from_query(call.query)
        return self.store.list_page(call.view, params, self._render_options(call, params))

    def _get(self, call: Call) -> dict[str, Any]:
        record = self.store.get(call.view, call.target.record)
        options = self._render_options(call, list_params_from_query(call.query))
        return self.store.render(call.view, record, options)

    def _create(self, call: Call) -> dict[str, Any]:
        body = _object(call.body)
        single = "records" not in body and "fields" in body
        entries = [body] if single else check_batch(body.get("records"), "created")
        typecast = bool(body.get("typecast"))
        planned = [
            self.store.plan(call.view, _object(e).get("fields"), record_id=None, typecast=typecast)
            for e in entries
        ]
        records, _, _ = self._commit_all(call, planned)
        return records[0] if single else {"records": records}

    def _update(self, call: Call) -> dict[str, Any]:
        body = _object(call.body)
        if "performUpsert" in body and call.target.kind == "table":
            return self._upsert(call, body)
        single = call.target.kind == "record"
        if single:
            entries = [{**body, "id": call.target.record}]
        else:
            entries = check_batch(body.get("records"), "updated")
        typecast = bool(body.get("typecast"))
        planned = []
        for entry in entries:
            record_id = str(_object(entry).get("id", ""))
            self.store.existing(call.view, record_id)
            fields = entry.get("fields")
            planned.append(
                self.store.plan(call.view, fields, record_id=record_id, typecast=typecast)
            )
        records, _, _ = self._commit_all(call, planned)
        return records[0] if single else {"records": records}

    def _upsert(self, call: Call, body: dict[str, Any]) -> dict[str, Any]:
        merge_on = _object(body["performUpsert"]).get("fieldsToMergeOn")
        if not isinstance(merge_on, list) or not 1 <= len(merge_on) <= 3:
            raise typed_error(
                422,
                "INVALID_REQUEST_UNKNOWN",
                "performUpsert.fieldsToMergeOn must list between 1 and 3 field names",
            )
        keys = [str(m) for m in merge_on]
        typecast = bool(body.get("typecast"))
        planned = []
        for entry in check_batch(body.get("records"), "updated"):
            entry = _object(entry)
            record_id = str(entry["id"]) if entry.get("id") else None
            if record_id is not None:
                self.store.existing(call.view, record_id)
            step = self.store.plan(
                call.view, entry.get("fields"), record_id=record_id, typecast=typecast
            )
            if record_id is None:
                step.record_id = self.store.match(call.view, step, keys)
            planned.append(step)
        records, created, updated = self._commit_all(call, planned, merge_on=keys)
        return {"records": records, "createdRecords": created, "updatedRecords": updated}

    def _commit_all(
        self, call: Call, planned: list[Planned], *, merge_on: list[str] | None = None
    ) -> tuple[list[dict[str, Any]], list[str], list[str]]:
        """Store validated writes; apply a ``concurrent_edit`` before or after them."""
        view = call.view
        edit = self._fire_for_field(view, "concurrent_edit", call.op)
        if edit is not None and edit.when == "before_write":
            existing = [p.record_id for p in planned if p.record_id is not None]
            self.store.human_edit(view, existing, edit)
        records: list[StoredRecord] = []
        created: list[str] = []
        updated: list[str] = []
        for step in planned:
            if step.record_id is None and merge_on:
                # An earlier record of this same request may have created the match.
                step.record_id = self.store.match(view, step, merge_on)
            record = self.store.commit(view, step, replace=call.method == "PUT")
            (updated if step.record_id else created).append(record.id)
            records.append(record)
        by_id = isinstance(call.body, dict) and bool(call.body.get("returnFieldsByFieldId"))
        options = RenderOptions(by_field_id=by_id)
        rendered = [self.store.render(view, r, options) for r in records]
        if edit is not None and edit.when == "after_write":
            self.store.human_edit(view, [r.id for r in records], edit)
        cells = {
            r.id: self.store.render(view, r, RenderOptions(by_field_id=True))["fields"]
            for r in records
        }
        self.hooks.changed(
            self.store.base.id,
            view.schema.id,
            {i: cells[i] for i in created},
            {i: cells[i] for i in updated},
        )
        return rendered, created, updated

    def _delete(self, call: Call) -> dict[str, Any]:
        if call.target.kind == "record":
            return self.store.delete(call.view, [call.target.record])[0]
        ids = [v for k, v in query_pairs(call.query) if k in ("records[]", "records")]
        check_batch(ids, "deleted")
        return {"records": self.store.delete(call.view, ids)}


@dataclass(frozen=True)
class Call:
    """One record request, resolved: method, target, the table view, query, body."""

    method: str
    target: Target
    view: TableView
    query: str
    body: Any
    op: Operation


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise typed_error(422, "INVALID_REQUEST_BODY", "Expected a JSON object")
    return value


_HANDLERS: dict[tuple[str, str], Callable[[AirtableEmulator, Call], dict[str, Any]]] = {
    ("table", "GET"): AirtableEmulator._list,
    ("list", "POST"): AirtableEmulator._list,
    ("table", "POST"): AirtableEmulator._create,
    ("table", "PATCH"): AirtableEmulator._update,
    ("table", "PUT"): AirtableEmulator._update,
    ("table", "DELETE"): AirtableEmulator._delete,
    ("record", "GET"): AirtableEmulator._get,
    ("record", "PATCH"): AirtableEmulator._update,
    ("record", "PUT"): AirtableEmulator._update,
    ("record", "DELETE"): AirtableEmulator._delete,
}

_MESSAGES = {
    "AUTHENTICATION_REQUIRED": "Authentication required",
    "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND": MODEL_NOT_FOUND_MESSAGE,
    "SERVER_ERROR": "Try again. If the problem persists, contact support.",
    "SERVICE_UNAVAILABLE": "The service is temporarily unavailable.",
    "GATEWAY_TIMEOUT": "The server did not respond in time.",
}


def build_emulator(seed: SeedData, engine: FaultEngine, *, rate_limits: bool) -> AirtableEmulator:
    """The Airtable emulator for the sandbox (the name the server runner imports)."""
    return AirtableEmulator(seed, engine, rate_limits=rate_limits)
