"""Insights in Slack: ``/steptrace insights`` over real signed HTTP, answered through the
Slack sandbox, and the weekly digest's Temporal Schedule on the real dev server, posting
to the configured channel of the sandbox."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.worker import Worker

from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from orchestrator.cli.schedules_cmd import list_schedules
from orchestrator.config.settings import SANDBOX_TOKEN, Settings
from orchestrator.humanloop.bot import EVENTS_PATH, BotConfig, SteptraceBot, bind, http_server
from orchestrator.humanloop.slack_delivery import command_body, signed_headers
from orchestrator.insights.digest_schedule import DIGEST_SCHEDULE_ID, sync_digest_schedule
from orchestrator.insights.digest_workflow import DigestActivities, InsightsDigestWorkflow
from tests.human.escalation_fixtures import *  # noqa: F403  (its fixtures, found by name)
from tests.human.escalation_fixtures import DANA, until
from tests.tracer.insights.corpus import fill_store
from tracer.store import TraceStore

SECRET = "5e1f0a2b3c4d5e6f7a8b9c0d1e2f3a4b"
FORM = "application/x-www-form-urlencoded"
# A finding: its sentence with k/N (x %, CI …), then three short run ids.
FINDING = re.compile(r"\d+/\d+ \([\d.]+ %, CI [\d.]+–[\d.]+ %\).*\nruns: (`p-\d+/\w+`(, )?){3}")


@pytest.fixture
def corpus_store(tmp_path: Path) -> TraceStore:
    store = TraceStore.open(f"sqlite:///{tmp_path / 'trace.db'}")
    fill_store(store, runs=160, silent=True)
    return store


@pytest.fixture
async def bot(corpus_store: TraceStore, temporal: Client, sandbox: Sandbox) -> AsyncIterator[str]:
    config = BotConfig(SecretStr(SECRET), sandbox.urls["slack"], SecretStr(SANDBOX_TOKEN))
    server = http_server(SteptraceBot(corpus_store, temporal).build_app(config))
    sock = bind("127.0.0.1", 0)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}{EVENTS_PATH}"
    server.should_exit = True
    await serving


def _channel(sandbox: Sandbox, name: str) -> str:
    return next(c["id"] for c in sandbox.state("slack")["channels"] if c["name"] == name)


async def test_the_insights_command_answers_the_top_findings(bot: str, sandbox: Sandbox) -> None:
    body = command_body("insights", DANA, _channel(sandbox, "ops-alerts"))
    async with httpx.AsyncClient() as http:
        answer = await http.post(bot, content=body, headers=signed_headers(body, FORM, SECRET))
    assert answer.status_code == 200

    def shown() -> list[str]:
        return [e["text"] for e in sandbox.state("slack")["ephemeral"] if e["user"] == DANA]

    await until(lambda: bool(shown()))
    [text] = shown()
    assert text.startswith("*Insights: 160 runs*")
    assert len(FINDING.findall(text)) >= 3, text


async def test_the_weekly_digest_is_scheduled_and_posts_to_the_channel(
    corpus_store: TraceStore, temporal: Client, sandbox: Sandbox
) -> None:
    queue = f"digest-{uuid.uuid4().hex[:8]}"
    settings = Settings(digest_channel="#ops-alerts", digest_cron="0 9 * * 1")
    async with httpx.AsyncClient() as http:
        slack = SlackClient(http, base_url=sandbox.urls["slack"], token=SANDBOX_TOKEN)
        activities = DigestActivities(corpus_store.url, slack)
        async with Worker(
            temporal,
            task_queue=queue,
            workflows=[InsightsDigestWorkflow],
            activities=[activities.post_digest],
        ):
            created = await sync_digest_schedule(temporal, queue, settings)
            handle = temporal.get_schedule_handle(DIGEST_SCHEDULE_ID)
            try:
                again = await sync_digest_schedule(temporal, queue, settings)
                listed = await list_schedules(temporal)
                await handle.trigger()  # fire now rather than wait for Monday 09:00

                def digests() -> list[str]:
                    return [
                        m["text"]
                        for m in sandbox.state("slack")["messages"]
                        if m["channel_name"] == "ops-alerts" and "Insights:" in m["text"]
                    ]

                await until(lambda: bool(digests()))
            finally:
                await handle.delete()
    assert (created.change, again.change) == ("created", "unchanged")
    [row] = [r for r in listed if r["pipeline"] == "insights digest"]
    assert (row["timezone"], row["paused"]) == ("UTC", False)
    assert row["note"] == "insights digest to #ops-alerts, 0 9 * * 1 UTC"
    assert row["next"] is not None
    [digest] = digests()
    assert len(FINDING.findall(digest)) >= 3, digest
