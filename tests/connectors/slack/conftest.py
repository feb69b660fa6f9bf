"""Fixtures for the Slack connector tests: a real sandbox on loopback, our client on it.

Each test module starts one sandbox (port 0); each test gets it reset to the seeded
workspace with no faults, so nothing leaks between tests. Tests that need rate limits
switched on start their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from connectors.sandbox.seed import SeedData
from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from connectors.slack.emulator import SlackEmulator
from tests.connectors.slack.support import TOKEN, http_client


@pytest.fixture(scope="module")
def _running() -> Iterator[Sandbox]:
    with Sandbox(services=["slack"]) as running:
        yield running


@pytest.fixture
def sandbox(_running: Sandbox) -> Sandbox:
    """The module's sandbox, back to the seeded world, no faults and run 1: nothing leaks."""
    _running.reset()
    return _running


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
    return SlackClient(http, base_url=sandbox.urls["slack"], token=TOKEN)
