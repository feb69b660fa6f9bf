"""Which runs read their schemas at their end: a good run only now and then, a bad one always."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.diagnosis.schema_record import SchemaRecorder
from tracer.payloads import encode
from tracer.store import (
    AttemptRecord,
    AttemptStatus,
    NewRun,
    RubricResultRecord,
    RunStatus,
    TraceStore,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TraceStore]:
    with TraceStore.open(f"sqlite:///{tmp_path / 'trace.db'}") as opened:
        yield opened


def _run(store: TraceStore, number: int) -> str:
    run = NewRun(
        run_id=f"wf-{number}/r",
        workflow_id=f"wf-{number}",
        pipeline="p",
        started_at=datetime(2026, 11, 1, 12, number, tzinfo=UTC),
    )
    store.start_run(run)
    arguments = encode({"base": "app1", "table": "Issues"})
    attempt = AttemptRecord(
        workflow_id=run.workflow_id,
        temporal_run_id="r",
        activity_id="0:upsert",
        attempt=1,
        run_id=run.run_id,
        step_id="upsert",
        step_index=0,
        op="airtable.upsert_record",
        status=AttemptStatus.SUCCEEDED,
        input_hash=arguments.hash,
        output_hash=arguments.hash,
        started_at=run.started_at,
        ended_at=run.started_at,
        duration_ms=0,
    )
    store.record_attempts([attempt], [arguments])
    return run.run_id


def test_good_runs_read_their_schemas_once_per_interval_bad_runs_always(
    store: TraceStore,
) -> None:
    recorder = SchemaRecorder(store, None, good_runs_every=3600)
    first, second, third, fourth = (_run(store, n) for n in range(4))
    succeeded = RunStatus.SUCCEEDED.value

    assert recorder.steps_to_read(store, first, succeeded) == {
        "upsert": ("airtable.upsert_record", {"base": "app1", "table": "Issues"})
    }
    assert recorder.steps_to_read(store, second, succeeded) == {}  # read a moment ago
    assert recorder.steps_to_read(store, third, RunStatus.FAILED.value) != {}
    store.add_rubric_results(
        [
            RubricResultRecord(
                run_id=fourth,
                rubric_id="integrity.title_agrees",
                rubric_version="1",
                outcome="fail",
                severity="major",
            )
        ]
    )
    assert recorder.steps_to_read(store, fourth, succeeded) != {}  # a rubric failed
    assert (
        SchemaRecorder(store, None, good_runs_every=0).steps_to_read(store, second, succeeded) != {}
    )
