"""Posting webhook deliveries the way each tool does, retries included.

What each tool does when the receiver misses a delivery (it refuses the connection,
times out, or answers with a status the tool does not count as delivered):

- Linear retries a delivery at most 3 times, 1 minute, 1 hour and 6 hours after the
  failed attempt; anything but HTTP 200, or no answer within 5 s, is a failure
  (developers.linear.app, "Webhooks").
- Monday retries once a minute for 30 minutes when the answer is not HTTP 200
  (developer.monday.com changelog, "Clarification on retry policies for webhooks").
- Airtable's notification is only a ping: the changes wait at the payloads cursor,
  listable for 7 days whether or not a ping got through. Airtable reports a ping's
  ``retryNumber`` / ``willBeRetried`` but publishes no retry schedule, so the sandbox
  pings once and invents none; a receiver that missed a ping catches up from the
  cursor at the next one.

A retry keeps the delivery's id (Linear's ``Linear-Delivery``, Monday's
``triggerUuid``) and is signed afresh at the time of the attempt, as the tools do.
:attr:`Redelivery.time_scale` compresses the schedule (``0.001``: Linear's 6 hours in
about 22 s), so a test can watch a whole schedule run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from connectors.sandbox.webhooks import Delivery

__all__ = [
    "AIRTABLE_PING",
    "LINEAR_RETRIES",
    "MONDAY_RETRIES",
    "AttemptResult",
    "Redelivery",
    "RetrySchedule",
]

MINUTE = 60.0
HOUR = 60 * MINUTE


@dataclass(frozen=True)
class RetrySchedule:
    """When a tool posts a missed delivery again, and what counts as delivered."""

    tool: str
    delays: tuple[float, ...]
    """Seconds from each failed attempt to the next; one entry per retry."""
    delivered: frozenset[int]
    """The HTTP statuses the tool takes as delivered."""
    timeout: float
    """Seconds the tool waits for an answer before counting the attempt failed."""


LINEAR_RETRIES = RetrySchedule("linear", (MINUTE, HOUR, 6 * HOUR), frozenset({200}), 5.0)
MONDAY_RETRIES = RetrySchedule("monday", (MINUTE,) * 30, frozenset({200}), 30.0)
AIRTABLE_PING = RetrySchedule("airtable", (), frozenset({200, 204}), 30.0)


@dataclass(frozen=True)
class AttemptResult:
    """One attempt at a delivery: ``attempt`` 0 is the first try."""

    delivery_id: str
    attempt: int
    status: int | None
    """The receiver's HTTP status; ``None`` when it did not answer."""
    error: str | None
    will_retry: bool
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None


class Redelivery:
    """Posts deliveries from worker threads (an emulator's request never waits on the
    receiver) and posts a missed one again on the tool's :class:`RetrySchedule`."""

    def __init__(self, schedule: RetrySchedule, *, time_scale: float = 1.0) -> None:
        self.schedule = schedule
        self.time_scale = time_scale
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{schedule.tool}-hooks")
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._attempts: list[AttemptResult] = []
        self._closed = False

    def deliver(self, build: Callable[[], Delivery]) -> None:
        """Post ``build()`` now; while the receiver misses it, build and post it again on
        the schedule. ``build`` must give the same delivery id each time (it re-signs)."""
        self._submit(build, 0)

    def attempts(self, delivery_id: str | None = None) -> list[AttemptResult]:
        """Every attempt so far (of one delivery), oldest first."""
        with self._lock:
            return [a for a in self._attempts if delivery_id in (None, a.delivery_id)]

    def pending(self) -> int:
        """Retries scheduled and not yet posted."""
        with self._lock:
            return len(self._timers)

    def close(self) -> None:
        """Cancel the retries not yet posted; deliveries under way finish."""
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, build: Callable[[], Delivery], attempt: int) -> None:
        with self._lock:
            if self._closed:
                return
            self._pool.submit(self._attempt, build, attempt)

    def _attempt(self, build: Callable[[], Delivery], attempt: int) -> None:
        delivery = build()
        started = time.monotonic()
        status, error = _post(delivery, self.schedule)
        will_retry = error is not None and attempt < len(self.schedule.delays)
        result = AttemptResult(
            delivery.delivery_id,
            attempt,
            status,
            error,
            will_retry,
            int((time.monotonic() - started) * 1000),
        )
        with self._lock:
            self._attempts.append(result)
        if will_retry:
            self._schedule(build, attempt + 1, self.schedule.delays[attempt] * self.time_scale)

    def _schedule(self, build: Callable[[], Delivery], attempt: int, delay: float) -> None:
        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            self._submit(build, attempt)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers.add(timer)
        timer.start()


def _post(delivery: Delivery, schedule: RetrySchedule) -> tuple[int | None, str | None]:
    """The receiver's status and, unless the tool counts it delivered, why not."""
    try:
        with httpx.Client(timeout=schedule.timeout) as http:
            response = http.post(delivery.url, content=delivery.body, headers=delivery.headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if response.status_code not in schedule.delivered:
        return response.status_code, f"the receiver answered HTTP {response.status_code}"
    return response.status_code, None
