"""What every emulator shares: authentication, transport faults, throttling, control.

:func:`wrap` turns one tool's :class:`Emulator` into the ASGI app the server runs. Before a
request reaches the tool's own routes it is checked here, in this order:

1. ``/_sandbox/…`` control routes (state, faults, run index, request journal);
2. the token (missing → the tool's own 401 body; ``revoke_token`` → refused);
3. ``latency``, then ``http_error`` / ``rate_limit`` faults, then the tool's real rate
   limits (when switched on);
4. ``duplicate_on_timeout``: a write is performed, then answered with 504.

Each emulator says how its tool names operations and shapes its errors; this module
knows no tool.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from starlette.responses import JSONResponse, Response

from connectors.sandbox.faults import Fault, FaultEngine, FaultSpecError, Service, parse_faults

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTROL_PREFIX = "/_sandbox"


@dataclass(frozen=True)
class RequestInfo:
    """What the shared layer knows of a request before the tool's routes see it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class Operation:
    """The tool operation a request performs, as the emulator names it."""

    name: str
    is_write: bool = False


TransportErrorKind = Literal[
    "missing_token", "revoked_token", "http_error", "rate_limited", "timeout"
]


@dataclass(frozen=True)
class TransportError:
    """An error the shared layer answers with; the emulator gives it the tool's shape."""

    kind: TransportErrorKind
    operation: Operation
    status: int
    code: str | None = None
    retry_after: float | None = None


class Emulator(Protocol):
    """One tool's emulator, as the shared layer and the server runner see it."""

    service: Service

    def routes(self) -> ASGIApp:
        """The tool's own paths and wire formats."""
        ...

    def operation(self, request: RequestInfo) -> Operation:
        """The operation a request performs (GraphQL tools read it from the body)."""
        ...

    def token(self, request: RequestInfo) -> str | None:
        """The token the request carries, where the real tool looks for it."""
        ...

    def error_response(self, error: TransportError) -> Response:
        """The tool's own answer for ``error``: status, headers and body."""
        ...

    def throttle(self, request: RequestInfo, operation: Operation) -> float | None:
        """Seconds to wait if the tool's real rate limit is exceeded, else ``None``."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """The emulator's stored objects, as JSON, for ``GET /_sandbox/state``."""
        ...

    def reset(self) -> None:
        """Back to the seeded data, every write forgotten."""
        ...


@dataclass
class JournalEntry:
    """One request the emulator answered, for tests and the demo."""

    service: Service
    run: int
    operation: str
    method: str
    path: str
    status: int
    fault: str | None = None


@dataclass
class Journal:
    """A bounded, thread-safe log of requests."""

    limit: int = 20_000
    entries: deque[JournalEntry] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: JournalEntry) -> None:
        with self.lock:
            self.entries.append(entry)
            while len(self.entries) > self.limit:
                self.entries.popleft()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def list(self, service: Service | None = None) -> list[JournalEntry]:
        with self.lock:
            return [e for e in self.entries if service is None or e.service == service]


def wrap(emulator: Emulator, engine: FaultEngine, journal: Journal) -> ASGIApp:
    """The ASGI app that serves ``emulator`` behind the shared checks."""
    inner = emulator.routes()
    service = emulator.service

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        body = await _read_body(receive)
        request = RequestInfo(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=body,
        )
        if request.path.startswith(CONTROL_PREFIX):
            response = _control(request, emulator, engine, journal)
            await response(scope, _replay(body), send)
            return
        operation = emulator.operation(request)
        fault_box: list[str | None] = []

        def log(status: int) -> None:
            # Written when the status is sent, before the body, so a client that reads
            # the journal right after its call always finds the call there.
            journal.add(
                JournalEntry(
                    service=service,
                    run=engine.run,
                    operation=operation.name,
                    method=request.method,
                    path=request.path,
                    status=status,
                    fault=fault_box[0] if fault_box else None,
                )
            )

        await _serve(emulator, engine, request, operation, inner, scope, body, send, log, fault_box)

    return app


async def _serve(
    emulator: Emulator,
    engine: FaultEngine,
    request: RequestInfo,
    operation: Operation,
    inner: ASGIApp,
    scope: Scope,
    body: bytes,
    send: Send,
    log: Callable[[int], None],
    fault_box: list[str | None],
) -> None:
    """Answer one request, noting in ``fault_box`` the fault that fired, if any."""
    service = emulator.service
    op = operation.name
    send = _logging(send, log)
    error, fault = _gate(emulator, engine, request, operation)
    if error is not None:
        fault_box.append(fault.kind if fault else error.kind)
        await emulator.error_response(error)(scope, _replay(body), send)
        return
    slow = engine.fire(service, ["latency"], operation=op)
    if slow is not None and slow.seconds:
        await asyncio.sleep(slow.seconds)
    if operation.is_write and engine.fire(service, ["duplicate_on_timeout"], operation=op):
        fault_box.append("duplicate_on_timeout")
        await inner(scope, _replay(body), _discard)
        timeout = TransportError(kind="timeout", operation=operation, status=504)
        await emulator.error_response(timeout)(scope, _replay(body), send)
        return
    fault_box.append(slow.kind if slow else None)
    await inner(scope, _replay(body), send)


def _gate(
    emulator: Emulator, engine: FaultEngine, request: RequestInfo, operation: Operation
) -> tuple[TransportError | None, Fault | None]:
    """The error that stops this request before the tool's routes, if any."""
    service = emulator.service
    op = operation.name
    if not emulator.token(request):
        return TransportError(kind="missing_token", operation=operation, status=401), None
    fault = engine.fire(service, ["revoke_token"], operation=op)
    if fault is not None:
        return TransportError(kind="revoked_token", operation=operation, status=401), fault
    fault = engine.fire(service, ["http_error", "rate_limit"], operation=op)
    if fault is not None and fault.kind == "http_error":
        status = fault.status or 500
        return TransportError("http_error", operation, status, fault.code, fault.retry_after), fault
    if fault is not None:
        return TransportError("rate_limited", operation, 429, fault.code, fault.retry_after), fault
    wait = emulator.throttle(request, operation)
    if wait is not None:
        return TransportError("rate_limited", operation, 429, None, wait), None
    return None, None


def _control(
    request: RequestInfo, emulator: Emulator, engine: FaultEngine, journal: Journal
) -> Response:
    """``/_sandbox`` routes: GET state|journal|faults, POST run|faults, DELETE faults."""
    route = request.path[len(CONTROL_PREFIX) :].strip("/")
    if request.method == "GET" and route == "state":
        return JSONResponse({"service": emulator.service, "run": engine.run, **emulator.snapshot()})
    if request.method == "GET" and route == "journal":
        entries = [vars(e) for e in journal.list(emulator.service)]
        return JSONResponse({"entries": entries})
    if route == "faults":
        return _control_faults(request, engine)
    if request.method == "POST" and route == "run":
        payload = request.json()
        index = payload.get("index") if isinstance(payload, dict) else None
        if isinstance(index, bool) or not isinstance(index, int) or index < 1:
            return JSONResponse({"error": 'POST /_sandbox/run wants {"index": N>=1}'}, 400)
        engine.begin_run(index)
        return JSONResponse({"run": index})
    return JSONResponse({"error": f"unknown sandbox control route {request.path}"}, 404)


def _control_faults(request: RequestInfo, engine: FaultEngine) -> Response:
    if request.method == "GET":
        return JSONResponse({"faults": [f.model_dump(exclude_none=True) for f in engine.faults]})
    if request.method == "DELETE":
        engine.clear()
        return JSONResponse({"faults": []})
    if request.method == "POST":
        payload = request.json()
        if payload is None:
            return JSONResponse({"error": "POST /_sandbox/faults wants a JSON fault list"}, 400)
        try:
            faults = parse_faults(payload, source="POST /_sandbox/faults")
        except FaultSpecError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        engine.add(faults)
        return JSONResponse({"added": len(faults)})
    return JSONResponse({"error": f"{request.method} not allowed on /_sandbox/faults"}, 405)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the already-read body to the next app once."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # like a client that stays connected
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _logging(send: Send, log: Callable[[int], None]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            log(int(message["status"]))
        await send(message)

    return wrapped


async def _discard(message: Message) -> None:
    """Swallow a response: the write happened, but the client never hears of it."""
