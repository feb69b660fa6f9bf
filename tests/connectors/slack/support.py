"""Helpers shared by the Slack tests (plain functions, not fixtures)."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.sandbox.server import Sandbox

TOKEN = "xoxb-sandbox-test"


def messages(sandbox: Sandbox, channel_id: str | None = None) -> list[dict[str, Any]]:
    """The live messages the emulator stores (optionally in one channel), oldest first."""
    stored = sandbox.state("slack")["messages"]
    return [
        m for m in stored if not m["deleted"] and (channel_id is None or m["channel"] == channel_id)
    ]


def http_client(timeout: float = 5.0, **kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that opens a fresh connection per request.

    The sandbox's listening socket is made without ``IPPROTO_TCP``, so asyncio never
    sets ``TCP_NODELAY`` on its connections and every answer on a kept-alive connection
    waits ~40 ms for a delayed ACK (uvicorn writes headers and body separately). A new
    connection starts in quick-ACK mode, which keeps the suite fast.
    """
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout), limits=limits, **kwargs)
