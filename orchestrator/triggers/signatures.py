"""Is this delivery really from the tool, and fresh? One check per tool, as each signs.

Every check raises :class:`Unverified` (the receiver answers 401 and starts nothing).
Comparisons are constant-time. The freshness window is the Linear SDK's 60 s, applied to
every tool that dates its deliveries; a delivery inside the window that we already took
is caught later, by its workflow id (:mod:`orchestrator.triggers.starter`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jwt

FRESH_WITHIN_SECONDS = 60.0


class Unverified(Exception):
    """A delivery that is unsigned, wrongly signed, or stale."""


def verify_linear(
    body: bytes, headers: Mapping[str, str], secret: str, *, now: float | None = None
) -> dict[str, Any]:
    """Linear: hex HMAC-SHA256 of the raw body in ``Linear-Signature``; ``webhookTimestamp``
    (ms) within 60 s. Returns the parsed body."""
    given = headers.get("linear-signature")
    if not given:
        raise Unverified("no Linear-Signature header")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.strip().lower(), expected):
        raise Unverified("Linear-Signature does not match the body")
    payload = _json(body)
    stamp = payload.get("webhookTimestamp")
    if not isinstance(stamp, int | float):
        raise Unverified("no webhookTimestamp in the body")
    _fresh(stamp / 1000.0, now)
    return payload


def verify_airtable(
    body: bytes, headers: Mapping[str, str], mac_secret_base64: str, *, now: float | None = None
) -> dict[str, Any]:
    """Airtable: ``X-Airtable-Content-MAC: hmac-sha256=<hex>`` keyed with the decoded
    ``macSecretBase64``; the ping's ``timestamp`` within the window."""
    given = headers.get("x-airtable-content-mac", "")
    if not given.startswith("hmac-sha256="):
        raise Unverified("no X-Airtable-Content-MAC header")
    try:
        key = base64.b64decode(mac_secret_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unverified("the configured Airtable MAC secret is not base64") from exc
    expected = "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given, expected):
        raise Unverified("X-Airtable-Content-MAC does not match the body")
    payload = _json(body)
    stamp = payload.get("timestamp")
    if not isinstance(stamp, str):
        raise Unverified("no timestamp in the ping")
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise Unverified(f"unreadable ping timestamp {stamp!r}") from exc
    _fresh(when, now)
    return payload


def monday_challenge(body: bytes) -> str | None:
    """The handshake's challenge, to echo back, when this is one."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if isinstance(payload, dict) and set(payload) == {"challenge"}:
        return str(payload["challenge"])
    return None


def verify_monday(
    body: bytes, headers: Mapping[str, str], secret: str, *, now: float | None = None
) -> dict[str, Any]:
    """Monday: the ``Authorization`` header is a JWT (HS256) signed with the app's signing
    secret; its ``iat`` must be within the window (and ``exp`` not passed)."""
    token = headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not token:
        raise Unverified("no Authorization header")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_aud": False, "require": ["iat"]},
        )
    except jwt.PyJWTError as exc:
        raise Unverified(f"Authorization is not a valid signed token: {exc}") from exc
    _fresh(float(claims["iat"]), now)
    return _json(body)


def _fresh(sent_at: float, now: float | None) -> None:
    skew = abs((now if now is not None else time.time()) - sent_at)
    if skew > FRESH_WITHIN_SECONDS:
        raise Unverified(f"stale delivery: sent {skew:.0f} s from now (window 60 s)")


def _json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Unverified("the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise Unverified("the body is not a JSON object")
    return payload
