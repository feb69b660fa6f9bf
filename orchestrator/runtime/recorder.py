"""The ``steptrace.record_run`` activity: a run's start and end, in the trace store.

The workflow does no I/O, so it reports its run through this activity. Recording is
idempotent (a retried start is a no-op; a retried finish writes the same status), so
Temporal's retries are safe.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio import activity

from orchestrator.runtime.pipeline_workflow import RECORD_RUN_ACTIVITY, RunEvent
from tracer.payloads import encode
from tracer.store import NewRun, RunKind, RunStatus, TraceStore
from tracer.taint import run_taint


class RunRecorder:
    """Records runs in ``store``; ``None`` (tracing off) records nothing."""

    def __init__(self, store: TraceStore | None) -> None:
        self.store = store

    @activity.defn(name=RECORD_RUN_ACTIVITY)
    async def record_run(self, event: RunEvent) -> None:
        if self.store is not None:
            await asyncio.to_thread(record_event, self.store, event)


def record_event(store: TraceStore, event: RunEvent) -> None:
    """Start or finish the run ``event`` describes."""
    if event.status == RunStatus.RUNNING.value:
        # The trigger starts the run's taint: a secret it carries is redacted in every
        # later handoff that copies it.
        trigger = encode(event.trigger, store.policy, run_taint(event.run_id))
        store.start_run(
            NewRun(
                run_id=event.run_id,
                pipeline=event.pipeline,
                workflow_id=event.workflow_id,
                temporal_run_id=event.temporal_run_id,
                version_hash=event.version,
                trigger_hash=trigger.hash,
                kind=RunKind(event.kind),
                parent_run_id=event.parent_run_id,
                started_at=datetime.now(UTC),
            ),
            trigger=trigger,
        )
    else:
        store.finish_run(event.run_id, RunStatus(event.status), event.failed_step)
