"""The trace store on SQLite and PostgreSQL: schema, idempotency, dedup, redaction, queries."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from tracer.payloads import EncodedPayload, encode
from tracer.store import (
    AttemptError,
    AttemptRecord,
    AttemptStatus,
    HumanActionRecord,
    NewRun,
    PayloadNotFoundError,
    RubricResultRecord,
    RunKind,
    RunStatus,
    StoreDataError,
    TraceStore,
    WriteRecord,
)
from tracer.store.migrate import current_revision, head_revision

Attempt = Callable[..., tuple[AttemptRecord, EncodedPayload]]
SLACK = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
AUTH = "Bearer sk0123456789abcdefGHIJKLmnop"
TABLES = {
    "alembic_version",
    "pipeline_version",
    "payload",
    "payload_dictionary",
    "run",
    "step_attempt",
    "diagnosis",
    "rubric_result",
    "human_action",
    "run_schema",
}


def _count(store: TraceStore, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


# ---------------------------------------------------------------- schema


def test_opening_runs_the_migrations(store: TraceStore) -> None:
    with store.engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == TABLES
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("run")}
    assert "ix_run_pipeline_status_started" in indexes
    assert current_revision(store.engine) == head_revision()


def test_models_match_the_migrations(store: TraceStore) -> None:
    """A change to models.py without a migration (or the reverse) fails here."""
    ours = {t for t in TABLES if t != "alembic_version"}
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": False,
                "include_name": lambda name, kind, _parent: kind != "table" or name in ours,
            },
        )
        diffs = compare_metadata(ctx, SQLModel.metadata)
    assert diffs == []


def test_reopening_is_a_no_op(store_url: str, store: TraceStore, make_run: Any) -> None:
    make_run("wf-1")
    with TraceStore.open(store_url) as again:
        assert len(again.list_runs()) == 1


def test_default_location_is_dot_steptrace_in_the_cwd(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with TraceStore.open(None) as store:
        assert store.database == f"sqlite:///{tmp_path}/.steptrace/trace.db"
    assert (tmp_path / ".steptrace" / "trace.db").is_file()


# ---------------------------------------------------------------- attempts and payloads


def test_an_attempt_reads_back_as_the_record_it_was_written_from(
    store: TraceStore, make_run: Any, attempt: Attempt
) -> None:
    """Read back without validation (AttemptRecord.from_stored): same values, same types."""
    after = encode({"id": "rec1", "Name": "Ada"})
    record, payload = attempt(
        workflow_id="wf",
        temporal_run_id="r1",
        status="failed",
        error=AttemptError(error_class="HTTPError", message="422", status=422, retry_after=2.5),
        external_writes=[
            WriteRecord(
                tool="airtable",
                object_kind="record",
                object_id="rec1",
                action="update",
                after_hash=after.hash,
            )
        ],
        inner_retries=[{"call": "update", "status": 429}],
    )
    store.record_attempts([record], [payload, after])
    (read,) = store.attempts("wf/r1")
    assert read == record
    assert read.model_dump() == record.model_dump()
    assert read.error is not None and record.error is not None
    assert read.error.model_dump(exclude_none=True) == record.error.model_dump(exclude_none=True)
    assert isinstance(read.status, AttemptStatus)
    assert isinstance(read.error, AttemptError)
    assert isinstance(read.external_writes[0], WriteRecord)
    assert read.started_at.tzinfo is not None


def test_same_attempt_key_twice_is_one_row(
    store: TraceStore, make_run: Any, attempt: Attempt
) -> None:
    record, payload = attempt(workflow_id="wf", temporal_run_id="r1")
    store.record_attempts([record], [payload])
    store.record_attempts([record, record], [payload])
    assert _count(store, "step_attempt") == 1
    assert store.attempts("wf/r1") == [record]


def test_attempts_round_trip_with_error_and_writes(store: TraceStore, attempt: Attempt) -> None:
    before, after = encode({"Status": "Todo"}), encode({"Status": "Done"})
    first, payload = attempt(
        activity_id="3",
        step_index=2,
        status="failed",
        error=AttemptError(
            error_class="AirtableError",
            message="Unknown field name: Priority",
            retryable=False,
            status=422,
            code="UNKNOWN_FIELD_NAME",
            field="fields.Priority",
        ),
    )
    second, _ = attempt(
        activity_id="3",
        attempt_no=2,
        step_index=2,
        output_hash=after.hash,
        external_writes=(
            WriteRecord(
                tool="airtable",
                object_kind="record",
                object_id="rec1",
                action="update",
                before_hash=before.hash,
                after_hash=after.hash,
            ),
        ),
    )
    earlier, p0 = attempt(activity_id="1", step_index=0)
    store.record_attempts([second, first, earlier], [payload, p0, before, after])
    assert store.attempts("wf/r1") == [earlier, first, second]
    assert store.get_payload(before.hash) == {"Status": "Todo"}


def test_attempt_without_its_payload_is_refused(store: TraceStore, attempt: Attempt) -> None:
    record, _ = attempt()
    with pytest.raises(StoreDataError, match="payload hash"):
        store.record_attempts([record], [])
    assert _count(store, "step_attempt") == 0


def test_identical_payloads_are_stored_once(store: TraceStore, attempt: Attempt) -> None:
    value = {"issue": {"identifier": "ENG-101", "title": "Sync me"}}
    records = [attempt(value, activity_id=str(i)) for i in range(5)]
    reordered = encode({"issue": {"title": "Sync me", "identifier": "ENG-101"}})
    store.record_attempts([r for r, _ in records], [p for _, p in records])
    store.put_payloads([reordered])
    assert _count(store, "payload") == 1
    assert {r.input_hash for r, _ in records} == {reordered.hash}


def test_compressible_json_is_stored_well_under_its_raw_size(store: TraceStore) -> None:
    rows = [
        {"id": f"rec{i}", "fields": {"Status": "Done", "Priority": "High"}} for i in range(2000)
    ]
    store.put_payloads([encode({"records": rows})])
    assert store.stored_bytes() < 0.25 * store.raw_bytes()


def test_ten_megabyte_payload_round_trips(
    store: TraceStore, big_value: dict[str, Any], big_payload: EncodedPayload
) -> None:
    store.put_payloads([big_payload])
    assert store.get_payload(big_payload.hash) == big_value
    assert store.raw_bytes() == big_payload.raw_size
    assert store.stored_bytes() == big_payload.stored_size


def test_unknown_payload_is_a_clear_error(store: TraceStore) -> None:
    with pytest.raises(PayloadNotFoundError, match="no payload with hash abc"):
        store.get_payload("abc")


def test_planted_secrets_never_reach_the_database(
    store: TraceStore, attempt: Attempt, database_text: Callable[[], bytes]
) -> None:
    description = "Repro steps:\n" + "The sync posts to #ops. " * 300 + f"token {SLACK} here."
    trigger = encode({"headers": {"Authorization": AUTH}, "issue": {"description": description}})
    run = NewRun(run_id="wf/r1", pipeline="p", started_at=datetime.now(UTC))
    store.start_run(run, trigger=trigger)
    record, payload = attempt(
        {"description": description},
        status="failed",
        error=AttemptError(error_class="SlackApiError", message=f"invalid_auth for {SLACK}"),
    )
    store.record_attempts([record], [payload])
    store.add_diagnosis("wf/r1", {"explanation": f"the header {AUTH} was rejected"})
    store.save_pipeline_version("p", f"steps: []  # token {SLACK}\n")
    text = database_text()
    assert b"The sync posts to #ops." in text  # the scan does see payload contents
    for secret in (SLACK, AUTH, AUTH.split()[1]):
        assert secret.encode() not in text
    assert b"[redacted: Slack token]" in text
    assert b"[redacted: key 'authorization']" in text


# ---------------------------------------------------------------- runs and queries


def test_run_lifecycle(store: TraceStore, make_run: Any) -> None:
    version = store.save_pipeline_version("triage-sync", "steps: []\n")
    assert store.save_pipeline_version("triage-sync", "steps: []\n") == version
    assert store.get_pipeline_spec(version) == "steps: []\n"
    run = make_run("wf-1", version_hash=version)
    make_run("wf-1", temporal_run_id=run.temporal_run_id)  # same run again: a no-op
    stored = store.get_run(run.run_id)
    assert stored is not None
    assert stored.status is RunStatus.RUNNING
    assert stored.started_at == run.started_at
    store.finish_run(run.run_id, RunStatus.FAILED, failed_step="upsert_airtable")
    stored = store.get_run(run.run_id)
    assert stored is not None
    assert (stored.status, stored.failed_step) == (RunStatus.FAILED, "upsert_airtable")
    assert stored.ended_at is not None
    assert stored.ended_at.tzinfo is not None
    assert store.get_run("nope") is None


def test_finishing_an_unknown_run_is_a_clear_error(store: TraceStore) -> None:
    with pytest.raises(StoreDataError, match="no such run; call start_run first"):
        store.finish_run("wf/missing", RunStatus.SUCCEEDED)


def test_replay_links_to_its_parent(store: TraceStore, make_run: Any) -> None:
    parent = make_run("wf-1")
    child = make_run("wf-1-replay", kind=RunKind.REPLAY, parent_run_id=parent.run_id)
    stored = store.get_run(child.run_id)
    assert stored is not None
    assert (stored.kind, stored.parent_run_id) == (RunKind.REPLAY, parent.run_id)


def _runs(
    store: TraceStore, make_run: Any, spec: list[tuple[str, str, RunStatus, int]]
) -> dict[str, str]:
    """Create runs (name, version, final status, minutes after T0); return name -> run id."""
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    versions = {v: store.save_pipeline_version("p", f"v: {v}\n") for _, v, _, _ in spec}
    ids = {}
    for name, version, status, minute in spec:
        run = make_run(
            name,
            pipeline="p",
            version_hash=versions[version],
            started_at=t0 + timedelta(minutes=minute),
        )
        if status is not RunStatus.RUNNING:
            store.finish_run(run.run_id, status)
        ids[name] = run.run_id
    return ids


def test_last_good_run_and_latest_failed_run(store: TraceStore, make_run: Any) -> None:
    ids = _runs(
        store,
        make_run,
        [
            ("a", "v1", RunStatus.SUCCEEDED, 0),
            ("b", "v1", RunStatus.SUCCEEDED, 10),
            ("c", "v2", RunStatus.SUCCEEDED, 20),
            ("d", "v1", RunStatus.FAILED, 30),
            ("e", "v1", RunStatus.QC_FAILED, 40),
            ("f", "v1", RunStatus.SUCCEEDED, 50),
            ("g", "v1", RunStatus.RUNNING, 60),
        ],
    )
    v1 = store.save_pipeline_version("p", "v: v1\n")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    good = store.last_good_run("p", v1, before=t0 + timedelta(minutes=30))
    assert good is not None and good.run_id == ids["b"]
    any_version = store.last_good_run("p", None, before=t0 + timedelta(minutes=30))
    assert any_version is not None and any_version.run_id == ids["c"]
    assert store.last_good_run("p", v1, before=t0) is None
    assert store.last_good_run("other", v1, before=t0 + timedelta(days=1)) is None
    failed = store.latest_failed_run()
    assert failed is not None and failed.run_id == ids["e"]
    assert store.latest_failed_run("other") is None
    assert [r.run_id for r in store.list_runs(status=RunStatus.SUCCEEDED, limit=2)] == [
        ids["f"],
        ids["c"],
    ]
    assert len(store.list_runs(pipeline="p")) == 7


def test_diagnoses_rubric_results_and_human_actions(store: TraceStore, make_run: Any) -> None:
    run = make_run("wf-1")
    diagnosis = store.add_diagnosis(
        run.run_id, {"onset_step": "map", "fault_class": "mapping_error"}
    )
    assert diagnosis.id is not None
    assert store.diagnoses(run.run_id) == [diagnosis]
    result = RubricResultRecord(
        run_id=run.run_id,
        rubric_id="priority-mapped",
        rubric_version="1",
        outcome="fail",
        severity="high",
        evidence={"paths": ["fields.Priority"]},
        step_id="map",
    )
    store.add_rubric_results([result])
    [stored] = store.rubric_results(run.run_id)
    assert stored.model_dump(exclude={"id", "created_at"}) == result.model_dump(
        exclude={"id", "created_at"}
    )
    action = store.add_human_action(
        HumanActionRecord(
            run_id=run.run_id,
            slack_user_id="U123",
            action="approve",
            allowed=False,
            detail={"tier": 1},
        )
    )
    assert action.at is not None
    assert store.human_actions(run.run_id) == [action]


def test_rubric_result_for_unknown_run_is_refused(store: TraceStore) -> None:
    result = RubricResultRecord(
        run_id="nope", rubric_id="r", rubric_version="1", outcome="pass", severity="low"
    )
    with pytest.raises(StoreDataError):
        store.add_rubric_results([result])


def test_concurrent_openers_migrate_once(store_url: str) -> None:
    """Workers starting together on a new store: one creates it, none fails."""
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_store() -> None:
        start.wait()
        try:
            TraceStore.open(store_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (lambda s: s.last_good_run("p", "v1", datetime.now(UTC)), "ix_run_version_status_started"),
        (lambda s: s.last_good_run("p", None, datetime.now(UTC)), "ix_run_pipeline_status_started"),
        (lambda s: s.latest_failed_run(), "ix_run_status_started"),
        (lambda s: s.latest_failed_run("p"), "ix_run_pipeline_status_started"),
    ],
)
def test_run_lookups_use_an_index(
    sqlite_store: TraceStore, query: Callable[[TraceStore], Any], index: str
) -> None:
    """With 100k runs these must be index probes, not scans (SQLite's plan says which)."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    sa.event.listen(sqlite_store.engine, "before_cursor_execute", capture)
    query(sqlite_store)
    sa.event.remove(sqlite_store.engine, "before_cursor_execute", capture)
    with sqlite_store.engine.connect() as conn:
        for statement, params in statements:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            details = " ".join(str(row[-1]) for row in plan)
            assert f"USING INDEX {index}" in details, details
            assert "TEMP B-TREE" not in details, details
