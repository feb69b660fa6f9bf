"""The one place where httpx's exceptions become :mod:`connectors.errors`.

Clients are handed an ``httpx.AsyncClient`` (and so a transport) rather than making one,
so tests and the sandbox can supply their own; :func:`make_http_client` builds the
default one.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from connectors.errors import (
    ConnectorTimeoutError,
    MalformedResponseError,
    Tool,
    TransientError,
    ValidationError,
)

DEFAULT_TIMEOUT_SECONDS = 30.0


def make_http_client(timeout: float = DEFAULT_TIMEOUT_SECONDS) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` with the timeout every connector expects."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout))


async def send(
    http: httpx.AsyncClient, request: httpx.Request, *, tool: Tool, operation: str
) -> httpx.Response:
    """Send ``request``; a timeout or a broken connection becomes a connector error."""
    try:
        return await http.send(request)
    except httpx.TimeoutException as exc:
        raise ConnectorTimeoutError(
            f"no answer from {request.url.host} in time ({type(exc).__name__}); "
            "a write may still have happened",
            tool=tool,
            operation=operation,
        ) from exc
    except httpx.LocalProtocolError as exc:
        # Our own request is malformed (an illegal header, say): a retry cannot help.
        raise ValidationError(
            f"the request could not be sent: {exc}", tool=tool, operation=operation
        ) from exc
    except httpx.TransportError as exc:
        raise TransientError(
            f"could not reach {request.url.host}: {type(exc).__name__}: {exc}",
            tool=tool,
            operation=operation,
        ) from exc


def parse_json(response: httpx.Response, *, tool: Tool, operation: str) -> Any:
    """The response body as JSON; anything else is a :class:`MalformedResponseError`.

    A gateway's HTML error page (Monday's 502/503/504) still says when to come back in
    ``Retry-After``, so the error keeps it.
    """
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        snippet = response.text[:200] if response.content else "<empty body>"
        raise MalformedResponseError(
            f"expected a JSON body, got {response.headers.get('content-type', 'no content type')}"
            f": {snippet!r}",
            tool=tool,
            operation=operation,
            status=response.status_code,
            retry_after=retry_after_seconds(response),
        ) from exc


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (the delta-seconds form), if present."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
