"""The tools' real rate limits, for emulators that switch them on.

A :class:`TokenBucket` per key (an Airtable base, a Slack channel, a token) refills at
``rate`` per second up to ``burst``; a request that finds it empty is told how long to
wait. ``penalty`` models Airtable's rule that once over the limit every request fails
for 30 seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float
    burst: float
    penalty: float = 0.0
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _blocked_until: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._stamp = self.clock()

    def take(self) -> float | None:
        """Take one token; return ``None`` if allowed, else the seconds to wait."""
        now = self.clock()
        if now < self._blocked_until:
            return self._blocked_until - now
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        if self.penalty:
            self._blocked_until = now + self.penalty
            return self.penalty
        return (1.0 - self._tokens) / self.rate


@dataclass
class RateLimiter:
    """Token buckets by key, all with the same limits."""

    rate: float
    burst: float
    penalty: float = 0.0
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str) -> float | None:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(self.rate, self.burst, self.penalty, self.clock)
                self._buckets[key] = bucket
            return bucket.take()
