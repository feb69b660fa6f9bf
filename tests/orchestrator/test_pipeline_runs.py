"""Pipelines on a real Temporal server against the sandbox, with every handoff captured."""

from __future__ import annotations

from connectors.sandbox.faults import Fault
from orchestrator.spec.pipeline import LoadedPipeline, load_pipeline, parse_pipeline
from tests.orchestrator.conftest import PIPELINES, StackFactory
from tracer.store import AttemptStatus, RunStatus


async def test_reference_pipeline_records_every_handoff(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    async with make_stack() as stack:
        outcome = await stack.run(reference, {"issue": "ENG-101"})
        assert stack.store is not None and stack.sandbox is not None
        run = stack.store.get_run(outcome.run_id)
        attempts = stack.store.attempts(outcome.run_id)
        records = stack.sandbox.state("airtable")

    assert outcome.status == "succeeded", outcome.error
    assert run is not None and run.status is RunStatus.SUCCEEDED
    assert run.version_hash == reference.version
    assert [a.step_id for a in attempts] == [s.id for s in reference.spec.steps]
    assert all(a.status is AttemptStatus.SUCCEEDED and a.output_hash for a in attempts)
    fetched = stack.store.get_payload(attempts[0].output_hash or "")
    assert fetched["identifier"] == "ENG-101"
    normalized = stack.store.get_payload(attempts[1].output_hash or "")
    assert normalized["linear_id"] == "ENG-101"
    upsert = attempts[2]
    (write,) = upsert.external_writes
    assert (write.tool, write.action, write.before_hash) == ("airtable", "created", None)
    after = stack.store.get_payload(write.after_hash or "")
    assert after["fields"]["Linear ID"] == "ENG-101"
    assert "ENG-101" in str(records)


async def test_repeating_a_run_updates_instead_of_duplicating(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    async with make_stack() as stack:
        first = await stack.run(reference, {"issue": "ENG-102"})
        second = await stack.run(reference, {"issue": "ENG-102"})
        assert stack.store is not None and stack.sandbox is not None
        second_attempts = stack.store.attempts(second.run_id)
        airtable = stack.sandbox.state("airtable")

    assert (first.status, second.status) == ("succeeded", "succeeded")
    actions = {a.step_id: [w.action for w in a.external_writes] for a in second_attempts}
    assert actions["upsert_airtable"] == ["unchanged"]
    assert actions["sync_monday"] == ["unchanged"]
    assert str(airtable).count("'Linear ID': 'ENG-102'") == 1


async def test_transient_faults_are_retried_and_the_retries_are_visible(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    faults = [Fault(service="airtable", kind="http_error", status=503, times=2)]
    async with make_stack(faults=faults) as stack:
        outcome = await stack.run(reference, {"issue": "ENG-103"})
        assert stack.store is not None
        attempts = [
            a for a in stack.store.attempts(outcome.run_id) if a.step_id == "upsert_airtable"
        ]

    assert outcome.status == "succeeded"
    # Absorbed inside the attempt (a read of the table's records is safe to repeat),
    # and recorded on it: the retries are visible, never hidden.
    assert [a.status for a in attempts] == [AttemptStatus.SUCCEEDED]
    retried = attempts[0].inner_retries
    assert [(r["status"], r["error_class"]) for r in retried] == [(503, "TransientError")] * 2


async def test_a_permanent_failure_fails_the_run_at_that_step(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    faults = [
        Fault(service="airtable", kind="rename_field", target="Priority", to="Priority Level")
    ]
    async with make_stack(faults=faults) as stack:
        outcome = await stack.run(reference, {"issue": "ENG-104"})
        assert stack.store is not None
        run = stack.store.get_run(outcome.run_id)
        attempts = stack.store.attempts(outcome.run_id)

    assert outcome.status == "failed"
    assert run is not None and run.status is RunStatus.FAILED
    assert run.failed_step == "upsert_airtable"
    failed = attempts[-1]
    assert failed.step_id == "upsert_airtable" and len(attempts) == 3  # not retried
    assert failed.error is not None
    assert (failed.error.error_class, failed.error.code, failed.error.field) == (
        "UnknownFieldError",
        "UNKNOWN_FIELD_NAME",
        "Priority",
    )
    assert failed.error.retryable is False
    assert stack.store.get_payload(failed.input_hash)["fields"]["Priority"]


async def test_every_example_pipeline_runs(make_stack: StackFactory) -> None:
    intake = load_pipeline(PIPELINES / "airtable-intake-to-linear.yaml")
    digest = load_pipeline(PIPELINES / "monday-digest.yaml")
    async with make_stack() as stack:
        assert stack.sandbox is not None
        rows = stack.sandbox.state("airtable")
        record_id = _first_intake_row(rows)
        filed = await stack.run(intake, {"record_id": record_id})
        again = await stack.run(intake, {"record_id": record_id})
        summary = await stack.run(digest, {"date": "2026-11-23"})
        linear = stack.sandbox.state("linear")
        slack = stack.sandbox.state("slack")

    assert (filed.status, again.status, summary.status) == ("succeeded",) * 3, (
        filed.error,
        again.error,
        summary.error,
    )
    assert (
        filed.outputs["create_issue"]["identifier"] == again.outputs["create_issue"]["identifier"]
    )
    assert "Triage digest 2026-11-23" in str(slack)
    assert filed.outputs["create_issue"]["identifier"] in str(linear)


async def test_tracing_off_runs_the_same_pipeline_without_a_store(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    async with make_stack(tracing=False) as stack:
        outcome = await stack.run(reference, {"issue": "ENG-105"})
        assert stack.store is None
    assert outcome.status == "succeeded"
    assert outcome.outputs["normalize"]["linear_id"] == "ENG-105"


def _first_intake_row(state: dict[str, object]) -> str:
    """The id of an intake row that has a title."""
    import json

    text = json.dumps(state)
    data = json.loads(text)
    for table in _tables(data):
        if table.get("name") == "Intake":
            for record in table.get("records", []):
                if record.get("fields", {}).get("Title"):
                    return str(record["id"])
    raise AssertionError(f"no intake row in the sandbox state: {text[:300]}")


def _tables(data: object) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    if isinstance(data, dict):
        if "records" in data and "name" in data:
            found.append(data)
        for value in data.values():
            found += _tables(value)
    elif isinstance(data, list):
        for value in data:
            found += _tables(value)
    return found


POST_THEN_EDIT = """\
name: post-then-edit
steps:
  - id: post
    op: slack.post_message
    args: {channel: "'triage'", text: "'Daily digest: 3 open'"}
  - id: edit
    op: slack.update_message
    args: {channel: post.channel, ts: post.ts, text: "'Daily digest: 2 open'"}
"""


async def test_an_edit_of_a_posted_message_is_a_traced_write(make_stack: StackFactory) -> None:
    pipeline = parse_pipeline(POST_THEN_EDIT, source="post-then-edit.yaml")
    async with make_stack() as stack:
        outcome = await stack.run(pipeline, {})
        assert stack.store is not None
        attempts = {a.step_id: a for a in stack.store.attempts(outcome.run_id)}
        (write,) = attempts["edit"].external_writes
        before = stack.store.get_payload(write.before_hash or "")
        after = stack.store.get_payload(write.after_hash or "")

    assert outcome.status == "succeeded", outcome.error
    assert (write.tool, write.action) == ("slack", "updated")
    assert (before["text"], after["text"]) == ("Daily digest: 3 open", "Daily digest: 2 open")
