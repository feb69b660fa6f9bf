"""Fixtures for the Slack connector tests: a real sandbox on loopback, our client on it.

Each test module starts one sandbox (port 0); each test gets it reset to the seeded
workspace with no faults, so nothing leaks between tests. Tests that need rate limits
switched on start their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.retry import SINGLE_TRY
from connectors.sandbox.faults import Service
from connectors.sandbox.seed import SeedData
from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from connectors.slack.emulator import SlackEmulator
from tests.connectors.slack.support import TOKEN, http_client


@pytest.fixture(scope="module")
def service() -> Service:
    """The tool these tests drive; ``tests/connectors/conftest.py`` starts its sandbox."""
    return "slack"


@pytest.fixture
def emulator(sandbox: Sandbox) -> SlackEmulator:
    emulator = sandbox.emulators["slack"]
    assert isinstance(emulator, SlackEmulator)
    return emulator


@pytest.fixture
def seed(sandbox: Sandbox) -> SeedData:
    return sandbox.data


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client() as client:
        yield client


@pytest.fixture
def slack(sandbox: Sandbox, http: httpx.AsyncClient) -> SlackClient:
    return SlackClient(http, base_url=sandbox.urls["slack"], token=TOKEN, retry=SINGLE_TRY)
