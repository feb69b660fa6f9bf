"""Fixtures for the production tests: a dev server whose SQLite file the test can read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.runtime.devserver import DevServer
from orchestrator.spec.pipeline import LoadedPipeline, load_pipeline

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


@pytest.fixture
async def dev_server(tmp_path: Path) -> AsyncIterator[DevServer]:
    """A dev server of the test's own, persisting to ``tmp_path/temporal.db``."""
    server = DevServer(database_file=tmp_path / "temporal.db")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def reference() -> LoadedPipeline:
    return load_pipeline(PIPELINES / "linear-triage-sync.yaml")
