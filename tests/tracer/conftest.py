"""Fixtures for the tracer tests: a trace store per test on each real backend.

``store_url`` is parametrised over a SQLite file in ``tmp_path`` and the PostgreSQL
server named by ``STEPTRACE_TEST_DATABASE_URL``; on PostgreSQL each test gets its own
schema (selected with ``-csearch_path=…`` in the connect options) that is dropped after.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.databases import all_database_text
from tracer.payloads import EncodedPayload, encode
from tracer.store import AttemptRecord, NewRun, TraceStore, run_id_for


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'trace.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'trace.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[TraceStore]:
    with TraceStore.open(store_url, busy_timeout_ms=2000) as opened:
        yield opened


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[TraceStore]:
    with TraceStore.open(sqlite_url, busy_timeout_ms=100) as opened:
        yield opened


T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def big_value() -> dict[str, Any]:
    """About 11 MB of canonical JSON shaped like a page dump of Airtable records."""
    rng = random.Random(7)
    priorities = ["Urgent", "High", "Medium", "Low"]
    return {
        "records": [
            {
                "id": f"rec{i:08d}",
                "fields": {
                    "Name": f"Issue {i}",
                    "Priority": priorities[i % 4],
                    "Notes": rng.randbytes(60).hex(),
                },
            }
            for i in range(80_000)
        ]
    }


@pytest.fixture(scope="session")
def big_payload(big_value: dict[str, Any]) -> EncodedPayload:
    return encode(big_value)


@pytest.fixture
def make_run(store: TraceStore) -> Callable[..., NewRun]:
    """Register a run: ``make_run("wf-1", pipeline="p", started_at=...)``."""

    def make(workflow_id: str, **fields: Any) -> NewRun:
        temporal_run_id = fields.pop("temporal_run_id", uuid.uuid4().hex)
        run = NewRun(
            run_id=run_id_for(workflow_id, temporal_run_id),
            workflow_id=workflow_id,
            temporal_run_id=temporal_run_id,
            pipeline=fields.pop("pipeline", "triage-sync"),
            started_at=fields.pop("started_at", T0),
            **fields,
        )
        store.start_run(run)
        return run

    return make


def attempt(
    value: Any = None, *, activity_id: str = "1", attempt_no: int = 1, **fields: Any
) -> tuple[AttemptRecord, EncodedPayload]:
    """An attempt record for a run of workflow ``wf`` with its input payload."""
    payload = encode(value if value is not None else {"activity": activity_id})
    record = AttemptRecord(
        workflow_id=fields.pop("workflow_id", "wf"),
        temporal_run_id=fields.pop("temporal_run_id", "r1"),
        activity_id=activity_id,
        attempt=attempt_no,
        run_id=fields.pop("run_id", "wf/r1"),
        step_id=fields.pop("step_id", f"step_{activity_id}"),
        step_index=fields.pop("step_index", 0),
        op=fields.pop("op", "transform"),
        status=fields.pop("status", "succeeded"),
        input_hash=payload.hash,
        started_at=T0,
        ended_at=T0,
        duration_ms=5,
        **fields,
    )
    return record, payload


@pytest.fixture(name="attempt")
def attempt_fixture() -> Callable[..., tuple[AttemptRecord, EncodedPayload]]:
    """The :func:`attempt` factory, as a fixture (test modules do not import conftest)."""
    return attempt


@pytest.fixture(name="database_text")
def database_text_fixture(store_url: str) -> Callable[[], bytes]:
    """Read back everything the test's database holds (see :func:`all_database_text`)."""
    return lambda: all_database_text(store_url)
