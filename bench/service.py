"""The long-running service under webhooks: latency to the first step, and scaling.

Starts the sandbox, a Temporal dev server and N ``steptrace serve`` processes (N = 1,
then 2) sharing one SQLite trace store and one task queue, then delivers ``events``
signed Linear webhooks (the reference pipeline, triggered per issue: the seeded issues
and as many more as needed, created through the emulator) spread over the receivers.
Measured per N:

- webhook received → first step started: from just before the POST to the first
  step's recorded ``started_at`` (same machine, same clock), p50 / p95;
- throughput: runs per second from the first POST to the last run's end;
- the CPU seconds the ``serve`` processes used (user + system, read when they exit),
  and the load average before and after, since wall figures on a shared machine are
  inflated by everything else running.

Run it with ``steptrace bench service --events 300`` (the issue's size). The issue's
fuller load (10 % redelivered, 10 % tool errors, one worker SIGKILLed) is checked for
correctness, at the same size, by ``tests/service/test_service_processes.py``; this
benchmark measures speed only.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.docs import replace_section
from bench.machine import describe_line, load_line
from connectors.sandbox.server import Sandbox
from connectors.sandbox.webhooks import Subscription, linear_delivery
from orchestrator.config.settings import SANDBOX_TOKEN, TOOLS
from orchestrator.runtime.devserver import DevServer
from tracer.store import TraceStore

SECTION = "## Service: webhook to first step, and scaling"
PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
SECRET = "bench-linear-webhook-secret-0123456789"
STEPTRACE = Path(sys.executable).with_name("steptrace")


async def run(events: int = 300) -> dict[str, Any]:
    results: dict[str, Any] = {"events": events, "machine": describe_line()}
    with Sandbox(seed=7) as sandbox:
        server = DevServer()
        await server.start()
        try:
            for workers in (1, 2):
                results[f"{workers}_worker"] = await _measure(
                    server.address, sandbox, workers, events
                )
        finally:
            await server.stop()
    one, two = results["1_worker"], results["2_worker"]
    results["scaling_ratio"] = round(two["runs_per_second"] / one["runs_per_second"], 2)
    results["load_average"] = load_line()
    return results


async def _measure(address: str, sandbox: Sandbox, workers: int, events: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="steptrace-bench-service-"))
    _pipeline(tmp / "pipelines")
    database = f"sqlite:///{tmp / 'trace.db'}"
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    load_before = load_line()
    cpu_before = _children_cpu()
    processes = [await _serve(address, database, queue, sandbox, tmp, n) for n in range(workers)]
    store = TraceStore.open(database)
    try:
        urls = [url for _, url in processes]
        issues = await asyncio.to_thread(sandbox.linear_issues, events)
        subscription = Subscription("linear", "", SECRET)
        sent: dict[str, float] = {}
        started = time.time()
        async with httpx.AsyncClient(timeout=60) as http:
            for index, issue in enumerate(issues):
                delivery = linear_delivery(subscription, issue)
                sent[delivery.delivery_id] = time.time()
                response = await http.post(
                    urls[index % len(urls)] + "/hooks/linear",
                    content=delivery.body,
                    headers=delivery.headers,
                )
                response.raise_for_status()
        while True:  # other processes end the runs: poll the shared store
            if _all_ended(store, events):
                break
            await asyncio.sleep(0.2)
        runs = store.list_runs(limit=events * 2)
        elapsed = max(r.ended_at.timestamp() for r in runs if r.ended_at) - started
        latencies = [_first_step_latency(store, run.run_id, sent) for run in runs]
    finally:
        for process, _ in processes:
            process.terminate()
            await process.wait()
        store.close()
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000),
        "runs_per_second": round(events / elapsed, 2),
        "wall_seconds": round(elapsed, 1),
        "serve_cpu_seconds": round(_children_cpu() - cpu_before, 1),
        "load_before": load_before,
        "load_after": load_line(),
    }


def _children_cpu() -> float:
    """User + system seconds of the child processes that have exited (the ``serve``s)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pipeline(folder: Path) -> None:
    spec: dict[str, Any] = yaml.safe_load((PIPELINES / "linear-triage-sync.yaml").read_text())
    spec["triggers"] = [
        {"tool": "linear", "events": ["Issue"], "input": {"issue": "data.identifier"}}
    ]
    folder.mkdir(parents=True)
    (folder / "hooked.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


async def _serve(
    address: str, database: str, queue: str, sandbox: Sandbox, tmp: Path, n: int
) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPTRACE_")}
    env.update(
        STEPTRACE_TEMPORAL_ADDRESS=address,
        STEPTRACE_DATABASE_URL=database,
        STEPTRACE_TASK_QUEUE=queue,
        STEPTRACE_PIPELINES_DIR=str(tmp / "pipelines"),
        STEPTRACE_LINEAR_WEBHOOK_SECRET=SECRET,
        STEPTRACE_SERVICE_FILE=str(tmp / f"service-{n}.json"),
        STEPTRACE_LISTEN="127.0.0.1:0",
        PYTHONUNBUFFERED="1",
    )
    for tool in TOOLS:
        env[f"STEPTRACE_{tool.upper()}_URL"] = sandbox.urls[tool]
        env[f"STEPTRACE_{tool.upper()}_TOKEN"] = SANDBOX_TOKEN
    process = await asyncio.create_subprocess_exec(
        str(STEPTRACE),
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            raise RuntimeError("steptrace serve exited before it was ready")
        found = re.match(r"^  receiver\s+(\S+)", line)
        if found:
            # Keep reading: a full stdout pipe would block the worker's own log writes.
            drain = asyncio.create_task(_discard(process.stdout))
            _DRAINS.add(drain)
            drain.add_done_callback(_DRAINS.discard)
            return process, found[1]


_DRAINS: set[asyncio.Task[None]] = set()


async def _discard(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass


def _all_ended(store: TraceStore, events: int) -> bool:
    runs = store.list_runs(limit=events * 2)
    return len(runs) >= events and all(r.ended_at is not None for r in runs)


def _first_step_latency(store: TraceStore, run_id: str, sent: dict[str, float]) -> float:
    workflow_id = run_id.split("/", 1)[0]
    delivery = workflow_id.split("-linear-", 1)[1]
    first = min(store.attempts(run_id), key=lambda a: a.started_at)
    return first.started_at.timestamp() - sent[delivery]


def write_docs(result: dict[str, Any], command: str) -> None:
    one, two = result["1_worker"], result["2_worker"]
    section = "\n".join(
        [
            SECTION,
            "",
            f"`{command}` — {result['events']} signed Linear webhooks, the reference "
            "pipeline per issue, `steptrace serve` processes on one task queue and one "
            "SQLite store, the sandbox without faults. The webhooks are posted one after "
            "another as fast as the receivers take them, so the latency to the first step "
            "includes the wait behind the deliveries before it (the backlog), and serve CPU "
            "is what the processes used in all.",
            "",
            "| serve processes | webhook → first step p50 | p95 | runs / s | wall | serve CPU "
            "| load before → after |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            _row(1, one),
            _row(2, two),
            "",
            f"Scaling, 2 vs 1 processes (measured side by side in one run): "
            f"**{result['scaling_ratio']}×**.",
            "",
            f"Machine: {result['machine']}; load during the run: {result['load_average']}. "
            "Both configurations share the machine's cores; with a load average above the "
            "core count, a second process competes for the same CPU and the ratio measures "
            "that contention, not what a second machine would add.",
            "",
        ]
    )
    replace_section(SECTION, section)


def _row(workers: int, figures: dict[str, Any]) -> str:
    return (
        f"| {workers} | {figures['p50_ms']} ms | {figures['p95_ms']} ms | "
        f"{figures['runs_per_second']} | {figures['wall_seconds']} s | "
        f"{figures['serve_cpu_seconds']} s | {figures['load_before']} → {figures['load_after']} |"
    )
