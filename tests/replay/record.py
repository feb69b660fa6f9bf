"""Record pipeline-workflow histories with the workflow code of an older commit.

Run by :mod:`tests.replay.regenerate` with that commit's tree first on ``PYTHONPATH``, so
``orchestrator.runtime.pipeline_workflow`` is the code as it was then. The activities
are stand-ins (only the workflow code decides the history's commands): each step op,
the run recorder, the diagnosis and the alert are answered here, and a step fails when
the trigger's issue is ``FAIL``. Usage::

    python record.py ADDRESS SCENARIO OUT.json   # SCENARIO: succeeded | failed
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from orchestrator.runtime import pipeline_workflow as pw

SPEC: dict[str, Any] = {
    "name": "replay-fixture",
    "steps": [
        {
            "id": "fetch_issue",
            "op": "linear.get_issue",
            "args": {"id": "trigger.issue"},
            "retry": {"maximum_attempts": 1},
        },
        {
            "id": "notify",
            "op": "slack.post_message",
            "args": {"channel": "'triage'", "text": "fetch_issue.title"},
        },
    ],
    "escalation": {
        "tiers": [
            {"name": "automatic retries", "automatic": True},
            {
                "name": "ops",
                "notify": ["#ops-alerts"],
                "approvers": ["U0A2OJVXRPU"],
                "ack_timeout": "2h",
            },
        ],
    },
}

TRIGGERS = {"succeeded": {"issue": "ENG-1"}, "failed": {"issue": "FAIL"}}


@activity.defn(name="linear.get_issue")
async def get_issue(call: dict[str, Any]) -> dict[str, Any]:
    if call["args"]["id"] == "FAIL":
        raise ApplicationError("issue not found", type="NotFound", non_retryable=True)
    return {"output": {"identifier": call["args"]["id"], "title": "Login fails"}}


@activity.defn(name="slack.post_message")
async def post_message(call: dict[str, Any]) -> dict[str, Any]:
    return {"output": {"ok": True, "channel": call["args"]["channel"]}}


@activity.defn(name="steptrace.record_run")
async def record_run(event: dict[str, Any]) -> None:
    return None


@activity.defn(name="steptrace.record_schemas")
async def record_schemas(run_id: str) -> None:
    return None


@activity.defn(name="steptrace.raise_alert")
async def raise_alert(alert: dict[str, Any]) -> None:
    return None


@activity.defn(name="steptrace.diagnose")
async def diagnose(run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": "failed",
        "failed_step": "fetch_issue",
        "onset_step": "fetch_issue",
        "fault_class": "invalid_source_data",
        "explanation": "the issue does not exist",
        "evidence": {"error": {"type": "NotFound", "message": "issue not found"}},
        "proposed_fix": {"kind": "escalate"},
        "links": {"run": run_id, "step": "fetch_issue"},
    }


@workflow.defn(name="EscalationWorkflow")
class EscalationStandIn:
    """The child a failed run started before alert groups: it ends at once."""

    @workflow.run
    async def run(self, params: dict[str, Any]) -> None:
        return None


async def record(address: str, scenario: str) -> str:
    """The history of one run of ``scenario``, as Temporal's JSON."""
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    queue = f"replay-{uuid.uuid4().hex[:8]}"
    params = pw.PipelineInput(spec=SPEC, trigger=TRIGGERS[scenario], escalate=True)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[pw.PipelineWorkflow, EscalationStandIn],
        activities=[get_issue, post_message, record_run, record_schemas, raise_alert, diagnose],
        # Recording only: the replay tests run today's code in the sandbox.
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(
            pw.PIPELINE_WORKFLOW,
            params,
            id=f"replay-{scenario}",
            task_queue=queue,
            # A workflow task that fails (a bad fixture) ends the run instead of retrying.
            run_timeout=timedelta(seconds=60),
        )
        try:
            await handle.result()
        except WorkflowFailureError:
            if scenario != "failed":
                raise
        history = await handle.fetch_history()
    return json.dumps(json.loads(history.to_json()), indent=1) + "\n"


if __name__ == "__main__":
    Path(sys.argv[3]).write_text(asyncio.run(record(sys.argv[1], sys.argv[2])))
