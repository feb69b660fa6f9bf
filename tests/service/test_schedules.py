"""``schedule:`` in a spec → a Temporal Schedule that fires, kept in step with the specs.

Temporal's time-skipping test server cannot be fetched on this machine (it is downloaded
at first use) and the dev server's per-workflow time skipping does not move the
scheduler, so the schedule that must fire uses Temporal's ``@every 2s`` cron shorthand
on the real dev server; the 5-field cron's timezone is checked on the next fire times.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from temporalio.client import ScheduleOverlapPolicy

from orchestrator.cli.schedules_cmd import list_schedules
from orchestrator.config.settings import Settings
from orchestrator.service.stack import StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline, parse_pipeline
from orchestrator.triggers.schedules import (
    CATCHUP_WINDOW,
    schedule_id,
    sync_schedules,
)
from tests.orchestrator.processes import poll_until

DIGEST = Path(__file__).resolve().parents[2] / "pipelines" / "monday-digest.yaml"


def scheduled(name: str, cron: str, timezone: str = "UTC") -> LoadedPipeline:
    spec = yaml.safe_load(DIGEST.read_text())
    spec["name"] = name
    spec["schedule"] = {"cron": cron, "timezone": timezone}
    return parse_pipeline(yaml.safe_dump(spec, sort_keys=False), source=f"{name}.yaml")


async def test_a_schedule_fires_and_follows_the_specs(
    temporal_address: str, tmp_path: Path
) -> None:
    name = f"digest-{uuid.uuid4().hex[:6]}"
    options = StackOptions(database_url=f"sqlite:///{tmp_path / 'trace.db'}")
    async with open_stack(options, Settings(temporal_address=temporal_address)) as stack:
        assert stack.store is not None
        store, client, queue = stack.store, stack.client, stack.task_queue
        every = scheduled(name, "@every 2s", "Pacific/Kiritimati")
        [created] = await sync_schedules(client, queue, [every], store=store)
        try:
            listed_created = await list_schedules(client)
            await poll_until(
                lambda: bool(store.list_runs(pipeline=name, limit=1)), within=60, every=0.2
            )
            [unchanged] = await sync_schedules(client, queue, [every], store=store)
            daily = scheduled(name, "0 9 * * *", "Europe/Berlin")
            [updated] = await sync_schedules(client, queue, [daily], store=store)
            listed_updated = await list_schedules(client)
            described = await client.get_schedule_handle(schedule_id(name)).describe()
            removed = await sync_schedules(client, queue, [], store=store)
            paused = await client.get_schedule_handle(schedule_id(name)).describe()
        finally:
            await client.get_schedule_handle(schedule_id(name)).delete()

    assert (created.change, unchanged.change, updated.change) == ("created", "unchanged", "updated")
    # Temporal describes a cron as calendars; the list shows the spec's text from the memo.
    [first] = [row for row in listed_created if row["pipeline"] == name]
    assert (first["cron"], first["timezone"]) == ("@every 2s", "Pacific/Kiritimati")
    [second] = [row for row in listed_updated if row["pipeline"] == name]
    assert (second["cron"], second["timezone"]) == ("0 9 * * *", "Europe/Berlin")
    [run] = store.list_runs(pipeline=name, limit=1)
    assert run.run_id.startswith(f"{name}-scheduled")
    # The digest's `trigger.date` is the firing's date where the schedule lives (UTC+14).
    trigger = store.get_payload(run.trigger_hash or "")
    fired = datetime.fromisoformat(trigger["scheduled_at"])
    assert trigger["date"] == fired.astimezone(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    next_fire = described.info.next_action_times[0]
    berlin = next_fire.astimezone(ZoneInfo("Europe/Berlin"))
    assert (berlin.hour, berlin.minute) == (9, 0)
    assert next_fire.astimezone(UTC).hour != 9, "read in UTC, not in the spec's timezone"
    assert next_fire > datetime.now(UTC)
    policy = described.schedule.policy
    assert policy.overlap is ScheduleOverlapPolicy.SKIP
    assert policy.catchup_window == CATCHUP_WINDOW
    assert [c.change for c in removed if c.pipeline == name] == ["paused (pipeline removed)"]
    assert paused.schedule.state.paused
