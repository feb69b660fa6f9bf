"""Each tool's delivery check against deliveries signed the way the tool signs them."""

from __future__ import annotations

import base64
import json
import time

import pytest

from connectors.sandbox.webhooks import (
    Subscription,
    airtable_ping,
    linear_delivery,
    monday_authorization,
    monday_challenge,
    monday_delivery,
)
from orchestrator.triggers import signatures
from orchestrator.triggers.signatures import Unverified

LINEAR = Subscription("linear", "http://127.0.0.1:1/hooks/linear", "lin-secret")
AIRTABLE = Subscription(
    "airtable", "http://127.0.0.1:1/hooks/airtable", base64.b64encode(b"mac-key").decode()
)
MONDAY = Subscription(
    "monday", "http://127.0.0.1:1/hooks/monday", "monday-signing-secret-0123456789abcdef"
)
ISSUE = {"id": "x", "identifier": "ENG-101", "state": {"name": "Todo"}}


def test_linear_accepts_its_own_signature() -> None:
    sent = linear_delivery(LINEAR, ISSUE)
    payload = signatures.verify_linear(sent.body, sent.headers, LINEAR.secret)
    assert payload["data"]["identifier"] == "ENG-101"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: ({k: v for k, v in h.items() if k != "linear-signature"}, b), "no Linear"),
        (lambda h, b: ({**h, "linear-signature": "0" * 64}, b), "does not match"),
        (lambda h, b: (h, b.replace(b"ENG-101", b"ENG-999")), "does not match"),
    ],
)
def test_linear_refuses_unsigned_forged_or_altered(change: object, reason: str) -> None:
    sent = linear_delivery(LINEAR, ISSUE)
    headers, body = change(dict(sent.headers), sent.body)  # type: ignore[operator]
    with pytest.raises(Unverified, match=reason):
        signatures.verify_linear(body, headers, LINEAR.secret)


def test_linear_refuses_a_stale_delivery_even_when_signed() -> None:
    old = int((time.time() - 120) * 1000)
    sent = linear_delivery(LINEAR, ISSUE, timestamp_ms=old)
    with pytest.raises(Unverified, match="stale"):
        signatures.verify_linear(sent.body, sent.headers, LINEAR.secret)


def test_airtable_mac_is_keyed_with_the_decoded_secret() -> None:
    sent = airtable_ping(AIRTABLE, "appBASE")
    ping = signatures.verify_airtable(sent.body, sent.headers, AIRTABLE.secret)
    assert ping["base"]["id"] == "appBASE"
    # Keyed with the base64 text itself (a common mistake): refused.
    wrong = base64.b64encode(AIRTABLE.secret.encode()).decode()
    with pytest.raises(Unverified, match="does not match"):
        signatures.verify_airtable(sent.body, sent.headers, wrong)


def test_airtable_refuses_a_stale_ping() -> None:
    sent = airtable_ping(AIRTABLE, "appBASE")
    later = time.time() + 3600
    with pytest.raises(Unverified, match="stale"):
        signatures.verify_airtable(sent.body, sent.headers, AIRTABLE.secret, now=later)


def test_monday_challenge_is_recognised_and_events_need_the_signed_token() -> None:
    challenge = monday_challenge(MONDAY)
    assert signatures.monday_challenge(challenge.body) == json.loads(challenge.body)["challenge"]
    sent = monday_delivery(MONDAY, {"type": "update_column_value", "pulseId": 1})
    assert signatures.monday_challenge(sent.body) is None
    assert signatures.verify_monday(sent.body, sent.headers, MONDAY.secret)["event"]["pulseId"]
    with pytest.raises(Unverified, match="not a valid signed token"):
        signatures.verify_monday(sent.body, sent.headers, "another-signing-secret-0123456789abcdef")
    with pytest.raises(Unverified, match="no Authorization"):
        signatures.verify_monday(sent.body, {}, MONDAY.secret)


def test_monday_refuses_an_old_token() -> None:
    old = {"authorization": monday_authorization(MONDAY.secret, now=time.time() - 200)}
    sent = monday_delivery(MONDAY, {"type": "create_pulse"})
    with pytest.raises(Unverified):
        signatures.verify_monday(sent.body, old, MONDAY.secret)
