"""Worker wiring: the pipeline workflow, the step activities, the tracer, one task queue.

A worker runs :class:`~orchestrator.runtime.pipeline_workflow.PipelineWorkflow` and one
activity per op.
With tracing on, the :class:`~tracer.capture.TraceInterceptor` records every activity
attempt; with tracing off (for the overhead benchmark) runs and attempts are not
captured, the pipeline behaves the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Interceptor, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# Our model modules are deterministic and side-effect free: share them with the
# workflow sandbox instead of re-importing them for every run.
PASSTHROUGH_MODULES = ("orchestrator", "tracer", "connectors", "jmespath", "yaml")


def workflow_runner() -> SandboxedWorkflowRunner:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def build_worker(
    client: Client,
    *,
    task_queue: str,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
    interceptors: Sequence[Interceptor] = (),
    max_concurrent_activities: int = 50,
    graceful_shutdown_seconds: float = 0.0,
) -> Worker:
    """A worker for ``workflows`` and ``activities`` on ``task_queue`` (the service decides
    which: :mod:`orchestrator.service.composition`)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(workflows),
        activities=list(activities),
        interceptors=list(interceptors),
        workflow_runner=workflow_runner(),
        max_concurrent_activities=max_concurrent_activities,
        # On shutdown, running activities get this long to finish; the rest are
        # cancelled and Temporal retries them on another worker.
        graceful_shutdown_timeout=timedelta(seconds=graceful_shutdown_seconds),
    )
