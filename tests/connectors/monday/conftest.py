"""Fixtures for the Monday connector: a real sandbox on 127.0.0.1 and a client over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.monday.client import MondayClient
from connectors.retry import SINGLE_TRY
from connectors.sandbox.faults import Service
from connectors.sandbox.server import Sandbox
from tests.connectors.monday.wire import TOKEN, Wire


@pytest.fixture(scope="module")
def service() -> Service:
    """The tool these tests drive; ``tests/connectors/conftest.py`` starts its sandbox."""
    return "monday"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


@pytest.fixture
def monday(sandbox: Sandbox, http: httpx.AsyncClient) -> MondayClient:
    return MondayClient(http, base_url=sandbox.urls["monday"], token=TOKEN, retry=SINGLE_TRY)


@pytest.fixture
def board_id(sandbox: Sandbox) -> int:
    return sandbox.data.monday_board_id


@pytest.fixture
def wire(sandbox: Sandbox, http: httpx.AsyncClient) -> Wire:
    return Wire(sandbox, http)
