"""Fixtures for the Linear connector tests: a real sandbox on loopback and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.linear import LinearClient
from connectors.retry import SINGLE_TRY
from connectors.sandbox.faults import Service
from connectors.sandbox.server import Sandbox
from tests.connectors.linear.helpers import TOKEN


@pytest.fixture(scope="module")
def service() -> Service:
    """The tool these tests drive; ``tests/connectors/conftest.py`` starts its sandbox."""
    return "linear"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


@pytest.fixture
def client(sandbox: Sandbox, http: httpx.AsyncClient) -> LinearClient:
    return LinearClient(http, base_url=sandbox.urls["linear"], token=TOKEN, retry=SINGLE_TRY)
