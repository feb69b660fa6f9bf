"""Starting an escalation, and the replay and rollback its approvals start.

Client-side code: it talks to Temporal through a ``Client``, never from workflow code.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from orchestrator.humanloop.escalation.model import ActionOutcome, EscalationState
from orchestrator.humanloop.escalation.workflow import EscalationWorkflow
from orchestrator.humanloop.replay.starter import replay_run
from orchestrator.humanloop.rollback.starter import rollback_run
from orchestrator.runtime.escalation_handoff import EscalationInput, escalation_workflow_id
from tracer.diagnosis_model import ProposedFix
from tracer.store import TraceStore


class TemporalActions:
    """The real replay and rollback (:mod:`orchestrator.humanloop.replay`,
    :mod:`orchestrator.humanloop.rollback`), as linked runs on ``task_queue``;
    what a worker hands :class:`EscalationActivities`."""

    def __init__(self, client: Client, task_queue: str, store: TraceStore) -> None:
        self._client = client
        self._task_queue = task_queue
        self._store = store

    async def approve_and_replay(
        self, run_id: str, fix: ProposedFix, from_step: str | None
    ) -> ActionOutcome:
        fix_id = None
        if fix.kind == "spec_patch":
            stored = await asyncio.to_thread(self._store.diagnoses, run_id)
            fix_id = stored[-1].id if stored else None
            from_step = None  # the replay starts at the first step the patch changes
        elif fix.kind == "data_patch":
            raise ApplicationError(
                f"run {run_id}: a data patch is applied by hand, then replayed without a fix "
                f"({fix.detail or 'see the diagnosis'})",
                non_retryable=True,
            )
        outcome = await replay_run(
            self._client, self._task_queue, self._store, run_id, from_step, fix_id=fix_id
        )
        summary = f"replay from `{outcome.from_step}` {outcome.status}"
        if outcome.error:
            summary += f": {outcome.error}"
        return ActionOutcome(
            ok=outcome.status == "succeeded", summary=summary, run_id=outcome.run_id
        )

    async def rollback(self, run_id: str, to_step: str) -> ActionOutcome:
        result = await rollback_run(self._client, self._task_queue, self._store, run_id, to_step)
        left = result.left_over
        summary = (
            f"rollback to `{to_step}` {result.status}: {len(result.results) - len(left)} undone"
        )
        if left:
            summary += "; left for a person: " + "; ".join(
                f"{r.tool} {r.kind} {r.object_id} ({r.outcome}: {r.detail})" for r in left
            )
        return ActionOutcome(ok=not left, summary=summary, run_id=result.run_id)


async def start_escalation(
    client: Client, params: EscalationInput, *, task_queue: str
) -> WorkflowHandle[EscalationWorkflow, EscalationState]:
    """Start the escalation of ``params.run_id``, or find the one already running."""
    return await client.start_workflow(
        EscalationWorkflow.run,
        params,
        id=escalation_workflow_id(params.run_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
