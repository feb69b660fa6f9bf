"""Runs recorded before each ``workflow.patched`` change replay on today's workflow code.

The histories in ``histories/`` were recorded with the pipeline workflow as it was at
the commit in each file's name (``regenerate.py`` says which patch each one predates and
records them again). A run started before a patch must replay the commands it issued
then — this is what keeps a spec or workflow-code change from breaking runs in flight.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from orchestrator.runtime.pipeline_workflow import PipelineWorkflow
from orchestrator.runtime.worker import workflow_runner
from tests.replay.unpatched import PipelineWorkflowWithAnExtraActivity

HISTORIES = Path(__file__).resolve().parent / "histories"
FIXTURES = sorted(HISTORIES.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    text = path.read_text()
    workflow_id = json.loads(text)["events"][0]["workflowExecutionStartedEventAttributes"]
    return WorkflowHistory.from_json(workflow_id.get("workflowId", path.stem), text)


def replayer(*workflows: type) -> Replayer:
    return Replayer(
        workflows=list(workflows),
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )


def event_types(history: WorkflowHistory) -> set[str]:
    return {event.WhichOneof("attributes") or "" for event in history.events}


def test_the_fixtures_cover_each_patch() -> None:
    """Pre-patch commands are in the fixtures: a child escalation (before ``alert-groups``),
    no patch marker at all (before ``record-schemas``), a separate schemas activity
    (before ``schemas-at-run-end``)."""
    names = {path.name for path in FIXTURES}
    assert {
        "988a887-succeeded.json",
        "988a887-failed.json",
        "8aa3663-succeeded.json",
        "8aa3663-failed.json",
    } <= names
    old = load(HISTORIES / "988a887-failed.json")
    assert "start_child_workflow_execution_initiated_event_attributes" in event_types(old)
    assert "marker_recorded_event_attributes" not in event_types(old)
    between = (HISTORIES / "8aa3663-succeeded.json").read_text()
    assert "steptrace.record_schemas" in between


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
async def test_a_run_recorded_before_a_patch_replays_on_todays_code(path: Path) -> None:
    result = await replayer(PipelineWorkflow).replay_workflow(load(path))
    assert result.replay_failure is None


async def test_the_replayer_detects_an_unpatched_change() -> None:
    history = load(HISTORIES / "8aa3663-succeeded.json")
    with pytest.raises(workflow.NondeterminismError):
        await replayer(PipelineWorkflowWithAnExtraActivity).replay_workflow(history)
