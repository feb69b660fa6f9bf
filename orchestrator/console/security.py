"""Sessions, CSRF and response headers of the console.

A session is Starlette's signed cookie (``SessionMiddleware``, itsdangerous underneath)
holding the Slack user id and a CSRF token; it is opened only by redeeming a sign-in link
(:mod:`orchestrator.humanloop.console_link`). Every POST must carry the session's CSRF
token in its form (``csrf`` field); the cookie is ``SameSite=Lax`` and ``HttpOnly``.
Every response gets a strict Content-Security-Policy (own scripts and styles only, no
framing, forms only to this origin), ``nosniff``, ``no-referrer`` (a sign-in URL never
leaks through a Referer) and ``no-store``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "steptrace_console"
USER_KEY = "user"
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf"

HEADERS: dict[str, str] = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cache-control": "no-store",
}
HSTS = "max-age=31536000; includeSubDomains"


def open_session(session: MutableMapping[str, Any], user: str) -> None:
    """Start a fresh session for ``user`` (a new CSRF token; nothing of an old session kept)."""
    session.clear()
    session[USER_KEY] = user
    session[CSRF_KEY] = secrets.token_urlsafe(32)


def session_user(session: MutableMapping[str, Any]) -> str | None:
    user = session.get(USER_KEY)
    return user if isinstance(user, str) and user else None


def csrf_ok(session: MutableMapping[str, Any], form_token: object) -> bool:
    """Whether the form's token is the session's (constant-time)."""
    expected = session.get(CSRF_KEY)
    if not isinstance(expected, str) or not expected or not isinstance(form_token, str):
        return False
    return hmac.compare_digest(expected, form_token)


class SecureHeaders:
    """ASGI middleware adding :data:`HEADERS` (and HSTS over HTTPS) to every response."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self._app = app
        self._extra = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
        if https:
            self._extra.append((b"strict-transport-security", HSTS.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self._extra if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self._app(scope, receive, with_headers)
