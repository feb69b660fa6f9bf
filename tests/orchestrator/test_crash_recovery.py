"""A worker killed with SIGKILL mid-run loses nothing and doubles nothing.

The worker is a real ``steptrace worker`` process (see :mod:`tests.orchestrator.processes`)
tracing into a SQLite store that the test reads too. It is killed while steps are in
flight; a fresh worker takes over once their short ``start_to_close`` timeouts expire.
Then Temporal's history, the trace store and the tools' state must agree: every run
succeeded, every attempt Temporal recorded is in the store exactly once, and every
external object exists once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from connectors.sandbox.faults import SERVICES, Fault, Service
from connectors.sandbox.server import Sandbox
from orchestrator.runtime.pipeline_workflow import PIPELINE_WORKFLOW, PipelineInput, PipelineResult
from orchestrator.spec.pipeline import LoadedPipeline, parse_pipeline
from tests.orchestrator.ledger import (
    airtable_linear_ids,
    finished_attempts,
    key_of,
    monday_linear_ids,
    repeated,
    slack_idempotency_keys,
    stored_attempts,
)
from tests.orchestrator.processes import WorkerProcess, poll_until, worker_env
from tracer.store import RunStatus, TraceStore

ISSUES = ("ENG-111", "ENG-112", "ENG-113", "ENG-114", "ENG-115", "ENG-116")
# Long enough per request that a kill finds steps in flight; short enough, with the
# 3 s step timeout, that a lost attempt is retried within seconds.
REQUEST_LATENCY_SECONDS = 0.25
STEP_TIMEOUT_SECONDS = 3.0
ATTEMPTS_BEFORE_KILL = len(ISSUES)
DEADLINE_SECONDS = 45.0
POLL_SECONDS = 0.02


def crash_variant(reference: LoadedPipeline) -> LoadedPipeline:
    """The reference pipeline with short step timeouts and quick retries."""
    spec: dict[str, Any] = reference.spec.model_dump(mode="json", by_alias=True)
    for step in spec["steps"]:
        step["timeout_seconds"] = STEP_TIMEOUT_SECONDS
        step["retry"] = {"maximum_attempts": 10, "initial_interval_seconds": 0.2}
    return parse_pipeline(yaml.safe_dump(spec, sort_keys=False), source="crash-variant")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    latency = [
        Fault(service=service, kind="latency", seconds=REQUEST_LATENCY_SECONDS)
        for service in SERVICES
    ]
    with Sandbox(seed=7, faults=latency) as running:
        yield running


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'trace.db'}"


@pytest.fixture
def store(database_url: str) -> Iterator[TraceStore]:
    opened = TraceStore.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
async def client(temporal_address: str) -> Client:
    return await Client.connect(temporal_address, data_converter=pydantic_data_converter)


async def test_a_killed_worker_loses_no_attempt_and_doubles_no_write(
    temporal_address: str,
    tmp_path: Path,
    database_url: str,
    sandbox: Sandbox,
    store: TraceStore,
    client: Client,
    reference: LoadedPipeline,
) -> None:
    pipeline = crash_variant(reference)
    store.save_pipeline_version(pipeline.spec.name, pipeline.text, version=pipeline.version)
    task_queue = f"crash-{uuid.uuid4().hex[:8]}"
    env = worker_env(
        temporal_address=temporal_address,
        database_url=database_url,
        task_queue=task_queue,
        tool_urls=sandbox.urls,
    )
    first = await WorkerProcess(env, tmp_path / "worker-1.log").start()
    second = WorkerProcess(env, tmp_path / "worker-2.log")
    try:
        handles = [await _start(client, pipeline, issue, task_queue) for issue in ISSUES]
        await _wait_for_attempts_in_flight(store, sandbox, handles)
        await first.kill()
        await second.start()
        async with asyncio.timeout(DEADLINE_SECONDS):
            results = await asyncio.gather(*(handle.result() for handle in handles))
    finally:
        await first.kill()
        await second.stop()

    assert [r.status for r in results] == ["succeeded"] * len(ISSUES)
    run_ids = [r.run_id for r in results]
    for run_id in run_ids:
        run = store.get_run(run_id)
        assert run is not None and run.status is RunStatus.SUCCEEDED, run
    await _assert_every_finished_attempt_stored_once(store, handles, run_ids, pipeline)
    _assert_no_external_duplicates(sandbox, run_ids)
    for worker in (first, second):
        assert "steptrace capture error" not in worker.log(), worker.log()


async def _start(
    client: Client, pipeline: LoadedPipeline, issue: str, task_queue: str
) -> WorkflowHandle[Any, PipelineResult]:
    return await client.start_workflow(
        PIPELINE_WORKFLOW,
        PipelineInput(
            spec=pipeline.spec.model_dump(mode="json", by_alias=True), trigger={"issue": issue}
        ),
        id=f"crash-{issue}-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=PipelineResult,
        # A workflow task held by the killed worker is handed on after this, not 10 s.
        task_timeout=timedelta(seconds=2),
    )


async def _wait_for_attempts_in_flight(
    store: TraceStore, sandbox: Sandbox, handles: list[WorkflowHandle[Any, PipelineResult]]
) -> None:
    """Poll until attempts are recorded and an Airtable upsert is between its requests.

    The Airtable step reads the existing record (``list_records``) before it writes
    (``upsert_records``): once a read is answered, that step is in flight, its write
    about to land, and no run can have finished.
    """
    run_ids = [f"{h.id}/{h.result_run_id}" for h in handles]
    await poll_until(
        lambda: (
            len(stored_attempts(store, run_ids)) >= ATTEMPTS_BEFORE_KILL
            and _answered(sandbox, "airtable", "list_records")
        ),
        within=DEADLINE_SECONDS,
        every=POLL_SECONDS,
    )
    unfinished = [r for r in run_ids if (run := store.get_run(r)) and run.ended_at is None]
    assert unfinished, "every run finished before the kill; raise the sandbox latency"


def _answered(sandbox: Sandbox, service: Service, operation: str) -> bool:
    return any(entry.operation == operation for entry in sandbox.journal.list(service))


async def _assert_every_finished_attempt_stored_once(
    store: TraceStore,
    handles: list[WorkflowHandle[Any, PipelineResult]],
    run_ids: list[str],
    pipeline: LoadedPipeline,
) -> None:
    records = stored_attempts(store, run_ids)
    stored = [key_of(record) for record in records]
    assert not repeated(stored), f"attempts stored twice: {repeated(stored)}"
    seen: list[Any] = []
    for handle, run_id in zip(handles, run_ids, strict=True):
        temporal_run_id = run_id.split("/", 1)[1]
        seen += await finished_attempts(handle, temporal_run_id)
    assert len(seen) == len(ISSUES) * len(pipeline.spec.steps), seen
    missing = sorted(set(seen) - set(stored))
    assert not missing, f"attempts Temporal recorded but the store lacks: {missing}"
    retried = [key for key in seen if key.attempt > 1]
    assert retried, "no attempt was lost to the kill; the test did not test recovery"


def _assert_no_external_duplicates(sandbox: Sandbox, run_ids: list[str]) -> None:
    airtable = airtable_linear_ids(sandbox.state("airtable"))
    monday = monday_linear_ids(sandbox.state("monday"))
    slack = slack_idempotency_keys(sandbox.state("slack"))
    assert sorted(airtable) == sorted(ISSUES), airtable
    assert not repeated(monday), repeated(monday)
    assert set(ISSUES) <= set(monday), monday
    assert sorted(slack) == sorted(f"{run_id}:notify_slack" for run_id in run_ids), slack
