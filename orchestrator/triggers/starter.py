"""Start a pipeline run on the service's task queue: from a webhook, a schedule or the CLI.

A run started for a delivery gets the workflow id of that delivery
(:func:`orchestrator.triggers.deliveries.matches`), started with Temporal's
``REJECT_DUPLICATE`` id-reuse policy and ``USE_EXISTING`` conflict policy: a redelivery
while the first run is going finds that run, one after it ended is refused by Temporal.
Either way no second run starts, whichever receiver process got the redelivery.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from orchestrator.runtime.pipeline_workflow import PIPELINE_WORKFLOW, PipelineInput, PipelineResult
from orchestrator.spec.pipeline import LoadedPipeline
from tracer.store import TraceStore


@dataclass(frozen=True)
class Started:
    workflow_id: str
    first: bool
    """False when this start found the run a previous delivery started."""
    handle: WorkflowHandle[Any, PipelineResult] | None = None


def new_workflow_id(pipeline: LoadedPipeline) -> str:
    return f"{pipeline.spec.name}-{uuid.uuid4().hex[:12]}"


async def start_pipeline(
    client: Client,
    task_queue: str,
    pipeline: LoadedPipeline,
    trigger: dict[str, Any],
    *,
    store: TraceStore | None,
    workflow_id: str | None = None,
    escalate: bool = False,
    fallback_escalation: dict[str, Any] | None = None,
) -> Started:
    """Start one run; an id that ran or runs already is a duplicate, not an error."""
    if store is not None and store.cached_pipeline_spec(pipeline.version) is None:
        # Off the event loop: a locked store makes this wait up to its busy timeout.
        await asyncio.to_thread(save_version, store, pipeline)
    elif store is not None:
        store.ensure_available()  # a deleted store starts no run that could not be traced
    ident = workflow_id or new_workflow_id(pipeline)
    params = PipelineInput(
        spec=pipeline.spec.model_dump(mode="json", by_alias=True),
        trigger=trigger,
        escalate=escalate,
        fallback_escalation=fallback_escalation,
    )
    try:
        handle = await client.start_workflow(
            PIPELINE_WORKFLOW,
            params,
            id=ident,
            task_queue=task_queue,
            result_type=PipelineResult,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        return Started(ident, first=False)
    # USE_EXISTING hands back the running workflow: the server's `started` says whether
    # this call started it (the SDK keeps the response only privately).
    response = getattr(handle, "_start_workflow_response", None)
    first = bool(getattr(response, "started", True))
    return Started(ident, first=first, handle=handle)


def save_version(store: TraceStore, pipeline: LoadedPipeline) -> None:
    """Store the spec unless it is known: a read, so runs of a known spec need no write lock."""
    if store.get_pipeline_spec(pipeline.version) is None:
        store.save_pipeline_version(pipeline.spec.name, pipeline.text, version=pipeline.version)
