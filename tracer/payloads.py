"""Turn any handoff value into the bytes the trace store keeps.

Every payload goes through the same four steps, in this order:

1. **normalise** the value to plain JSON data (pydantic models via
   ``model_dump(mode="json")``, tuples to lists); anything else — a ``datetime``, a
   ``set``, NaN — raises :class:`PayloadError` naming the type and the path;
2. **redact** secrets: values under secret-looking keys or configured paths, and
   token-like substrings anywhere in text, are *replaced* by a marker that says why
   (``"[redacted: Slack token]"``) — never deleted, so a diff still shows the field;
3. **canonicalise** to JSON with sorted keys, no whitespace, UTF-8, and **hash** those
   bytes (sha256 hex) — the hash is the payload's identity, so the same value with keys
   in another order is stored once;
4. **compress** with zstandard.

:func:`encode` does all four and returns an :class:`EncodedPayload`; :func:`decode`
reverses the last step. Redaction happens before hashing so that a secret can never be
recovered by hashing guesses against stored hashes, and so that two runs that differ
only in a rotated token hash the same.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import zstandard
from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_SECRET_KEYS",
    "DEFAULT_SECRET_KEY_SUFFIXES",
    "EncodedPayload",
    "PayloadError",
    "Redaction",
    "RedactionPolicy",
    "canonical_json",
    "content_hash",
    "decode",
    "encode",
    "redact",
    "redact_json",
    "redact_text",
    "to_json_data",
]

COMPRESSION_LEVEL = 3

DEFAULT_SECRET_KEYS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "bot_token",
        "app_token",
        "api_key",
        "apikey",
        "api_token",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "signing_secret",
        "private_key",
        "cookie",
        "set_cookie",
        "x_api_key",
        "x_auth_token",
        "x_slack_signature",
        "linear_signature",
    }
)
"""Key names (compared case-insensitively, ``-`` and ``_`` alike) whose values are secret."""

DEFAULT_SECRET_KEY_SUFFIXES: tuple[str, ...] = ("_token", "_secret", "_password", "_api_key")
"""Key name endings that mark a secret too (``slack_bot_token``, ``db_password``)."""


class PayloadError(ValueError):
    """A value cannot be turned into a payload; the message names the path and the fix."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class Redaction(BaseModel):
    """One value that was replaced: where (dotted path, ``""`` for the root) and why."""

    model_config = ConfigDict(frozen=True)

    path: str
    reason: str


class RedactionPolicy(BaseModel):
    """What counts as a secret.

    ``keys``: key names whose values are replaced wherever they occur.
    ``key_suffixes``: key name endings treated the same way.
    ``paths``: dotted paths (``trigger.headers.x-api-key``; ``*`` matches any one
    segment, list indices are segments too) whose values are replaced.
    ``scan_text``: look for token-like substrings inside every string.
    """

    model_config = ConfigDict(frozen=True)

    keys: frozenset[str] = DEFAULT_SECRET_KEYS
    key_suffixes: tuple[str, ...] = DEFAULT_SECRET_KEY_SUFFIXES
    paths: tuple[str, ...] = ()
    scan_text: bool = True

    def key_is_secret(self, key: str) -> bool:
        """True when ``key`` names a secret under this policy."""
        norm = _norm_key(key)
        return norm in self._keys_norm or norm.endswith(self._suffixes_norm)

    def path_is_secret(self, segments: tuple[str, ...]) -> str | None:
        """The configured pattern matching ``segments``, if any."""
        for pattern, parts in self._paths_split:
            if len(parts) == len(segments) and all(
                p == "*" or p == s for p, s in zip(parts, segments, strict=True)
            ):
                return pattern
        return None

    # Derived once per policy: key_is_secret runs for every key of multi-MB payloads.
    @cached_property
    def _keys_norm(self) -> frozenset[str]:
        return frozenset(_norm_key(k) for k in self.keys)

    @cached_property
    def _suffixes_norm(self) -> tuple[str, ...]:
        return tuple(_norm_key(s) for s in self.key_suffixes)

    @cached_property
    def _paths_split(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple((p, tuple(p.split("."))) for p in self.paths)


_NO_REDACTION = RedactionPolicy(keys=frozenset(), key_suffixes=(), scan_text=False)


def _norm_key(key: str) -> str:
    return key.lower().replace("-", "_")


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


@dataclass(frozen=True)
class _TokenPattern:
    reason: str
    regex: re.Pattern[str]
    group: int = 0
    accept: Callable[[str], bool] | None = None


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_random(text: str) -> bool:
    return len(text) >= 12 and _entropy(text) >= 3.0


def _bearer_ok(token: str) -> bool:
    return any(ch.isdigit() for ch in token) or len(token) >= 24


_TOKEN_PATTERNS: tuple[_TokenPattern, ...] = (
    _TokenPattern(
        "private key",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    ),
    _TokenPattern("Slack token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{8,}")),
    _TokenPattern("Slack app token", re.compile(r"\bxapp-[A-Za-z0-9-]{8,}")),
    _TokenPattern("Linear API key", re.compile(r"\blin_(?:api|oauth)_[A-Za-z0-9]{16,}")),
    _TokenPattern("Airtable token", re.compile(r"\bpat[A-Za-z0-9]{10,}\.[A-Za-z0-9]{16,}")),
    _TokenPattern(
        "Airtable API key",
        re.compile(r"\bkey(?=[A-Za-z]*\d)(?=[a-z0-9]*[A-Z])[A-Za-z0-9]{14}\b"),
    ),
    _TokenPattern(
        "GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,})")
    ),
    _TokenPattern("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    _TokenPattern(
        "JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
    ),
    _TokenPattern(
        "bearer token",
        re.compile(r"\b[Bb]earer\s+([A-Za-z0-9\-._~+/]{12,}=*)"),
        group=1,
        accept=_bearer_ok,
    ),
    _TokenPattern("password in URL", re.compile(r"://[^:/\s@]+:([^@/\s]+)@"), group=1),
    _TokenPattern(
        "password after 'password='",
        re.compile(r"(?i)\b(?:password|passwd|pwd)\s*[=:]\s*[\"']?([^\s\"'&,;]{4,})"),
        group=1,
    ),
    _TokenPattern(
        "high-entropy value after a secret name",
        re.compile(
            r"(?i)\b(?:[a-z_]*token|[a-z_]*secret|api[_-]?key|access[_-]?key)\s*[=:]\s*"
            r"[\"']?([^\s\"'&,;]{12,})"
        ),
        group=1,
        accept=_looks_random,
    ),
)

# Cheap pre-check so that the many strings without any hint skip the full scan: one
# literal alternation over the lower-cased text (re.IGNORECASE would be ~10x slower).
_HINTS: tuple[str, ...] = (
    *("xox", "xapp-", "lin_", "pat", "key", "github_pat_", "akia", "asia", "eyj"),
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "bearer", "://", "private key"),
    *("pass", "pwd", "token", "secret"),
)
_HINT = re.compile("|".join(re.escape(hint) for hint in _HINTS))


def redact_text(text: str) -> tuple[str, list[str]]:
    """Replace token-like substrings of ``text`` by markers; return the text and reasons."""
    if len(text) < 8:
        return text, []
    if not _HINT.search(text.lower()):
        return text, []
    reasons: list[str] = []
    for pattern in _TOKEN_PATTERNS:
        text = _apply(pattern, text, reasons)
    return text, reasons


def _apply(pattern: _TokenPattern, text: str, reasons: list[str]) -> str:
    marker = f"[redacted: {pattern.reason}]"

    def replace(match: re.Match[str]) -> str:
        secret = match.group(pattern.group)
        if secret.startswith("[redacted:") or (pattern.accept and not pattern.accept(secret)):
            return match.group(0)
        reasons.append(pattern.reason)
        start, end = match.span(pattern.group)
        whole_start = match.start(0)
        whole = match.group(0)
        return whole[: start - whole_start] + marker + whole[end - whole_start :]

    return pattern.regex.sub(replace, text)


def redact(value: Any, policy: RedactionPolicy | None = None) -> tuple[Any, list[Redaction]]:
    """Return a redacted copy of ``value`` as plain JSON data, and what was replaced.

    Normalises like :func:`to_json_data` in the same pass; the input is not modified.
    """
    walker = _Walker(policy or RedactionPolicy())
    return walker.walk(value, None, 0), walker.found


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

    def __init__(self, policy: RedactionPolicy) -> None:
        self.policy = policy
        self.scan_text = policy.scan_text
        self.found: list[Redaction] = []
        self.secret_keys: dict[str, bool] = {}
        self.path_depth = max((len(p.split(".")) for p in policy.paths), default=0)

    def walk(self, value: Any, path: _Path, depth: int) -> Any:
        if depth and depth <= self.path_depth:
            pattern = self.policy.path_is_secret(_segments(path))
            if pattern is not None and _has_content(value):
                return self.mark(path, f"path '{pattern}'")
        if isinstance(value, str):
            return self.walk_str(value, path) if self.scan_text and len(value) >= 8 else value
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
        text, reasons = redact_text(value)
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
                out[key] = self.mark((path, key), f"key '{key.lower()}'")
            else:
                out[key] = self.walk(item, (path, key), depth + 1)
        return out

    def mark(self, path: _Path, reason: str) -> str:
        self.found.append(Redaction(path=_dotted(path), reason=reason))
        return f"[redacted: {reason}]"


def _has_content(value: Any) -> bool:
    # null, booleans and "" hide nothing; replacing them would only lose information.
    return not (value is None or isinstance(value, bool) or value == "")


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


# zstandard (de)compressor objects must not be used by two threads at once, and payloads
# are encoded from many activity threads; one pair per thread keeps them lock-free.
_codecs = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    comp: zstandard.ZstdCompressor | None = getattr(_codecs, "comp", None)
    if comp is None:
        comp = _codecs.comp = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL)
    return comp


def _decompressor() -> zstandard.ZstdDecompressor:
    dec: zstandard.ZstdDecompressor | None = getattr(_codecs, "dec", None)
    if dec is None:
        dec = _codecs.dec = zstandard.ZstdDecompressor()
    return dec


def encode(value: Any, policy: RedactionPolicy | None = None) -> EncodedPayload:
    """Normalise, redact, canonicalise, hash and compress ``value``."""
    redacted, found = redact(value, policy)
    raw = canonical_json(redacted)
    return EncodedPayload(
        hash=content_hash(raw),
        raw_size=len(raw),
        data=_compressor().compress(raw),
        redactions=tuple(found),
    )


def decode(data: bytes) -> Any:
    """The JSON data stored in ``data`` (bytes produced by :func:`encode`)."""
    try:
        raw = _decompressor().decompress(data)
    except zstandard.ZstdError as exc:
        raise PayloadError(f"stored payload is not valid zstandard data: {exc}", path="") from exc
    return json.loads(raw)


def redact_json(value: Any, policy: RedactionPolicy | None = None) -> Any:
    """Normalise and redact ``value``; for JSON columns that are stored uncompressed."""
    return redact(value, policy)[0]
