"""The Slack bot under hostile requests, over real HTTP with Slack's real signing.

The bot is served by uvicorn on 127.0.0.1; an escalation workflow on the real Temporal
dev server has posted its alert into the Slack sandbox. Requests are what an attacker
or a broken client sends: oversized, badly stamped, replayed, malformed, for runs that
do not exist, or with a button whose value names another run than its alert.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from connectors.sandbox.server import Sandbox
from orchestrator.config.settings import SANDBOX_TOKEN
from orchestrator.humanloop.bot import BotConfig, SteptraceBot
from orchestrator.humanloop.bot_gate import MAX_BODY_BYTES, SlackGate
from orchestrator.humanloop.bot_http import bind, http_server
from orchestrator.humanloop.escalation.workflow import EscalationWorkflow
from orchestrator.humanloop.slack_delivery import click_body, command_body, signed_headers
from orchestrator.spec.pipeline import EscalationSpec
from tests.human.escalation_fixtures import *  # noqa: F403  (its fixtures, found by name)
from tests.human.escalation_fixtures import (
    ADA,
    DANA,
    RUN_ID,
    Handle,
    started,
    stop_if_waiting,
    until,
)
from tracer.diagnosis_model import Diagnosis
from tracer.store import NewRun, RunStatus, TraceStore

SECRET = "5e1a9c0b7d3f42e68a1b2c3d4e5f6a7b"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture
async def bot(store: TraceStore, temporal: Client, sandbox: Sandbox) -> AsyncIterator[str]:
    config = BotConfig(SecretStr(SECRET), sandbox.urls["slack"], SecretStr(SANDBOX_TOKEN))
    server = http_server(SteptraceBot(store, temporal).build_app(config))
    sock = bind("127.0.0.1", 0)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events"
    server.should_exit = True
    await serving


@pytest.fixture
async def escalation(
    temporal: Client, task_queue: str, diagnosis: Diagnosis, escalation_spec: EscalationSpec
) -> AsyncIterator[Handle]:
    handle = await started(temporal, task_queue, diagnosis, escalation_spec)
    yield handle
    await stop_if_waiting(handle)


@pytest.fixture
def stored_run(store: TraceStore) -> str:
    store.start_run(
        NewRun(run_id=RUN_ID, pipeline="linear-triage-sync", started_at=datetime.now(UTC))
    )
    store.finish_run(RUN_ID, RunStatus.FAILED, "upsert_airtable")
    return RUN_ID


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record at INFO and above; none may carry a traceback."""
    caplog.set_level(logging.INFO)
    yield caplog
    with_traceback = [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text]
    assert with_traceback == []
    assert "Traceback" not in caplog.text


async def post(url: str, body: str | bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url, content=body, headers=headers)


def signed(body: str, content_type: str = FORM) -> dict[str, str]:
    return signed_headers(body, content_type, SECRET)


def the_alert(sandbox: Sandbox) -> dict[str, Any]:
    messages = sandbox.state("slack")["messages"]
    return next(m for m in messages if m["channel_name"] == "ops-alerts")


def shown_to(sandbox: Sandbox, user: str) -> list[str]:
    return [e["text"] for e in sandbox.state("slack")["ephemeral"] if e["user"] == user]


async def answers_for(sandbox: Sandbox, user: str, count: int = 1) -> list[str]:
    async def shown() -> bool:
        return len(shown_to(sandbox, user)) >= count

    await until(shown)
    return shown_to(sandbox, user)


# -- size, signature, replay ---------------------------------------------------------------


async def test_an_oversized_unsigned_body_is_refused_before_it_is_read(
    bot: str, logs: pytest.LogCaptureFixture
) -> None:
    declared = await post(bot, b"x" * (MAX_BODY_BYTES + 1), {"content-type": FORM})
    assert declared.status_code == 413

    async def stream() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(4):
            yield b"y" * (MAX_BODY_BYTES // 2)

    chunked = await post(bot, stream(), {"content-type": FORM})  # type: ignore[arg-type]
    assert chunked.status_code == 413


@pytest.mark.parametrize(
    "headers",
    [
        {"x-slack-request-timestamp": "not-a-number", "x-slack-signature": "v0=00"},
        {"x-slack-request-timestamp": "", "x-slack-signature": "v0=00"},
        {"x-slack-request-timestamp": "99999999999999999999", "x-slack-signature": "v0=00"},
        {"x-slack-signature": "v0=00"},
    ],
)
async def test_bad_timestamp_headers_get_401_without_a_traceback(
    bot: str, headers: dict[str, str], logs: pytest.LogCaptureFixture
) -> None:
    body = command_body("runs", DANA, "C0OPS")
    response = await post(bot, body, {"content-type": FORM, **headers})
    assert response.status_code == 401


async def test_a_replayed_signed_request_gets_401(
    bot: str, sandbox: Sandbox, stored_run: str, escalation: Handle, logs: pytest.LogCaptureFixture
) -> None:
    body = command_body("runs", DANA, the_alert(sandbox)["channel"])
    headers = signed(body)
    assert (await post(bot, body, headers)).status_code == 200
    await answers_for(sandbox, DANA)

    replayed = await post(bot, body, headers)

    assert replayed.status_code == 401
    assert "replayed" in replayed.text
    # Another request (another signature) is served; had the replay run, its answer
    # would be the second one shown.
    another = command_body("runs ", DANA, the_alert(sandbox)["channel"])
    assert (await post(bot, another, signed(another))).status_code == 200
    assert len(await answers_for(sandbox, DANA, 2)) == 2


# -- malformed payloads -----------------------------------------------------------------------


def _interaction(**payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


MALFORMED: list[tuple[str, str]] = [
    ("payload={not json", FORM),
    (_interaction(type="block_actions", user={"id": ADA}), FORM),
    (_interaction(type="block_actions", actions=[], user={"id": ADA}), FORM),
    (
        _interaction(
            type="block_actions",
            actions=[{"action_id": "steptrace_approve", "value": "{}"}],
            channel={"id": "C1"},
        ),
        FORM,
    ),
    (
        _interaction(
            type="block_actions",
            actions=[{"action_id": "steptrace_approve", "value": "{}"}],
            user={"id": ADA},
            channel={"id": "C1"},
        ),
        FORM,
    ),
    (_interaction(type="view_submission"), FORM),
    (_interaction(type="block_actions", actions=[{"action_id": "drop_tables"}]), FORM),
    (urlencode({"command": "/steptrace", "text": "runs"}), FORM),
    ("just=some&form=fields", FORM),
    ("[1, 2, 3]", JSON),
    ('{"type": "event_callback", "event": {"type": "app_mention", "text": "why"}}', JSON),
    ('{"type": "event_callback"}', JSON),
    ("{truncated", JSON),
]


@pytest.mark.parametrize(("body", "content_type"), MALFORMED)
async def test_malformed_signed_payloads_get_400_without_a_traceback(
    bot: str, body: str, content_type: str, logs: pytest.LogCaptureFixture
) -> None:
    response = await post(bot, body, signed(body, content_type))
    assert response.status_code == 400, response.text


async def test_a_non_utf8_signed_body_gets_400(bot: str, logs: pytest.LogCaptureFixture) -> None:
    body = "payload=\udcff".encode("utf-8", "surrogateescape")
    stamp = str(int(time.time()))
    signature = SlackGate(SECRET).signature(stamp, body)
    headers = {
        "content-type": FORM,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature,
    }
    assert (await post(bot, body, headers)).status_code == 400


# -- runs: which, and the audit -------------------------------------------------------------


async def test_a_button_naming_another_run_is_refused_and_audited(
    bot: str,
    sandbox: Sandbox,
    store: TraceStore,
    stored_run: str,
    escalation: Handle,
    logs: pytest.LogCaptureFixture,
) -> None:
    alert = the_alert(sandbox)
    fields = parse_qs(click_body("steptrace_approve", ADA, alert))
    payload = json.loads(fields["payload"][0])
    other = "linear-triage-sync-ffffffffffff/other-run"
    payload["actions"][0]["value"] = json.dumps(
        {"run_id": other, "workflow_id": f"escalation/{other}"}
    )
    body = urlencode({"payload": json.dumps(payload)})

    assert (await post(bot, body, signed(body))).status_code == 200

    [refusal] = await answers_for(sandbox, ADA)
    assert "another run than its alert" in refusal
    [audit] = store.human_actions(RUN_ID)
    assert (audit.slack_user_id, audit.action, audit.allowed) == (ADA, "approve", False)
    assert audit.detail["button_run"] == other
    assert (await escalation.query(EscalationWorkflow.state)).status == "open"


async def test_an_approve_for_a_run_that_is_not_stored_is_refused_and_audited(
    bot: str,
    sandbox: Sandbox,
    store: TraceStore,
    escalation: Handle,
    logs: pytest.LogCaptureFixture,
) -> None:
    # The alert is real (the escalation posted it) but its run is not in this store.
    body = click_body("steptrace_approve", ADA, the_alert(sandbox))
    assert (await post(bot, body, signed(body))).status_code == 200

    [refusal] = await answers_for(sandbox, ADA)
    assert "is stored" in refusal
    audits = [r for r in logs.records if r.name == "steptrace.audit"]
    assert len(audits) == 1 and ADA in audits[0].getMessage()
    assert "approve" in audits[0].getMessage()
    assert (await escalation.query(EscalationWorkflow.state)).status == "open"


async def test_answers_never_disclose_the_store_or_url_credentials(
    bot: str,
    sandbox: Sandbox,
    store: TraceStore,
    stored_run: str,
    escalation: Handle,
    logs: pytest.LogCaptureFixture,
) -> None:
    channel = the_alert(sandbox)["channel"]
    for text in ("why no-such-run", "rollback no-such-run normalize", "why latest"):
        body = command_body(text, DANA, channel)
        assert (await post(bot, body, signed(body))).status_code == 200
    answers = await answers_for(sandbox, DANA, 3)

    where = str(store.database)
    assert all(where not in answer and ".db" not in answer for answer in answers), answers
    assert "No run 'no-such-run' is stored" in answers[0]
    assert any(r.name == "steptrace.audit" and "rollback" in r.getMessage() for r in logs.records)
