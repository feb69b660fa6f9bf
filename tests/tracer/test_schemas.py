"""Schemas as evidence: renames found by stable id, stored once per content, linked per run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracer.payloads import encode
from tracer.schemas import ContainerSchema, FieldSchema, Option, diff_schemas, renamed_field
from tracer.store import RunStatus, TraceStore

THEN = ContainerSchema(
    "airtable",
    "app1/tbl1",
    (
        FieldSchema(
            "fldP", "Priority", "singleSelect", (Option("sel1", "High"), Option("sel2", "Low"))
        ),
        FieldSchema("fldT", "Title", "singleLineText"),
        FieldSchema("fldX", "Extra", "singleLineText"),
    ),
)


def test_a_rename_is_found_by_id_not_by_name() -> None:
    now = ContainerSchema(
        "airtable",
        "app1/tbl1",
        (
            FieldSchema("fldP", "Urgency", "singleSelect", (Option("sel1", "High"),)),
            FieldSchema("fldT", "Title", "singleLineText"),
            # a field named like the old one, with another id: not the renamed field
            FieldSchema("fldZ", "Priority Old", "singleLineText"),
        ),
    )
    diff = diff_schemas(THEN, now, "run-a")
    kinds = {(c.kind, c.name, c.to) for c in diff.changes}
    assert ("renamed", "Priority", "Urgency") in kinds
    assert ("option_removed", "Urgency", "Low") in kinds
    assert ("dropped", "Extra", None) in kinds
    assert ("added", "Priority Old", None) in kinds
    assert renamed_field(THEN, now, "Priority") == "Urgency"
    assert renamed_field(THEN, now, "Extra") is None
    assert "`fldP` renamed `Priority` → `Urgency`" in diff.text()


def test_json_round_trip_is_stable_so_equal_schemas_hash_equal() -> None:
    shuffled = ContainerSchema(THEN.tool, THEN.container, tuple(reversed(THEN.fields)))
    assert encode(THEN.to_json()).hash == encode(shuffled.to_json()).hash
    assert ContainerSchema.from_json(THEN.to_json()) == ContainerSchema(
        THEN.tool, THEN.container, tuple(sorted(THEN.fields, key=lambda f: f.id))
    )


def test_schemas_are_stored_once_and_linked_per_run(store: TraceStore, make_run: Any) -> None:
    first, second = make_run("wf-1"), make_run("wf-2")
    payload = encode(THEN.to_json())
    store.add_run_schemas(first.run_id, {"upsert": payload})
    store.add_run_schemas(second.run_id, {"upsert": payload})
    store.add_run_schemas(second.run_id, {"upsert": payload})  # a retried activity
    assert store.run_schemas(first.run_id) == {"upsert": THEN.to_json()}
    assert store.run_schemas(second.run_id) == {"upsert": THEN.to_json()}
    assert store.run_schemas("no-such-run") == {}
    with store.engine.connect() as conn:
        import sqlalchemy as sa

        rows = conn.execute(
            sa.text("SELECT count(*) FROM payload WHERE hash = :h"), {"h": payload.hash}
        ).scalar_one()
    assert rows == 1


def test_each_step_s_baseline_is_the_newest_good_run_that_recorded_that_step(
    store: TraceStore, make_run: Any
) -> None:
    at = [datetime(2026, 11, 1, 12, minute, tzinfo=UTC) for minute in range(5)]
    older, newer, skipped, other, failed = (
        make_run(f"wf-{n}", started_at=at[n], pipeline="other" if n == 3 else "triage-sync")
        for n in range(5)
    )
    for run in (older, newer, skipped, other):
        store.finish_run(run.run_id, RunStatus.SUCCEEDED)
    store.finish_run(failed.run_id, RunStatus.FAILED, "upsert")
    payload = encode(THEN.to_json())
    store.add_run_schemas(older.run_id, {"upsert": payload, "notify": payload})
    store.add_run_schemas(newer.run_id, {"upsert": payload})  # notify's read skipped
    store.add_run_schemas(other.run_id, {"upsert": payload, "notify": payload})
    store.add_run_schemas(failed.run_id, {"upsert": payload, "notify": payload})

    found = store.step_schema_baselines("triage-sync", None, at[4], ["upsert", "notify", "x"])
    assert found == {
        "upsert": (newer.run_id, THEN.to_json()),
        "notify": (older.run_id, THEN.to_json()),
    }
    assert store.step_schema_baselines("triage-sync", None, at[1], ["upsert"]) == {
        "upsert": (older.run_id, THEN.to_json())
    }
    assert store.step_schema_baselines("triage-sync", None, at[0], ["upsert"]) == {}
    assert store.step_schema_baselines("triage-sync", "v9", at[4], ["upsert"]) == {}
    # Only the newest ``within`` good runs are looked through, never the whole history.
    assert store.step_schema_baselines("triage-sync", None, at[4], ["upsert"], within=1) == {}
    assert store.step_schema_baselines(
        "triage-sync", None, at[4], ["upsert", "notify"], within=2
    ) == {"upsert": (newer.run_id, THEN.to_json())}
    anything = store.step_schema_baselines(
        "triage-sync", None, datetime(2026, 11, 2, tzinfo=UTC), ["upsert"], status=None
    )
    assert anything == {"upsert": (failed.run_id, THEN.to_json())}
