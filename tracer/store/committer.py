"""Group commit: many concurrent writers, one background thread, one transaction per batch.

Every traced activity must have its attempt durably stored *before* its result is
reported to Temporal, and dozens of activities finish at once. Giving each its own
transaction would serialise them on SQLite's write lock (and fsync each). Instead each
caller queues its record and waits (``await committer.record(...)`` from asyncio,
``committer.submit(...).result()`` from a thread); one thread takes everything queued,
writes it in one transaction, and wakes all of those callers together. Runs starting and
finishing go the same way (:meth:`GroupCommitter.start_run`, :meth:`~GroupCommitter.finish_run`),
so a run's start shares a transaction with the attempts of other runs.

A caller may queue the *work of building* its rows instead of the rows
(:meth:`GroupCommitter.commit` with a ``prepare`` callable): the committer thread runs
it just before the transaction. For small payloads this is cheaper than encoding on an
executor thread and then handing the result over: one thread hop instead of two. When
two or more writes are already queued as the thread wakes, it lingers ``linger``
seconds for more, so that under load more callers share one transaction; a lone write
is committed at once.

Nothing is dropped:

* the store locked or unavailable (:class:`StoreUnavailableError`, including
  :class:`StoreLockedError`) — the batch is kept and retried with back-off until it
  commits; a caller that gave ``give_up_after`` gets the error when it expires, but its record
  stays queued;
* a record the store rejects (:class:`StoreDataError`) — the batch is split, so only
  that record's caller gets the error and the others commit;
* ``close()`` drains the queue; only if the store stays unavailable past its
  ``timeout`` are the remaining callers failed, and ``close()`` says how many.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracer.payloads import EncodedPayload, RedactionPolicy, encode
from tracer.store.dictionaries import PayloadDictionaries
from tracer.store.errors import StoreUnavailableError, TraceStoreError
from tracer.store.inline import InlineGate, inline_by_default, try_inline
from tracer.store.records import AttemptRecord, NewRun, RunStatus
from tracer.store.store import TraceStore
from tracer.store.writes import RunFinish, RunSchemaLink, Writes
from tracer.taint import Taint

__all__ = ["CommitStats", "GroupCommitter"]

log = logging.getLogger(__name__)


@dataclass
class CommitStats:
    """Counters, for tests and benchmarks."""

    batches: int = 0
    records: int = 0
    retries: int = 0
    failed: int = 0
    inline: int = 0  # records committed on the caller's thread (the fast path)
    dictionaries: int = 0  # payload dictionaries trained by this committer's store
    maintenance_errors: int = 0


Prepare = Callable[[], Writes]


@dataclass
class _Item:
    prepare: Prepare
    label: str
    future: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)
    writes: Writes | None = None


class GroupCommitter:
    """Batches :class:`AttemptRecord` writes to a :class:`TraceStore` on one thread.

    ``on_retry`` is called (on the committer thread) with each transient error before the
    batch is retried; use it to log or alert. It must not raise.
    """

    def __init__(
        self,
        store: TraceStore,
        *,
        max_batch: int = 500,
        max_batch_bytes: int = 64 * 1024 * 1024,
        retry_delay: float = 0.05,
        max_retry_delay: float = 2.0,
        linger: float = 0.0005,
        inline: bool | None = None,
        on_retry: Callable[[TraceStoreError], None] | None = None,
    ) -> None:
        self._store = store
        self._linger = linger
        self._inline = _inline_gate(store, inline)
        self._writing = threading.Lock()  # held while a transaction is written
        self._maintenance_due = False
        self._max_batch = max_batch
        self._max_batch_bytes = max_batch_bytes
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._on_retry = on_retry
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._abandon = threading.Event()
        self._last_error: TraceStoreError | None = None
        self.stats = CommitStats()
        self._thread = threading.Thread(
            target=self._run, name="steptrace-group-commit", daemon=True
        )
        self._thread.start()
        # The thread is a daemon so a dead database cannot hang interpreter exit;
        # this still drains the queue at a normal exit.
        atexit.register(self._close_at_exit)

    # ------------------------------------------------------------------ callers

    @property
    def codec(self) -> PayloadDictionaries:
        """The store's codec: encode payloads with it
        (``encode(value, policy, taint, codec=codec)``)."""
        return self._store.codec

    def submit(
        self, record: AttemptRecord, payloads: Sequence[EncodedPayload] = ()
    ) -> concurrent.futures.Future[None]:
        """Queue ``record`` (and the payloads it refers to); the future resolves once committed."""
        writes = Writes(payloads=list(payloads), attempts=[record])
        return self.submit_writes(lambda: writes, f"attempt {record.key}")

    def submit_writes(self, prepare: Prepare, label: str) -> concurrent.futures.Future[None]:
        """Queue the writes ``prepare`` builds (on the committer thread); ``label`` names
        them in errors. The future resolves once they are committed, or carries the
        exception ``prepare`` raised (nothing of it is written then)."""
        item = _Item(prepare, label)
        with self._cond:
            if self._closing:
                raise RuntimeError("GroupCommitter is closed; records can no longer be queued")
            self._queue.append(item)
            self._cond.notify()
        return item.future

    async def record(
        self,
        record: AttemptRecord,
        payloads: Sequence[EncodedPayload] = (),
        *,
        give_up_after: float | None = None,
    ) -> None:
        """Queue ``record`` and return once it is durably committed.

        With ``give_up_after``, raise after that many seconds: the store's last error (e.g.
        :class:`StoreLockedError`) if it is failing, else :class:`TimeoutError`. The
        record stays queued either way. Cancelling the caller does not unqueue it.
        """
        await self._wait(self.submit(record, payloads), f"attempt {record.key}", give_up_after)

    async def commit(
        self, prepare: Prepare, label: str, *, give_up_after: float | None = None
    ) -> None:
        """Commit the writes ``prepare`` builds and return once they are durable; like
        :meth:`record` otherwise. What ``prepare`` raises is raised here.

        When the committer is idle and the fast path is open (``inline``; on PostgreSQL
        while its commits stay quick, see :class:`~tracer.store.inline.InlineGate`),
        ``prepare`` runs and the writes commit right here on the caller's thread
        (:mod:`tracer.store.inline`); otherwise both happen on the committer thread.
        """
        gate = self._inline
        if gate is not None and not self._queue and not self._closing and gate.open():
            writes = prepare()
            if try_inline(self._store, writes, self._writing, gate):
                self._count_inline()
                return
            prepare = _prepared(writes)
        await self._wait(self.submit_writes(prepare, label), label, give_up_after)

    def _count_inline(self) -> None:
        self.stats.batches += 1
        self.stats.records += 1
        self.stats.inline += 1
        dictionaries = self._store.codec
        if dictionaries.due() is not None or time.monotonic() >= dictionaries.next_refresh:
            with self._cond:  # the committer thread trains: never on the caller's thread
                self._maintenance_due = True
                self._cond.notify()

    async def start_run(
        self,
        run: NewRun,
        trigger: Any = None,
        *,
        policy: RedactionPolicy | None = None,
        taint: Taint | None = None,
        give_up_after: float | None = None,
    ) -> None:
        """Register ``run`` (its trigger value encoded on the committer thread; ``taint``
        remembers what the trigger's redaction found, for the run's later handoffs)."""

        def prepare() -> Writes:
            if trigger is None:
                return Writes(runs=[run])
            payload = encode(trigger, policy, taint, codec=self._store.codec)
            started = run.model_copy(update={"trigger_hash": payload.hash})
            return Writes(payloads=[payload], runs=[started])

        await self.commit(prepare, f"start of run {run.run_id}", give_up_after=give_up_after)

    async def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        failed_step: str | None = None,
        *,
        ended_at: datetime,
        schemas: Mapping[str, Any] | None = None,
        give_up_after: float | None = None,
    ) -> None:
        """Set a run's final status; :class:`StoreDataError` if the run is unknown.

        ``schemas`` (JSON by step id) are the schemas the run's steps depended on: encoded
        just before the transaction and linked to the run in the one that ends it."""
        finish = RunFinish(run_id, RunStatus(status), failed_step, ended_at)

        def prepare() -> Writes:
            encoded = {
                step: encode(value, codec=self._store.codec)
                for step, value in (schemas or {}).items()
            }
            links = [RunSchemaLink(run_id, step, p.hash) for step, p in encoded.items()]
            return Writes(payloads=list(encoded.values()), finishes=[finish], schemas=links)

        await self.commit(prepare, f"end of run {run_id}", give_up_after=give_up_after)

    async def _wait(
        self, future: concurrent.futures.Future[None], label: str, give_up_after: float | None
    ) -> None:
        outcome = asyncio.wrap_future(future)
        try:
            await asyncio.wait_for(asyncio.shield(outcome), give_up_after)
        except TimeoutError:
            # The commit may still fail later, with nobody awaiting it: retrieve that
            # outcome so asyncio does not log "Future exception was never retrieved".
            outcome.add_done_callback(_consume_outcome)
            raise self._pending_error(label, give_up_after) from None

    def _pending_error(self, label: str, timeout: float | None) -> Exception:
        note = f"{label} not committed after {timeout}s; it stays queued"
        error = self._last_error
        if error is None:
            return TimeoutError(f"{note} (the store is slow, not failing)")
        return type(error)(f"{note} and is retried: {error.detail}", database=error.database)

    def close(self, timeout: float | None = None) -> None:
        """Commit everything queued, then stop the thread.

        If the store stays unavailable beyond ``timeout`` seconds, the callers still
        waiting get the store's error and this raises :class:`StoreUnavailableError`
        saying how many records were not written.
        """
        atexit.unregister(self._close_at_exit)
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abandon.set()
            self._thread.join()
        if self.stats.failed and self._abandon.is_set():
            raise StoreUnavailableError(
                f"{self.stats.failed} attempt record(s) could not be committed before close "
                f"(last error: {self._last_error}); their callers were told",
                database=self._store.database,
            )

    def _close_at_exit(self) -> None:
        self.close(timeout=30)

    # ------------------------------------------------------------------ the committer thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing and not self._maintenance_due:
                    self._cond.wait()
                maintenance = self._maintenance_due and not self._queue
                self._maintenance_due = False
                if not self._queue and not maintenance:
                    return
                self._wait_for_siblings()
                items = self._take_items()
            if maintenance:
                self._maintain()
                continue
            batch = self._prepare(items)
            if not batch:
                continue
            try:
                with self._writing:
                    self._commit(batch)
            except BaseException as exc:  # never leave a caller waiting forever
                log.exception("GroupCommitter failed a batch")
                self._fail([i for i in batch if not i.future.done()], exc)
                if not isinstance(exc, Exception):
                    raise
            self._maintain()

    def _wait_for_siblings(self) -> None:
        """Linger briefly when writes are arriving together, so more share the commit.

        Called holding ``_cond``. A lone queued write is not delayed: waiting would only
        add latency when nothing else is coming.
        """
        if self._linger <= 0 or len(self._queue) < 2 or self._closing:
            return
        deadline = time.monotonic() + self._linger
        while len(self._queue) < self._max_batch and not self._closing:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _take_items(self) -> list[_Item]:
        """Up to ``max_batch`` queued items (at least one). Called holding ``_cond``."""
        count = min(len(self._queue), self._max_batch)
        return [self._queue.popleft() for _ in range(count)]

    def _prepare(self, items: list[_Item]) -> list[_Item]:
        """Build each item's writes; one whose ``prepare`` raises fails alone. Items past
        ``max_batch_bytes`` of payload go back to the front of the queue."""
        batch: list[_Item] = []
        size = 0
        for index, item in enumerate(items):
            if item.writes is None:
                try:
                    item.writes = item.prepare()
                except Exception as exc:
                    item.future.set_exception(exc)
                    continue
            size += item.writes.stored_size
            if batch and size > self._max_batch_bytes:
                with self._cond:
                    self._queue.extendleft(reversed(items[index:]))
                break
            batch.append(item)
        return batch

    def _commit(self, batch: list[_Item]) -> None:
        delay = self._retry_delay
        writes = Writes.merged(i.writes for i in batch if i.writes is not None)
        while True:
            try:
                self._store.write(writes)
            except StoreUnavailableError as exc:
                if not self._keep_retrying(exc, batch):
                    return
                self._abandon.wait(delay)
                delay = min(delay * 2, self._max_retry_delay)
                continue
            except Exception as exc:
                self._reject(batch, exc)
                return
            self._resolve(batch)
            return

    def _maintain(self) -> None:
        """Keep the store's payload dictionary current; a failure here loses no record."""
        try:
            with self._writing:
                trained = self._store.maintain_dictionaries()
            if trained is not None:
                self.stats.dictionaries += 1
        except Exception:
            self.stats.maintenance_errors += 1
            log.exception("GroupCommitter could not maintain the payload dictionary")

    def _keep_retrying(self, exc: StoreUnavailableError, batch: list[_Item]) -> bool:
        self._last_error = exc
        self.stats.retries += 1
        if self._on_retry is not None:
            try:
                self._on_retry(exc)
            except Exception:  # a broken hook must not stop the committer
                log.exception("GroupCommitter on_retry hook raised")
        if self._abandon.is_set():
            self._fail(batch + self._drain(), exc)
            return False
        return True

    def _reject(self, batch: list[_Item], exc: Exception) -> None:
        """A non-transient error: find the bad records by committing one by one."""
        if len(batch) == 1:
            self._fail(batch, exc)
            return
        for item in batch:
            self._commit([item])

    def _drain(self) -> list[_Item]:
        with self._cond:
            items = list(self._queue)
            self._queue.clear()
        return items

    def _resolve(self, batch: list[_Item]) -> None:
        self._last_error = None
        self.stats.batches += 1
        self.stats.records += len(batch)
        for item in batch:
            item.future.set_result(None)

    def _fail(self, batch: list[_Item], exc: BaseException) -> None:
        self.stats.failed += len(batch)
        for item in batch:
            item.future.set_exception(exc)


def _prepared(writes: Writes) -> Prepare:
    return lambda: writes


def _inline_gate(store: TraceStore, inline: bool | None) -> InlineGate | None:
    """The fast path's gate: the store's default (``inline`` None), always open (True),
    or no fast path at all (False: None)."""
    if inline is None:
        return inline_by_default(store)
    return InlineGate(None) if inline else None


def _consume_outcome(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
