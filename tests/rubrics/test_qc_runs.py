"""QC over real runs: the reference pipeline through the embedded stack (real Temporal
dev server, sandbox on loopback, SQLite store), reviewed post hoc and by a `qc` step."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from connectors.sandbox.faults import Fault
from orchestrator.qc.params import pipeline_params
from orchestrator.qc.reread import good_inputs, with_rereads
from orchestrator.qc.review import qc_report, review_run, run_evidence
from orchestrator.runtime.activities import StepActivities
from orchestrator.spec.pipeline import LoadedPipeline, load_pipeline, parse_pipeline
from orchestrator.tools.clients import ToolClients
from rubrics.model import Outcome
from tests.orchestrator.conftest import StackFactory

ISSUES = ("ENG-101", "ENG-104", "ENG-105", "ENG-110", "ENG-101")  # unicode, long, repeated


def without_qc_step(pipeline: LoadedPipeline) -> LoadedPipeline:
    """The reference pipeline minus its `qc` step, to review its runs post hoc."""
    text = pipeline.text.replace("  - id: qc\n    op: qc.review\n\n", "", 1)
    assert text != pipeline.text
    return parse_pipeline(text, source="linear-triage-sync-qc")


async def test_clean_runs_reviewed_post_hoc_raise_no_false_alarm(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    reference = without_qc_step(reference)
    async with make_stack() as stack:
        outcomes = [await stack.run(reference, {"issue": issue}) for issue in ISSUES]
        assert stack.committer is not None and stack.store is not None
        stack.committer.close(30)
        for outcome in outcomes:
            assert outcome.status == "succeeded", outcome.error
            results = review_run(stack.store, outcome.run_id, reference.spec)
            alarms = [
                (r.rubric_id, r.message)
                for r in results
                if r.kind == "deterministic"
                and r.outcome not in (Outcome.PASS, Outcome.NOT_APPLICABLE)
            ]
            assert alarms == []
            assert {r.outcome for r in results if r.kind == "llm"} <= {
                Outcome.NOT_JUDGED,
                Outcome.NOT_APPLICABLE,
            }
        last = outcomes[-1].run_id
        stored = stack.store.rubric_results(last)
        assert len(stored) == len(results)
        assert (
            next(r for r in stored if r.rubric_id == "integrity.no_stale_overwrite").outcome
            == "pass"
        )
        report = qc_report(stack.store, last)
        assert json.loads(json.dumps(report))["coverage"]["fail"] == 0
        assert len(stack.store.rubric_results(last)) == len(results), (
            "a report reads, not re-stores"
        )


async def test_qc_step_reviews_the_run_before_the_message(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    pipeline = reference
    async with make_stack() as stack:
        outcome = await stack.run(pipeline, {"issue": "ENG-102"})
        assert outcome.status == "succeeded", outcome.error
        review = outcome.outputs["qc"]
        assert review["blockers"] == [] and review["failed"] == []
        assert "safety.right_channel" in review["passed"]
        assert review["coverage"]["not_judged"] >= 1
        assert stack.store is not None
        stored = {r.rubric_id: r for r in stack.store.rubric_results(outcome.run_id)}
        assert stored["safety.right_channel"].step_id == "notify_slack"


BRIEF = Path(__file__).resolve().parents[2] / "scenarios" / "pipelines" / "user-issue-brief.yaml"
DATED = ("ENG-111", "ENG-113", "ENG-115")  # seeded issues with a due date and a description
UNDATED = "ENG-110"  # a seeded issue with no due date


async def test_a_null_read_field_is_judged_by_reading_the_good_objects_again(
    make_stack: StackFactory,
) -> None:
    """An optional field empty on one record passes, the good objects still having it;
    the same kind of null from a source that stopped sending the field fails at the read
    step, before the post (real sandbox: Linear drops `description` from run 5)."""
    brief = load_pipeline(BRIEF)
    dropped = Fault(service="linear", kind="drop_field", target="description", from_run=5)
    async with make_stack(faults=[dropped]) as stack:
        assert stack.sandbox is not None and stack.store is not None
        for index, issue in enumerate(DATED, start=1):
            stack.sandbox.begin_run(index)
            assert (await stack.run(brief, {"issue": issue})).status == "succeeded"
        stack.sandbox.begin_run(4)
        optional = await stack.run(brief, {"issue": UNDATED})
        assert optional.status == "succeeded", optional.error
        assert "process.reads_still_there" in optional.outputs["qc"]["passed"]
        params = pipeline_params(brief.spec)
        async with httpx.AsyncClient() as http:
            readers = StepActivities(ToolClients.from_settings(stack.settings, http)).by_op()
            evidence = await with_rereads(
                stack.store,
                run_evidence(stack.store, optional.run_id, params=params),
                params,
                readers,
            )
        assert evidence.reread["read_issue"] == [{"due_date": "string"}] * 3
        earlier = [r for r in stack.store.list_runs(limit=10) if r.run_id != optional.run_id]
        own = {"read_issue": {"id": "ENG-113"}}  # a record never vouches for itself
        assert good_inputs(stack.store, earlier, own) == {
            "read_issue": [{"id": "ENG-115"}, {"id": "ENG-111"}]
        }

        stack.sandbox.begin_run(5)
        drifted = await stack.run(brief, {"issue": "ENG-116"})
        assert drifted.status == "qc_failed", drifted.error
        stored = {r.rubric_id: r for r in stack.store.rubric_results(drifted.run_id)}
        failed = stored["process.reads_still_there"]
        assert (failed.outcome, failed.step_id) == ("fail", "read_issue")
        assert "stopped sending" in failed.evidence["message"]
        record = stack.store.get_run(drifted.run_id)
        assert record is not None and record.failed_step == "qc"  # stopped before the post
        # The second look is the qc step's handoff: a later review judges the same way.
        assert drifted.outputs["qc"]["reread"]["read_issue"][0]["description"] == "null"
        again = run_evidence(stack.store, drifted.run_id, params=params)
        assert again.reread["read_issue"][0]["description"] == "null"
        [later] = review_run(
            stack.store,
            drifted.run_id,
            brief.spec,
            select=["process.reads_still_there"],
            save=False,
        )
        assert later.outcome == Outcome.FAIL


async def test_calls_retried_inside_an_attempt_count_against_the_retry_budget(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    """Airtable answers 503 twice; its client retries inside the one attempt, and the
    evidence carries those retries, so the step is over its budget of two tries."""
    reference = without_qc_step(reference)
    unavailable = Fault(
        service="airtable", kind="http_error", status=503, times=2, operation="upsert_records"
    )
    async with make_stack(faults=[unavailable]) as stack:
        outcome = await stack.run(reference, {"issue": "ENG-101"})
        assert outcome.status == "succeeded", outcome.error
        assert stack.committer is not None and stack.store is not None
        stack.committer.close(30)
        evidence = run_evidence(stack.store, outcome.run_id)
        upsert = evidence.step("upsert_airtable")
        assert upsert is not None
        assert (upsert.attempts, upsert.inner_retries) == (1, 2)
        fetch = evidence.step("fetch_issue")
        assert fetch is not None and fetch.inner_retries == 0
        only = ["process.retries_within_budget"]
        [result] = review_run(stack.store, outcome.run_id, reference.spec, select=only, save=False)
        assert (result.outcome, result.step_id) == (Outcome.FAIL, "upsert_airtable")
        assert "made 3 tries" in result.message
