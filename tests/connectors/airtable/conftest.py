"""Fixtures: a real Airtable sandbox on 127.0.0.1 (port 0) and the client talking to it.

One sandbox serves a test module; before each test its faults, run index and stored
records go back to the seeded start, so nothing leaks between tests.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.airtable.client import AirtableClient
from connectors.retry import SINGLE_TRY
from connectors.sandbox.faults import Service
from connectors.sandbox.server import Sandbox

TOKEN = "patSANDBOX.test-token"
CLIENT_TIMEOUT_SECONDS = 10.0
# Loading the CA bundle costs ~0.3 s per httpx client; build the context once.
TLS = ssl.create_default_context()


@pytest.fixture(scope="module")
def service() -> Service:
    """The tool these tests drive; ``tests/connectors/conftest.py`` starts its sandbox."""
    return "airtable"


@pytest.fixture
def base_id(sandbox: Sandbox) -> str:
    return sandbox.data.airtable_base_id


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT_SECONDS, verify=TLS) as client:
        yield client


@pytest.fixture
def client(sandbox: Sandbox, http: httpx.AsyncClient) -> AirtableClient:
    return AirtableClient(http, base_url=sandbox.urls["airtable"], token=TOKEN, retry=SINGLE_TRY)
