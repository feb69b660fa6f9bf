"""Group commit: concurrent writers share transactions, bad records are isolated, close drains."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tracer.payloads import EncodedPayload, PayloadError
from tracer.store import (
    AttemptRecord,
    GroupCommitter,
    NewRun,
    RunStatus,
    StoreDataError,
    TraceStore,
    Writes,
)
from tracer.store.inline import POSTGRES_INLINE_BUDGET_S

Attempt = Callable[..., tuple[AttemptRecord, EncodedPayload]]
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def committer(store: TraceStore) -> Iterator[GroupCommitter]:
    committer = GroupCommitter(store)
    yield committer
    committer.close()


@pytest.fixture
def commits(store: TraceStore) -> list[int]:
    """One entry per transaction the store's database commits."""
    seen: list[int] = []
    event.listen(store.engine, "commit", lambda _conn: seen.append(1))
    return seen


def _rows(store: TraceStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM step_attempt")).scalar_one())


async def test_concurrent_writers_share_transactions(
    store: TraceStore, committer: GroupCommitter, attempt: Attempt, commits: list[int]
) -> None:
    items = [attempt(activity_id=str(i)) for i in range(200)]
    await asyncio.gather(*(committer.record(r, [p]) for r, p in items))
    assert _rows(store) == 200
    assert committer.stats.records == 200
    assert len(commits) == committer.stats.batches < 200


def test_threads_share_transactions(
    store: TraceStore, committer: GroupCommitter, attempt: Attempt, commits: list[int]
) -> None:
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        start.wait()
        items = [attempt(activity_id=f"{n}-{i}") for i in range(25)]
        futures = [committer.submit(r, [p]) for r, p in items]
        for future in futures:
            future.result()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _rows(store) == 200
    assert len(commits) < 200


async def test_a_bad_record_fails_alone(
    store: TraceStore, committer: GroupCommitter, attempt: Attempt
) -> None:
    good = [attempt(activity_id=str(i)) for i in range(20)]
    bad, _ = attempt(activity_id="bad")  # its payload is never passed: the store refuses it
    results = await asyncio.gather(
        *(committer.record(r, [p]) for r, p in good[:10]),
        committer.record(bad),
        *(committer.record(r, [p]) for r, p in good[10:]),
        return_exceptions=True,
    )
    assert [type(r) for r in results if r is not None] == [StoreDataError]
    assert _rows(store) == 20
    assert committer.stats.failed == 1


def test_close_drains_the_queue(store: TraceStore, attempt: Attempt) -> None:
    committer = GroupCommitter(store)
    items = [attempt(activity_id=str(i)) for i in range(300)]
    futures = [committer.submit(r, [p]) for r, p in items]
    committer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert _rows(store) == 300
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(attempt(activity_id="late")[0])


async def test_same_record_twice_is_one_row(
    store: TraceStore, committer: GroupCommitter, attempt: Attempt
) -> None:
    record, payload = attempt()
    await asyncio.gather(committer.record(record, [payload]), committer.record(record, [payload]))
    assert _rows(store) == 1


async def test_cancelled_caller_still_gets_its_record_committed(
    store: TraceStore, committer: GroupCommitter, attempt: Attempt
) -> None:
    record, payload = attempt()
    task = asyncio.create_task(committer.record(record, [payload]))
    await asyncio.sleep(0)  # let the task queue its record (a yield, not a wait)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    committer.close()
    assert _rows(store) == 1


def test_batches_are_capped_by_payload_bytes(store: TraceStore, attempt: Attempt) -> None:
    committer = GroupCommitter(store, max_batch_bytes=1)  # every record is its own batch
    items = [attempt(activity_id=str(i)) for i in range(10)]
    futures = [committer.submit(r, [p]) for r, p in items]
    committer.close()
    assert all(f.exception() is None for f in futures)
    assert committer.stats.batches == 10


# ---------------------------------------------------------------- runs and prepared writes


async def test_runs_start_and_finish_through_the_committer(
    store: TraceStore, committer: GroupCommitter
) -> None:
    run = NewRun(run_id="wf-9/r1", workflow_id="wf-9", pipeline="p", started_at=T0)
    await committer.start_run(run, {"issue": "ENG-101"})
    stored = store.get_run(run.run_id)
    assert stored is not None and stored.status == RunStatus.RUNNING
    assert stored.trigger_hash is not None
    assert store.get_payload(stored.trigger_hash) == {"issue": "ENG-101"}

    await committer.finish_run(run.run_id, RunStatus.FAILED, "upsert", ended_at=T0)
    finished = store.get_run(run.run_id)
    assert finished is not None and finished.status == RunStatus.FAILED
    assert finished.failed_step == "upsert"


async def test_a_runs_end_records_its_schemas_in_the_same_transaction(
    store: TraceStore, committer: GroupCommitter, commits: list[int]
) -> None:
    run = NewRun(run_id="wf-8/r1", workflow_id="wf-8", pipeline="p", started_at=T0)
    await committer.start_run(run)
    schema = {"tool": "airtable", "container": "app/tbl", "fields": []}
    before = len(commits)
    await committer.finish_run(
        run.run_id, RunStatus.SUCCEEDED, ended_at=T0, schemas={"upsert": schema}
    )
    assert len(commits) - before == 1
    assert store.run_schemas(run.run_id) == {"upsert": schema}
    # a retried end keeps the link it made
    await committer.finish_run(
        run.run_id, RunStatus.SUCCEEDED, ended_at=T0, schemas={"upsert": schema}
    )
    assert store.run_schemas(run.run_id) == {"upsert": schema}


async def test_finishing_an_unknown_run_fails_alone(
    store: TraceStore, committer: GroupCommitter, attempt: Attempt
) -> None:
    record, payload = attempt()
    results = await asyncio.gather(
        committer.finish_run("wf/missing", RunStatus.SUCCEEDED, ended_at=T0),
        committer.record(record, [payload]),
        return_exceptions=True,
    )
    assert isinstance(results[0], StoreDataError) and "no such run" in str(results[0])
    assert results[1] is None and _rows(store) == 1


async def test_a_prepare_that_raises_fails_only_its_caller(
    store: TraceStore, committer: GroupCommitter, attempt: Attempt
) -> None:
    def broken() -> Writes:
        raise PayloadError("payload value at path 'x' is a set", path="x")

    good = [attempt(activity_id=str(i)) for i in range(5)]
    results = await asyncio.gather(
        *(committer.record(r, [p]) for r, p in good[:2]),
        committer.commit(broken, "broken attempt"),
        *(committer.record(r, [p]) for r, p in good[2:]),
        return_exceptions=True,
    )
    assert [type(r) for r in results if r is not None] == [PayloadError]
    assert _rows(store) == 5 and committer.stats.failed == 0


async def test_writes_are_prepared_on_the_committer_thread(
    store: TraceStore, attempt: Attempt
) -> None:
    committer = GroupCommitter(store, inline=False)
    record, payload = attempt()
    seen: list[str] = []

    def prepare() -> Writes:
        seen.append(threading.current_thread().name)
        return Writes(payloads=[payload], attempts=[record])

    await committer.commit(prepare, "attempt")
    committer.close()
    assert seen == ["steptrace-group-commit"] and _rows(store) == 1
    assert committer.stats.inline == 0


async def test_an_idle_committer_commits_on_the_callers_thread(
    store: TraceStore, attempt: Attempt
) -> None:
    """The fast path, on SQLite and on a quick PostgreSQL: no thread switch when nothing
    is queued."""
    committer = GroupCommitter(store)
    record, payload = attempt()
    seen: list[str] = []

    def prepare() -> Writes:
        seen.append(threading.current_thread().name)
        return Writes(payloads=[payload], attempts=[record])

    await committer.commit(prepare, "attempt")
    committer.close()
    assert seen == [threading.current_thread().name] and _rows(store) == 1
    assert committer.stats.inline == 1


async def test_slow_postgresql_commits_leave_the_event_loop(pg_url: str, attempt: Attempt) -> None:
    """A PostgreSQL server that answers slowly (here: every statement delayed past the
    fast path's budget) closes the fast path: the next records go to the committer
    thread. (SQLite's fast path has no such gate: its lock wait is bounded instead.)"""
    store = TraceStore.open(pg_url)
    delay = 2 * POSTGRES_INLINE_BUDGET_S
    event.listen(store.engine, "before_cursor_execute", lambda *_: time.sleep(delay))
    committer = GroupCommitter(store)
    threads: list[str] = []
    for n in range(3):
        record, payload = attempt(activity_id=str(n))
        writes = Writes(payloads=[payload], attempts=[record])

        def prepare(writes: Writes = writes) -> Writes:
            threads.append(threading.current_thread().name)
            return writes

        await committer.commit(prepare, f"attempt {n}")
    committer.close()
    rows = _rows(store)
    store.close()
    here = threading.current_thread().name
    assert threads == [here, "steptrace-group-commit", "steptrace-group-commit"]
    assert committer.stats.inline == 1 and rows == 3


async def test_the_fast_path_gives_way_to_another_writer(
    sqlite_store: TraceStore, attempt: Attempt
) -> None:
    """Another connection holds the write lock: the record is queued, not waited for on
    the caller's thread, and the committer commits it once the lock is free."""
    retried = threading.Event()
    committer = GroupCommitter(sqlite_store, retry_delay=0.01, on_retry=lambda _: retried.set())
    record, payload = attempt()
    other = sqlite3.connect(str(sqlite_store.engine.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    task = asyncio.create_task(
        committer.commit(lambda: Writes(payloads=[payload], attempts=[record]), "attempt")
    )
    await asyncio.to_thread(retried.wait)  # queued, and retried by the committer
    assert not task.done()
    other.execute("COMMIT")
    other.close()
    await task
    committer.close()
    assert committer.stats.inline == 0 and _rows(sqlite_store) == 1


def test_writes_arriving_together_share_a_transaction(
    store: TraceStore, attempt: Attempt, commits: list[int]
) -> None:
    """With a linger, a burst queued while the thread is busy commits in few batches."""
    committer = GroupCommitter(store, linger=0.05)
    gate = threading.Event()
    blocker = committer.submit_writes(lambda: (gate.wait(), Writes())[1], "blocker")
    items = [attempt(activity_id=str(i)) for i in range(40)]
    futures = [committer.submit(r, [p]) for r, p in items]
    gate.set()
    for future in [blocker, *futures]:
        future.result()
    committer.close()
    assert _rows(store) == 40
    assert committer.stats.batches <= 3  # the blocker, then the burst together
