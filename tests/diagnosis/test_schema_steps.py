"""Which schemas a run's end reads, from what the workflow says it called (no store)."""

from __future__ import annotations

from orchestrator.diagnosis.schema_record import SchemaRecorder, called_tool_steps
from orchestrator.runtime.pipeline_workflow import StepUse
from tracer.store import RunKind

CALLED = {
    "fetch_issue": StepUse(op="linear.get_issue"),
    "shape": StepUse(op="transform"),
    "upsert_airtable": StepUse(
        op="airtable.upsert_record", container={"base": "appX", "table": "Issues"}
    ),
    "notify": StepUse(op="slack.post_message"),
}


def test_a_run_reads_the_schemas_of_the_tools_it_called() -> None:
    steps = called_tool_steps(CALLED, RunKind.PIPELINE)
    assert steps == {
        "fetch_issue": ("linear.get_issue", {}),
        "upsert_airtable": ("airtable.upsert_record", {"base": "appX", "table": "Issues"}),
        "notify": ("slack.post_message", {}),
    }


def test_a_replay_reads_only_its_writes_schemas() -> None:
    assert set(called_tool_steps(CALLED, RunKind.REPLAY)) == {"upsert_airtable", "notify"}


def test_a_good_run_skips_containers_read_moments_before_unless_a_rubric_failed() -> None:
    recorder = SchemaRecorder(None, None, reread_after=3600.0)
    steps = called_tool_steps(CALLED, RunKind.PIPELINE)
    assert recorder.choose(steps, "succeeded", failed_rubric=False) == steps
    assert recorder.choose(steps, "succeeded", failed_rubric=False) == {}
    assert recorder.choose(steps, "succeeded", failed_rubric=True) == steps
    assert recorder.choose(steps, "failed", failed_rubric=False) == steps
    other_table = {"upsert_airtable": ("airtable.upsert_record", {"base": "appX", "table": "T2"})}
    assert recorder.choose(other_table, "succeeded", failed_rubric=False) == other_table
