"""``steptrace bench faults``: runs under request faults — completed, lost, doubled, untraced.

The reference pipeline runs against the sandbox while a share of every tool's requests
fail (server errors, rate limits, and writes that land but answer 504), with the steps'
default retry policy. For each fault rate it reports:

* **completed** — runs that succeeded, of those started (none may be left running);
* **duplicates** — external objects written twice for one key (Airtable records and
  Monday items per Linear ID, Slack messages per idempotency key);
* **untraced writes** — objects the tools hold that no recorded write accounts for (a
  write that landed behind a lost answer and was never reported);
* **secrets found** — a credential planted in every trigger, searched for in every
  stored payload, decompressed;
* **inner retries** — tool calls retried inside an attempt (recorded on the attempts).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.docs import DOCS, replace_section
from bench.machine import describe_line
from connectors.sandbox.faults import Fault, Service
from orchestrator.service.stack import RunOutcome, Stack, StackOptions, open_stack
from orchestrator.spec.pipeline import load_pipeline
from tracer.store import TraceStore

PIPELINE = Path(__file__).resolve().parent.parent / "pipelines" / "linear-triage-sync.yaml"
ISSUES = tuple(f"ENG-{n}" for n in range(101, 113))
SERVICES: tuple[Service, ...] = ("linear", "airtable", "monday", "slack")
WRITES: dict[Service, str] = {
    "airtable": "upsert_records",
    "monday": "create_item",
    "slack": "chat.postMessage",
}
PLANTED = "sk_live_51PlantedBenchSecret0000000000000000"
HEADING = "## Request faults: runs completed, nothing doubled, nothing untraced"


def weather(rate: float) -> list[Fault]:
    """``rate`` of each tool's requests fail: 60 % of them 5xx, 20 % 429, 20 % a write
    that lands and then answers 504."""
    faults: list[Fault] = []
    for service in SERVICES:
        faults += [
            Fault(service=service, kind="http_error", status=503, rate=rate * 0.3),
            Fault(service=service, kind="http_error", status=500, rate=rate * 0.3),
            Fault(service=service, kind="rate_limit", rate=rate * 0.2, retry_after=0.05),
        ]
    faults += [
        Fault(service=service, kind="duplicate_on_timeout", operation=op, rate=rate * 0.2)
        for service, op in WRITES.items()
    ]
    return faults


async def one_rate(rate: float, runs: int) -> dict[str, Any]:
    pipeline = load_pipeline(PIPELINE)
    triggers = [{"issue": ISSUES[i % len(ISSUES)], "api_token": PLANTED} for i in range(runs)]
    folder = tempfile.TemporaryDirectory(prefix="steptrace-bench-faults-")
    database = f"sqlite:///{folder.name}/trace.db"
    options = StackOptions(faults=weather(rate), database_url=database)
    started = time.perf_counter()
    with folder:
        return await _measure(options, pipeline, triggers, rate, runs, started)


async def _measure(
    options: StackOptions,
    pipeline: Any,
    triggers: Sequence[dict[str, Any]],
    rate: float,
    runs: int,
    started: float,
) -> dict[str, Any]:
    async with open_stack(options) as stack:
        assert stack.store is not None and stack.sandbox is not None
        before = _objects(stack.sandbox.state)
        outcomes = await _run_all(stack, pipeline, triggers)
        after = _objects(stack.sandbox.state)
        store = stack.store
        figures = _ledger(store, outcomes, before, after)
    figures.update(
        rate=rate,
        runs=runs,
        completed=sum(o.status == "succeeded" for o in outcomes),
        seconds=round(time.perf_counter() - started, 1),
    )
    return figures


async def _run_all(
    stack: Stack, pipeline: Any, triggers: Sequence[dict[str, Any]], concurrency: int = 4
) -> list[RunOutcome]:
    # Runs of one issue go one after another (two at once would race on one record).
    by_issue: dict[str, list[dict[str, Any]]] = {}
    for trigger in triggers:
        by_issue.setdefault(trigger["issue"], []).append(trigger)
    gate = asyncio.Semaphore(concurrency)

    async def chain(items: list[dict[str, Any]]) -> list[RunOutcome]:
        done = []
        for trigger in items:
            async with gate:
                done.append(await stack.run(pipeline, trigger))
        return done

    chains = await asyncio.gather(*(chain(items) for items in by_issue.values()))
    return [outcome for found in chains for outcome in found]


def _objects(state: Any) -> dict[str, list[tuple[str, str]]]:
    """(object id, key) of the objects the pipeline writes, per tool."""
    airtable = [
        (record["id"], str(record["fields"].get("Linear ID")))
        for base in state("airtable")["bases"]
        for table in base["tables"]
        if table["name"] == "Issues"
        for record in table["records"]
    ]
    monday: list[tuple[str, str]] = []
    for board in state("monday")["boards"]:
        if board["name"] != "Triage":
            continue
        column = next(c["id"] for c in board["columns"] if c["title"] == "Linear ID")
        monday += [
            (str(item["id"]), str(item["values"].get(column, {}).get("value")))
            for item in board["items"]
        ]
    slack = [
        (
            str(m["ts"]),
            str(((m.get("metadata") or {}).get("event_payload") or {}).get("idempotency_key")),
        )
        for m in state("slack")["messages"]
        if not m.get("deleted")
    ]
    return {"airtable": airtable, "monday": monday, "slack": slack}


def _ledger(
    store: TraceStore,
    outcomes: Iterable[RunOutcome],
    before: dict[str, list[tuple[str, str]]],
    after: dict[str, list[tuple[str, str]]],
) -> dict[str, Any]:
    outcomes = list(outcomes)
    attempts = [a for o in outcomes for a in store.attempts(o.run_id)]
    written = {
        (w.tool, w.object_id)
        for a in attempts
        for w in a.external_writes
        if w.action in ("created", "updated", "unchanged")
    }
    created = {
        (w.tool, w.object_id) for a in attempts for w in a.external_writes if w.action == "created"
    }
    new = {tool: [o for o in objs if o not in before[tool]] for tool, objs in after.items()}
    untraced = [
        (tool, object_id)
        for tool, objs in new.items()
        for object_id, _ in objs
        if (tool, object_id) not in created
    ]
    duplicates = {
        tool: {k: n for k, n in Counter(key for _, key in objs).items() if n > 1 and k != "None"}
        for tool, objs in after.items()
    }
    return {
        "untraced_writes": len(untraced),
        "untraced_examples": untraced[:5],
        "duplicates": sum(len(found) for found in duplicates.values()),
        "secrets_found": _secrets_found(store, outcomes),
        "inner_retries": sum(len(a.inner_retries) for a in attempts),
        "reconciled_writes": sum(
            1 for a in attempts for r in a.inner_retries if r.get("reconciled")
        ),
        "attempts_failed": sum(a.status.value == "failed" for a in attempts),
        "traced_objects": len(written),
    }


def _secrets_found(store: TraceStore, outcomes: Iterable[RunOutcome]) -> int:
    """Stored payloads of these runs (trigger, handoffs, write images) holding the secret."""
    hashes: set[str] = set()
    for outcome in outcomes:
        run = store.get_run(outcome.run_id)
        if run is not None and run.trigger_hash:
            hashes.add(run.trigger_hash)
        for attempt in store.attempts(outcome.run_id):
            hashes |= attempt.payload_hashes()
    return sum(PLANTED in repr(store.get_payload(h)) for h in sorted(hashes))


async def run(*, runs: int = 24, rates: Sequence[float] = (0.10, 0.25, 0.40)) -> dict[str, Any]:
    results = [await one_rate(rate, runs) for rate in rates]
    return {"runs_per_rate": runs, "rates": results, "machine": describe_line()}


def write_docs(result: dict[str, Any], command: str, docs: Path = DOCS) -> None:
    rows = [
        f"| {r['rate']:.0%} | {r['completed']}/{r['runs']} | {r['duplicates']} | "
        f"{r['untraced_writes']} | {r['secrets_found']} | {r['inner_retries']} "
        f"({r['reconciled_writes']} reconciled) | {r['attempts_failed']} | {r['seconds']} |"
        for r in result["rates"]
    ]
    section = "\n".join(
        [
            HEADING,
            "",
            f"`{command}` — the reference pipeline under request faults on every tool (60 % "
            "5xx, 20 % 429, 20 % writes that land and answer 504), steps on their default "
            "retry policy; a credential planted in every trigger. "
            f"{result['machine']}.",
            "",
            "| request faults | runs completed | duplicates | untraced writes | secrets found "
            "| inner retries | failed attempts | seconds |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "Budget: 0 duplicates, 0 untraced writes, 0 secrets found, ≥ 99 % of runs "
            "complete at 25 %. An untraced write is an object the tools hold that no "
            "recorded `created` write accounts for.",
        ]
    )
    replace_section(HEADING, section, docs)


def summary(result: dict[str, Any]) -> str:
    return "; ".join(
        f"{r['rate']:.0%}: {r['completed']}/{r['runs']} completed, {r['duplicates']} duplicates, "
        f"{r['untraced_writes']} untraced, {r['secrets_found']} secrets"
        for r in result["rates"]
    )
