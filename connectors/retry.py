"""Retrying one tool call inside a step's attempt: bounded, only when safe, always recorded.

A step makes several tool calls (read the schema, read the before-image, write). If each
failed its whole attempt on one transient error, a 25 % request fault rate would fail a
third of the runs, and every Temporal retry would repeat the calls that had worked. So a
call is retried here when that is safe:

* an **idempotent** call (a read, an upsert on a key, an update that sets values) is
  retried on any retryable error;
* a call that is **not idempotent** (post a message, create an item) is retried only when
  the error proves nothing was written (a rate limit refuses the request), or after its
  ``reconcile`` read finds nothing: a timeout or a 5xx may hide a write that landed, and
  ``reconcile`` reads the object back by its key — found, the write happened and its
  answer is the object found.

The waits are short (``RetryPolicy.max_delay``); a tool that asks for longer (a
``Retry-After`` of a minute) is left to Temporal's retry of the whole attempt. Every retry
is appended to the log of :func:`recording_retries`, which the activity boundary puts on
the attempt's record, so no retry is hidden.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from connectors.errors import ConnectorError, RateLimitError, Tool

T = TypeVar("T")


@dataclass(frozen=True)
class InnerRetry:
    """One retry of one call inside an attempt, and why."""

    tool: str
    operation: str
    try_number: int
    error_class: str
    message: str
    delay_seconds: float
    status: int | None = None
    reconciled: bool = False
    """True when the read-back found the write had landed (no second write was sent)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetryPolicy:
    tries: int = 4
    base_delay: float = 0.05
    max_delay: float = 2.0


DEFAULT_POLICY = RetryPolicy()
SINGLE_TRY = RetryPolicy(tries=1)
"""No inner retry: for tests of one call's error mapping, and callers that retry themselves."""
_LOG: ContextVar[list[InnerRetry] | None] = ContextVar("connector_inner_retries", default=None)


@contextlib.contextmanager
def recording_retries() -> Iterator[list[InnerRetry]]:
    """Collect the inner retries of the calls made inside the ``with`` block."""
    log: list[InnerRetry] = []
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


def _record(retry: InnerRetry) -> None:
    log = _LOG.get()
    if log is not None:
        log.append(retry)


_MUTATION = re.compile(r"^\s*mutation\b", re.MULTILINE)


def is_graphql_mutation(document: str) -> bool:
    """Whether a GraphQL document holds a mutation (fragments may come first)."""
    return _MUTATION.search(document) is not None


def _delay(policy: RetryPolicy, exc: ConnectorError, try_number: int) -> float | None:
    """How long to wait before the next try, or ``None`` when it is not ours to wait."""
    if exc.retry_after is not None:
        wait = float(exc.retry_after)
        return wait if wait <= policy.max_delay else None
    backoff: float = policy.base_delay * 2.0 ** (try_number - 1)
    return min(policy.max_delay, backoff * (0.5 + random.random()))


async def retrying(
    call: Callable[[], Awaitable[T]],
    *,
    tool: Tool,
    operation: str,
    idempotent: bool,
    reconcile: Callable[[], Awaitable[T | None]] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> T:
    """``call()``, retried inside this attempt when that is safe (see the module doc)."""
    try_number = 1
    while True:
        try:
            return await call()
        except ConnectorError as exc:
            if not exc.retryable:
                raise
            if not idempotent and not isinstance(exc, RateLimitError):
                # The answer was lost, not the write: read back before anything else,
                # even when no retry follows (a landed write must be reported).
                if reconcile is None or policy.tries <= 1:
                    raise  # SINGLE_TRY: the call's own outcome, nothing read back
                found = await reconcile()
                if found is not None:
                    _record(_retry(exc, tool, operation, try_number, 0.0, reconciled=True))
                    return found
            delay = _delay(policy, exc, try_number)
            if delay is None or try_number >= policy.tries:
                raise
            _record(_retry(exc, tool, operation, try_number, delay))
            await asyncio.sleep(delay)
            try_number += 1


def _retry(
    exc: ConnectorError,
    tool: Tool,
    operation: str,
    try_number: int,
    delay: float,
    *,
    reconciled: bool = False,
) -> InnerRetry:
    return InnerRetry(
        tool=tool,
        operation=operation,
        try_number=try_number,
        error_class=type(exc).__name__,
        message=str(exc)[:300],
        delay_seconds=round(delay, 3),
        status=exc.status,
        reconciled=reconciled,
    )
