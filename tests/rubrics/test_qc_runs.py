"""QC over real runs: the reference pipeline through the embedded stack (real Temporal
dev server, sandbox on loopback, SQLite store), reviewed post hoc and by a `qc` step."""

from __future__ import annotations

import json

from orchestrator.qc.review import qc_report, review_run
from orchestrator.spec.pipeline import LoadedPipeline, parse_pipeline
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
