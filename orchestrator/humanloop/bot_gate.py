"""The bot's front door: what a request must be before anything parses it.

In this order, each step refusing with one short answer and one log line (never a
traceback):

1. **size**: the body is read as a stream and refused with 413 past
   :data:`MAX_BODY_BYTES` (Slack's payloads are a few kB; an unsigned 50 MB body must
   not cost 50 MB);
2. **signature** on the raw bytes: ``X-Slack-Request-Timestamp`` an integer within five
   minutes of now, ``X-Slack-Signature`` the HMAC-SHA256 Slack computes — else 401;
3. **replay**: a signature already seen within those five minutes is 401 (a captured
   request cannot be sent again while its timestamp is still fresh);
4. **shape**: the body must be one of the payloads the bot handles, with the fields its
   listener reads (:func:`payload_problem`) — else 400.

Only then does slack-bolt see the request (and check the signature again, harmlessly).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

__all__ = ["MAX_BODY_BYTES", "REPLAY_WINDOW_SECONDS", "Refused", "SlackGate", "payload_problem"]

log = logging.getLogger("steptrace.bot")

MAX_BODY_BYTES = 256 * 1024
"""Far above any Slack event, command or interaction payload (tens of kB at most)."""
REPLAY_WINDOW_SECONDS = 300
"""Slack's own window: an older timestamp is refused, so older signatures need no memory."""
_MAX_REMEMBERED = 100_000


@dataclass(frozen=True)
class Refused:
    """The answer to a request that does not get through: status and a short reason."""

    status: int
    reason: str


class SlackGate:
    """Size, signature and replay checks for one signing secret."""

    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._key = signing_secret.encode("utf-8")
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    async def read(self, request: Request) -> bytes | Refused:
        """The body, or :class:`Refused` (413) as soon as it grows past the cap."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return Refused(413, f"body of {declared} bytes is over {MAX_BODY_BYTES}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return Refused(413, f"body is over {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def verify(self, headers: Mapping[str, str], body: bytes) -> Refused | None:
        """401 unless the request is signed, fresh, and not seen before."""
        stamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not stamp.isdigit() or not signature:
            return Refused(401, "missing or malformed Slack signature headers")
        now = self._clock()
        if abs(now - int(stamp)) > REPLAY_WINDOW_SECONDS:
            return Refused(401, "stale Slack request timestamp")
        if not hmac.compare_digest(self.signature(stamp, body), signature):
            return Refused(401, "bad Slack signature")
        if not self._remember(signature, now):
            return Refused(401, "replayed Slack request")
        return None

    def signature(self, stamp: str, body: bytes) -> str:
        """Slack's ``v0=`` signature of ``body`` at ``stamp``, over the raw bytes."""
        message = b"v0:" + stamp.encode("ascii") + b":" + body
        return "v0=" + hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _remember(self, signature: str, now: float) -> bool:
        with self._lock:
            while self._seen and (
                next(iter(self._seen.values())) < now - REPLAY_WINDOW_SECONDS
                or len(self._seen) >= _MAX_REMEMBERED
            ):
                self._seen.popitem(last=False)
            if signature in self._seen:
                return False
            self._seen[signature] = now
            return True


def payload_problem(body: bytes, content_type: str, known_actions: frozenset[str]) -> str | None:
    """What is wrong with a signed body, or ``None`` when a listener can handle it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    if content_type.startswith("application/json"):
        return _event_problem(_json_object(text))
    form = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    if "payload" in form:
        return _interaction_problem(_json_object(form["payload"]), known_actions)
    if "command" in form:
        missing = [k for k in ("channel_id", "user_id", "text") if k not in form]
        return f"slash command without {', '.join(missing)}" if missing else None
    return "neither an event, a slash command nor an interaction"


def _json_object(text: str) -> dict[str, Any] | str:
    try:
        value = json.loads(text)
    except ValueError:
        return "payload is not JSON"
    return value if isinstance(value, dict) else "payload is not a JSON object"


def _event_problem(body: dict[str, Any] | str) -> str | None:
    if isinstance(body, str):
        return body
    if body.get("type") == "url_verification":
        return None if isinstance(body.get("challenge"), str) else "challenge missing"
    if body.get("type") != "event_callback" or not isinstance(body.get("event"), dict):
        return "not an event callback"
    event = body["event"]
    if event.get("type") == "app_mention":
        return _missing(event, "event", ("channel", "ts"))
    return None  # other events are acknowledged and ignored


def _interaction_problem(payload: dict[str, Any] | str, known: frozenset[str]) -> str | None:
    if isinstance(payload, str):
        return payload
    if payload.get("type") != "block_actions":
        return f"interaction type {str(payload.get('type'))[:40]!r} is not handled"
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return "block_actions without actions"
    action = actions[0]
    if action.get("action_id") not in known or not isinstance(action.get("value"), str):
        return "an action the bot does not offer"
    for field in ("user", "channel"):
        if not isinstance(payload.get(field), dict) or not payload[field].get("id"):
            return f"block_actions without {field}.id"
    container = payload.get("container") or {}
    message = payload.get("message") or {}
    if not (isinstance(container, dict) and container.get("message_ts")) and not (
        isinstance(message, dict) and message.get("ts")
    ):
        return "block_actions without the message it belongs to"
    return None


def _missing(obj: dict[str, Any], name: str, fields: tuple[str, ...]) -> str | None:
    absent = [f for f in fields if not isinstance(obj.get(f), str) or not obj[f]]
    return f"{name} without {', '.join(absent)}" if absent else None
