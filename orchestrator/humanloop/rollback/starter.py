"""Starting a rollback: check the request, run the ``RollbackWorkflow``, wait for it."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import Client, WorkflowFailureError

from orchestrator.humanloop.rollback.plan import (
    ROLLBACK_WORKFLOW,
    RollbackError,
    RollbackInput,
    RollbackResult,
    plan_rollback,
)
from tracer.run_model import find_run
from tracer.store import TraceStore


async def rollback_run(
    client: Client, task_queue: str, store: TraceStore, run_ref: str, to_step: str
) -> RollbackResult:
    """Check the request, run the ``RollbackWorkflow`` and wait for its result.

    Bad input (unknown run or step, nothing after the step) raises :class:`RollbackError`
    or :class:`LookupError` before anything starts. Conflicts are not errors: they are in
    the result (``status`` ``escalated``, :attr:`RollbackResult.conflicts`).
    """
    run = await asyncio.to_thread(find_run, store, run_ref)
    await asyncio.to_thread(plan_rollback, store, run, to_step)
    workflow_id = f"{run.pipeline}-rollback-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        ROLLBACK_WORKFLOW,
        RollbackInput(
            run_id=run.run_id,
            to_step=to_step,
            pipeline=run.pipeline,
            version=run.version_hash or "",
        ),
        id=workflow_id,
        task_queue=task_queue,
        result_type=RollbackResult,
    )
    try:
        result: RollbackResult = await handle.result()
    except WorkflowFailureError as exc:
        raise RollbackError(f"the rollback of {run.run_id} failed: {exc.cause or exc}") from exc
    return result
