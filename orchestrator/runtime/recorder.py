"""The ``steptrace.record_run`` activity: a run's start and end, in the trace store.

The workflow does no I/O, so it reports its run through this activity. Recording is
idempotent (a retried start is a no-op; a retried finish writes the same status, and a
schema link already stored is kept), so Temporal's retries are safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from orchestrator.runtime.pipeline_workflow import RECORD_RUN_ACTIVITY, RunEvent
from tracer.payloads import RedactionPolicy, encode
from tracer.store import GroupCommitter, NewRun, RunKind, RunStatus, TraceStore
from tracer.taint import run_taint

RunSchemas = Callable[[RunEvent], Awaitable[dict[str, Any]]]
"""The schemas (JSON by step id) the run ending as the event says records; never raises."""


class RunRecorder:
    """Records runs in ``store``; ``None`` (tracing off) records nothing.

    With a ``committer`` (the one the capture interceptor uses) a run's start and end
    share its group-commit transactions with the step attempts. An end that asks for
    them (``RunEvent.record_schemas``) also records what ``schemas`` reads, in the
    transaction that ends the run.
    """

    def __init__(
        self,
        store: TraceStore | None,
        committer: GroupCommitter | None = None,
        *,
        schemas: RunSchemas | None = None,
        durable_within: float = 20.0,
    ) -> None:
        self.store = store
        self.committer = committer
        self.schemas = schemas
        self.durable_within = durable_within

    @activity.defn(name=RECORD_RUN_ACTIVITY)
    async def record_run(self, event: RunEvent) -> None:
        if self.store is None:
            return
        found: dict[str, Any] = {}
        if event.record_schemas and self.schemas is not None:
            found = await self.schemas(event)
        if self.committer is not None:
            await commit_event(
                self.committer,
                event,
                policy=self.store.policy,
                schemas=found,
                give_up_after=self.durable_within,
            )
        else:
            await asyncio.to_thread(record_event, self.store, event, found)


async def commit_event(
    committer: GroupCommitter,
    event: RunEvent,
    *,
    policy: RedactionPolicy | None = None,
    schemas: dict[str, Any] | None = None,
    give_up_after: float | None = None,
) -> None:
    """Start or finish the run ``event`` describes (a finish with the ``schemas`` its
    steps depended on), through the group committer; a store failing past
    ``give_up_after`` seconds fails the activity (Temporal retries it).

    The trigger starts the run's taint: a secret it carries is redacted in every later
    handoff that copies it."""
    if event.status == RunStatus.RUNNING.value:
        await committer.start_run(
            _new_run(event),
            event.trigger,
            policy=policy,
            taint=run_taint(event.run_id),
            give_up_after=give_up_after,
        )
    else:
        await committer.finish_run(
            event.run_id,
            RunStatus(event.status),
            event.failed_step,
            ended_at=datetime.now(UTC),
            schemas=schemas,
            give_up_after=give_up_after,
        )


def _new_run(event: RunEvent, trigger_hash: str | None = None) -> NewRun:
    return NewRun(
        run_id=event.run_id,
        pipeline=event.pipeline,
        workflow_id=event.workflow_id,
        temporal_run_id=event.temporal_run_id,
        version_hash=event.version,
        trigger_hash=trigger_hash,
        kind=RunKind(event.kind),
        parent_run_id=event.parent_run_id,
        started_at=datetime.now(UTC),
    )


def record_event(store: TraceStore, event: RunEvent, schemas: dict[str, Any] | None = None) -> None:
    """Start or finish the run ``event`` describes (a finish with its ``schemas``)."""
    if event.status == RunStatus.RUNNING.value:
        trigger = encode(event.trigger, store.policy, run_taint(event.run_id), codec=store.codec)
        store.start_run(_new_run(event, trigger.hash), trigger=trigger)
    else:
        store.finish_run(event.run_id, RunStatus(event.status), event.failed_step)
        if schemas:
            store.add_run_schemas(
                event.run_id, {step: encode(v, codec=store.codec) for step, v in schemas.items()}
            )
