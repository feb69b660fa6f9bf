"""The group committer's fast path: commit on the caller's thread when nothing is queued.

Handing a record to the committer thread and back costs two thread switches, and under
load each one waits for the GIL (up to the interpreter's 5 ms switch interval while
another thread computes). On SQLite, where a small transaction is a few hundred
microseconds of CPU and no network round trip, committing it right away on the event
loop is cheaper than those switches. This is tried only when the committer is idle
(nothing queued, no transaction in progress) and never waits: the database's write lock
is asked for with a short busy timeout, and anything but success hands the record to
the committer thread as before — which then retries, batches and reports as usual.
"""

from __future__ import annotations

import threading

from tracer.store.errors import StoreUnavailableError
from tracer.store.store import TraceStore
from tracer.store.writes import Writes

__all__ = ["INLINE_BUSY_TIMEOUT_MS", "inline_by_default", "try_inline"]

# How long the fast path waits for SQLite's write lock held by another process.
INLINE_BUSY_TIMEOUT_MS = 2


def inline_by_default(store: TraceStore) -> bool:
    """SQLite only: on PostgreSQL a transaction is network round trips, so it stays off
    the event loop."""
    return store.engine.dialect.name == "sqlite"


def try_inline(store: TraceStore, writes: Writes, writing: threading.Lock) -> bool:
    """Commit ``writes`` now if the write lock is free at once; False: queue them instead.

    A :class:`StoreDataError` (the record is wrong) is raised: queueing would not help.
    """
    if not writing.acquire(blocking=False):
        return False
    try:
        store.write(writes, busy_timeout_ms=INLINE_BUSY_TIMEOUT_MS)
    except StoreUnavailableError:
        return False  # locked by another process, or gone: the committer retries
    finally:
        writing.release()
    return True
