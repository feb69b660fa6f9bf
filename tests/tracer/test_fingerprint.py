"""The one failure fingerprint: what it keeps, what it drops, and where it is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from tracer.fingerprint import of_diagnosis, signature, undiagnosed
from tracer.store import NewRun, TraceStore
from tracer.store.engine import create_store_engine
from tracer.store.migrate import alembic_config

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def body(run: str, message: str, **fields: Any) -> dict[str, Any]:
    return {
        "run_id": run,
        "status": "failed",
        "failed_step": "upsert",
        "onset_step": "normalize",
        "fault_class": "upstream_schema_drift",
        "explanation": "the source renamed a field",
        "evidence": {"error": {"error_class": "UnknownFieldError", "message": message}},
        "proposed_fix": {"kind": "spec_patch"},
        "links": {"run": run},
    } | fields


def test_the_same_failure_on_other_records_has_one_id() -> None:
    one = of_diagnosis("p", body("a", "Unknown field 'Priority' on rec0123456789abcd (ENG-101)"))
    two = of_diagnosis("p", body("b", "Unknown field 'Prio' on rec9876543210zyxw (OPS-7)"))
    assert one.id == two.id
    assert one.signature == "UnknownFieldError: Unknown field _ on _ (_)"
    other = of_diagnosis("p", body("c", "Unknown field 'X'", fault_class="mapping_error"))
    assert other.id != one.id
    assert of_diagnosis("q", body("a", "Unknown field 'X'")).id != one.id


def test_a_qc_failure_is_named_by_its_rubrics_and_an_undiagnosed_run_by_its_step() -> None:
    assert signature(None, ["b_rubric", "a_rubric", "b_rubric"]) == "rubric a_rubric, b_rubric"
    assert signature(None) == "error"
    found = undiagnosed("p", "upsert", {"error_class": "HttpError", "message": "503 after 30s"})
    assert (found.onset_step, found.fault_class, found.signature) == (
        "upsert",
        "undiagnosed",
        "HttpError: _ after _s",
    )


def test_a_stored_diagnosis_carries_its_group_and_the_run_joins_it(store: TraceStore) -> None:
    for n in range(3):
        store.start_run(NewRun(run_id=f"r{n}", pipeline="p", started_at=T0 + timedelta(n)))
    expected = of_diagnosis("p", body("r0", "Unknown field 'A'")).id
    store.add_diagnosis("r0", body("r0", "Unknown field 'A'"))
    store.add_diagnosis("r1", body("r1", "Unknown field 'B'"))
    store.add_diagnosis("r2", body("r2", "timeout", fault_class="transient"))
    store.add_diagnosis("r2", body("r2", "Unknown field 'C'"))  # a newer diagnosis moves it
    assert store.diagnoses("r0")[0].group_id == expected
    members = store.list_runs(failure_group=expected)
    assert [r.run_id for r in members] == ["r2", "r1", "r0"]
    [group] = store.failure_groups()
    assert (group.group_id, group.runs, group.latest_run_id) == (expected, 3, "r2")
    assert group.first_seen == T0 and group.last_seen == T0 + timedelta(2)
    assert group.fingerprint.fault_class == "upstream_schema_drift"


def test_the_migration_backfills_the_groups_of_stored_diagnoses(store_url: str) -> None:
    if store_url.startswith("sqlite"):
        Path(store_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0004")
        for n in range(2):
            conn.execute(
                sa.text(
                    "INSERT INTO run (run_id, pipeline, status, kind, started_at) "
                    "VALUES (:r, 'p', 'failed', 'pipeline', :t)"
                ),
                {"r": f"r{n}", "t": T0.replace(tzinfo=None) + timedelta(n)},
            )
        bodies = [("r0", body("r0", "x", fault_class="transient")), ("r0", body("r0", "y"))]
        bodies.append(("r1", body("r1", "Unknown field 'B'")))
        for run, value in bodies:
            conn.execute(
                sa.text(
                    "INSERT INTO diagnosis (run_id, body, created_at) VALUES (:r, :b, :t)"
                ).bindparams(sa.bindparam("b", type_=sa.JSON())),
                {"r": run, "b": value, "t": T0.replace(tzinfo=None)},
            )
    engine.dispose()
    store = TraceStore.open(store_url)  # upgrades to the head: 0005 backfills
    try:
        first, newest = store.diagnoses("r0")
        assert first.group_id == of_diagnosis("p", bodies[0][1]).id
        assert newest.group_id == of_diagnosis("p", bodies[1][1]).id != first.group_id
        assert newest.signature == "UnknownFieldError: y"
        [r1] = store.diagnoses("r1")
        assert store.get_run("r0").failure_group == newest.group_id  # type: ignore[union-attr]
        assert store.get_run("r1").failure_group == r1.group_id  # type: ignore[union-attr]
        assert [r.run_id for r in store.list_runs(failure_group=r1.group_id)] == ["r1"]
    finally:
        store.close()
