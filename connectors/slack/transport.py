"""Slack's wire protocol for :class:`connectors.slack.client.SlackClient`.

One call is one ``POST {base}{method}`` with the bot token as a bearer token. Reads go
as form posts (every method accepts one; nested values as JSON text), writes as JSON
(Slack takes JSON bodies only on write methods, and warns without ``charset``). The
answer goes through :func:`connectors.slack.error_map.check_response`; list methods are
followed through ``response_metadata.next_cursor``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from connectors.errors import MalformedResponseError
from connectors.http import send
from connectors.retry import DEFAULT_POLICY, RetryPolicy, retrying
from connectors.slack.error_map import check_response

PAGE_SIZE = 200  # Slack's advice for cursor pagination
IDEMPOTENT_WRITES = frozenset({"chat.update"})


class SlackTransport:
    """Sends Web API calls for one token; returns the body of a successful answer."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        token: str,
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self._retry = retry
        self._http = http
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._token = token

    async def pages(
        self,
        method: str,
        op: str,
        params: dict[str, Any],
        key: str,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Items under ``key`` across pages, until the last page or ``limit`` items."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        while limit is None or len(items) < limit:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(items))
            body = await self.read(method, op, {**params, "limit": size, "cursor": cursor})
            page = field_of(body, key, op)
            if not isinstance(page, list):
                raise malformed(op, f"{key!r} is not a list")
            items.extend(page)
            cursor = (body.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                break
            if cursor in seen:
                raise malformed(op, f"{method} repeated cursor {cursor!r}")
            seen.add(cursor)
        return items if limit is None else items[:limit]

    async def read(self, method: str, op: str, params: dict[str, Any]) -> dict[str, Any]:
        """A read method, sent as a form post (every Slack method accepts one); retried
        inside the attempt on errors a retry can fix."""

        async def once() -> dict[str, Any]:
            return await self._read_once(method, op, params)

        return await retrying(once, tool="slack", operation=op, idempotent=True, policy=self._retry)

    async def _read_once(self, method: str, op: str, params: dict[str, Any]) -> dict[str, Any]:
        form = {k: _form_value(v) for k, v in params.items() if v is not None}
        request = self._http.build_request(
            "POST", self._base_url + method, data=form, headers=self._headers()
        )
        return check_response(
            await send(self._http, request, tool="slack", operation=op), operation=op
        )

    async def write(
        self,
        method: str,
        op: str,
        body: dict[str, Any],
        *,
        reconcile: Callable[[], Awaitable[dict[str, Any] | None]] | None = None,
    ) -> dict[str, Any]:
        """A write method, sent as JSON with the charset Slack asks for.

        ``chat.update`` (a repeat sets the same text) is retried inside the attempt; other
        writes only when Slack refused them (a rate limit) or ``reconcile`` — a read of
        what the write would have made — finds nothing after an answer that may hide it.
        """

        async def once() -> dict[str, Any]:
            return await self._write_once(method, op, body)

        return await retrying(
            once,
            tool="slack",
            operation=op,
            idempotent=method in IDEMPOTENT_WRITES,
            reconcile=reconcile,
            policy=self._retry,
        )

    async def _write_once(self, method: str, op: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = {k: v for k, v in body.items() if v is not None}
        headers = {**self._headers(), "Content-Type": "application/json; charset=utf-8"}
        request = self._http.build_request(
            "POST", self._base_url + method, content=json.dumps(payload), headers=headers
        )
        return check_response(
            await send(self._http, request, tool="slack", operation=op), operation=op
        )

    def _headers(self) -> dict[str, str]:
        # No token, no header: Slack then answers ``not_authed`` (a bare "Bearer " is
        # not even a legal header value).
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def field_of(body: dict[str, Any], key: str, op: str) -> Any:
    if key not in body:
        raise malformed(op, f"the answer has no {key!r}")
    return body[key]


def malformed(op: str, problem: str) -> MalformedResponseError:
    return MalformedResponseError(f"unexpected Slack answer: {problem}", tool="slack", operation=op)
