"""The weekly insights digest's Temporal Schedule, kept in step with the settings.

One schedule, id ``steptrace-digest/insights``, created (or updated) by the service at
start next to the pipelines' schedules and listed by ``steptrace schedules``: it starts
:class:`~orchestrator.insights.digest_workflow.InsightsDigestWorkflow` on
``STEPTRACE_DIGEST_CRON`` (default Mondays 09:00) in ``STEPTRACE_DIGEST_TIMEZONE``,
posting to ``STEPTRACE_DIGEST_CHANNEL`` (default: the alert channel). Its id has its own
prefix, so the pipelines' sync never pauses it as a removed pipeline. Same policies as
the pipelines' schedules: overlap skipped, a 10-minute catch-up window.
"""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from orchestrator.config.settings import Settings
from orchestrator.insights.digest_workflow import DIGEST_WORKFLOW, DigestInput
from orchestrator.triggers.schedules import (
    CATCHUP_WINDOW,
    OVERLAP,
    ScheduleChange,
    put_schedule,
    schedule_memo,
)

__all__ = ["DIGEST_NAME", "DIGEST_SCHEDULE_ID", "build_digest_schedule", "sync_digest_schedule"]

DIGEST_SCHEDULE_ID = "steptrace-digest/insights"
DIGEST_NAME = "insights digest"


def build_digest_schedule(
    task_queue: str, channel: str, cron: str, timezone: str, *, days: int | None = None
) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DIGEST_WORKFLOW,
            DigestInput(channel=channel, days=days),
            # Temporal appends the firing time: one workflow id per firing.
            id="insights-digest",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=timezone),
        policy=SchedulePolicy(overlap=OVERLAP, catchup_window=CATCHUP_WINDOW),
        # The note is what a later sync compares: a new channel updates it (a new cron
        # or timezone recreates it, see put_schedule).
        state=ScheduleState(note=f"insights digest to {channel}, {cron} {timezone}"),
    )


async def sync_digest_schedule(
    client: Client, task_queue: str, settings: Settings
) -> ScheduleChange:
    """Create or update the digest's schedule from ``settings``."""
    channel = settings.digest_channel or settings.alert_channel
    cron, timezone = settings.digest_cron, settings.digest_timezone
    schedule = build_digest_schedule(task_queue, channel, cron, timezone)
    memo = schedule_memo(cron, timezone)
    change = await put_schedule(client, DIGEST_SCHEDULE_ID, schedule, memo)
    return ScheduleChange(DIGEST_NAME, DIGEST_SCHEDULE_ID, change, cron, timezone)
