"""Turn any handoff value into the bytes the trace store keeps.

Every payload goes through the same four steps, in this order:

1. **normalise** the value to plain JSON data (pydantic models via
   ``model_dump(mode="json")``, tuples to lists); anything else — a ``datetime``, a
   ``set``, NaN — raises :class:`PayloadError` naming the type and the path;
2. **redact** secrets: values under secret-looking keys or configured paths, and
   credentials (and configured personal data) anywhere in text, are *replaced* by a
   marker that says why (``"[redacted: Slack token]"``) — never deleted, so a diff still
   shows the field; given the run's :class:`~tracer.taint.Taint`, every replaced value is
   remembered and its later copies (also inside longer text) are replaced too;
3. **canonicalise** to JSON with sorted keys, no whitespace, UTF-8, and **hash** those
   bytes (sha256 hex) — the hash is the payload's identity, so the same value with keys
   in another order is stored once;
4. **compress** with zstandard, with the store's trained dictionary when given the
   store's codec (:class:`ZstdCodec`); the frame names its dictionary id, so any reader
   holding that dictionary can decompress it.

:func:`encode` does all four and returns an :class:`EncodedPayload`; :func:`decode`
reverses the last step. Redaction happens before hashing so that a secret can never be
recovered by hashing guesses against stored hashes, and so that two runs that differ
only in a rotated token hash the same.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import zstandard
from pydantic import BaseModel

from tracer.detectors import scan_text
from tracer.redaction import (
    DEFAULT_SECRET_KEY_SUFFIXES,
    DEFAULT_SECRET_KEYS,
    Redaction,
    RedactionPolicy,
    redact_text,
)
from tracer.taint import Taint

__all__ = [
    "DEFAULT_SECRET_KEYS",
    "DEFAULT_SECRET_KEY_SUFFIXES",
    "Compressor",
    "Decompressor",
    "EncodedPayload",
    "PayloadError",
    "Redaction",
    "RedactionPolicy",
    "UnknownDictionaryError",
    "ZstdCodec",
    "canonical_json",
    "content_hash",
    "decode",
    "encode",
    "frame_dictionary",
    "json_size_at_most",
    "redact",
    "redact_json",
    "redact_text",
    "to_json_data",
]

COMPRESSION_LEVEL = 3


class PayloadError(ValueError):
    """A value cannot be turned into a payload; the message names the path and the fix."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


_NO_REDACTION = RedactionPolicy(keys=frozenset(), key_suffixes=(), scan_text=False)


# --------------------------------------------------------------------------- normalise


def to_json_data(value: Any) -> Any:
    """Return ``value`` as plain JSON data (dict/list/str/int/float/bool/None).

    Pydantic models are dumped with ``model_dump(mode="json")`` and tuples become lists.
    Raises :class:`PayloadError` for a non-string dict key, a non-finite float, or any
    other type, naming the path where it sits.
    """
    return _Walker(_NO_REDACTION).walk(value, None, 0)


def _show(path: str) -> str:
    return f"path '{path}'" if path else "the root"


# --------------------------------------------------------------------------- redact


# One instance for callers that pass no policy: its normalised keys are derived once.
_DEFAULT_POLICY = RedactionPolicy()


def redact(
    value: Any, policy: RedactionPolicy | None = None, taint: Taint | None = None
) -> tuple[Any, list[Redaction]]:
    """Return a redacted copy of ``value`` as plain JSON data, and what was replaced.

    Normalises like :func:`to_json_data` in the same pass; the input is not modified.
    With ``taint``, every replaced value is remembered in it and remembered values are
    replaced wherever they occur (a value found late in the walk, under a secret key,
    sends the walk round once more so that an earlier copy is caught too).
    """
    policy = policy or _DEFAULT_POLICY
    walker = _Walker(policy, taint)
    out = walker.walk(value, None, 0)
    if walker.learned_keyed:
        walker = _Walker(policy, taint)
        out = walker.walk(value, None, 0)
    return out, walker.found


# A path under construction as a linked list (parent, segment): building it is O(1) per
# node, and only the few redacted (or rejected) nodes pay for joining it into a string.
_Path = tuple["_Path", str] | None


def _dotted(path: _Path) -> str:
    return ".".join(_segments(path))


def _segments(path: _Path) -> tuple[str, ...]:
    segs: list[str] = []
    while path is not None:
        path, seg = path
        segs.append(seg)
    return tuple(reversed(segs))


class _Walker:
    """One pass over a value that normalises it to JSON data and redacts it.

    Per-key decisions are cached: the same keys repeat in every record of a big payload.
    """

    def __init__(self, policy: RedactionPolicy, taint: Taint | None = None) -> None:
        self.policy = policy
        self.taint = taint
        self.learned_keyed = False
        """A value under a secret key or path was new to the taint: walk again."""
        self.scan_text = policy.scan_text or bool(policy.pii) or taint is not None
        self.found: list[Redaction] = []
        self.secret_keys: dict[str, bool] = {}
        self.path_depth = max((len(p.split(".")) for p in policy.paths), default=0)

    def walk(self, value: Any, path: _Path, depth: int) -> Any:
        if depth and depth <= self.path_depth:
            pattern = self.policy.path_is_secret(_segments(path))
            if pattern is not None and _has_content(value):
                return self.mark(path, f"path '{pattern}'", value)
        if isinstance(value, str):
            return self.walk_str(value, path) if self.scan_text and len(value) >= 6 else value
        if isinstance(value, Mapping):
            return self.walk_dict(value, path, depth)
        if isinstance(value, list | tuple):
            return [self.walk(item, (path, str(i)), depth + 1) for i, item in enumerate(value)]
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise PayloadError(
                    f"payload value at {_show(_dotted(path))} is {value!r}, which JSON cannot "
                    "represent; replace it with null or a string before handing it over",
                    path=_dotted(path),
                )
            return value
        if isinstance(value, BaseModel):
            return self.walk(value.model_dump(mode="json"), path, depth)
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        raise PayloadError(
            f"payload value at {_show(_dotted(path))} is a {kind}, which is not JSON data; "
            "pass a pydantic model, dict, list or scalar (convert it, e.g. a datetime to an "
            "ISO string, first)",
            path=_dotted(path),
        )

    def walk_str(self, value: str, path: _Path) -> str:
        reasons: list[str] = []
        text = value
        # Detectors first, so a recognisable secret keeps the marker of its own kind;
        # taint then catches the copies of keyed values that have no recognisable format.
        if self.policy.scan_text or self.policy.pii:
            text, found = scan_text(
                text,
                self.policy.pii,
                credentials=self.policy.scan_text,
                phone_region=self.policy.phone_region,
            )
            for item in found:
                reasons.append(item.reason)
                if self.taint is not None:
                    self.taint.remember(item.secret, item.reason)
        if self.taint is not None:
            text, copies = self.taint.apply(text)
            reasons += copies
        if reasons:
            where = _dotted(path)
            self.found.extend(Redaction(path=where, reason=r) for r in reasons)
        return text

    def walk_dict(self, value: Mapping[Any, Any], path: _Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            secret = self.secret_keys.get(key)
            if secret is None:
                if not isinstance(key, str):
                    raise PayloadError(
                        f"payload key {key!r} at {_show(_dotted(path))} is a "
                        f"{type(key).__name__}; JSON object keys must be strings",
                        path=_dotted(path),
                    )
                secret = self.secret_keys[key] = self.policy.key_is_secret(key)
            if secret and _has_content(item):
                out[key] = self.mark((path, key), f"key '{key.lower()}'", item)
            else:
                out[key] = self.walk(item, (path, key), depth + 1)
        return out

    def mark(self, path: _Path, reason: str, value: Any) -> str:
        self.found.append(Redaction(path=_dotted(path), reason=reason))
        if self.taint is not None:
            known = self.taint.generation
            self.taint.remember(value, reason)
            self.learned_keyed |= self.taint.generation != known
        return f"[redacted: {reason}]"


def _has_content(value: Any) -> bool:
    # null, booleans and "" hide nothing; replacing them would only lose information.
    return not (value is None or isinstance(value, bool) or value == "")


def json_size_at_most(value: Any, limit: int) -> bool:
    """Whether ``value`` is roughly at most ``limit`` bytes of JSON; stops early past it.

    A cheap estimate (string lengths plus a few bytes per node) for deciding where to
    encode a payload, not a measurement: it looks into pydantic models' fields without
    dumping them, and costs at most about ``limit / 8`` node visits.
    """
    budget = limit
    stack = [value]
    while stack:
        item = stack.pop()
        budget -= 8
        if isinstance(item, str):
            budget -= len(item)
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, BaseModel):
            stack.extend(item.__dict__.values())
        if budget < 0:
            return False
    return True


# --------------------------------------------------------------------------- encode


def canonical_json(value: Any) -> bytes:
    """Canonical UTF-8 JSON bytes of plain JSON data: sorted keys, no whitespace."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PayloadError(
            f"payload contains a string that is not valid Unicode ({exc.reason}: "
            f"{exc.object[exc.start : exc.end]!r}); decode bytes with errors='replace' first",
            path="",
        ) from exc
    except (TypeError, ValueError) as exc:
        raise PayloadError(
            f"payload is not plain JSON data ({exc}); pass it through to_json_data() first",
            path="",
        ) from exc


def content_hash(data: bytes) -> str:
    """sha256 hex digest of canonical bytes: a payload's identity."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class EncodedPayload:
    """A payload ready for the store: identity, sizes, compressed bytes, what was redacted."""

    hash: str
    raw_size: int
    data: bytes
    redactions: tuple[Redaction, ...] = field(default=())

    @property
    def stored_size(self) -> int:
        return len(self.data)


class Compressor(Protocol):
    """What :func:`encode` compresses canonical bytes with (the store's dictionaries)."""

    def compress(self, raw: bytes) -> bytes: ...


class Decompressor(Protocol):
    """What :func:`decode` decompresses stored bytes with."""

    def decompress(self, data: bytes) -> bytes: ...


class UnknownDictionaryError(PayloadError):
    """A frame names a zstd dictionary the codec has not been given."""

    def __init__(self, dict_id: int) -> None:
        super().__init__(
            f"stored payload was compressed with zstd dictionary {dict_id}, which this reader "
            "does not have; read payloads through TraceStore.get_payload, which loads the "
            "store's dictionaries",
            path="",
        )
        self.dict_id = dict_id


class ZstdCodec:
    """zstandard with optional dictionaries: compress with the current one, decompress any
    frame whose dictionary (named by id in the frame header) it has been given.

    A frame made without a dictionary (id 0) is always readable, so payloads stored before
    the first dictionary was trained stay readable. (De)compressor objects must not be
    shared between threads and payloads are encoded from many threads, so each thread
    gets its own, per dictionary; the dictionaries themselves are read-only and shared.
    """

    def __init__(self, level: int = COMPRESSION_LEVEL) -> None:
        self.level = level
        self._dicts: dict[int, zstandard.ZstdCompressionDict] = {}
        self._current = 0
        self._local = threading.local()

    @property
    def current_id(self) -> int:
        """The dictionary new payloads are compressed with; 0 for none."""
        return self._current

    def knows(self, dict_id: int) -> bool:
        return dict_id == 0 or dict_id in self._dicts

    def add(self, dict_id: int, data: bytes, *, current: bool = False) -> None:
        """Make dictionary ``dict_id`` (its raw bytes) known; ``current`` compresses with it."""
        if dict_id not in self._dicts:
            dictionary = zstandard.ZstdCompressionDict(data)
            if dictionary.dict_id() != dict_id:
                raise PayloadError(
                    f"dictionary stored as id {dict_id} carries id {dictionary.dict_id()}; "
                    "the dictionary table was edited by hand or is corrupt",
                    path="",
                )
            dictionary.precompute_compress(level=self.level)
            self._dicts[dict_id] = dictionary
        if current:
            self._current = dict_id

    def compress(self, raw: bytes) -> bytes:
        current = self._current
        compressors: dict[int, zstandard.ZstdCompressor] = self._per_thread("comp")
        comp = compressors.get(current)
        if comp is None:
            comp = compressors[current] = zstandard.ZstdCompressor(
                level=self.level, dict_data=self._dicts.get(current)
            )
        return comp.compress(raw)

    def decompress(self, data: bytes) -> bytes:
        try:
            dict_id = zstandard.get_frame_parameters(data).dict_id
        except zstandard.ZstdError as exc:
            raise PayloadError(
                f"stored payload is not valid zstandard data: {exc}", path=""
            ) from exc
        if not self.knows(dict_id):
            raise UnknownDictionaryError(dict_id)
        decompressors: dict[int, zstandard.ZstdDecompressor] = self._per_thread("dec")
        dec = decompressors.get(dict_id)
        if dec is None:
            dec = decompressors[dict_id] = zstandard.ZstdDecompressor(
                dict_data=self._dicts.get(dict_id)
            )
        try:
            return dec.decompress(data)
        except zstandard.ZstdError as exc:
            raise PayloadError(
                f"stored payload is not valid zstandard data: {exc}", path=""
            ) from exc

    def _per_thread(self, name: str) -> dict[int, Any]:
        found: dict[int, Any] | None = getattr(self._local, name, None)
        if found is None:
            found = {}
            setattr(self._local, name, found)
        return found


# Payloads encoded outside a store (tests, tools) use no dictionary.
_PLAIN = ZstdCodec()


def frame_dictionary(data: bytes) -> int:
    """The dictionary id named by a stored payload's zstd frame (0: none)."""
    return int(zstandard.get_frame_parameters(data).dict_id)


def encode(
    value: Any,
    policy: RedactionPolicy | None = None,
    taint: Taint | None = None,
    *,
    codec: Compressor | None = None,
) -> EncodedPayload:
    """Normalise, redact (remembering in and applying ``taint``), canonicalise, hash and
    compress ``value``.

    ``codec`` is the store's (``TraceStore.codec``), which compresses with the store's
    trained dictionary; without it the payload is compressed on its own.
    """
    redacted, found = redact(value, policy, taint)
    raw = canonical_json(redacted)
    return EncodedPayload(
        hash=content_hash(raw),
        raw_size=len(raw),
        data=(codec or _PLAIN).compress(raw),
        redactions=tuple(found),
    )


def decode(data: bytes, codec: Decompressor | None = None) -> Any:
    """The JSON data stored in ``data`` (bytes produced by :func:`encode`).

    A payload compressed with a dictionary needs the codec that knows it (the store's);
    without one, :class:`UnknownDictionaryError` says so.
    """
    return json.loads((codec or _PLAIN).decompress(data))


def redact_json(
    value: Any, policy: RedactionPolicy | None = None, taint: Taint | None = None
) -> Any:
    """Normalise and redact ``value``; for JSON columns that are stored uncompressed."""
    return redact(value, policy, taint)[0]
