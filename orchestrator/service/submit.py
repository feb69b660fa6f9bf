"""``steptrace run`` against a running service: start the run on its queue and wait.

Where the run goes (:func:`find_target`), first match wins:

1. the service named by ``.steptrace/service.json`` (alive, ``/readyz`` 200);
2. ``STEPTRACE_TEMPORAL_ADDRESS`` whose task queue has workflow pollers;
3. otherwise ``steptrace run`` runs its own worker — on the stable task queue when a
   Temporal server is configured, so a run it leaves behind (killed mid-run) is finished
   by the next worker on that queue; on a private dev server when none is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter

from orchestrator.config.settings import Settings
from orchestrator.service.discovery import ServiceInfo, find_service
from orchestrator.service.stack import RunOutcome
from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.triggers.starter import start_pipeline
from tracer.store import TraceStore


@dataclass(frozen=True)
class Target:
    """A running service to submit to, and how it was found."""

    client: Client
    task_queue: str
    database_url: str | None
    fallback_escalation: dict[str, Any] | None
    found_by: str


async def find_target(settings: Settings) -> Target | None:
    info = find_service()
    if info is not None:
        return await _from_file(info)
    if settings.temporal_address:
        client = await Client.connect(
            settings.temporal_address,
            namespace=settings.namespace,
            data_converter=pydantic_data_converter,
        )
        if await has_pollers(client, settings.task_queue):
            return Target(
                client,
                settings.task_queue,
                settings.database_url,
                settings.default_escalation(),
                f"workers polling {settings.task_queue!r} at {settings.temporal_address}",
            )
    return None


async def _from_file(info: ServiceInfo) -> Target:
    client = await Client.connect(
        info.temporal_address, namespace=info.namespace, data_converter=pydantic_data_converter
    )
    return Target(
        client,
        info.task_queue,
        info.database_url,
        info.fallback_escalation,
        f"the service at {info.receiver_url} (pid {info.pid})",
    )


async def has_pollers(client: Client, task_queue: str) -> bool:
    """Whether a worker polled ``task_queue`` for workflow tasks lately (Temporal keeps
    pollers of about the last minute)."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(described.pollers) > 0


async def submit(
    target: Target, pipeline: LoadedPipeline, trigger: dict[str, Any], store: TraceStore
) -> RunOutcome:
    """Start the run on the service's queue and wait for it (the service runs it)."""
    started = await start_pipeline(
        target.client,
        target.task_queue,
        pipeline,
        trigger,
        store=store,
        escalate=True,
        fallback_escalation=target.fallback_escalation,
    )
    handle = started.handle
    assert handle is not None  # a fresh id always starts
    run_id = f"{started.workflow_id}/{handle.result_run_id}"
    try:
        result = await handle.result()
    except WorkflowFailureError as exc:
        return RunOutcome(run_id=run_id, status="failed", error=str(exc.cause or exc))
    return RunOutcome(run_id=run_id, status=result.status, outputs=result.outputs)
