"""The group committer's fast path: commit on the caller's thread when nothing is queued.

Handing a record to the committer thread and back costs two thread switches, and under
load each one waits for the GIL and for a core. On SQLite a small transaction is a few
hundred microseconds of CPU and no network round trip; on a PostgreSQL server nearby it
is about a millisecond, most of it waiting on the socket — but the committer thread
waits for the GIL again after each of the transaction's round trips, and on a busy
worker that made a step's record take about 12 ms to be durable against 2 ms committed
right away (docs/benchmarks.md). So the fast path is tried whenever the committer is
idle (nothing queued, no transaction in progress), and anything but success hands the
record to the committer thread as before — which then retries, batches and reports as
usual.

Committing on the caller's thread blocks the event loop while the database answers.
SQLite bounds that wait with a short busy timeout. PostgreSQL can be slow or far away,
so there an :class:`InlineGate` measures each fast-path commit and closes the fast path
while they take over ``budget_s`` (their median) or one stalls; a closed gate lets one
commit through now and then to measure again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from statistics import median

from tracer.store.errors import StoreUnavailableError
from tracer.store.store import TraceStore
from tracer.store.writes import Writes

__all__ = [
    "INLINE_BUSY_TIMEOUT_MS",
    "POSTGRES_INLINE_BUDGET_S",
    "InlineGate",
    "inline_by_default",
    "try_inline",
]

# How long the fast path waits for SQLite's write lock held by another process.
INLINE_BUSY_TIMEOUT_MS = 2

POSTGRES_INLINE_BUDGET_S = 0.005
"""A PostgreSQL commit on the event loop is worth it while the fast path's commits take
this long (the median of the last few): a server on the same host or rack answers a
small transaction in about 1 ms (1–5 ms on a busy 2-core worker), and the committer
thread's path took about 12 ms there. A server further away, or one that stalls, closes
the fast path."""


class InlineGate:
    """Whether the fast path is open: always (``budget_s`` None), or while the median of
    its last ``window`` commits stays within ``budget_s`` and none took over
    ``stall_s`` (a median, so that one slow commit among quick ones closes nothing).

    A closed gate lets one commit through as a probe after ``first_probe_s``; a quick
    probe reopens it, a slow one doubles the wait for the next (up to ``last_probe_s``).
    """

    def __init__(
        self,
        budget_s: float | None,
        *,
        window: int = 16,
        stall_s: float = 0.1,
        first_probe_s: float = 1.0,
        last_probe_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget_s = budget_s
        self.closed = False
        self._recent: deque[float] = deque(maxlen=window)
        self._stall_s = stall_s
        self._first_probe_s = first_probe_s
        self._last_probe_s = last_probe_s
        self._probe_after = first_probe_s
        self._clock = clock
        self._next_probe = 0.0
        self._probing = False

    def open(self) -> bool:
        """Try the fast path now?"""
        if not self.closed:
            return True
        if self._probing or self._clock() < self._next_probe:
            return False
        self._probing = True
        return True

    def not_tried(self) -> None:
        """The fast path was let through but not taken (the committer was writing): a
        probe is still owed."""
        self._probing = False

    def observe(self, seconds: float) -> None:
        """A fast-path commit (or its failure) took ``seconds``."""
        budget = self.budget_s
        if budget is None:
            return
        if self._probing:
            self._probing = False
            if seconds <= budget:
                self.closed, self._probe_after = False, self._first_probe_s
                self._recent.clear()
            else:
                self._probe_after = min(2 * self._probe_after, self._last_probe_s)
                self._next_probe = self._clock() + self._probe_after
            return
        self._recent.append(seconds)
        if seconds > self._stall_s or median(self._recent) > budget:
            self.closed = True
            self._next_probe = self._clock() + self._probe_after


def inline_by_default(store: TraceStore) -> InlineGate:
    """SQLite: always; PostgreSQL: while its commits stay within
    :data:`POSTGRES_INLINE_BUDGET_S`."""
    if store.engine.dialect.name == "sqlite":
        return InlineGate(None)
    return InlineGate(POSTGRES_INLINE_BUDGET_S)


def try_inline(
    store: TraceStore, writes: Writes, writing: threading.Lock, gate: InlineGate
) -> bool:
    """Commit ``writes`` now if the write lock is free at once; False: queue them instead.
    The time the database took, failing or not, is reported to ``gate``.

    A :class:`StoreDataError` (the record is wrong) is raised: queueing would not help.
    """
    if not writing.acquire(blocking=False):
        gate.not_tried()
        return False
    started = time.perf_counter()
    try:
        store.write(writes, busy_timeout_ms=INLINE_BUSY_TIMEOUT_MS)
    except StoreUnavailableError:
        return False  # locked by another process, or gone: the committer retries
    finally:
        writing.release()
        gate.observe(time.perf_counter() - started)
    return True
