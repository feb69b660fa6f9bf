"""Benchmark: scale-out on the real engine — 1, 2 and 4 worker processes.

One Temporal dev server (our ``temporal server start-dev`` child), one sandbox process
(``steptrace sandbox --no-rate-limits``: the tools' own rate limits would measure the
tools, not us), the trace store in PostgreSQL (a fresh schema per worker count), and N
``steptrace worker`` processes on one task queue, each with its metrics endpoint. The
reference pipeline (``pipelines/linear-triage-sync.yaml``) runs over the seeded issues
ENG-101…ENG-160, cycling, ``concurrency`` workflows in flight. Every issue runs once
first (warm-up, not measured), so every measured run is the same work (an update).

Per worker count: throughput (measured runs / wall seconds), run latency p50/p95 (start
to result, as the starter sees it), the store's write latency (queueing a step's record
to its durable commit; mean and p95 from the workers' histograms), the store's bytes per
run (PostgreSQL relation sizes over runs stored) and Temporal's history bytes per run
(``history_size_bytes`` of sampled runs).

    python -m bench.scaleout --runs 2000 --workers 1,2,4 --json
    python -m bench.scaleout --write-docs     rewrite "## Scale-out" in docs/benchmarks.md
                                              and "## Measured inputs" in docs/capacity.md

A long run says how far it is every few seconds on stderr (runs done, elapsed, rate).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bench import capacity
from bench.docs import replace_section
from bench.machine import describe, describe_line, load_line
from orchestrator.config.ports import free_port
from orchestrator.config.settings import SANDBOX_TOKEN, TOOLS, Settings
from orchestrator.runtime.connection import connect
from orchestrator.runtime.devserver import DevServer
from orchestrator.runtime.pipeline_workflow import PIPELINE_WORKFLOW, PipelineInput, PipelineResult
from orchestrator.spec.pipeline import LoadedPipeline, load_pipeline
from tracer.store import TraceStore

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = ROOT / "pipelines" / "linear-triage-sync.yaml"
ISSUES = tuple(f"ENG-{n}" for n in range(101, 161))
SECTION = "## Scale-out"
HISTORY_SAMPLE = 20
DATABASE_ENV = ("STEPTRACE_BENCH_DATABASE_URL", "STEPTRACE_TEST_DATABASE_URL")
PROGRESS_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class Plan:
    runs: int = 2000
    workers: tuple[int, ...] = (1, 2, 4)
    concurrency: int = 32
    database_url: str = ""


async def run(plan: Plan) -> dict[str, Any]:
    """Measure every worker count of ``plan`` in turn; the figures as a dict."""
    pipeline = load_pipeline(PIPELINE)
    load_before = load_line()
    server = DevServer()
    await server.start()
    try:
        async with _sandbox() as urls:
            rows = []
            for count in plan.workers:
                rows.append(await _measure(plan, count, server.address, urls, pipeline))
                print(f"scaleout: {count} worker(s): {rows[-1]}", file=sys.stderr, flush=True)
    finally:
        await server.stop()
    return {
        "runs": plan.runs,
        "concurrency": plan.concurrency,
        "rows": rows,
        "load_average": load_before,
        "load_average_after": load_line(),
        "machine": describe(),
    }


@contextlib.asynccontextmanager
async def _sandbox() -> AsyncIterator[dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orchestrator.cli.app",
        "sandbox",
        "--json",
        "--no-rate-limits",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = await process.stdout.readline()
        yield dict(json.loads(line))
    finally:
        process.terminate()
        await process.wait()


async def _measure(
    plan: Plan, count: int, address: str, urls: dict[str, str], pipeline: LoadedPipeline
) -> dict[str, Any]:
    schema = f"st_scaleout_{count}_{uuid.uuid4().hex[:8]}"
    url = _schema_url(plan.database_url, schema)
    admin = sa.create_engine(plan.database_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        with TraceStore.open(url) as store:
            store.save_pipeline_version(pipeline.spec.name, pipeline.text, version=pipeline.version)
        queue = f"scaleout-{count}-{uuid.uuid4().hex[:6]}"
        async with _workers(count, address, urls, url, queue) as metrics_urls:
            client = await connect(Settings(temporal_address=address))
            warm_up = f"{count} worker(s), warm-up"
            await _runs(client, queue, pipeline, len(ISSUES), plan.concurrency, warm_up)
            started = time.perf_counter()
            latencies, ids = await _runs(
                client, queue, pipeline, plan.runs, plan.concurrency, f"{count} worker(s)"
            )
            wall = time.perf_counter() - started
            writes = await _store_writes(metrics_urls)
            history = await _history_bytes(client, ids[:: max(1, len(ids) // HISTORY_SAMPLE)])
        with admin.connect() as conn:
            stored = _store_bytes(conn, schema)
            runs_stored = conn.exec_driver_sql(f'SELECT count(*) FROM "{schema}".run').scalar_one()
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
    ordered = sorted(latencies)
    return {
        "workers": count,
        "runs_per_second": round(plan.runs / wall, 2),
        "latency_p50_ms": round(statistics.median(ordered) * 1000),
        "latency_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000),
        "store_write_mean_ms": writes["mean_ms"],
        "store_write_p95_ms": writes["p95_ms"],
        "store_bytes_per_run": round(stored / max(1, runs_stored)),
        "history_bytes_per_run": history,
    }


def _schema_url(base: str, schema: str) -> str:
    parsed = make_url(base)
    options = f"{parsed.query.get('options', '')} -csearch_path={schema}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def _workers(
    count: int, address: str, urls: dict[str, str], database_url: str, queue: str
) -> AsyncIterator[list[str]]:
    """``count`` worker processes; yields their metrics URLs once all poll the queue."""
    processes, metrics = [], []
    for _ in range(count):
        port = free_port()
        env = (
            os.environ
            | _tool_env(urls)
            | {
                "STEPTRACE_TEMPORAL_ADDRESS": address,
                "STEPTRACE_DATABASE_URL": database_url,
                "STEPTRACE_EMBEDDED": "0",
                "STEPTRACE_METRICS_PORT": str(port),
            }
        )
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "orchestrator.cli.app",
                "worker",
                "--task-queue",
                queue,
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
        )
        metrics.append(f"http://127.0.0.1:{port}/metrics")
    try:
        for process in processes:  # each prints its queue once its worker is polling
            assert process.stdout is not None
            if not await process.stdout.readline():
                raise RuntimeError(f"a worker exited with {await process.wait()} at start")
        yield metrics
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await process.wait()


def _tool_env(urls: dict[str, str]) -> dict[str, str]:
    env = {}
    for tool in TOOLS:
        env[f"STEPTRACE_{tool.upper()}_URL"] = urls[tool]
        env[f"STEPTRACE_{tool.upper()}_TOKEN"] = SANDBOX_TOKEN
    return env


@dataclass
class Tally:
    """Runs finished so far, for the progress line."""

    done: int = 0


@contextlib.asynccontextmanager
async def progress(label: str, total: int, tally: Tally) -> AsyncIterator[None]:
    """Print ``label``'s runs done, elapsed time and rate on stderr every few seconds."""
    started = time.perf_counter()

    async def report() -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_SECONDS)
            elapsed = time.perf_counter() - started
            print(
                f"scaleout: {label}: {tally.done}/{total} runs, {elapsed:.0f} s, "
                f"{tally.done / elapsed:.2f} runs/s",
                file=sys.stderr,
                flush=True,
            )

    task = asyncio.create_task(report())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _runs(
    client: Any,
    queue: str,
    pipeline: LoadedPipeline,
    runs: int,
    concurrency: int,
    label: str,
) -> tuple[list[float], list[str]]:
    limit = asyncio.Semaphore(concurrency)
    spec = pipeline.spec.model_dump(mode="json", by_alias=True)
    tally = Tally()

    async def one(index: int) -> tuple[float, str]:
        async with limit:
            started = time.perf_counter()
            workflow_id = f"scaleout-{uuid.uuid4().hex[:12]}"
            result = await client.execute_workflow(
                PIPELINE_WORKFLOW,
                PipelineInput(spec=spec, trigger={"issue": ISSUES[index % len(ISSUES)]}),
                id=workflow_id,
                task_queue=queue,
                result_type=PipelineResult,
            )
            if result.status != "succeeded":
                raise RuntimeError(f"run {workflow_id} {result.status}")
            tally.done += 1
            return time.perf_counter() - started, workflow_id

    async with progress(label, runs, tally):
        done = await asyncio.gather(*(one(i) for i in range(runs)))
    return [latency for latency, _ in done], [workflow_id for _, workflow_id in done]


async def _store_writes(metrics_urls: Sequence[str]) -> dict[str, float]:
    """Mean and p95 (bucket upper bound) of the workers' store write histograms, merged."""
    buckets: dict[float, float] = {}
    total = count = 0.0
    async with httpx.AsyncClient() as http:
        for url in metrics_urls:
            text = (await http.get(url)).text
            for family in text_string_to_metric_families(text):
                if family.name != "steptrace_store_write_seconds":
                    continue
                for sample in family.samples:
                    if sample.name.endswith("_bucket"):
                        bound = float(sample.labels["le"])
                        buckets[bound] = buckets.get(bound, 0.0) + sample.value
                    elif sample.name.endswith("_sum"):
                        total += sample.value
                    elif sample.name.endswith("_count"):
                        count += sample.value
    p95 = next((b for b in sorted(buckets) if buckets[b] >= 0.95 * count), float("inf"))
    return {"mean_ms": round(1000 * total / count, 1) if count else 0.0, "p95_ms": 1000 * p95}


async def _history_bytes(client: Any, workflow_ids: Sequence[str]) -> int:
    sizes = []
    for workflow_id in workflow_ids:
        described = await client.get_workflow_handle(workflow_id).describe()
        sizes.append(described.raw_description.workflow_execution_info.history_size_bytes)
    return round(statistics.mean(sizes)) if sizes else 0


def _store_bytes(conn: sa.Connection, schema: str) -> int:
    query = sa.text(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relkind = 'r'"
    )
    return int(conn.execute(query, {"schema": schema}).scalar_one())


def section(figures: dict[str, Any]) -> str:
    lines = [
        SECTION,
        "",
        f"`python -m bench.scaleout --runs {figures['runs']}` — {figures['runs']} measured "
        f"runs of the reference pipeline per row, {figures['concurrency']} in flight, "
        "PostgreSQL store, one Temporal dev server (SQLite), one sandbox process without "
        "rate limits, all on this machine:",
        "",
        describe_line(figures["machine"]),
        f"Load average at start: {figures['load_average']}; at end: "
        f"{figures['load_average_after']}.",
        "",
        "| workers | runs/s | run p50 ms | run p95 ms | store write mean ms | store write p95 ms "
        "| store bytes/run | history bytes/run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in figures["rows"]:
        lines.append(
            f"| {row['workers']} | {row['runs_per_second']} | {row['latency_p50_ms']} "
            f"| {row['latency_p95_ms']} | {row['store_write_mean_ms']} "
            f"| {row['store_write_p95_ms']:g} | {row['store_bytes_per_run']} "
            f"| {row['history_bytes_per_run']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=Plan.runs)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=Plan.concurrency)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="rewrite the Scale-out section of docs/benchmarks.md and the Measured inputs "
        "of docs/capacity.md from this run",
    )
    args = parser.parse_args(argv)
    database = next((os.environ[n] for n in DATABASE_ENV if os.environ.get(n)), "")
    if not database:
        parser.error(f"set {DATABASE_ENV[0]} (a PostgreSQL URL; a schema is made per row)")
    workers = tuple(int(part) for part in args.workers.split(","))
    plan = Plan(args.runs, workers, args.concurrency, database)
    figures = asyncio.run(run(plan))
    if args.write_docs:
        replace_section(SECTION, section(figures))
        capacity.write_docs(figures)
    print(json.dumps(figures) if args.json else section(figures))


if __name__ == "__main__":
    main()
