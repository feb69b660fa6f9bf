"""Group commit: many concurrent writers, one background thread, one transaction per batch.

Every traced activity must have its attempt durably stored *before* its result is
reported to Temporal, and dozens of activities finish at once. Giving each its own
transaction would serialise them on SQLite's write lock (and fsync each). Instead each
caller queues its record and waits (``await committer.record(...)`` from asyncio,
``committer.submit(...).result()`` from a thread); one thread takes everything queued,
writes it in one transaction, and wakes all of those callers together.

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
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tracer.payloads import EncodedPayload
from tracer.store.errors import StoreUnavailableError, TraceStoreError
from tracer.store.records import AttemptRecord
from tracer.store.store import TraceStore

__all__ = ["CommitStats", "GroupCommitter"]

log = logging.getLogger(__name__)


@dataclass
class CommitStats:
    """Counters, for tests and benchmarks."""

    batches: int = 0
    records: int = 0
    retries: int = 0
    failed: int = 0


@dataclass
class _Item:
    record: AttemptRecord
    payloads: Sequence[EncodedPayload]
    future: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)


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
        on_retry: Callable[[TraceStoreError], None] | None = None,
    ) -> None:
        self._store = store
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

    def submit(
        self, record: AttemptRecord, payloads: Sequence[EncodedPayload] = ()
    ) -> concurrent.futures.Future[None]:
        """Queue ``record`` (and the payloads it refers to); the future resolves once committed."""
        item = _Item(record, tuple(payloads))
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
        future = self.submit(record, payloads)
        outcome = asyncio.wrap_future(future)
        try:
            await asyncio.wait_for(asyncio.shield(outcome), give_up_after)
        except TimeoutError:
            # The commit may still fail later, with nobody awaiting it: retrieve that
            # outcome so asyncio does not log "Future exception was never retrieved".
            outcome.add_done_callback(_consume_outcome)
            raise self._pending_error(record, give_up_after) from None

    def _pending_error(self, record: AttemptRecord, timeout: float | None) -> Exception:
        note = f"attempt {record.key} not committed after {timeout}s; it stays queued"
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
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                batch = self._take_batch()
            try:
                self._commit(batch)
            except BaseException as exc:  # never leave a caller waiting forever
                log.exception("GroupCommitter failed a batch")
                self._fail([i for i in batch if not i.future.done()], exc)
                if not isinstance(exc, Exception):
                    raise

    def _take_batch(self) -> list[_Item]:
        """Up to ``max_batch`` records and about ``max_batch_bytes`` of payload (at least one)."""
        batch = [self._queue.popleft()]
        size = sum(p.stored_size for p in batch[0].payloads)
        while self._queue and len(batch) < self._max_batch:
            size += sum(p.stored_size for p in self._queue[0].payloads)
            if size > self._max_batch_bytes:
                break
            batch.append(self._queue.popleft())
        return batch

    def _commit(self, batch: list[_Item]) -> None:
        delay = self._retry_delay
        while True:
            try:
                self._store.record_attempts(
                    [i.record for i in batch], [p for i in batch for p in i.payloads]
                )
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


def _consume_outcome(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
