"""zstd dictionaries trained on the store's own payloads: when to train, and with what.

Handoff payloads are small JSON documents that repeat the same keys, URLs and enum
values; compressed one by one, each pays in full for what every other one repeats, and
zstd keeps about half of the bytes. A dictionary trained on the store's own payloads
holds those repeats once, and a payload compressed with it keeps about a fifth.

:class:`PayloadDictionaries` is the store's codec (:class:`tracer.payloads.ZstdCodec`)
plus what decides when to train: it keeps a bounded sample of the most recent payloads
as they are compressed, asks for a first dictionary once it has enough of them, and
watches how well the current dictionary does: when a window of payloads compresses
``drift_factor`` times worse than the first window after the dictionary was adopted (the
payload shapes drifted: a new pipeline, a changed tool schema), it asks for a new one.
It does no I/O; the store keeps the dictionaries in the ``payload_dictionary`` table
(:mod:`tracer.store.dictionary_rows`) so every worker shares them, and a frame names its
dictionary's id, so any reader finds the right one.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

import zstandard

from tracer.payloads import COMPRESSION_LEVEL, ZstdCodec

__all__ = ["DictionarySettings", "PayloadDictionaries", "TrainReason", "TrainedDictionary"]

TrainReason = Literal["first", "drift"]

# zstd reserves ids below 32768 and from 2**31 up for registered dictionaries.
_FIRST_FREE_ID = 32768
_LAST_FREE_ID = 2**31 - 1


@dataclass(frozen=True)
class DictionarySettings:
    """When the store trains dictionaries, and how big they are.

    The defaults train a first dictionary after 64 payloads and 32 KiB of JSON (a few
    runs of a typical pipeline), so even a small store is mostly compressed with one.
    """

    enabled: bool = True
    level: int = COMPRESSION_LEVEL
    first_after_payloads: int = 64
    first_after_bytes: int = 32 * 1024
    max_dictionary_bytes: int = 16 * 1024
    sample_limit_bytes: int = 1024 * 1024  # the most recent payloads kept for training
    largest_sample_bytes: int = 64 * 1024  # bigger payloads are not sampled
    drift_window: int = 256  # payloads compressed with the current dictionary per check
    drift_factor: float = 1.5
    refresh_seconds: float = 30.0  # how often to look for another worker's dictionary


@dataclass(frozen=True)
class TrainedDictionary:
    dict_id: int
    data: bytes
    samples: tuple[bytes, ...]
    sample_bytes: int
    ratio: float
    reason: TrainReason

    def recompressed(self, level: int) -> list[dict[str, object]]:
        """The sampled payloads compressed with this dictionary, as payload-row updates."""
        comp = zstandard.ZstdCompressor(
            level=level, dict_data=zstandard.ZstdCompressionDict(self.data)
        )
        rows: list[dict[str, object]] = []
        for raw in self.samples:
            data = comp.compress(raw)
            rows.append(
                {"h": hashlib.sha256(raw).hexdigest(), "new_data": data, "new_size": len(data)}
            )
        return rows


class PayloadDictionaries:
    """The store's codec, its payload sample and its train/retrain decisions (no I/O).

    ``compress`` and ``decompress`` are called from any thread; ``due``, ``train`` and
    ``adopt`` from the thread that maintains the store's dictionaries (the committer's).
    """

    def __init__(self, settings: DictionarySettings | None = None) -> None:
        self.settings = settings or DictionarySettings()
        self.codec = ZstdCodec(self.settings.level)
        self._lock = threading.Lock()
        self._samples: deque[bytes] = deque()
        self._sampled = 0  # bytes held in _samples
        self._seen = 0  # payloads sampled since the current dictionary was adopted
        self._window = [0, 0, 0]  # payloads, raw bytes, compressed bytes
        self._baseline: float | None = None
        self._drifted = False
        self._wait_for = self.settings.first_after_bytes
        self.next_refresh = 0.0

    @property
    def current_id(self) -> int:
        return self.codec.current_id

    def compress(self, raw: bytes) -> bytes:
        data = self.codec.compress(raw)
        if self.settings.enabled:
            self._observe(raw, len(data))
        return data

    def decompress(self, data: bytes) -> bytes:
        return self.codec.decompress(data)

    def _observe(self, raw: bytes, stored: int) -> None:
        with self._lock:
            if len(raw) <= self.settings.largest_sample_bytes:
                self._samples.append(raw)
                self._sampled += len(raw)
                self._seen += 1
                while self._sampled > self.settings.sample_limit_bytes:
                    self._sampled -= len(self._samples.popleft())
            if self.codec.current_id:
                self._watch(len(raw), stored)

    def _watch(self, raw: int, stored: int) -> None:
        window = self._window
        window[0] += 1
        window[1] += raw
        window[2] += stored
        if window[0] < self.settings.drift_window:
            return
        ratio = window[2] / window[1] if window[1] else 1.0
        self._window = [0, 0, 0]
        if self._baseline is None:
            self._baseline = ratio
        elif ratio > self._baseline * self.settings.drift_factor:
            self._drifted = True

    def due(self) -> TrainReason | None:
        """Whether a dictionary should be trained now, and why."""
        if not self.settings.enabled:
            return None
        with self._lock:
            enough = (
                self._seen >= self.settings.first_after_payloads and self._sampled >= self._wait_for
            )
            if not enough:
                return None
            if not self.codec.current_id:
                return "first"
            return "drift" if self._drifted else None

    def train(self, reason: TrainReason) -> TrainedDictionary:
        """Train a dictionary on the sampled payloads (distinct ones); CPU work, no I/O.

        Raises ``zstandard.ZstdError`` when the sample is too small or too uniform; call
        :meth:`wait_for_more` then.
        """
        with self._lock:
            samples = tuple(dict.fromkeys(self._samples))
        sample_bytes = sum(len(s) for s in samples)
        size = max(1024, min(self.settings.max_dictionary_bytes, sample_bytes // 8))
        dict_id = _FIRST_FREE_ID + secrets.randbelow(_LAST_FREE_ID - _FIRST_FREE_ID)
        trained = zstandard.train_dictionary(
            size, list(samples), dict_id=dict_id, level=self.settings.level, k=200, d=8
        )
        comp = zstandard.ZstdCompressor(level=self.settings.level, dict_data=trained)
        stored = sum(len(comp.compress(s)) for s in samples)
        return TrainedDictionary(
            dict_id=dict_id,
            data=trained.as_bytes(),
            samples=samples,
            sample_bytes=sample_bytes,
            ratio=round(stored / sample_bytes, 4) if sample_bytes else 1.0,
            reason=reason,
        )

    def wait_for_more(self) -> None:
        """Training failed on this sample: wait until twice as many bytes are sampled."""
        with self._lock:
            self._wait_for = min(self._sampled * 2, self.settings.sample_limit_bytes)
            self._drifted = False

    def add(self, dict_id: int, data: bytes) -> None:
        """Make a stored dictionary known for decoding (not used for new payloads)."""
        self.codec.add(dict_id, data)

    def adopt(self, dict_id: int, data: bytes) -> None:
        """Compress new payloads with this dictionary from now on, and watch it afresh."""
        self.codec.add(dict_id, data, current=True)
        with self._lock:
            self._seen = 0
            self._window = [0, 0, 0]
            self._baseline = None
            self._drifted = False
            self._wait_for = self.settings.first_after_bytes
