"""Fixtures for the Monday connector: a real sandbox on 127.0.0.1 and a client over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from connectors.monday.client import MondayClient
from connectors.sandbox.server import Sandbox
from tests.connectors.monday.wire import TOKEN, Wire


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[Sandbox]:
    """One Monday emulator on loopback per test module (starting one costs ~0.3 s)."""
    with Sandbox(seed=7, services=["monday"]) as running:
        yield running


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> Sandbox:
    """The module's sandbox, back to the seeded world, no faults and run 1: nothing leaks."""
    running_sandbox.reset()
    return running_sandbox


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


@pytest.fixture
def monday(sandbox: Sandbox, http: httpx.AsyncClient) -> MondayClient:
    return MondayClient(http, base_url=sandbox.urls["monday"], token=TOKEN)


@pytest.fixture
def board_id(sandbox: Sandbox) -> int:
    return sandbox.data.monday_board_id


@pytest.fixture
def wire(sandbox: Sandbox, http: httpx.AsyncClient) -> Wire:
    return Wire(sandbox, http)
