"""The lean reader (``tracer.store.reader``) answers exactly as ``TraceStore`` does, on
SQLite and PostgreSQL, decodes payloads compressed with the store's trained dictionaries,
refuses what a read-only ``TraceStore`` refuses, and names only the tables and columns
the ORM models define."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tracer.payloads import encode, frame_dictionary
from tracer.store import (
    AttemptError,
    AttemptRecord,
    AttemptStatus,
    DictionarySettings,
    NewRun,
    RubricResultRecord,
    RunKind,
    RunStatus,
    StoreMigrationError,
    StoreUnavailableError,
    TraceStore,
    TraceStoreError,
    WriteRecord,
    models,
)
from tracer.store.reader import COLUMNS, JSON_COLUMNS, TIME_COLUMNS, TraceReader, open_reader

# Small thresholds so the store trains a dictionary after a few dozen payloads.
SMALL = DictionarySettings(first_after_payloads=40, first_after_bytes=8 * 1024, refresh_seconds=0)
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
STATUSES = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.QC_FAILED, RunStatus.RUNNING]


@dataclass
class Stored:
    url: str
    hashes: list[str]


def _issue(n: int) -> dict[str, Any]:
    return {
        "issue": {
            "identifier": f"ENG-{n}",
            "title": f"Checkout fails for order {n * 7919 % 100000}",
            "state": {"name": ["Todo", "In Progress", "Done"][n % 3]},
            "labels": [{"name": "bug"}, {"name": f"area-{n % 4}"}],
        }
    }


def _attempt(n: int, step: int, try_no: int, input_hash: str, **fields: Any) -> AttemptRecord:
    return AttemptRecord(
        workflow_id=f"wf-{n}",
        temporal_run_id=f"r{n}",
        activity_id=str(step),
        attempt=try_no,
        run_id=f"wf-{n}/r{n}",
        step_id=f"step_{step}",
        step_index=step,
        op="linear.get_issue",
        status=fields.pop("status", AttemptStatus.SUCCEEDED),
        input_hash=input_hash,
        started_at=T0 + timedelta(minutes=n, seconds=step),
        ended_at=T0 + timedelta(minutes=n, seconds=step, milliseconds=250),
        duration_ms=250,
        **fields,
    )


def _fill(store: TraceStore, runs: int = 24) -> list[str]:
    """Runs of every status with attempts (retries, errors, writes, absorbed retries),
    a diagnosis and rubric results; payloads enough that a dictionary gets trained."""
    hashes: list[str] = []
    for n in range(runs):
        status = STATUSES[n % len(STATUSES)]
        trigger = encode(_issue(n), codec=store.codec)
        store.start_run(
            NewRun(
                run_id=f"wf-{n}/r{n}",
                workflow_id=f"wf-{n}",
                temporal_run_id=f"r{n}",
                pipeline=["triage", "digest"][n % 2],
                kind=RunKind.PIPELINE,
                started_at=T0 + timedelta(minutes=n),
            ),
            trigger=trigger,
        )
        for step in range(3):
            given = encode(_issue(n * 10 + step), codec=store.codec)
            out = encode({"row": _issue(n * 10 + step + 1)}, codec=store.codec)
            before = encode({"fields": {"Name": f"r{n}"}}, codec=store.codec)
            failed = _attempt(
                n,
                step,
                1,
                given.hash,
                status=AttemptStatus.FAILED,
                error=AttemptError(error_class="RateLimited", message="429", status=429),
                inner_retries=({"operation": "get_issue", "error_class": "Timeout"},),
            )
            good = _attempt(
                n,
                step,
                2,
                given.hash,
                output_hash=out.hash,
                external_writes=(
                    WriteRecord(
                        tool="airtable",
                        object_kind="record",
                        container="app1/tbl1",
                        object_id=f"rec{n}",
                        action="update",
                        before_hash=before.hash,
                        after_hash=out.hash,
                    ),
                ),
            )
            store.record_attempts([failed, good], [given, out, before])
            hashes += [given.hash, out.hash, before.hash]
            store.maintain_dictionaries()
        hashes.append(trigger.hash)
        if status is not RunStatus.RUNNING:
            failed_step = None if status is RunStatus.SUCCEEDED else "step_2"
            store.finish_run(
                f"wf-{n}/r{n}",
                status,
                failed_step,
                ended_at=T0 + timedelta(minutes=n, seconds=30),
            )
        if status in (RunStatus.FAILED, RunStatus.QC_FAILED):
            body = {"run_id": f"wf-{n}/r{n}", "fault_class": "schema_drift", "onset_step": "step_1"}
            store.add_diagnosis(f"wf-{n}/r{n}", body)
            store.add_rubric_results(
                [
                    RubricResultRecord(
                        run_id=f"wf-{n}/r{n}",
                        rubric_id="no-empty-title",
                        rubric_version="1",
                        outcome="fail",
                        severity="major",
                        evidence={"path": "issue.title"},
                        step_id="step_1",
                    )
                ]
            )
    return hashes


@pytest.fixture
def stored(store_url: str) -> Stored:
    with TraceStore.open(store_url, dictionaries=SMALL) as store:
        hashes = _fill(store)
    return Stored(store_url, hashes)


@pytest.fixture
def pair(stored: Stored) -> Iterator[tuple[TraceStore, TraceReader]]:
    with (
        TraceStore.open(stored.url, read_only=True) as store,
        open_reader(stored.url) as reader,
    ):
        yield store, reader


def test_runs_read_alike(pair: tuple[TraceStore, TraceReader]) -> None:
    store, reader = pair
    assert reader.list_runs() == store.list_runs()
    assert len(reader.list_runs(limit=100)) == 24
    assert reader.list_runs(limit=5) == store.list_runs(limit=5)
    for status in STATUSES:
        assert reader.list_runs(status=status) == store.list_runs(status=status)
    assert reader.list_runs(pipeline="digest", limit=7) == store.list_runs(
        pipeline="digest", limit=7
    )
    assert reader.get_run("wf-3/r3") == store.get_run("wf-3/r3")
    assert reader.get_run("nope") is None
    assert reader.find_run("wf-5") == store.find_run("wf-5")
    assert reader.match_runs("wf-1") == store.match_runs("wf-1")
    assert reader.match_runs("wf_1") == store.match_runs("wf_1") == []  # _ is no wildcard
    newest_failed = reader.latest_failed_run()
    assert newest_failed == store.latest_failed_run()
    assert newest_failed is not None and newest_failed.run_id == "wf-22/r22"
    assert reader.latest_failed_run("triage") == store.latest_failed_run("triage")
    assert all(r.started_at.utcoffset() == timedelta(0) for r in reader.list_runs())


def test_attempts_diagnoses_and_rubrics_read_alike(pair: tuple[TraceStore, TraceReader]) -> None:
    store, reader = pair
    for run_id in ("wf-1/r1", "wf-2/r2", "wf-3/r3"):
        assert reader.attempts(run_id) == store.attempts(run_id)
        assert reader.diagnoses(run_id) == store.diagnoses(run_id)
        assert reader.rubric_results(run_id) == store.rubric_results(run_id)
    attempts = reader.attempts("wf-1/r1")
    assert [(a.step_id, a.attempt) for a in attempts][:2] == [("step_0", 1), ("step_0", 2)]
    assert attempts[0].error is not None and attempts[0].error.status == 429
    assert attempts[1].error is None and attempts[1].external_writes[0].object_id == "rec1"
    assert reader.diagnoses("wf-1/r1")[0].body["fault_class"] == "schema_drift"


def test_payloads_decode_with_the_stores_trained_dictionaries(
    stored: Stored, pair: tuple[TraceStore, TraceReader]
) -> None:
    store, reader = pair
    engine = sa.create_engine(stored.url)
    try:
        with engine.connect() as conn:
            frames = [bytes(d) for (d,) in conn.execute(sa.text("SELECT data FROM payload"))]
    finally:
        engine.dispose()
    assert any(frame_dictionary(data) != 0 for data in frames)  # a dictionary is in use
    assert reader.get_payloads(stored.hashes) == store.get_payloads(stored.hashes)
    assert reader.payload_sizes(stored.hashes) == store.payload_sizes(stored.hashes)
    first = stored.hashes[0]
    assert reader.get_payload(first) == store.get_payload(first) == _issue(0)
    with pytest.raises(KeyError, match="no payload with hash"):
        reader.get_payload("0" * 64)


def test_a_missing_store_is_refused_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "none" / "trace.db"
    with pytest.raises(StoreUnavailableError, match="no trace store"):
        open_reader(f"sqlite:///{path}")
    assert not path.exists()


def test_a_store_at_another_revision_is_refused(sqlite_url: str) -> None:
    with TraceStore.open(sqlite_url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreMigrationError, match="revision 9999"):
        open_reader(sqlite_url)


def test_an_unknown_backend_is_refused_with_the_password_hidden() -> None:
    with pytest.raises(TraceStoreError, match="unsupported database backend") as caught:
        open_reader("mysql://ops:s3cret@db/trace")
    assert "s3cret" not in str(caught.value)
    assert caught.value.database == "mysql://ops:***@db/trace"


def test_the_reader_never_writes(stored: Stored) -> None:
    with open_reader(stored.url) as reader, pytest.raises(TraceStoreError):
        reader._rows("DELETE FROM run")
    with open_reader(stored.url) as reader:
        assert len(reader.list_runs(limit=100)) == 24


def _model_tables() -> dict[str, sa.Table]:
    return {
        model.__table__.name: model.__table__  # type: ignore[attr-defined]
        for model in vars(models).values()
        if isinstance(model, type) and hasattr(model, "__table__")
    }


def test_reader_columns_cannot_drift_from_the_orm_models() -> None:
    tables = _model_tables()
    for table, columns in COLUMNS.items():
        assert table in tables, f"the reader reads {table}, which no model defines"
        defined = {c.name for c in tables[table].columns}
        assert set(columns) <= defined, set(columns) - defined
    # Whole records are built from these tables: a column added to a model must be read.
    for table in ("run", "diagnosis", "rubric_result"):
        assert set(COLUMNS[table]) == {c.name for c in tables[table].columns}
    assert set(COLUMNS["step_attempt"]) == {c.name for c in tables["step_attempt"].columns} - {"id"}
    for table in COLUMNS:
        for column in tables[table].columns:
            if column.name not in COLUMNS[table]:
                continue
            kind = (table, column.name)
            assert (kind in JSON_COLUMNS) == isinstance(column.type, sa.JSON), kind
            assert (kind in TIME_COLUMNS) == isinstance(column.type, models.UTCDateTime), kind
