"""The sandbox posts a webhook delivery the receiver missed again, as the real tool does:
Linear after 1 minute, 1 hour and 6 hours, Monday once a minute for 30 minutes, Airtable's
ping once (its payloads wait at the cursor, for 7 days). Schedules run compressed
(``time_scale``); receivers are real HTTP servers on loopback."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sandbox.redelivery import (
    AIRTABLE_PING,
    LINEAR_RETRIES,
    MONDAY_RETRIES,
    Redelivery,
)
from connectors.sandbox.server import Sandbox
from connectors.sandbox.webhooks import (
    MONDAY_SIGNING_SECRET,
    AirtableHooks,
    Subscription,
    linear_delivery,
    monday_delivery,
)
from orchestrator.config.ports import free_port
from orchestrator.config.settings import SANDBOX_TOKEN
from orchestrator.service.service import ServiceOptions, open_service
from tests.orchestrator.processes import poll_until
from tests.service.sandbox_service import (
    LINEAR_SECRET,
    ended_runs,
    linear_hooked_spec,
    linear_webhook,
    sandbox_settings,
    update_linear_issue,
)


class Receiver:
    """A loopback HTTP server answering each POST with the next of ``statuses`` (the
    last one from then on), keeping every request it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                index = min(len(owner.requests), len(owner.statuses)) - 1
                self.send_response(owner.statuses[index])
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(statuses: list[int]) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def _settle(redelivery: Redelivery, attempts: int) -> None:
    poll_until_sync(lambda: len(redelivery.attempts()) >= attempts and not redelivery.pending())


def poll_until_sync(done: Any, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline, "the deliveries did not settle"
        time.sleep(0.02)


def test_linear_retries_three_times_then_gives_up_and_resigns_each_retry(
    receiver_factory: Any,
) -> None:
    receiver = receiver_factory([500])
    redelivery = Redelivery(LINEAR_RETRIES, time_scale=0.0001)  # 6 h -> 2.2 s
    subscription = Subscription("linear", receiver.url, LINEAR_SECRET)
    ident = str(uuid.uuid4())
    try:
        redelivery.deliver(lambda: linear_delivery(subscription, {"id": "i1"}, delivery_id=ident))
        _settle(redelivery, 4)
        time.sleep(0.1)  # nothing more comes
    finally:
        redelivery.close()
    attempts = redelivery.attempts(ident)
    assert [a.attempt for a in attempts] == [0, 1, 2, 3]
    assert [a.status for a in attempts] == [500] * 4
    assert [a.will_retry for a in attempts] == [True, True, True, False]
    assert len(receiver.requests) == 4
    assert {h["linear-delivery"] for h, _ in receiver.requests} == {ident}
    stamps = [json.loads(body)["webhookTimestamp"] for _, body in receiver.requests]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]  # signed afresh


@pytest.mark.parametrize("first", [503, 202])
def test_linear_retries_until_http_200_and_no_more(receiver_factory: Any, first: int) -> None:
    """Linear's documented success is HTTP 200 and nothing else (a 202 is retried too)."""
    receiver = receiver_factory([first, 200])
    redelivery = Redelivery(LINEAR_RETRIES, time_scale=0.0001)
    subscription = Subscription("linear", receiver.url, LINEAR_SECRET)
    try:
        redelivery.deliver(lambda: linear_delivery(subscription, {"id": "i1"}, delivery_id="d1"))
        _settle(redelivery, 2)
        time.sleep(0.1)  # nothing more comes
    finally:
        redelivery.close()
    assert [(a.status, a.delivered) for a in redelivery.attempts("d1")] == [
        (first, False),
        (200, True),
    ]
    assert len(receiver.requests) == 2


def test_monday_retries_once_a_minute_for_thirty_minutes(receiver_factory: Any) -> None:
    receiver = receiver_factory([500])
    redelivery = Redelivery(MONDAY_RETRIES, time_scale=0.0001)  # a minute -> 6 ms
    subscription = Subscription("monday", receiver.url, MONDAY_SIGNING_SECRET)
    try:
        redelivery.deliver(lambda: monday_delivery(subscription, {"pulseId": 1}, delivery_id="t1"))
        _settle(redelivery, 31)
        time.sleep(0.1)
    finally:
        redelivery.close()
    assert len(redelivery.attempts("t1")) == 31 == len(receiver.requests)
    uuids = {json.loads(body)["event"]["triggerUuid"] for _, body in receiver.requests}
    assert uuids == {"t1"}


def test_an_unreachable_receiver_is_retried_like_an_error_status() -> None:
    port = free_port()  # nothing listens there
    redelivery = Redelivery(MONDAY_RETRIES, time_scale=0.0001)
    subscription = Subscription("monday", f"http://127.0.0.1:{port}/hook", MONDAY_SIGNING_SECRET)
    try:
        redelivery.deliver(lambda: monday_delivery(subscription, {"pulseId": 1}, delivery_id="t2"))
        _settle(redelivery, 31)
    finally:
        redelivery.close()
    attempts = redelivery.attempts("t2")
    assert len(attempts) == 31 and all(a.status is None and a.error for a in attempts)


def test_airtable_pings_once_and_keeps_payloads_for_seven_days(receiver_factory: Any) -> None:
    receiver = receiver_factory([500])
    hooks = AirtableHooks(Redelivery(AIRTABLE_PING, time_scale=1e-6))  # 7 days -> 0.6 s
    hook = hooks.create("app1", receiver.url)["id"]
    try:
        hooks.changed("app1", "tbl1", {"rec1": {"fld1": "a"}}, {})
        _settle(hooks.redelivery, 1)
        time.sleep(0.2)
        assert len(receiver.requests) == 1  # a missed ping is not retried
        waiting = hooks.payloads(hook, 1)
        assert waiting is not None and len(waiting["payloads"]) == 1
        time.sleep(0.8)  # the first payload is a (scaled) week old
        hooks.changed("app1", "tbl1", {}, {"rec1": {"fld1": "b"}})
        page = hooks.payloads(hook, 1)
    finally:
        hooks.redelivery.close()
    assert page is not None
    assert [p["baseTransactionNumber"] for p in page["payloads"]] == [2]
    assert page["cursor"] == 3 and page["mightHaveMore"] is False  # numbering kept


async def test_a_receiver_down_for_the_first_delivery_gets_the_retry_and_one_run_starts(
    temporal_address: str, tmp_path: Path
) -> None:
    port = free_port()
    name = linear_hooked_spec(tmp_path / "pipelines")
    # Linear's first retry comes a minute after the miss: 15 s here, time enough for the
    # service to start listening; the next would come an hour (15 min here) later.
    with Sandbox(seed=7, webhook_time_scale=0.25) as sandbox:
        api = sandbox.urls["linear"] + "/graphql"
        redelivery = sandbox.emulators["linear"].redelivery  # type: ignore[attr-defined]
        async with httpx.AsyncClient(headers={"authorization": SANDBOX_TOKEN}) as http:
            await linear_webhook(http, api, f"http://127.0.0.1:{port}/hooks/linear", LINEAR_SECRET)
            await update_linear_issue(http, api, "ENG-103", state="In Progress")
            await poll_until(lambda: len(redelivery.attempts()) == 1, within=60, every=0.05)
            missed = redelivery.attempts()[0]
            settings = sandbox_settings(
                sandbox, temporal_address, tmp_path, {"linear": LINEAR_SECRET}
            )
            options = ServiceOptions(port=port, write_service_file=False)
            async with open_service(options, settings) as service:
                runs, trigger = await ended_runs(service, name)
            attempts = redelivery.attempts(missed.delivery_id)

    assert missed.status is None and missed.will_retry  # refused: nothing listened
    assert [(a.attempt, a.status) for a in attempts] == [(0, None), (1, 200)]
    assert len(runs) == 1 and trigger["issue"] == "ENG-103"
    assert runs[0].status.value == "succeeded"
