"""The emulator's wire format where the client does not look: raw calls over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from connectors.sandbox.faults import Fault
from connectors.sandbox.seed import SeedData
from connectors.sandbox.server import Sandbox
from connectors.slack.emulator import SlackEmulator
from tests.connectors.slack.support import TOKEN, http_client


@pytest.fixture
async def call(sandbox: Sandbox) -> AsyncIterator[Any]:
    """``await call(method, **form)``: the decoded answer of one form-encoded call."""
    async with http_client(base_url=sandbox.urls["slack"]) as http:

        async def send(method: str, **form: Any) -> dict[str, Any]:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            answer: dict[str, Any] = (await http.post(method, data=form, headers=auth)).json()
            return answer

        yield send


async def test_history_pages_with_cursors_and_has_more(
    call: Any, emulator: SlackEmulator, seed: SeedData
) -> None:
    person = seed.people[0].slack_user_id
    for n in range(5):
        emulator.post_as_person(person, "triage", f"m{n}")
    triage = seed.slack_channel_ids["triage"]
    first = await call("conversations.history", channel=triage, limit=3)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3", "m2"] and first["has_more"]
    cursor = first["response_metadata"]["next_cursor"]
    rest = await call("conversations.history", channel=triage, limit=3, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m1", "m0"] and not rest["has_more"]
    assert await call("conversations.history", channel=triage, cursor="bogus") == {
        "ok": False,
        "error": "invalid_cursor",
    }


async def test_history_wants_a_channel_id_not_a_name(call: Any) -> None:
    answer = await call("conversations.history", channel="triage")
    assert answer == {"ok": False, "error": "channel_not_found"}


async def test_metadata_is_shown_only_when_asked(call: Any, seed: SeedData) -> None:
    meta = '{"event_type": "x", "event_payload": {"k": 1}}'
    await call("chat.postMessage", channel="triage", text="hi", metadata=meta)
    triage = seed.slack_channel_ids["triage"]
    plain = await call("conversations.history", channel=triage)
    full = await call("conversations.history", channel=triage, include_all_metadata="true")
    assert "metadata" not in plain["messages"][0]
    assert full["messages"][0]["metadata"] == {"event_type": "x", "event_payload": {"k": 1}}


async def test_json_bodies_count_only_for_write_methods(sandbox: Sandbox, seed: SeedData) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with http_client(base_url=sandbox.urls["slack"]) as http:
        posted = (
            await http.post(
                "chat.postMessage", json={"channel": "triage", "text": "x"}, headers=auth
            )
        ).json()
        read = (
            await http.post("conversations.info", json={"channel": posted["channel"]}, headers=auth)
        ).json()
    assert posted["ok"] and posted["warning"] == "missing_charset"
    assert read["error"] == "invalid_arguments"
    assert read["response_metadata"]["messages"] == ["[ERROR] missing required field: channel"]


async def test_unknown_methods_and_missing_arguments(call: Any, seed: SeedData) -> None:
    assert (await call("chat.teleport"))["error"] == "unknown_method"
    missing = await call("chat.update", channel=seed.slack_channel_ids["triage"], text="x")
    assert missing["error"] == "invalid_arguments"
    assert missing["response_metadata"]["messages"] == ["[ERROR] missing required field: ts"]


async def test_the_rate_limit_answer_has_slacks_shape(sandbox: Sandbox, call: Any) -> None:
    sandbox.add_faults([Fault(service="slack", kind="rate_limit", retry_after=2.5, times=1)])
    async with http_client(base_url=sandbox.urls["slack"]) as http:
        answer = await http.post("auth.test", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
    assert answer.json() == {"ok": False, "error": "ratelimited"}


async def test_the_snapshot_is_the_conversation(
    call: Any, emulator: SlackEmulator, seed: SeedData
) -> None:
    alert = await call("chat.postMessage", channel="#eng-oncall", text="run 3 failed")
    person = seed.people[2]
    emulator.post_as_person(
        person.slack_user_id, alert["channel"], "looking", thread_ts=alert["ts"]
    )
    await call("chat.update", channel=alert["channel"], ts=alert["ts"], text="run 3 failed (fixed)")
    snapshot = emulator.snapshot()
    assert {c["name"] for c in snapshot["channels"]} == set(seed.slack_channel_ids)
    assert {u["profile"].get("email") for u in snapshot["users"]} >= {p.email for p in seed.people}
    transcript = [
        (m["channel_name"], m["user_name"], m["text"], m.get("thread_ts"), bool(m.get("edited")))
        for m in snapshot["messages"]
    ]
    assert transcript == [
        ("eng-oncall", "steptrace", "run 3 failed (fixed)", alert["ts"], True),
        ("eng-oncall", person.key, "looking", alert["ts"], False),
    ]
    stamps = [Decimal(m["ts"]) for m in snapshot["messages"]]
    assert stamps == sorted(stamps)


async def test_users_list_pages(call: Any, seed: SeedData) -> None:
    first = await call("users.list", limit=4)
    second = await call("users.list", limit=100, cursor=first["response_metadata"]["next_cursor"])
    ids = [u["id"] for u in first["members"] + second["members"]]
    assert len(ids) == len(seed.people) + 1 and second["response_metadata"]["next_cursor"] == ""
