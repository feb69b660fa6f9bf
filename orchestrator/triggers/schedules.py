"""``schedule: {cron, timezone}`` in a spec → a Temporal Schedule, kept in step with the specs.

One schedule per pipeline, id ``steptrace-schedule/<pipeline>``. :func:`sync_schedules`
creates the missing ones, updates those whose spec changed (the action carries the whole
spec, so a schedule always starts the version it was synced with), pauses or unpauses as
the spec's ``paused`` says, and pauses — never deletes — the schedules of pipelines no
longer in the folder (their history stays readable; `steptrace schedules` shows them).

Policies, the same for every schedule (docs/service.md):

- overlap ``SKIP``: a firing while the previous run of the same pipeline still runs is
  skipped — a digest or a sync must not run twice at once over the same data;
- catch-up window 10 minutes: after an outage (Temporal or every worker down) a firing
  missed by less than 10 minutes still runs, once; older ones are dropped, so a day-long
  outage does not replay a day of digests.

Temporal keeps a cron as calendar specs and describes it as calendars, never as the text
it was given, so the spec's cron text and timezone go in the schedule's memo
(:func:`schedule_memo`), which `steptrace schedules` prints. Temporal sets a schedule's
memo only at creation: a schedule whose cron or timezone changed is deleted and created
again (its past firings' workflows are untouched).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.runtime.pipeline_workflow import PIPELINE_WORKFLOW, PipelineInput
from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.triggers.starter import save_version
from tracer.store import TraceStore

SCHEDULE_PREFIX = "steptrace-schedule/"
CRON_MEMO = "steptrace_cron"
TIMEZONE_MEMO = "steptrace_timezone"
CATCHUP_WINDOW = timedelta(minutes=10)
OVERLAP = ScheduleOverlapPolicy.SKIP

Change = Literal["created", "updated", "unchanged", "paused (pipeline removed)"]


@dataclass(frozen=True)
class ScheduleChange:
    pipeline: str
    schedule_id: str
    change: Change
    cron: str | None = None
    timezone: str | None = None
    paused: bool = False


def schedule_id(pipeline: str) -> str:
    return f"{SCHEDULE_PREFIX}{pipeline}"


def schedule_memo(cron: str, timezone: str) -> dict[str, str]:
    """What a schedule's memo keeps: the cron text and timezone as the spec gave them."""
    return {CRON_MEMO: cron, TIMEZONE_MEMO: timezone}


def build_schedule(
    pipeline: LoadedPipeline,
    task_queue: str,
    *,
    escalate: bool = False,
    fallback_escalation: dict[str, Any] | None = None,
) -> Schedule:
    spec = pipeline.spec.schedule
    assert spec is not None
    params = PipelineInput(
        spec=pipeline.spec.model_dump(mode="json", by_alias=True),
        trigger={
            **spec.trigger,
            "_schedule": {"pipeline": pipeline.spec.name, "timezone": spec.timezone},
        },
        kind="pipeline",
        escalate=escalate,
        fallback_escalation=fallback_escalation,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PIPELINE_WORKFLOW,
            params,
            # Temporal appends the firing time: one workflow id per firing.
            id=f"{pipeline.spec.name}-scheduled",
            task_queue=task_queue,
            memo={"steptrace_version": pipeline.version},
        ),
        spec=ScheduleSpec(cron_expressions=[spec.cron], time_zone_name=spec.timezone),
        policy=SchedulePolicy(overlap=OVERLAP, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(paused=spec.paused, note=f"version {pipeline.version}"),
    )


async def sync_schedules(
    client: Client,
    task_queue: str,
    pipelines: Sequence[LoadedPipeline],
    *,
    store: TraceStore | None = None,
    escalate: bool = False,
    fallback_escalation: dict[str, Any] | None = None,
) -> list[ScheduleChange]:
    """Make Temporal's schedules say what the specs say; one change per schedule."""
    changes: list[ScheduleChange] = []
    wanted = {p.spec.name: p for p in pipelines if p.spec.schedule is not None}
    for name, pipeline in wanted.items():
        if store is not None:
            await asyncio.to_thread(save_version, store, pipeline)
        schedule = build_schedule(
            pipeline, task_queue, escalate=escalate, fallback_escalation=fallback_escalation
        )
        spec = pipeline.spec.schedule
        assert spec is not None
        memo = schedule_memo(spec.cron, spec.timezone)
        change = await put_schedule(client, schedule_id(name), schedule, memo)
        changes.append(
            ScheduleChange(name, schedule_id(name), change, spec.cron, spec.timezone, spec.paused)
        )
    async for listed in await client.list_schedules():
        name = listed.id.removeprefix(SCHEDULE_PREFIX)
        if listed.id.startswith(SCHEDULE_PREFIX) and name not in wanted:
            await client.get_schedule_handle(listed.id).pause(note="pipeline removed")
            changes.append(
                ScheduleChange(name, listed.id, "paused (pipeline removed)", paused=True)
            )
    return changes


async def put_schedule(
    client: Client, ident: str, schedule: Schedule, memo: dict[str, str]
) -> Change:
    """Create the schedule ``ident``, or update it when its note or pause state differ
    (recreate it when its memo differs: Temporal cannot update a schedule's memo)."""
    try:
        await client.create_schedule(ident, schedule, memo=memo)
        return "created"
    except ScheduleAlreadyRunningError:
        pass
    handle = client.get_schedule_handle(ident)
    described = await handle.describe()
    if dict(await described.memo()) != memo:
        await _delete(handle)
        # Another service process may recreate it at the same moment: then it is there.
        with contextlib.suppress(ScheduleAlreadyRunningError):
            await client.create_schedule(ident, schedule, memo=memo)
        return "updated"
    same = described.schedule.state.note == schedule.state.note and (
        described.schedule.state.paused == schedule.state.paused
    )
    if same:
        return "unchanged"

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    await handle.update(replace)
    return "updated"


async def _delete(handle: ScheduleHandle) -> None:
    try:
        await handle.delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


async def set_paused(client: Client, pipeline: str, paused: bool) -> None:
    """Pause or unpause one pipeline's schedule by hand (until the next sync)."""
    handle = client.get_schedule_handle(schedule_id(pipeline))
    try:
        if paused:
            await handle.pause(note="paused by `steptrace schedules pause`")
        else:
            await handle.unpause(note="unpaused by `steptrace schedules unpause`")
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise LookupError(f"no schedule for pipeline {pipeline!r}") from exc
        raise
