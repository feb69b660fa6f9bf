"""Fixtures for pipeline tests: one real Temporal dev server per session, and per test
a fresh sandbox, a fresh SQLite trace store and a task queue of its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.sandbox.faults import Fault
from orchestrator.config.settings import Settings
from orchestrator.runtime.devserver import DevServer
from orchestrator.service.stack import Stack, StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline, load_pipeline

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"

StackFactory = Callable[..., contextlib.AbstractAsyncContextManager[Stack]]


@pytest.fixture(scope="session")
def temporal_address() -> Iterator[str]:
    """A dev server shared by the session's tests (each test has its own task queue)."""
    server = DevServer()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(server.start())
        yield server.address
    finally:
        loop.run_until_complete(server.stop())
        loop.close()


@pytest.fixture
def capture_errors() -> Iterator[list[BaseException]]:
    """Internal capture errors: swallowed in production, a test failure here."""
    errors: list[BaseException] = []
    yield errors
    assert not errors, f"the capture interceptor swallowed errors: {errors!r}"


@pytest.fixture
def make_stack(
    temporal_address: str, tmp_path: Path, capture_errors: list[BaseException]
) -> StackFactory:
    """``async with make_stack(faults=[...]) as stack:`` — a fresh stack on the shared server."""

    def factory(
        *,
        faults: tuple[Fault, ...] | list[Fault] = (),
        tracing: bool = True,
        seed: int = 7,
        database_url: str | None = None,
        escalate: bool = False,
    ) -> contextlib.AbstractAsyncContextManager[Stack]:
        options = StackOptions(
            seed=seed,
            faults=tuple(faults),
            tracing=tracing,
            database_url=database_url or f"sqlite:///{tmp_path / 'trace.db'}",
            on_capture_error=capture_errors.append,
            escalate=escalate,
        )
        return open_stack(options, Settings(temporal_address=temporal_address))

    return factory


@pytest.fixture
def reference() -> LoadedPipeline:
    return load_pipeline(PIPELINES / "linear-triage-sync.yaml")
