"""The Slack Web API emulator: ``POST /api/{method}`` over an in-memory workspace.

It speaks Slack's wire format: arguments as query, form or (write methods) JSON; every
answer the ``{"ok": …}`` envelope; failures as HTTP 200 ``{"ok": false, "error": code}``
except rate limits (HTTP 429 + ``Retry-After``). The shared layer
(:mod:`connectors.sandbox.app`) checks the token and applies transport faults first; this
module shapes those errors Slack's way (:meth:`SlackEmulator.error_response`), applies the
real rate limits when asked (:meth:`SlackEmulator.throttle`), and dispatches to the
handlers in :mod:`connectors.slack.emulator_methods`. Data faults are in
:mod:`connectors.slack.emulator_faults`; the stored workspace in
:mod:`connectors.slack.emulator_state`.

Tests and the demo read the conversation with :meth:`SlackEmulator.snapshot` and make
people talk with :meth:`SlackEmulator.post_as_person`.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors.sandbox.app import ASGIApp, Emulator, Operation, RequestInfo, TransportError
from connectors.sandbox.faults import FaultEngine, FaultSpecError, Service
from connectors.sandbox.ratelimit import RateLimiter
from connectors.sandbox.seed import SLACK_TEAM_ID, SeedData
from connectors.slack.emulator_args import parse_args
from connectors.slack.emulator_faults import check_faults, overlay
from connectors.slack.emulator_methods import METHODS, WRITE_METHODS, Call
from connectors.slack.emulator_state import (
    TEAM_DOMAIN,
    TEAM_NAME,
    Overlay,
    SlackFailure,
    Workspace,
    channel_json,
    message_json,
    user_json,
)

API_PREFIX = "/api/"

# Slack's published tiers, in requests per minute; bursts of up to a minute's worth.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "auth.test": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "conversations.list": 2,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "users.lookupByEmail": 3,
    "users.info": 4,
    "users.list": 2,
}
# chat.postMessage: about one message per second per channel, short bursts allowed.
POSTS_PER_SECOND = 1.0
POST_BURST = 3.0

# The code an injected ``http_error`` carries when the fault names none.
_DEFAULT_CODES = {
    401: "invalid_auth",
    403: "missing_scope",
    404: "unknown_method",
    429: "ratelimited",
    500: "internal_error",
    503: "service_unavailable",
}


class SlackEmulator:
    """The Slack emulator the shared layer serves (see :class:`connectors.sandbox.app.Emulator`)."""

    service: Service = "slack"

    def __init__(self, seed: SeedData, engine: FaultEngine, *, rate_limits: bool) -> None:
        self.workspace = Workspace(seed)
        self.engine = engine
        self.rate_limits = rate_limits
        check_faults(engine.faults, self.workspace)
        self._posts, self._tiers = _limiters()

    def reset(self) -> None:
        """Back to the freshly seeded workspace: no messages, full rate-limit buckets.

        Lets one running sandbox serve many tests or demo runs; faults live in the
        engine and are cleared there.
        """
        self.workspace = Workspace(self.workspace.seed)
        self._posts, self._tiers = _limiters()

    def routes(self) -> ASGIApp:
        """``GET``/``POST /api/{method}``, like ``https://slack.com/api/{method}``."""
        route = Route(API_PREFIX + "{method}", self._endpoint, methods=["GET", "POST"])
        return Starlette(routes=[route])

    def operation(self, request: RequestInfo) -> Operation:
        """The Web API method named by the path, e.g. ``chat.postMessage``."""
        name = request.path.removeprefix(API_PREFIX).strip("/")
        return Operation(name=name, is_write=name in WRITE_METHODS)

    def token(self, request: RequestInfo) -> str | None:
        """The bearer token, or the ``token`` field of a form body (both work on Slack)."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        if request.headers.get("content-type", "").startswith("application/x-www-form"):
            form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
            return form.get("token") or None
        return None

    def error_response(self, error: TransportError) -> Response:
        """Slack's answer: auth failures on HTTP 200, 429 with a whole-second
        ``Retry-After``, a plain-text gateway 504, otherwise the JSON envelope."""
        if error.kind == "missing_token":
            return JSONResponse({"ok": False, "error": "not_authed"})
        if error.kind == "revoked_token":
            return JSONResponse({"ok": False, "error": "token_revoked"})
        if error.kind == "rate_limited" or error.status == 429:
            wait = error.retry_after if error.retry_after is not None else 1.0
            return JSONResponse(
                {"ok": False, "error": error.code or "ratelimited"},
                status_code=429,
                headers={"Retry-After": str(math.ceil(wait))},
            )
        if error.kind == "timeout":
            # Slack's edge (Envoy) answers a gateway timeout in plain text.
            return PlainTextResponse("upstream request timeout", status_code=504)
        if error.code == "malformed_json":
            cut = '{"ok":false,"error":"internal_er'
            return Response(cut, status_code=error.status, media_type="application/json")
        code = error.code or _DEFAULT_CODES.get(error.status, "fatal_error")
        return JSONResponse({"ok": False, "error": code}, status_code=error.status)

    def throttle(self, request: RequestInfo, operation: Operation) -> float | None:
        """Seconds to wait under Slack's limits (when switched on): posts per channel,
        every other method by its tier, workspace-wide."""
        if not self.rate_limits:
            return None
        if operation.name == "chat.postMessage":
            return self._posts.take(self._channel_key(request))
        tier = METHOD_TIERS.get(operation.name)
        return None if tier is None else self._tiers[tier].take(operation.name)

    def _channel_key(self, request: RequestInfo) -> str:
        """The channel a post goes to, by id, so posts by name and by id share a limit."""
        try:
            args = parse_args("chat.postMessage", request.query, request.headers, request.body)
            with self.workspace.lock:
                return self.workspace.channel(args.get("channel"), Overlay(), by_name=True).id
        except SlackFailure:
            return "?"

    async def _endpoint(self, request: Request) -> Response:
        method = request.path_params["method"]
        handler = METHODS.get(method)
        if handler is None:
            return JSONResponse({"ok": False, "error": "unknown_method"})
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = await request.body()
        try:
            args = parse_args(method, request.url.query, headers, body)
            with self.workspace.lock:
                view = overlay(self.engine, self.workspace, method)
                call = Call(self.workspace, self.engine, view, method, args)
                result = handler(call)
        except SlackFailure as failure:
            return JSONResponse(failure.body())
        except FaultSpecError as exc:
            detail = {"ok": False, "error": "invalid_sandbox_fault", "detail": str(exc)}
            return JSONResponse(detail, status_code=400)
        return JSONResponse(_with_warnings({"ok": True, **result}, headers))

    def snapshot(self) -> dict[str, Any]:
        """The workspace: channels, users and the whole conversation, oldest first."""
        with self.workspace.lock:
            try:
                view = overlay(self.engine, self.workspace, None)
            except FaultSpecError:
                view = Overlay()
            users = self.workspace.users
            channels = {c.id: channel_json(c, view) for c in self.workspace.channels.values()}
            return {
                "team": {"id": SLACK_TEAM_ID, "name": TEAM_NAME, "domain": TEAM_DOMAIN},
                "channels": list(channels.values()),
                "users": [user_json(u, view) for u in users.values()],
                "messages": [
                    {
                        "channel": m.channel,
                        "channel_name": channels[m.channel]["name"],
                        "user_name": users[m.user].name,
                        "deleted": m.deleted,
                        "edits": [vars(e) for e in m.edits],
                        **message_json(m, self.workspace),
                    }
                    for m in self.workspace.messages
                ],
                "ephemeral": list(self.workspace.ephemeral),
            }

    def post_as_person(
        self, user_id: str, channel: str, text: str, *, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """Post ``text`` as seeded person ``user_id`` (as if typed in Slack); the message.

        ``channel`` is an id or a name; ``thread_ts`` makes it a reply in that thread.
        Raises ``ValueError`` naming the valid choices when something does not exist.
        """
        with self.workspace.lock:
            if user_id not in self.workspace.users:
                raise ValueError(
                    f"no Slack user {user_id!r} (users: {sorted(self.workspace.users)})"
                )
            try:
                target = self.workspace.channel(channel, Overlay(), by_name=True)
                message = self.workspace.post(target, user_id, text, thread_ts=thread_ts)
            except SlackFailure as failure:
                names = sorted(self.workspace.seed.slack_channel_ids)
                raise ValueError(
                    f"cannot post to {channel!r} (thread {thread_ts}): {failure.code} "
                    f"(channels: {', '.join(names)})"
                ) from None
            return message_json(message, self.workspace)


def _limiters() -> tuple[RateLimiter, dict[int, RateLimiter]]:
    """Token buckets for the per-channel post limit and for each method tier."""
    posts = RateLimiter(rate=POSTS_PER_SECOND, burst=POST_BURST)
    tiers = {
        tier: RateLimiter(rate=per_minute / 60.0, burst=float(per_minute))
        for tier, per_minute in TIER_PER_MINUTE.items()
    }
    return posts, tiers


def _with_warnings(body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """Slack warns (but serves) a JSON body whose content type names no charset."""
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/json") and "charset" not in content_type:
        body["warning"] = "missing_charset"
        meta = body.setdefault("response_metadata", {})
        meta["warnings"] = ["missing_charset"]
    return body


def build_emulator(seed: SeedData, engine: FaultEngine, *, rate_limits: bool) -> Emulator:
    """The Slack emulator for ``seed``; raises ``FaultSpecError`` for a fault naming
    a channel or person the workspace does not have."""
    return SlackEmulator(seed, engine, rate_limits=rate_limits)
