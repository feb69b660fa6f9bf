"""A bounded cache of stored payloads' JSON bytes, by hash.

A payload never changes once stored (its hash is its content), so a cached copy is never
stale. Reading one run's snapshots and those of its last good runs touches the same
payloads again and again; the cache spares the query and the decompression. It holds
bytes, not parsed values, so every reader gets its own value to change as it likes.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

__all__ = ["RawCache"]

DEFAULT_MAX_BYTES = 32 * 1024 * 1024


class RawCache:
    """Least recently used first out, bounded by total bytes; thread-safe."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            raw = self._items.get(key)
            if raw is not None:
                self._items.move_to_end(key)
            return raw

    def values(self, keys: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
        """The JSON values of the cached ``keys`` (each parsed anew), and the keys not
        cached, in the order given."""
        found: dict[str, Any] = {}
        missing: list[str] = []
        for key in keys:
            raw = self.get(key)
            if raw is None:
                missing.append(key)
            else:
                found[key] = json.loads(raw)
        return found, missing

    def put(self, key: str, raw: bytes) -> bytes:
        """Keep ``raw`` under ``key`` (unless it alone exceeds the bound); return it."""
        if len(raw) > self._max_bytes // 4:
            return raw
        with self._lock:
            if key not in self._items:
                self._items[key] = raw
                self._bytes += len(raw)
                while self._bytes > self._max_bytes:
                    _, dropped = self._items.popitem(last=False)
                    self._bytes -= len(dropped)
        return raw
