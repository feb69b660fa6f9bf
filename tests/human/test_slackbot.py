"""The Slack bot over real HTTP: served by uvicorn on 127.0.0.1, sent requests signed the
way Slack signs them, answering through the Slack sandbox, acting through the escalation
workflow on the real Temporal dev server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from typer.testing import CliRunner

from connectors.sandbox.server import Sandbox
from orchestrator.cli.app import app as cli_app
from orchestrator.config.settings import SANDBOX_TOKEN, Settings
from orchestrator.humanloop.bot import (
    EVENTS_PATH,
    SIGNING_SECRET_ENV,
    BotConfig,
    BotConfigError,
    SteptraceBot,
    bind,
    bot_config,
    http_server,
)
from orchestrator.humanloop.console_link import SECRET_ENV as CONSOLE_SECRET_ENV
from orchestrator.humanloop.console_link import URL_ENV as CONSOLE_URL_ENV
from orchestrator.humanloop.console_link import LinkRefused, LinkSigner
from orchestrator.humanloop.escalation.workflow import EscalationWorkflow
from orchestrator.humanloop.slack_delivery import (
    click_body,
    command_body,
    mention_body,
    signed_headers,
)
from orchestrator.spec.pipeline import EscalationSpec
from tests.human.escalation_fixtures import *  # noqa: F403  (its fixtures, found by name)
from tests.human.escalation_fixtures import (
    ADA,
    BRUNO,
    DANA,
    RUN_ID,
    Handle,
    RecordingActions,
    started,
    stop_if_waiting,
    until,
)
from tracer.diagnosis_model import Diagnosis
from tracer.store import NewRun, RunStatus, TraceStore

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = "application/x-www-form-urlencoded"
BOT = "U0STEPBOT"


@pytest.fixture
def failed_run(store: TraceStore, diagnosis: Diagnosis) -> str:
    """The failed run the diagnosis is about, stored with that diagnosis."""
    store.start_run(
        NewRun(run_id=RUN_ID, pipeline="linear-triage-sync", started_at=datetime.now(UTC))
    )
    store.finish_run(RUN_ID, RunStatus.FAILED, "upsert_airtable")
    store.add_diagnosis(RUN_ID, diagnosis.model_dump(mode="json"))
    return RUN_ID


@pytest.fixture
async def bot(
    store: TraceStore, temporal: Client, sandbox: Sandbox, failed_run: str
) -> AsyncIterator[str]:
    """The bot's request URL, served on a free loopback port."""
    config = BotConfig(SecretStr(SECRET), sandbox.urls["slack"], SecretStr(SANDBOX_TOKEN))
    server = http_server(SteptraceBot(store, temporal).build_app(config))
    sock = bind("127.0.0.1", 0)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    # The socket listens already: requests queue until uvicorn serves them.
    yield f"http://127.0.0.1:{sock.getsockname()[1]}{EVENTS_PATH}"
    server.should_exit = True
    await serving


@pytest.fixture
async def escalation(
    temporal: Client, task_queue: str, diagnosis: Diagnosis, escalation_spec: EscalationSpec
) -> AsyncIterator[Handle]:
    handle = await started(temporal, task_queue, diagnosis, escalation_spec)
    yield handle
    await stop_if_waiting(handle)


async def post(url: str, body: str, content_type: str, **signing: Any) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(url, content=body, headers=signed(body, content_type, **signing))


def signed(body: str, content_type: str, *, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    return signed_headers(body, content_type, secret, age=age)


def the_alert(sandbox: Sandbox) -> dict[str, Any]:
    snapshot = sandbox.state("slack")
    return next(m for m in snapshot["messages"] if m["channel_name"] == "ops-alerts")


async def ephemeral_for(sandbox: Sandbox, user: str) -> list[str]:
    async def shown() -> bool:
        return any(e["user"] == user for e in sandbox.state("slack")["ephemeral"])

    await until(shown)
    return [e["text"] for e in sandbox.state("slack")["ephemeral"] if e["user"] == user]


async def test_why_in_an_alert_thread_answers_with_the_diagnosis(
    bot: str, sandbox: Sandbox, escalation: Handle
) -> None:
    alert = the_alert(sandbox)
    question = sandbox.emulators["slack"].post_as_person(  # type: ignore[attr-defined]
        DANA, "ops-alerts", "<@U0STEPBOT> why did this fail?", thread_ts=alert["ts"]
    )

    response = await post(bot, mention_body(DANA, alert["channel"], question), "application/json")

    assert response.status_code == 200

    def replies() -> list[dict[str, Any]]:
        return [
            m
            for m in sandbox.state("slack")["messages"]
            if m.get("thread_ts") == alert["ts"] and m["ts"] != alert["ts"] and m["user"] == BOT
        ]

    async def answered() -> bool:
        return bool(replies())

    await until(answered)
    [answer] = replies()
    assert "Started at `upsert_airtable`, failed at `sync_monday`" in answer["text"]
    assert "renamed the field `Priority` to `Severity`" in answer["text"]
    assert "verified" in answer["text"]


async def test_a_disallowed_user_is_refused_and_audited(
    bot: str,
    sandbox: Sandbox,
    escalation: Handle,
    store: TraceStore,
    actions: RecordingActions,
) -> None:
    response = await post(bot, click_body("steptrace_approve", DANA, the_alert(sandbox)), FORM)

    assert response.status_code == 200
    [refusal] = await ephemeral_for(sandbox, DANA)
    assert refusal == (
        f"Not done: only the approvers of tier 1 (ops) may approve: <@{ADA}>, <@{BRUNO}>"
    )
    [audit] = store.human_actions(RUN_ID)
    assert (audit.slack_user_id, audit.action, audit.allowed) == (DANA, "approve", False)
    assert audit.at is not None
    assert actions.calls == []


async def test_an_approver_approves_and_the_replay_runs(
    bot: str,
    sandbox: Sandbox,
    escalation: Handle,
    store: TraceStore,
    actions: RecordingActions,
) -> None:
    response = await post(bot, click_body("steptrace_approve", ADA, the_alert(sandbox)), FORM)

    assert response.status_code == 200
    result = await escalation.result()
    assert result.status == "resolved"
    assert actions.calls == [("approve", RUN_ID, "upsert_airtable")]
    [audit] = store.human_actions(RUN_ID)
    assert (audit.slack_user_id, audit.action, audit.allowed) == (ADA, "approve", True)


async def test_slash_commands_list_runs_explain_and_roll_back(
    bot: str,
    sandbox: Sandbox,
    escalation: Handle,
    store: TraceStore,
    actions: RecordingActions,
) -> None:
    channel = the_alert(sandbox)["channel"]
    assert (await post(bot, command_body("runs", DANA, channel), FORM)).status_code == 200
    [runs] = await ephemeral_for(sandbox, DANA)
    assert f"`{RUN_ID}` linear-triage-sync: failed at `upsert_airtable`" in runs

    assert (await post(bot, command_body("why latest", ADA, channel), FORM)).status_code == 200
    [why] = await ephemeral_for(sandbox, ADA)
    assert "Started at `upsert_airtable`" in why

    rollback = command_body(f"rollback {RUN_ID} normalize", BRUNO, channel)
    assert (await post(bot, rollback, FORM)).status_code == 200
    await escalation.result()
    assert actions.calls == [("rollback", RUN_ID, "normalize")]
    [audit] = store.human_actions(RUN_ID)
    assert (audit.action, audit.allowed, audit.detail["to_step"]) == ("rollback", True, "normalize")
    assert (await escalation.query(EscalationWorkflow.state)).status == "resolved"


@pytest.mark.parametrize(
    "signing",
    [
        pytest.param({"secret": "not-the-signing-secret"}, id="wrong secret"),
        pytest.param({"age": 301}, id="stale"),
        pytest.param(None, id="unsigned"),
    ],
)
async def test_unsigned_wrongly_signed_or_stale_requests_get_401(
    bot: str,
    sandbox: Sandbox,
    escalation: Handle,
    store: TraceStore,
    signing: dict[str, Any] | None,
) -> None:
    body = click_body("steptrace_acknowledge", ADA, the_alert(sandbox))
    async with httpx.AsyncClient() as http:
        if signing is None:
            response = await http.post(bot, content=body, headers={"content-type": FORM})
        else:
            response = await http.post(bot, content=body, headers=signed(body, FORM, **signing))

    assert response.status_code == 401
    # A signed request afterwards is served: had the refused one run, it would show first.
    assert (
        await post(bot, command_body("runs", DANA, the_alert(sandbox)["channel"]), FORM)
    ).is_success
    await ephemeral_for(sandbox, DANA)
    assert store.human_actions(RUN_ID) == []
    assert (await escalation.query(EscalationWorkflow.state)).status == "open"


def test_the_bot_will_not_start_without_a_signing_secret() -> None:
    settings = Settings.from_env(
        {
            "STEPTRACE_SLACK_URL": "http://127.0.0.1:9/api/",
            "STEPTRACE_SLACK_TOKEN": "xoxb-1",
            "STEPTRACE_TEMPORAL_ADDRESS": "127.0.0.1:7233",
        }
    )
    with pytest.raises(BotConfigError, match=SIGNING_SECRET_ENV):
        bot_config({}, settings)
    config = bot_config({SIGNING_SECRET_ENV: SECRET}, settings)
    assert config.slack_url == "http://127.0.0.1:9/api/"


def test_steptrace_bot_exits_with_the_reason_when_the_secret_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SIGNING_SECRET_ENV, raising=False)
    result = CliRunner().invoke(cli_app, ["bot", "--port", "0"])
    assert result.exit_code == 2
    assert f"{SIGNING_SECRET_ENV} is not set" in result.stderr


async def test_the_console_command_answers_a_one_time_link_for_that_user(
    bot: str, sandbox: Sandbox, escalation: Handle, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "a-console-secret-of-thirty-two-characters-or-more"
    monkeypatch.setenv(CONSOLE_SECRET_ENV, secret)
    monkeypatch.setenv(CONSOLE_URL_ENV, "https://console.example.test")
    channel = the_alert(sandbox)["channel"]
    assert (await post(bot, command_body("console", DANA, channel), FORM)).status_code == 200
    [answer] = await ephemeral_for(sandbox, DANA)

    link = answer.split()[-1]
    assert link.startswith("https://console.example.test/")
    token = parse_qs(urlsplit(link).query)["token"][0]
    signer = LinkSigner(SecretStr(secret))
    assert signer.redeem(token).user == DANA
    with pytest.raises(LinkRefused, match="used already"):
        signer.redeem(token)
