"""Webhook deliveries signed the way each real tool signs them, for the sandbox.

The emulators (and tests) hand a change to :class:`WebhookSender`, which posts it to the
registered URL with the tool's headers:

- Linear: ``Linear-Signature`` = hex HMAC-SHA256 of the raw body keyed with the
  webhook's secret; ``webhookTimestamp`` (Unix ms) in the body; ``Linear-Delivery`` (a
  UUID, the same on a redelivery) and ``Linear-Event``.
- Airtable: a *ping* ``{"base": {"id"}, "webhook": {"id"}, "timestamp"}`` with
  ``X-Airtable-Content-MAC: hmac-sha256=<hex>``, keyed with the base64-decoded
  ``macSecretBase64``; the changes themselves are fetched from the payloads cursor.
- Monday: a one-time ``{"challenge": …}`` handshake that must be echoed before the
  webhook exists, then ``{"event": {…}}`` with an ``Authorization`` header holding a JWT
  (HS256) signed with the app's signing secret (claims ``accountId``, ``userId``, ``aud``
  = the webhook's URL, ``iat``, ``exp``). The sandbox's app signs with
  :data:`MONDAY_SIGNING_SECRET`.

A delivery the receiver misses is posted again on the tool's own schedule
(:mod:`connectors.sandbox.redelivery`). A retry keeps its delivery id but is signed
afresh with the time of the attempt (Linear's ``webhookTimestamp``, Monday's ``iat``),
since a copy of the first request's bytes would be refused as stale by any receiver that
checks the 60-second window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

import httpx
import jwt

from connectors.sandbox.redelivery import (
    AIRTABLE_PING,
    LINEAR_RETRIES,
    MONDAY_RETRIES,
    Redelivery,
)

HookTool = Literal["linear", "airtable", "monday"]
MONDAY_SIGNING_SECRET = "sandbox-monday-app-signing-secret-0123456789"
"""The signing secret of the sandbox's Monday app: the receiver's
``STEPTRACE_MONDAY_SIGNING_SECRET`` for webhooks the emulator delivers."""
CHALLENGE_TIMEOUT_SECONDS = 10.0
AIRTABLE_PAYLOAD_RETENTION = timedelta(days=7)
"""Airtable deletes a webhook's payloads a week after they were made, read or not."""


@dataclass(frozen=True)
class Subscription:
    """A webhook registered with a tool: where it posts and the secret it signs with."""

    tool: HookTool
    url: str
    secret: str
    """Linear: the signing secret; Airtable: ``macSecretBase64``; Monday: signing secret."""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


@dataclass(frozen=True)
class Delivery:
    """One HTTP request a tool sends, ready to post (and to post again)."""

    url: str
    body: bytes
    headers: dict[str, str]
    delivery_id: str


def linear_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def airtable_mac(body: bytes, mac_secret_base64: str) -> str:
    key = base64.b64decode(mac_secret_base64)
    return "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def monday_authorization(
    secret: str,
    *,
    now: float | None = None,
    audience: str = "steptrace",
    account_id: int | None = None,
    user_id: int | None = None,
) -> str:
    """The JWT Monday puts in ``Authorization``: HS256 with the app's signing secret."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"iat": issued, "exp": issued + 300, "aud": audience}
    if account_id is not None:
        claims["accountId"] = account_id
    if user_id is not None:
        claims["userId"] = user_id
    return jwt.encode(claims, secret, algorithm="HS256")


def linear_delivery(
    subscription: Subscription,
    entity: dict[str, Any],
    *,
    action: str = "update",
    event_type: str = "Issue",
    updated_from: dict[str, Any] | None = None,
    timestamp_ms: int | None = None,
    delivery_id: str | None = None,
) -> Delivery:
    """Linear's ``EntityWebhookPayload`` for a change to ``entity``."""
    payload: dict[str, Any] = {
        "action": action,
        "type": event_type,
        "data": entity,
        "createdAt": datetime.now(UTC).isoformat(),
        "organizationId": "sandbox-org",
        "url": entity.get("url"),
        "webhookId": subscription.id,
        "webhookTimestamp": timestamp_ms if timestamp_ms is not None else _now_ms(),
    }
    if updated_from is not None:
        payload["updatedFrom"] = updated_from
    body = json.dumps(payload).encode()
    ident = delivery_id or str(uuid.uuid4())
    headers = {
        "content-type": "application/json",
        "linear-signature": linear_signature(body, subscription.secret),
        "linear-delivery": ident,
        "linear-event": event_type,
    }
    return Delivery(subscription.url, body, headers, ident)


def airtable_ping(subscription: Subscription, base_id: str) -> Delivery:
    """Airtable's notification that payloads wait at the cursor (no change data in it)."""
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = json.dumps(
        {"base": {"id": base_id}, "webhook": {"id": subscription.id}, "timestamp": stamp}
    ).encode()
    headers = {
        "content-type": "application/json",
        "x-airtable-content-mac": airtable_mac(body, subscription.secret),
    }
    return Delivery(subscription.url, body, headers, f"{subscription.id}:{stamp}")


def monday_challenge(subscription: Subscription) -> Delivery:
    body = json.dumps({"challenge": uuid.uuid4().hex}).encode()
    return Delivery(subscription.url, body, {"content-type": "application/json"}, "challenge")


def monday_delivery(
    subscription: Subscription,
    event: dict[str, Any],
    *,
    delivery_id: str | None = None,
    account_id: int | None = None,
) -> Delivery:
    """Monday's ``{"event": …}`` with the signed ``Authorization`` JWT."""
    ident = delivery_id or uuid.uuid4().hex
    body = json.dumps({"event": {**event, "triggerUuid": ident}}).encode()
    token = monday_authorization(
        subscription.secret,
        audience=subscription.url or "steptrace",
        account_id=account_id,
        user_id=event.get("userId"),
    )
    headers = {"content-type": "application/json", "authorization": token}
    return Delivery(subscription.url, body, headers, ident)


class WebhookSender:
    """Posts deliveries and remembers them with the status each got."""

    def __init__(self, timeout: float = 30.0) -> None:
        self._http = httpx.Client(timeout=timeout)
        self.sent: list[tuple[Delivery, int]] = []

    def send(self, delivery: Delivery) -> httpx.Response:
        response = self._http.post(delivery.url, content=delivery.body, headers=delivery.headers)
        self.sent.append((delivery, response.status_code))
        return response

    def close(self) -> None:
        self._http.close()


def _now_ms() -> int:
    return int(time.time() * 1000)


class AirtableHooks:
    """Airtable's side of webhooks, for the emulator: creation, the payload list behind
    the cursor (each payload kept :data:`AIRTABLE_PAYLOAD_RETENTION`, scaled by the
    redelivery's ``time_scale``), and a ping on every change, sent once. Pings go out
    from a worker thread, so the receiver's call back for the payloads never waits on
    the emulator's own request."""

    PAGE = 50

    def __init__(self, redelivery: Redelivery | None = None) -> None:
        self.redelivery = redelivery or Redelivery(AIRTABLE_PING)
        self._lock = threading.Lock()
        self._hooks: dict[str, tuple[Subscription, str]] = {}  # id -> (subscription, base)
        # per hook: (made at, monotonic seconds; payload), and how many expired before them
        self._payloads: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self._expired: dict[str, int] = {}
        self._transaction = 0

    def create(self, base_id: str, notification_url: str) -> dict[str, Any]:
        """``POST /v0/bases/{base}/webhooks``: the new hook's id and MAC secret."""
        secret = base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()
        subscription = Subscription(
            "airtable", notification_url, secret, "ach" + uuid.uuid4().hex[:14]
        )
        with self._lock:
            self._hooks[subscription.id] = (subscription, base_id)
            self._payloads[subscription.id] = []
            self._expired[subscription.id] = 0
        expires = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return {"id": subscription.id, "macSecretBase64": secret, "expirationTime": expires}

    def payloads(self, hook_id: str, cursor: int) -> dict[str, Any] | None:
        """``GET …/webhooks/{id}/payloads?cursor=N`` (1-based), or ``None`` for no hook.
        Expired payloads are gone; the cursor numbering never restarts."""
        with self._lock:
            found = self._payloads.get(hook_id)
            if found is None:
                return None
            self._expire(hook_id, found)
            first = self._expired[hook_id] + 1  # the cursor of the oldest payload kept
            start = max(cursor, first)
            page = [p for _, p in found[start - first : start - first + self.PAGE]]
            after = start + len(page)
            last = first + len(found) - 1
            return {"payloads": page, "cursor": after, "mightHaveMore": after <= last}

    def _expire(self, hook_id: str, found: list[tuple[float, dict[str, Any]]]) -> None:
        kept_after = time.monotonic() - (
            AIRTABLE_PAYLOAD_RETENTION.total_seconds() * self.redelivery.time_scale
        )
        gone = next((i for i, (made, _) in enumerate(found) if made >= kept_after), len(found))
        if gone:
            del found[:gone]
            self._expired[hook_id] += gone

    def changed(
        self, base_id: str, table_id: str, created: dict[str, Any], updated: dict[str, Any]
    ) -> None:
        """Records were created or changed (by id, each ``{fieldId: value}``): queue one
        payload for every hook on the base and ping each."""
        if not created and not updated:
            return
        with self._lock:
            self._transaction += 1
            payload = {
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "baseTransactionNumber": self._transaction,
                "payloadFormat": "v0",
                "actionMetadata": {"source": "publicApi"},
                "changedTablesById": {
                    table_id: {
                        "createdRecordsById": {
                            rid: {"cellValuesByFieldId": cells} for rid, cells in created.items()
                        },
                        "changedRecordsById": {
                            rid: {"current": {"cellValuesByFieldId": cells}}
                            for rid, cells in updated.items()
                        },
                    }
                },
            }
            targets = [sub for sub, base in self._hooks.values() if base == base_id]
            made = time.monotonic()
            for sub in targets:
                self._payloads[sub.id].append((made, payload))
        for sub in targets:  # AIRTABLE_PING: sent once, never retried
            self.redelivery.deliver(partial(airtable_ping, sub, base_id))


class LinearHooks:
    """Linear's side of webhooks, for the emulator: every issue created or updated is
    delivered, signed, to each webhook the emulator has registered (``webhookCreate``),
    and retried on Linear's schedule while the receiver misses it."""

    def __init__(
        self,
        subscriptions: Callable[[], list[Subscription]],
        redelivery: Redelivery | None = None,
    ) -> None:
        self._subscriptions = subscriptions
        self.redelivery = redelivery or Redelivery(LINEAR_RETRIES)

    def changed(
        self, issue: dict[str, Any], action: str, updated_from: dict[str, Any] | None = None
    ) -> None:
        for subscription in self._subscriptions():
            self.redelivery.deliver(
                partial(
                    linear_delivery,
                    subscription,
                    issue,
                    action=action,
                    updated_from=updated_from,
                    delivery_id=str(uuid.uuid4()),
                )
            )


class MondayHooks:
    """Monday's side of webhooks, for the emulator: the challenge a new webhook's URL must
    answer, and signed deliveries, retried on Monday's schedule while the receiver misses
    them."""

    def __init__(
        self, secret: str = MONDAY_SIGNING_SECRET, redelivery: Redelivery | None = None
    ) -> None:
        self.secret = secret
        self.redelivery = redelivery or Redelivery(MONDAY_RETRIES)

    def verify_url(self, url: str) -> str | None:
        """POST ``{"challenge": …}`` to ``url``; ``None`` when it is echoed, else why not."""
        challenge = monday_challenge(Subscription("monday", url, self.secret))
        try:
            with httpx.Client(timeout=CHALLENGE_TIMEOUT_SECONDS) as http:
                response = http.post(url, content=challenge.body, headers=challenge.headers)
        except httpx.HTTPError as exc:
            return f"the URL could not be reached ({type(exc).__name__})"
        try:
            echoed = response.json() == json.loads(challenge.body)
        except ValueError:
            echoed = False
        if response.status_code != 200 or not echoed:
            return f"the URL answered {response.status_code} without echoing the challenge"
        return None

    def deliver(self, url: str, event: dict[str, Any], account_id: int) -> None:
        self.redelivery.deliver(
            partial(
                monday_delivery,
                Subscription("monday", url, self.secret),
                event,
                delivery_id=uuid.uuid4().hex,
                account_id=account_id,
            )
        )
