"""Console tests: the ASGI app through httpx, over a real trace store.

The pages that show a real failure run on the human-loop fixtures (a real Temporal dev
server per session, a fresh stack, sandbox and SQLite store per test) and the reference
pipeline meeting Airtable's `Priority` rename, the demo's failure.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from orchestrator.console.app import console_app
from orchestrator.humanloop.console_link import LinkSigner
from orchestrator.service.stack import Stack
from tests.orchestrator.conftest import (  # noqa: F401  (fixtures, found by name)
    capture_errors,
    make_stack,
    reference,
    temporal_address,
)
from tracer.store import TraceStore

BASE = "http://console.test"


@pytest.fixture
def secret() -> SecretStr:
    return SecretStr(secrets.token_hex(32))


@pytest.fixture
def empty_store(tmp_path: Path) -> TraceStore:
    return TraceStore.open(f"sqlite:///{tmp_path / 'console.db'}")


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


async def sign_in(client: httpx.AsyncClient, secret: SecretStr, user: str) -> None:
    """Open a session the way a person does: follow a link the bot would send."""
    link = LinkSigner(secret).link(BASE, user)
    answer = await client.get(link)
    assert answer.status_code == 303 and answer.headers["location"] == "/runs", answer.text


@contextlib.asynccontextmanager
async def console_for(
    stack: Stack, secret: SecretStr, user: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in client of the console over the stack's store and Temporal."""
    assert stack.store is not None
    app = console_app(
        stack.store,
        stack.client,
        secret=secret,
        temporal_ui="http://temporal-ui.test",
        slack=slack_client(stack),
    )
    async with client_for(app) as client:
        await sign_in(client, secret, user)
        yield client


def slack_client(stack: Stack) -> AsyncWebClient:
    """A Web API client of the stack's Slack sandbox (the console reads alert threads)."""
    slack = stack.settings.endpoints["slack"]
    root = slack.base_url.rstrip("/") + "/"
    return AsyncWebClient(token=slack.token.get_secret_value(), base_url=root)
