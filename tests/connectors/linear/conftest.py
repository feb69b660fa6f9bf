"""Fixtures for the Linear connector tests: a real sandbox on loopback and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from connectors.linear import LinearClient
from connectors.sandbox.server import Sandbox
from tests.connectors.linear.helpers import TOKEN


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[Sandbox]:
    """One Linear emulator per test module; starting one costs a few hundred ms."""
    with Sandbox(seed=7, services=["linear"]) as running:
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
def client(sandbox: Sandbox, http: httpx.AsyncClient) -> LinearClient:
    return LinearClient(http, base_url=sandbox.urls["linear"], token=TOKEN)
