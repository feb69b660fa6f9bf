"""Running a replay: store the version to run, start the linked ``PipelineWorkflow``, wait.

Client-side code (a ``Client``), used by the CLI, the escalation's approvals and the console.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client, WorkflowFailureError

from orchestrator.humanloop.replay.plan import ReplayPlan, plan_replay
from orchestrator.runtime.pipeline_workflow import PIPELINE_WORKFLOW, PipelineInput, PipelineResult
from tracer.store import RunKind, TraceStore


@dataclass
class ReplayOutcome:
    run_id: str
    parent_run_id: str
    status: str
    from_step: str
    version: str
    reused_steps: list[str]
    fix_id: int | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


async def replay_run(
    client: Client,
    task_queue: str,
    store: TraceStore,
    run_ref: str,
    from_step: str | None = None,
    *,
    fix_id: int | None = None,
    patched_spec_text: str | None = None,
) -> ReplayOutcome:
    """Plan, start and wait for a replay; a failed replay is an outcome, not an error."""
    plan = await asyncio.to_thread(
        plan_replay,
        store,
        run_ref,
        from_step,
        fix_id=fix_id,
        patched_spec_text=patched_spec_text,
    )
    return await run_plan(client, task_queue, store, plan)


async def run_plan(
    client: Client, task_queue: str, store: TraceStore, plan: ReplayPlan
) -> ReplayOutcome:
    """Store the version to run (a patched spec is a new version) and run the replay."""
    pipeline = plan.pipeline
    if await asyncio.to_thread(store.get_pipeline_spec, pipeline.version) is None:
        await asyncio.to_thread(
            store.save_pipeline_version, pipeline.spec.name, pipeline.text, version=pipeline.version
        )
    workflow_id = f"{pipeline.spec.name}-replay-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        PIPELINE_WORKFLOW,
        PipelineInput(
            spec=pipeline.spec.model_dump(mode="json", by_alias=True),
            trigger=plan.trigger,
            kind=RunKind.REPLAY.value,
            parent_run_id=plan.parent.run_id,
            given=plan.given,
        ),
        id=workflow_id,
        task_queue=task_queue,
        result_type=PipelineResult,
    )
    outcome = ReplayOutcome(
        run_id=f"{workflow_id}/{handle.result_run_id}",
        parent_run_id=plan.parent.run_id,
        status="failed",
        from_step=plan.from_step,
        version=pipeline.version,
        reused_steps=plan.reused_steps,
        fix_id=plan.fix_id,
    )
    try:
        result = await handle.result()
    except WorkflowFailureError as exc:
        outcome.error = str(exc.cause or exc)
        return outcome
    outcome.status = result.status
    outcome.outputs = result.outputs
    return outcome
