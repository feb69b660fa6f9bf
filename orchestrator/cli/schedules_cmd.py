"""``steptrace schedules``: the schedules of a running service's Temporal, by pipeline."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client

from orchestrator.config.settings import Settings
from orchestrator.insights.digest_schedule import DIGEST_NAME, DIGEST_SCHEDULE_ID
from orchestrator.service.pipelines import load_folder
from orchestrator.service.submit import find_target
from orchestrator.triggers.schedules import (
    CRON_MEMO,
    SCHEDULE_PREFIX,
    TIMEZONE_MEMO,
    set_paused,
    sync_schedules,
)
from tracer.store import TraceStore

ACTIONS = ("list", "sync", "pause", "unpause")


class ScheduleCommandError(ValueError):
    """Bad arguments, or no Temporal to talk to."""


async def schedules_command(
    settings: Settings, action: str, pipeline: str | None
) -> list[dict[str, Any]]:
    if action not in ACTIONS:
        raise ScheduleCommandError(f"unknown action {action!r} (known: {', '.join(ACTIONS)})")
    if action in ("pause", "unpause") and not pipeline:
        raise ScheduleCommandError(f"`steptrace schedules {action} PIPELINE`: name the pipeline")
    target = await find_target(settings)
    if target is None:
        raise ScheduleCommandError(
            "no running service found (no live .steptrace/service.json, and no workers on "
            "STEPTRACE_TEMPORAL_ADDRESS): start `steptrace serve` or `steptrace up`"
        )
    client = target.client
    if action == "sync":
        changes = await sync_schedules(
            client,
            target.task_queue,
            load_folder(settings.pipelines_dir),
            store=TraceStore.open(target.database_url),
            escalate=True,
            fallback_escalation=target.fallback_escalation,
        )
        return [{"pipeline": c.pipeline, "change": c.change, "cron": c.cron} for c in changes]
    if action in ("pause", "unpause"):
        assert pipeline is not None
        try:
            await set_paused(client, pipeline, action == "pause")
        except LookupError as exc:
            raise ScheduleCommandError(str(exc)) from exc
    return await list_schedules(client)


async def list_schedules(client: Client) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async for listed in await client.list_schedules():
        if not listed.id.startswith(SCHEDULE_PREFIX) and listed.id != DIGEST_SCHEDULE_ID:
            continue
        described = await client.get_schedule_handle(listed.id).describe()
        schedule = described.schedule
        memo = await described.memo()
        upcoming = described.info.next_action_times[:1]
        rows.append(
            {
                "pipeline": DIGEST_NAME
                if listed.id == DIGEST_SCHEDULE_ID
                else listed.id.removeprefix(SCHEDULE_PREFIX),
                # Temporal describes a cron as calendars: the text is in the memo.
                "cron": memo.get(CRON_MEMO) or ", ".join(schedule.spec.cron_expressions),
                "timezone": memo.get(TIMEZONE_MEMO) or schedule.spec.time_zone_name or "UTC",
                "paused": schedule.state.paused,
                "next": upcoming[0].isoformat() if upcoming else None,
                "note": schedule.state.note,
            }
        )
    return rows
