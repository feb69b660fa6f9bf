"""What counts as a secret, and how a secret inside text is found.

:class:`RedactionPolicy` names secret keys and paths; :func:`redact_text` finds
token-like substrings (Slack, Linear, Airtable, GitHub and AWS keys, JWTs, bearer
tokens, passwords in URLs…) inside any text and replaces just the token by a marker that
says why, e.g. ``"[redacted: Slack token]"``. :mod:`tracer.payloads` applies both to
every payload before it is hashed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_SECRET_KEYS",
    "DEFAULT_SECRET_KEY_SUFFIXES",
    "Redaction",
    "RedactionPolicy",
    "redact_text",
]

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


def _norm_key(key: str) -> str:
    return key.lower().replace("-", "_")


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
