"""Two ``steptrace serve`` processes, one PostgreSQL store, one Temporal dev server, and
the sandbox delivering signed Linear webhooks to both receivers — at issue 13's size.

300 distinct events (one per Linear issue: the seeded 60 and 240 created through the
emulator's ``issueCreate``); a tenth of them are delivered again (to the receiver still
alive), a few more are filtered out by the spec, a few are forged, unsigned or stale;
Airtable answers 503 to a tenth of its requests (retried) and Monday refuses a tenth of
its requests with 403 (a failed run). One service is SIGKILLed halfway. Then: every
distinct event made exactly one run, every run ended, no external write happened twice,
and every failed run got exactly one alert or one reply in an open alert's thread.

The waits below are hang guards, not timings: ``steptrace bench service`` measures.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from connectors.sandbox.faults import SERVICES, Fault
from connectors.sandbox.server import Sandbox
from connectors.sandbox.webhooks import Delivery, Subscription, WebhookSender, linear_delivery
from orchestrator.humanloop.alerts import ALERT_EVENT_TYPE
from tests.orchestrator.ledger import (
    airtable_linear_ids,
    monday_linear_ids,
    repeated,
    slack_idempotency_keys,
)
from tests.orchestrator.processes import poll_until, worker_env
from tests.service.processes import ServeProcess
from tracer.store import RunStatus, TraceStore

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
EVENTS = 300
REDELIVERED = EVENTS // 10
FILTERED = 2
SECRET = "linear-webhook-secret-for-the-test"
HANG_GUARD_SECONDS = 1800.0
STEP_TIMEOUT_SECONDS = 10.0


def hooked_pipeline(folder: Path) -> str:
    """The reference pipeline, started by Linear issue webhooks, with quick retries (a step
    of the killed service is retried elsewhere after its timeout)."""
    spec: dict[str, Any] = yaml.safe_load((PIPELINES / "linear-triage-sync.yaml").read_text())
    for step in spec["steps"]:
        step["timeout_seconds"] = STEP_TIMEOUT_SECONDS
        step["retry"] = {"maximum_attempts": 10, "initial_interval_seconds": 0.2}
    spec["triggers"] = [
        {
            "tool": "linear",
            "events": ["Issue"],
            "actions": ["create", "update"],
            "filter": "!starts_with(data.title, 'IGNORE')",
            "input": {"issue": "data.identifier"},
        }
    ]
    folder.mkdir()
    (folder / "hooked.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(spec["name"])


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    faults = [
        *(Fault(service=s, kind="latency", seconds=0.03) for s in SERVICES),
        Fault(service="airtable", kind="http_error", status=503, rate=0.1),
        Fault(service="monday", kind="http_error", status=403, rate=0.1, operation=None),
    ]
    with Sandbox(seed=7, faults=faults) as running:
        yield running


@pytest.mark.timeout(HANG_GUARD_SECONDS)
async def test_two_services_one_run_per_event_one_alert_per_failure(
    temporal_address: str, pg_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    name = hooked_pipeline(tmp_path / "pipelines")
    queue = f"svc-{uuid.uuid4().hex[:8]}"
    services = [
        ServeProcess(
            _env(temporal_address, pg_url, queue, tmp_path, sandbox, n), tmp_path / f"s{n}.log"
        )
        for n in (1, 2)
    ]
    issues = await asyncio.to_thread(sandbox.linear_issues, EVENTS + FILTERED)
    subscription = Subscription("linear", "", SECRET)
    sender = WebhookSender()
    try:
        await asyncio.gather(*(s.start() for s in services))
        phases = Phases()
        ids = {issue["identifier"]: str(uuid.uuid4()) for issue in issues}  # Linear-Delivery
        ignored = [{**issue, "title": "IGNORE " + issue["title"]} for issue in issues[EVENTS:]]
        await _refused_deliveries(services[0].url, subscription, issues[0])
        half = EVENTS // 2
        for index, issue in enumerate([*issues[:half], *ignored]):
            await _send(sender, services[index % 2].url, subscription, issue, ids)
        phases.mark("first half delivered")
        store = TraceStore.open(pg_url)
        await poll_until(lambda: _some_running(store, name), within=60, every=0.05)
        await services[0].kill()  # mid-run: its in-flight steps are retried by the other
        for issue in issues[half:EVENTS]:
            await _send(sender, services[1].url, subscription, issue, ids)
        for issue in random.Random(7).sample(issues[:EVENTS], REDELIVERED):
            await _send(sender, services[1].url, subscription, issue, ids)  # a retry
        phases.mark("all delivered")
        await poll_until(
            lambda: _all_ended(store, name, EVENTS), within=HANG_GUARD_SECONDS, every=0.5
        )
        phases.mark("all runs ended")
        runs = store.list_runs(pipeline=name, limit=1000)
        failed = [r for r in runs if r.status is RunStatus.FAILED]
        try:
            await poll_until(
                lambda: len(_alerted_runs(sandbox)) >= len(failed), within=300, every=0.5
            )
        except TimeoutError:
            messages = sandbox.state("slack")["messages"]
            raise AssertionError(
                f"{len(failed)} failed runs, alerts/replies for {_alerted_runs(sandbox)}; "
                f"slack messages: {[m.get('text', '')[:80] for m in messages]}"
            ) from None
        phases.mark("every failure alerted")
        print(phases.report(), flush=True)  # shown with -s: where the time goes
    finally:
        sender.close()
        codes = [await s.stop() for s in services]
    assert codes[1] == 0, services[1].log()
    assert "Traceback" not in services[1].log(), services[1].log()

    triggers = sorted(str(store.get_payload(r.trigger_hash or "")["issue"]) for r in runs)
    assert triggers == sorted(i["identifier"] for i in issues[:EVENTS]), "one run per event"
    assert {r.status for r in runs} <= {RunStatus.SUCCEEDED, RunStatus.FAILED}
    assert failed, "no run failed: the 403 fault did not fire, the alert path went untested"
    assert not repeated(airtable_linear_ids(sandbox.state("airtable")))
    assert not repeated(monday_linear_ids(sandbox.state("monday")))
    assert not repeated(slack_idempotency_keys(sandbox.state("slack")))
    alerted = _alerted_runs(sandbox)
    assert Counter(alerted) == Counter(r.run_id for r in failed), "one alert or reply each"


class Phases:
    """Wall and this process's CPU time at each phase, for the report (not asserted)."""

    def __init__(self) -> None:
        self.start = (time.monotonic(), time.process_time())
        self.marks: list[tuple[str, float, float]] = []

    def mark(self, name: str) -> None:
        wall, cpu = time.monotonic() - self.start[0], time.process_time() - self.start[1]
        self.marks.append((name, wall, cpu))

    def report(self) -> str:
        lines = [f"{n}: {w:.1f} s wall, {c:.1f} s CPU (test process)" for n, w, c in self.marks]
        return "\n".join(["phases after both services were up:", *lines])


def _env(
    temporal: str, database: str, queue: str, tmp: Path, sandbox: Sandbox, n: int
) -> dict[str, str]:
    env = worker_env(
        temporal_address=temporal, database_url=database, task_queue=queue, tool_urls=sandbox.urls
    )
    env.update(
        STEPTRACE_PIPELINES_DIR=str(tmp / "pipelines"),
        STEPTRACE_LINEAR_WEBHOOK_SECRET=SECRET,
        STEPTRACE_SERVICE_FILE=str(tmp / f"service-{n}.json"),
        STEPTRACE_LISTEN="127.0.0.1:0",
    )
    return env


async def _send(
    sender: WebhookSender,
    url: str,
    subscription: Subscription,
    issue: dict[str, Any],
    ids: dict[str, str],
) -> None:
    """Deliver a change to ``issue`` as Linear does: signed now, under the issue's delivery
    id (a retry keeps the id and is stamped afresh)."""
    delivery = linear_delivery(subscription, issue, delivery_id=ids[issue["identifier"]])
    aimed = Delivery(url + "/hooks/linear", delivery.body, delivery.headers, delivery.delivery_id)
    response = await asyncio.to_thread(sender.send, aimed)
    assert response.status_code == 200, response.text


async def _refused_deliveries(url: str, subscription: Subscription, issue: dict[str, Any]) -> None:
    """Forged, unsigned and stale deliveries: 401 each (and no run: counted at the end)."""
    good = linear_delivery(subscription, issue)
    forged = linear_delivery(Subscription("linear", "", "not-the-secret"), issue)
    stale = linear_delivery(subscription, issue, timestamp_ms=int((time.time() - 600) * 1000))
    unsigned = {k: v for k, v in good.headers.items() if k != "linear-signature"}
    async with httpx.AsyncClient(timeout=30) as http:
        for body, headers in (
            (forged.body, forged.headers),
            (stale.body, stale.headers),
            (good.body, unsigned),
        ):
            response = await http.post(url + "/hooks/linear", content=body, headers=headers)
            assert response.status_code == 401, response.text


def _some_running(store: TraceStore, pipeline: str) -> bool:
    return any(r.ended_at is None for r in store.list_runs(pipeline=pipeline, limit=1000))


def _all_ended(store: TraceStore, pipeline: str, expected: int) -> bool:
    runs = store.list_runs(pipeline=pipeline, limit=1000)
    return len(runs) >= expected and all(r.ended_at is not None for r in runs)


def _alerted_runs(sandbox: Sandbox) -> list[str]:
    """The run of every alert, and of every "Again" reply in an alert's thread."""
    found: list[str] = []
    for message in sandbox.state("slack")["messages"]:
        metadata = message.get("metadata") or {}
        top_level = message.get("thread_ts") in (None, message.get("ts"))
        if metadata.get("event_type") == ALERT_EVENT_TYPE and top_level:
            found.append(str((metadata.get("event_payload") or {}).get("run_id")))
        text = str(message.get("text", ""))
        if text.startswith("Again: run "):
            found.append(text.removeprefix("Again: run ").split(" ", 1)[0])
    return found
