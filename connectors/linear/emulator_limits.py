"""Linear's rate limits: two leaky buckets per API key, and the headers that report them.

Linear limits each API key by requests (5,000 an hour) and by query complexity (250,000
points an hour), both refilling continuously (a leaky bucket); these are the most quoted
numbers (third-party, unverified), and the headers tell clients the real ones. Every
response carries ``x-ratelimit-requests-*``, ``x-ratelimit-complexity-*`` and
``x-complexity``; the limits are only enforced when the sandbox runs with
``rate_limits=True``.

The buckets are :class:`connectors.sandbox.ratelimit.TokenBucket`s; a complexity charge
takes many points at once and the headers need the level, which the shared bucket does
not offer, so :class:`MeteredBucket` adds both.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from connectors.sandbox.ratelimit import TokenBucket

REQUESTS_PER_HOUR = 5_000
COMPLEXITY_PER_HOUR = 250_000
HOUR = 3600.0


class MeteredBucket(TokenBucket):
    """A token bucket that can take several tokens at once and report its level."""

    def take_many(self, cost: float) -> float | None:
        """Take ``cost`` tokens; ``None`` if allowed, else the seconds until they are there."""
        self._refill()
        if self._tokens >= cost:
            self._tokens -= cost
            return None
        return (cost - self._tokens) / self.rate

    def refund(self, cost: float) -> None:
        """Give back tokens taken for a request that was refused on another budget."""
        self._tokens = min(self.burst, self._tokens + cost)

    def level(self) -> float:
        self._refill()
        return self._tokens

    def seconds_to_full(self) -> float:
        return (self.burst - self.level()) / self.rate

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now


@dataclass
class Usage:
    """The state of one key's buckets after a request, for the response headers."""

    requests_remaining: int
    requests_reset_ms: int
    complexity_remaining: int
    complexity_reset_ms: int
    cost: int


@dataclass
class LinearLimits:
    """Both buckets for every API key."""

    enforce: bool
    _requests: dict[str, MeteredBucket] = field(default_factory=dict)
    _complexity: dict[str, MeteredBucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(self, key: str, cost: int) -> float | None:
        """Charge one request of ``cost`` points; the seconds to wait if over a limit.

        Usage is always counted (the headers report it); it is refused only when the
        limits are enforced.
        """
        with self._lock:
            requests, points = self._buckets(key)
            wait = requests.take_many(1)
            if wait is None:
                wait = points.take_many(cost)
                if wait is not None:
                    requests.refund(1)  # a refused request does not count
            return wait if self.enforce else None

    def usage(self, key: str, cost: int) -> Usage:
        with self._lock:
            requests, points = self._buckets(key)
            now_ms = time.time() * 1000
            return Usage(
                requests_remaining=int(requests.level()),
                requests_reset_ms=int(now_ms + requests.seconds_to_full() * 1000),
                complexity_remaining=int(points.level()),
                complexity_reset_ms=int(now_ms + points.seconds_to_full() * 1000),
                cost=cost,
            )

    def _buckets(self, key: str) -> tuple[MeteredBucket, MeteredBucket]:
        if key not in self._requests:
            self._requests[key] = MeteredBucket(REQUESTS_PER_HOUR / HOUR, REQUESTS_PER_HOUR)
            self._complexity[key] = MeteredBucket(COMPLEXITY_PER_HOUR / HOUR, COMPLEXITY_PER_HOUR)
        return self._requests[key], self._complexity[key]


def headers(usage: Usage) -> dict[str, str]:
    """The rate-limit headers Linear sends on every response."""
    return {
        "x-ratelimit-requests-limit": str(REQUESTS_PER_HOUR),
        "x-ratelimit-requests-remaining": str(usage.requests_remaining),
        "x-ratelimit-requests-reset": str(usage.requests_reset_ms),
        "x-ratelimit-complexity-limit": str(COMPLEXITY_PER_HOUR),
        "x-ratelimit-complexity-remaining": str(usage.complexity_remaining),
        "x-ratelimit-complexity-reset": str(usage.complexity_reset_ms),
        "x-complexity": str(usage.cost),
    }
