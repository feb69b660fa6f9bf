"""Every data fault, in Slack's vocabulary, as the client and the transcript see it."""

from __future__ import annotations

import pytest

from connectors.errors import ConflictError, InvalidValueError, NotFoundError, ValidationError
from connectors.sandbox.faults import Fault
from connectors.sandbox.seed import SeedData
from connectors.sandbox.server import Sandbox, SandboxError
from connectors.slack.client import SlackClient
from tests.connectors.slack.support import messages


def _fault(**fields: object) -> Fault:
    return Fault.model_validate({"service": "slack", **fields})


async def test_a_renamed_channel_from_run_two(
    slack: SlackClient, sandbox: Sandbox, seed: SeedData
) -> None:
    sandbox.add_faults([_fault(kind="rename_field", target="triage", to="triage-old", from_run=2)])
    assert (await slack.post_message("#triage", "run 1")).write.action == "created"
    sandbox.begin_run(2)
    with pytest.raises(NotFoundError) as caught:
        await slack.post_message("#triage", "run 2")
    assert (caught.value.code, caught.value.field) == ("channel_not_found", "channel")
    triage = seed.slack_channel_ids["triage"]
    assert (await slack.post_message(triage, "run 2 by id")).channel == triage
    assert (await slack.find_channel("triage-old")).id == triage
    assert [m["channel_name"] for m in messages(sandbox)] == ["triage-old", "triage-old"]


async def test_an_archived_channel_refuses_writes_but_serves_reads(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    posted = await slack.post_message("incidents", "before archiving")
    sandbox.add_faults([_fault(kind="drop_field", target="#incidents")])
    with pytest.raises(InvalidValueError) as caught:
        await slack.post_message("incidents", "after archiving")
    assert (caught.value.code, caught.value.field) == ("is_archived", "channel")
    with pytest.raises(InvalidValueError):
        await slack.update_message("incidents", posted.ts, text="edited")
    assert [m.text for m in await slack.history("incidents")] == ["before archiving"]
    assert (await slack.find_channel("incidents")).is_archived
    names = {c.name for c in await slack.list_channels(exclude_archived=True)}
    assert "incidents" not in names and "triage" in names


async def test_a_channel_made_private_disappears_for_the_bot(
    slack: SlackClient, sandbox: Sandbox, seed: SeedData
) -> None:
    sandbox.add_faults([_fault(kind="change_type", target="ops-alerts", to="private")])
    ops = seed.slack_channel_ids["ops-alerts"]
    for channel in ("ops-alerts", ops):
        with pytest.raises(NotFoundError) as caught:
            await slack.post_message(channel, "alert")
        assert caught.value.code == "channel_not_found"
    with pytest.raises(NotFoundError):
        await slack.channel_info(ops)
    assert "ops-alerts" not in {c.name for c in await slack.list_channels()}


async def test_a_deactivated_person_is_not_found_by_email(
    slack: SlackClient, sandbox: Sandbox, seed: SeedData
) -> None:
    person = seed.people[4]
    assert (await slack.lookup_user_by_email(person.email)).id == person.slack_user_id
    sandbox.add_faults([_fault(kind="remove_option", target="users", value=person.email)])
    with pytest.raises(NotFoundError) as caught:
        await slack.lookup_user_by_email(person.email)
    assert caught.value.code == "users_not_found"
    assert (await slack.user_info(person.slack_user_id)).deleted


async def test_corrupted_text_is_stored_silently(slack: SlackClient, sandbox: Sandbox) -> None:
    sandbox.add_faults([_fault(kind="corrupt_value", target="triage", times=2)])
    unicode = await slack.post_message("triage", "Zoë in Zürich 😅")
    ascii_only = await slack.post_message("triage", "all good here")
    clean = await slack.post_message("triage", "Zoë again")
    elsewhere = await slack.post_message("incidents", "Zoë elsewhere")
    assert unicode.write.after is not None
    assert unicode.write.after["text"] == "Zoë in Zürich 😅".encode().decode("latin-1")
    assert ascii_only.message is not None and ascii_only.message.text.endswith("\ufffd")
    assert clean.message is not None and clean.message.text == "Zoë again"
    assert elsewhere.message is not None and elsewhere.message.text == "Zoë elsewhere"


async def test_corrupt_value_with_a_value_stores_that_value(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([_fault(kind="corrupt_value", target="triage", value="???")])
    await slack.post_message("triage", "ENG-110 is urgent")
    assert [m["text"] for m in messages(sandbox)] == ["???"]


async def test_a_person_edits_before_our_update_lands(
    slack: SlackClient, sandbox: Sandbox, seed: SeedData
) -> None:
    posted = await slack.post_message("triage", "status: open")
    sandbox.add_faults([_fault(kind="concurrent_edit", target="triage", value="status: mine")])
    result = await slack.update_message("triage", posted.ts, text="status: fixed")
    assert result.write.before is not None and result.write.before["text"] == "status: open"
    stored = messages(sandbox)[0]
    assert stored["text"] == "status: fixed"  # we overwrote a newer edit, as Slack lets us
    assert [(e["user"], e["text"]) for e in stored["edits"]] == [
        (seed.people[0].slack_user_id, "status: mine"),
        ("U0STEPBOT", "status: fixed"),
    ]


async def test_a_person_edits_after_our_update_lands(slack: SlackClient, sandbox: Sandbox) -> None:
    posted = await slack.post_message("triage", "status: open")
    sandbox.add_faults(
        [_fault(kind="concurrent_edit", target="triage", value="reopened", when="after_write")]
    )
    result = await slack.update_message("triage", posted.ts, text="status: fixed")
    assert result.write.after is not None and result.write.after["text"] == "status: fixed"
    assert (await slack.get_message("triage", posted.ts)).text == "reopened"


async def test_a_message_deleted_under_our_update_is_a_conflict(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    posted = await slack.post_message("triage", "status: open")
    sandbox.add_faults([_fault(kind="concurrent_edit", target="triage", value=None, times=1)])
    with pytest.raises(ConflictError) as caught:
        await slack.update_message("triage", posted.ts, text="status: fixed")
    assert (caught.value.code, caught.value.field) == ("message_not_found", "ts")
    assert messages(sandbox) == []


def test_a_fault_naming_an_unknown_channel_fails_at_start() -> None:
    bad = _fault(kind="rename_field", target="general", to="x")
    with pytest.raises(SandboxError, match="channels: eng-oncall, incidents, ops-alerts, triage"):
        Sandbox(services=["slack"], faults=[bad]).start()


def test_a_fault_naming_an_unknown_person_fails_at_start() -> None:
    bad = _fault(kind="remove_option", target="users", value="ghost@example.com")
    with pytest.raises(SandboxError, match=r"ghost@example\.com"):
        Sandbox(services=["slack"], faults=[bad]).start()


async def test_a_bad_fault_added_later_is_answered_with_a_clear_error(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([_fault(kind="change_type", target="triage", to="text")])
    with pytest.raises(ValidationError) as caught:
        await slack.post_message("triage", "hello")
    assert caught.value.code == "invalid_sandbox_fault" and caught.value.status == 400
