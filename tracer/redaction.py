"""What counts as a secret, and how a secret inside text is found.

:class:`RedactionPolicy` names secret keys (matched in every naming style: ``accessToken``,
``access_token``, ``access-token`` and ``Access-Token`` are one name), paths, and the
personal data to treat as secret; :func:`redact_text` finds credentials inside any text
(:mod:`tracer.detectors`) and replaces just the token by a marker that says why, e.g.
``"[redacted: Slack token]"``. :mod:`tracer.payloads` applies both to every payload before
it is hashed, and :mod:`tracer.taint` finds the replaced values again where they reappear.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cached_property

from pydantic import BaseModel, ConfigDict

from tracer.detectors import PiiKind, scan_text

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
        "auth",
        "credentials",
        "credential",
        "passphrase",
        "private_key_id",
        "session_id",
        "session_key",
        "dsn",
        "connection_string",
    }
)
"""Key names (compared case-insensitively, ``-`` and ``_`` alike) whose values are secret."""

DEFAULT_SECRET_KEY_SUFFIXES: tuple[str, ...] = (
    "_token",
    "_secret",
    "_password",
    "_passwd",
    "_api_key",
    "_access_key",
    "_secret_key",
    "_private_key",
    "_authorization",
    "_credentials",
)
"""Key name endings that mark a secret too (``slack_bot_token``, ``dbPassword``)."""


class Redaction(BaseModel):
    """One value that was replaced: where (dotted path, ``""`` for the root) and why."""

    model_config = ConfigDict(frozen=True)

    path: str
    reason: str


KEY_VERDICTS = 4096
"""How many keys a policy remembers the verdict of."""


class RedactionPolicy(BaseModel):
    """What counts as a secret.

    ``keys``: key names whose values are replaced wherever they occur.
    ``key_suffixes``: key name endings treated the same way.
    ``paths``: dotted paths (``trigger.headers.x-api-key``; ``*`` matches any one
    segment, list indices are segments too) whose values are replaced.
    ``scan_text``: look for credentials inside every string.
    ``pii``: personal data to redact as well (``email``, ``phone``); off by default,
    since e-mail addresses are how the tools name people.
    ``phone_region``: the region whose national phone formats are recognised.
    """

    model_config = ConfigDict(frozen=True)

    keys: frozenset[str] = DEFAULT_SECRET_KEYS
    key_suffixes: tuple[str, ...] = DEFAULT_SECRET_KEY_SUFFIXES
    paths: tuple[str, ...] = ()
    scan_text: bool = True
    pii: frozenset[PiiKind] = frozenset()
    phone_region: str = "US"

    def key_is_secret(self, key: str) -> bool:
        """True when ``key`` names a secret under this policy (remembered per key: the
        same keys come back in every handoff)."""
        verdicts = self._key_verdicts
        verdict = verdicts.get(key)
        if verdict is None:
            norm = _norm_key(key)
            verdict = norm in self._keys_norm or norm.endswith(self._suffixes_norm)
            if len(verdicts) < KEY_VERDICTS:  # keys may be data (ids): bounded
                verdicts[key] = verdict
        return verdict

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
    def _key_verdicts(self) -> dict[str, bool]:
        return {}

    @cached_property
    def _suffixes_norm(self) -> tuple[str, ...]:
        return tuple(_norm_key(s) for s in self.key_suffixes)

    @cached_property
    def _paths_split(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple((p, tuple(p.split("."))) for p in self.paths)


def _norm_key(key: str) -> str:
    """``accessToken``, ``access_token``, ``Access-Token``, ``ACCESS TOKEN`` -> ``accesstoken``.

    Words are split at separators and camel-case humps and joined without separators,
    so every naming style of the same name compares equal.
    """
    return "".join(_WORD.findall(key)).lower()


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def redact_text(
    text: str, pii: Collection[PiiKind] = (), *, phone_region: str = "US"
) -> tuple[str, list[str]]:
    """Replace token-like substrings of ``text`` by markers; return the text and reasons."""
    text, found = scan_text(text, pii, phone_region=phone_region)
    return text, [f.reason for f in found]
