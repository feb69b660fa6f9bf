"""What a run page computes from content-addressed payloads alone, kept between requests.

A stored payload never changes (its hash is its content), so the structural diff of two
payloads and the HTML tree of one (with the changes against another highlighted) are
pure functions of their hashes: a finished run's page, and every run that shares a
handoff with it, reuses them. The caches are bounded (least recently used out) and
thread-safe; what can change on a run page (its status, diagnosis, actions, replays) is
read afresh on every request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from markupsafe import Markup

from tracer.diff import DiffRow

__all__ = ["DIFFS", "TREES", "Lru"]

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A bounded mapping, least recently used out first; thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value under ``key``, made (outside the lock) and kept if missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (a benchmark measures the first view of a page with it)."""
        with self._lock:
            self._items.clear()


DIFFS: Lru[tuple[str, str], list[DiffRow]] = Lru(4096)
"""(last good payload hash, this run's payload hash) -> the diff's rows."""

TREES: Lru[tuple[str, str | None], Markup] = Lru(512)
"""(payload hash, the hash it is compared with or None) -> its rendered tree (a tree stops
at 150 values, so one is at most some tens of KB)."""
