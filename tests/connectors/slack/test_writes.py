"""Every write reports its before/after images, and repeating a write changes nothing."""

from __future__ import annotations

import pytest

from connectors.errors import ConnectorTimeoutError
from connectors.sandbox.faults import Fault
from connectors.sandbox.seed import SeedData
from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from connectors.slack.emulator import SlackEmulator
from tests.connectors.slack.support import messages


async def test_post_reports_no_before_and_the_message_after(slack: SlackClient) -> None:
    result = await slack.post_message("triage", "ENG-101 needs an owner")
    write = result.write
    assert (write.tool, write.kind, write.action) == ("slack", "message", "created")
    assert write.container == result.channel and write.object_id == result.ts
    assert write.before is None
    assert write.after is not None and write.after["text"] == "ENG-101 needs an owner"


async def test_update_reports_both_images_and_a_repeat_is_unchanged(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    posted = await slack.post_message("triage", "status: open")
    updated = await slack.update_message("triage", posted.ts, text="status: fixed")
    assert updated.write.action == "updated"
    assert updated.write.before is not None and updated.write.before["text"] == "status: open"
    assert updated.write.after is not None and updated.write.after["text"] == "status: fixed"
    assert updated.message is not None and updated.message.edited is not None
    again = await slack.update_message("triage", posted.ts, text="status: fixed")
    assert again.write.action == "unchanged" and again.write.before == again.write.after
    assert [m["text"] for m in messages(sandbox)] == ["status: fixed"]


async def test_delete_reports_the_before_image_and_a_repeat_is_unchanged(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    posted = await slack.post_message("triage", "temporary")
    deleted = await slack.delete_message("triage", posted.ts)
    assert deleted.write.action == "deleted" and deleted.message is None
    assert deleted.write.before is not None and deleted.write.before["text"] == "temporary"
    assert deleted.write.after is None
    again = await slack.delete_message("triage", posted.ts)
    assert again.write.action == "unchanged"
    assert messages(sandbox) == []
    assert sandbox.state("slack")["messages"][0]["deleted"] is True


async def test_posting_twice_with_one_key_leaves_one_message(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    first = await slack.post_message(
        "#incidents", "ENG-102 escalated", idempotency_key="run-1:alert"
    )
    second = await slack.post_message(
        "#incidents", "ENG-102 escalated", idempotency_key="run-1:alert"
    )
    other = await slack.post_message(
        "#incidents", "ENG-102 escalated", idempotency_key="run-2:alert"
    )
    assert first.write.action == "created" and second.write.action == "unchanged"
    assert second.ts == first.ts and second.write.before == second.write.after
    assert second.message is not None and second.message.idempotency_key == "run-1:alert"
    assert other.ts != first.ts
    stored = messages(sandbox)
    assert len(stored) == 2
    assert stored[0]["metadata"]["event_type"] == "steptrace_post"
    assert stored[0]["metadata"]["event_payload"]["idempotency_key"] == "run-1:alert"


async def test_thread_replies_are_idempotent_too(slack: SlackClient, sandbox: Sandbox) -> None:
    parent = await slack.post_message("incidents", "incident")
    for _ in range(2):
        await slack.post_message(
            "incidents", "diagnosis", thread_ts=parent.ts, idempotency_key="run-1:why"
        )
    assert [m.text for m in await slack.replies("incidents", parent.ts)] == [
        "incident",
        "diagnosis",
    ]


async def test_retry_after_a_timed_out_post_that_landed_does_not_post_twice(
    slack: SlackClient, sandbox: Sandbox, seed: SeedData
) -> None:
    sandbox.add_faults(
        [Fault(service="slack", kind="duplicate_on_timeout", operation="chat.postMessage", times=1)]
    )
    with pytest.raises(ConnectorTimeoutError) as caught:
        await slack.post_message("triage", "ENG-103 synced", idempotency_key="run-1:sync")
    assert caught.value.status == 504 and caught.value.retryable
    retried = await slack.post_message("triage", "ENG-103 synced", idempotency_key="run-1:sync")
    assert retried.write.action == "unchanged"
    assert [m["text"] for m in messages(sandbox, seed.slack_channel_ids["triage"])] == [
        "ENG-103 synced"
    ]


async def test_retry_after_a_timed_out_update_is_unchanged(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    posted = await slack.post_message("triage", "v1")
    sandbox.add_faults(
        [Fault(service="slack", kind="duplicate_on_timeout", operation="chat.update", times=1)]
    )
    with pytest.raises(ConnectorTimeoutError):
        await slack.update_message("triage", posted.ts, text="v2")
    retried = await slack.update_message("triage", posted.ts, text="v2")
    assert retried.write.action == "unchanged"
    assert [m["text"] for m in messages(sandbox)] == ["v2"]


async def test_people_talking_in_a_thread_are_recorded(
    slack: SlackClient, emulator: SlackEmulator, seed: SeedData, sandbox: Sandbox
) -> None:
    alert = await slack.post_message("eng-oncall", "run 7 failed at upsert_airtable")
    ada = seed.people[0]
    emulator.post_as_person(
        ada.slack_user_id, "#eng-oncall", "why did this fail?", thread_ts=alert.ts
    )
    transcript = sandbox.state("slack")["messages"]
    assert [(m["user_name"], m["channel_name"], m["text"]) for m in transcript] == [
        ("steptrace", "eng-oncall", "run 7 failed at upsert_airtable"),
        (ada.key, "eng-oncall", "why did this fail?"),
    ]
    assert transcript[1]["thread_ts"] == alert.ts
    with pytest.raises(ValueError, match="channels: eng-oncall"):
        emulator.post_as_person(ada.slack_user_id, "#nope", "hello")
