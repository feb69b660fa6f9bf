"""The never-harms checks a replayed fix must pass beyond "the destination accepts it"."""

from __future__ import annotations

from typing import Any

from orchestrator.diagnosis.fix_guard import Guard
from tracer.diagnose import RunSnapshot, StepSnapshot
from tracer.schemas import ContainerSchema, FieldSchema

OP = "airtable.upsert_record"


def run(run_id: str, fields: dict[str, Any], status: str = "succeeded") -> RunSnapshot:
    write = StepSnapshot(
        step="upsert",
        index=2,
        op=OP,
        kind="write",
        status=status,
        input={"table": "Issues", "fields": fields},
        output=None,
    )
    return RunSnapshot(run_id=run_id, trigger={}, steps={"upsert": write})


GOOD = (run("good-1", {"Title": "a", "Priority": "High", "Due": "2026-11-02"}),)
FAILED = run("bad", {"Title": "b", "Priority": "Low", "Due": "2026-11-09"}, "failed")


def schema(priority_name: str) -> ContainerSchema:
    return ContainerSchema(
        "airtable",
        "app/tbl",
        (
            FieldSchema("fldT", "Title", "singleLineText"),
            FieldSchema("fldP", priority_name, "singleSelect"),
            FieldSchema("fldD", "Due", "date"),
        ),
    )


def test_a_fix_that_stops_writing_a_field_is_refused() -> None:
    guard = Guard(good_runs=GOOD, run=FAILED)
    verdict = guard.write("upsert", OP, {"fields": {"Title": "b", "Due": "2026-11-09"}})
    assert verdict.ok is False
    assert "no longer write `Priority` (data dropped)" in verdict.detail


def test_a_rename_confirmed_by_id_keeps_the_field() -> None:
    guard = Guard(
        good_runs=GOOD,
        run=FAILED,
        schemas_then={"upsert": schema("Priority")},
        schemas_now={"upsert": schema("Urgency")},
    )
    args = {"fields": {"Title": "b", "Urgency": "Low", "Due": "2026-11-09"}}
    assert guard.write("upsert", OP, args).ok is True


def test_a_rename_no_snapshot_confirms_is_not_verified() -> None:
    guard = Guard(good_runs=GOOD, run=FAILED)
    args = {"fields": {"Title": "b", "Urgency": "Low", "Due": "2026-11-09"}}
    verdict = guard.write("upsert", OP, args)
    assert verdict.ok is None and "no schema snapshot confirms" in verdict.detail


def test_a_rename_to_a_field_with_another_id_is_refused() -> None:
    other = ContainerSchema(
        "airtable",
        "app/tbl",
        (*schema("Priority").fields[:1], FieldSchema("fldX", "Urgency", "singleSelect")),
    )
    guard = Guard(
        good_runs=GOOD,
        run=FAILED,
        schemas_then={"upsert": schema("Priority")},
        schemas_now={"upsert": other},
    )
    args = {"fields": {"Title": "b", "Urgency": "Low", "Due": "2026-11-09"}}
    assert guard.write("upsert", OP, args).ok is False


def test_writing_a_field_empty_that_the_run_had_a_value_for_is_refused() -> None:
    guard = Guard(good_runs=GOOD, run=FAILED)
    verdict = guard.write("upsert", OP, {"fields": {"Title": "b", "Priority": None, "Due": "x"}})
    assert verdict.ok is False and "`Priority` empty" in verdict.detail


def test_the_symptom_must_be_checked_and_failed_rubrics_must_pass() -> None:
    unchecked = Guard(failed_step="upsert")
    assert unchecked.symptom(set(), {}, None).ok is None
    assert unchecked.symptom({"upsert"}, {}, None).ok is True
    still = Guard(rubrics=("r.one",), rubric_check=lambda _c, _ids, _s: {"r.one": "fail"})
    assert still.symptom({"upsert"}, {}, None).ok is False
    unsure = Guard(
        rubrics=("r.one",), rubric_check=lambda _c, _ids, _s: {"r.one": "not_applicable"}
    )
    assert unsure.symptom({"upsert"}, {}, None).ok is None
    fixed = Guard(rubrics=("r.one",), rubric_check=lambda _c, _ids, _s: {"r.one": "pass"})
    assert fixed.symptom({"upsert"}, {}, None).ok is True
    assert Guard(rubrics=("r.one",)).symptom({"upsert"}, {}, None).ok is None
