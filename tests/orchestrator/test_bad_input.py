"""Bad input and a store in trouble: each a clear error that names the input, and nothing lost.

* a 10 MB handoff: Temporal's payload limit (2 MiB on the dev server) refuses it, so the
  step fails at once, not retried, naming the step, the size and the limit, and the
  attempt and its input are in the store;
* the SQLite store locked by another connection mid-run: the step's attempts wait, then
  are retried by Temporal (the trace-store error is retryable), and once the lock goes
  the run completes with every attempt Temporal made in the store;
* the SQLite store deleted while the worker runs: the step fails with an error naming
  the database and what to do, no new run starts untraced, and shutting down says how
  many records could not be written.

Bad CLI input (malformed YAML, unknown op, bad trigger) is in ``test_cli.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from connectors.sandbox.faults import Fault
from orchestrator.config.settings import Settings
from orchestrator.service.stack import Stack, StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline
from tests.orchestrator.conftest import StackFactory
from tests.orchestrator.processes import poll_until
from tracer.store import AttemptStatus, RunStatus, StoreUnavailableError, TraceStore

MIB = 1024 * 1024
DEADLINE_SECONDS = 90.0
# notify_slack's post is held this long by the sandbox, so the store can be locked or
# deleted after an earlier step is recorded and before notify_slack's record is written;
# long enough for a loaded machine's polling to see the earlier step in time.
SLACK_HOLD_SECONDS = 6.0


# ---------------------------------------------------------------- helpers


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after a generous deadline."""
    try:
        await poll_until(condition, within=DEADLINE_SECONDS, every=0.02)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


@contextlib.asynccontextmanager
async def traced_stack(
    temporal_address: str,
    database_url: str,
    capture_errors: list[BaseException],
    **options: Any,
) -> AsyncIterator[Stack]:
    """Like ``make_stack``, with the store-trouble knobs (durable_within, drain_seconds)."""
    stack_options = StackOptions(
        database_url=database_url, on_capture_error=capture_errors.append, **options
    )
    async with open_stack(stack_options, Settings(temporal_address=temporal_address)) as stack:
        yield stack


def slow_slack_post() -> Fault:
    return Fault(
        service="slack",
        kind="latency",
        seconds=SLACK_HOLD_SECONDS,
        operation="chat.postMessage",
        times=1,
    )


async def step_recorded(store: TraceStore, step_id: str) -> str:
    """Wait until the (only) run has a successful attempt of ``step_id`` stored; return its
    workflow id. Named, not counted: a step Temporal retried adds attempts of its own."""
    found: list[str] = []

    async def recorded() -> bool:
        runs = store.list_runs()
        if not runs:
            return False
        attempts = store.attempts(runs[0].run_id)
        if any(a.step_id == step_id and a.status is AttemptStatus.SUCCEEDED for a in attempts):
            found.append(runs[0].run_id.partition("/")[0])  # run id = workflow id/run
            return True
        return False

    await until(recorded, f"a recorded attempt of {step_id}")
    return found[0]


async def retried_after(handle: WorkflowHandle[Any, Any], text: str) -> str:
    """Wait until Temporal retries an activity whose last failure mentions ``text``."""
    seen: list[str] = []

    async def retried() -> bool:
        description = await handle.describe()
        for pending in description.raw_description.pending_activities:
            message = pending.last_failure.message
            if pending.attempt >= 2 and text in message:
                seen.append(message)
                return True
        return False

    await until(retried, f"a retry after a failure mentioning {text!r}")
    return seen[0]


async def temporal_attempts(handle: WorkflowHandle[Any, Any]) -> dict[str, int]:
    """Step activity id (``index:step``) → the attempt that ended it, from Temporal's history."""
    scheduled: dict[int, str] = {}
    last: dict[str, int] = {}
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attrs.activity_id
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            last[scheduled[started.scheduled_event_id]] = started.attempt
    return {activity_id: n for activity_id, n in last.items() if ":" in activity_id}


def db_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def delete_store_files(path: Path) -> None:
    """What ``rm trace.db*`` does: the file, its WAL and its shared-memory index."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'trace.db'}"


@pytest.fixture
def lock_holder(store_url: str) -> Iterator[Callable[[], sqlite3.Connection]]:
    """``take()`` opens a connection holding ``BEGIN EXCLUSIVE``; it is released after."""
    held: list[sqlite3.Connection] = []

    def take() -> sqlite3.Connection:
        conn = sqlite3.connect(db_path(store_url), isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        held.append(conn)
        return conn

    yield take
    for conn in held:
        if conn.in_transaction:
            conn.rollback()
        conn.close()


# ---------------------------------------------------------------- a 10 MB payload


async def test_a_payload_over_the_limit_fails_its_step_clearly_and_at_once(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    huge = "x" * (10 * MIB)
    near = "y" * (3 * MIB // 2)
    faults = [
        Fault(
            service="linear", kind="corrupt_value", target="description", value=huge, until_run=1
        ),
        Fault(
            service="linear",
            kind="corrupt_value",
            target="description",
            value=near,
            from_run=2,
            until_run=2,
        ),
    ]
    async with make_stack(faults=faults) as stack:
        assert stack.store is not None and stack.sandbox is not None
        failed = await stack.run(reference, {"issue": "ENG-101"})
        # Issue reads only: the run's schema record reads Linear's states and labels.
        linear_calls = len(
            [e for e in stack.sandbox.journal.list("linear") if e.operation == "issue"]
        )
        # The diagnosis reads the destinations' schemas; no step may write anything.
        airtable_writes = [
            e for e in stack.sandbox.journal.list("airtable") if "records" in e.operation
        ]
        run = stack.store.get_run(failed.run_id)
        attempts = stack.store.attempts(failed.run_id)
        stack.sandbox.begin_run(2)
        under = await stack.run(reference, {"issue": "ENG-102"})
        under_attempts = stack.store.attempts(under.run_id)
        handed_on = stack.store.get_payload(under_attempts[1].input_hash)

    assert failed.status == "failed"
    assert failed.error is not None
    for text in ("fetch_issue", "10.0 MiB", "2097152 bytes", "output.description"):
        assert text in failed.error, failed.error
    (attempt,) = attempts  # not retried: the same input would give the same refusal
    assert linear_calls == 1 and airtable_writes == []
    assert attempt.step_id == "fetch_issue" and attempt.status is AttemptStatus.FAILED
    error = attempt.error
    assert error is not None
    assert (error.error_class, error.code, error.field, error.retryable) == (
        "PayloadTooLarge",
        "payload_too_large",
        "output.description",
        False,
    )
    assert re.search(r"its result is 10\.0 MiB \(\d+ bytes\), over .* 2\.0 MiB", error.message)
    assert "limit.blobSize.error" in error.message  # the way out
    assert stack.store.get_payload(attempt.input_hash) == {"id": "ENG-101"}
    assert run is not None and run.status is RunStatus.FAILED
    assert run.failed_step == "fetch_issue" and run.trigger_hash is not None

    # Just under the limit, the same pipeline hands 1.5 MiB on and records it whole.
    assert under.status == "succeeded", under.error
    assert handed_on["fetch_issue"]["description"] == near


# ---------------------------------------------------------------- a locked store


async def test_a_locked_store_delays_the_run_and_loses_no_attempt(
    temporal_address: str,
    store_url: str,
    capture_errors: list[BaseException],
    lock_holder: Callable[[], sqlite3.Connection],
    reference: LoadedPipeline,
) -> None:
    async with traced_stack(
        temporal_address, store_url, capture_errors, faults=[slow_slack_post()], durable_within=1.0
    ) as stack:
        assert stack.store is not None and stack.sandbox is not None
        running = asyncio.create_task(stack.run(reference, {"issue": "ENG-103"}))
        workflow_id = await step_recorded(stack.store, "qc")
        lock = lock_holder()  # taken while notify_slack's post is held by the sandbox
        handle = stack.client.get_workflow_handle(workflow_id)
        failure = await retried_after(handle, "locked")
        lock.rollback()
        outcome = await asyncio.wait_for(running, DEADLINE_SECONDS)
        run = stack.store.get_run(outcome.run_id)
        attempts = stack.store.attempts(outcome.run_id)
        in_temporal = await temporal_attempts(handle)
        slack = stack.sandbox.state("slack")

    assert outcome.status == "succeeded", outcome.error
    assert run is not None and run.status is RunStatus.SUCCEEDED
    assert "TraceStoreUnavailable" in failure or "trace store" in failure
    assert str(db_path(store_url)) in failure and "retried" in failure
    stored: dict[str, list[int]] = {}
    for attempt in attempts:
        stored.setdefault(f"{attempt.step_index}:{attempt.step_id}", []).append(attempt.attempt)
    assert stored == {key: list(range(1, last + 1)) for key, last in in_temporal.items()}
    assert len(stored["5:notify_slack"]) >= 2  # Temporal retried it while the store was locked
    posted = [m for m in slack["messages"] if "ENG-103" in str(m.get("text", ""))]
    assert len(posted) == 1  # retried, yet posted once


# ---------------------------------------------------------------- a deleted store


async def test_a_deleted_store_is_a_clear_error_and_no_run_goes_untraced(
    temporal_address: str,
    store_url: str,
    capture_errors: list[BaseException],
    reference: LoadedPipeline,
) -> None:
    path = db_path(store_url)
    seen: dict[str, Any] = {}

    async def delete_mid_run() -> None:
        async with traced_stack(
            temporal_address,
            store_url,
            capture_errors,
            faults=[slow_slack_post()],
            durable_within=1.0,
            drain_seconds=1.0,
        ) as stack:
            assert stack.store is not None and stack.sandbox is not None
            running = asyncio.create_task(stack.run(reference, {"issue": "ENG-104"}))
            workflow_id = await step_recorded(stack.store, "sync_monday")
            # The spec is cached, as it is once a worker's QC has read it: starting the
            # next run then needs nothing from the store, and must still refuse.
            assert stack.store.get_pipeline_spec(reference.version) is not None
            delete_store_files(path)
            handle = stack.client.get_workflow_handle(workflow_id)
            seen["failure"] = await retried_after(handle, "is gone")
            linear_before = len(stack.sandbox.journal.list("linear"))
            try:
                await stack.run(reference, {"issue": "ENG-105"})
            except StoreUnavailableError as exc:
                seen["next_run"] = str(exc)
            seen["new_linear_calls"] = len(stack.sandbox.journal.list("linear")) - linear_before
            await handle.terminate("the test deleted the trace store")
            seen["outcome"] = await asyncio.wait_for(running, DEADLINE_SECONDS)

    with pytest.raises(StoreUnavailableError) as at_exit:
        await delete_mid_run()

    failure = seen["failure"]
    assert str(path) in failure
    assert "deleted or moved" in failure and "Put it back" in failure and "restart" in failure
    assert str(path) in seen["next_run"] and "deleted or moved" in seen["next_run"]
    assert seen["new_linear_calls"] == 0  # the next run did not start untraced
    assert seen["outcome"].status == "failed"
    assert not path.exists()  # nothing quietly started a fresh file in its place
    message = str(at_exit.value)
    assert str(path) in message
    assert re.search(r"\d+ attempt record\(s\) could not be committed before close", message)
