"""The happy path of every SlackClient operation, over real HTTP against the sandbox."""

from __future__ import annotations

from decimal import Decimal

from connectors.sandbox.seed import SLACK_BOT_USER_ID, SLACK_TEAM_ID, SeedData
from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from connectors.slack.emulator import SlackEmulator
from connectors.slack.models import MessageMetadata
from tests.connectors.slack.support import messages


async def test_auth_test_names_the_bot(slack: SlackClient) -> None:
    info = await slack.auth_test()
    assert (info.user_id, info.team_id, info.user) == (
        SLACK_BOT_USER_ID,
        SLACK_TEAM_ID,
        "steptrace",
    )


async def test_post_by_name_and_by_id_land_in_the_same_channel(
    slack: SlackClient, seed: SeedData, sandbox: Sandbox
) -> None:
    triage = seed.slack_channel_ids["triage"]
    by_hash = await slack.post_message("#triage", "one")
    by_name = await slack.post_message("triage", "two")
    by_id = await slack.post_message(triage, "three")
    assert {by_hash.channel, by_name.channel, by_id.channel} == {triage}
    stamps = [Decimal(r.ts) for r in (by_hash, by_name, by_id)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert [m["text"] for m in messages(sandbox, triage)] == ["one", "two", "three"]


async def test_post_with_blocks_metadata_and_thread(slack: SlackClient, sandbox: Sandbox) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*ENG-101* is urgent"}}]
    meta = MessageMetadata(event_type="triage_alert", event_payload={"issue": "ENG-101"})
    parent = await slack.post_message("incidents", "ENG-101", blocks=blocks, metadata=meta)
    assert parent.message is not None
    assert parent.message.blocks == blocks and parent.message.metadata == meta
    reply = await slack.post_message(
        "incidents", "on it", thread_ts=parent.ts, reply_broadcast=True, unfurl_links=False
    )
    assert reply.message is not None and reply.message.thread_ts == parent.ts
    stored = messages(sandbox)
    assert stored[1]["thread_ts"] == parent.ts and stored[1]["subtype"] == "thread_broadcast"


async def test_replies_follow_every_page_parent_first(
    slack: SlackClient, emulator: SlackEmulator, seed: SeedData
) -> None:
    parent = await slack.post_message("eng-oncall", "pager: checkout is down")
    person = seed.people[0].slack_user_id
    for n in range(230):  # more than one page of 200
        emulator.post_as_person(person, "eng-oncall", f"update {n}", thread_ts=parent.ts)
    thread = await slack.replies("eng-oncall", parent.ts)
    assert thread[0].ts == parent.ts
    assert [m.text for m in thread[1:]] == [f"update {n}" for n in range(230)]
    assert thread[0].reply_count == 230


async def test_history_is_newest_first_and_honours_oldest_and_limit(slack: SlackClient) -> None:
    posted = [await slack.post_message("ops-alerts", f"alert {n}") for n in range(5)]
    everything = await slack.history("ops-alerts")
    assert [m.text for m in everything] == [f"alert {n}" for n in reversed(range(5))]
    newer = await slack.history("ops-alerts", oldest=posted[2].ts)
    assert [m.text for m in newer] == ["alert 4", "alert 3"]
    assert [m.text for m in await slack.history("ops-alerts", limit=2)] == ["alert 4", "alert 3"]


async def test_channels_users_and_permalinks(slack: SlackClient, seed: SeedData) -> None:
    channels = await slack.list_channels()
    assert {c.name: c.id for c in channels} == seed.slack_channel_ids
    found = await slack.find_channel("#ops-alerts")
    assert found.id == seed.slack_channel_ids["ops-alerts"] and found.is_member
    assert (await slack.channel_info(found.id)).name == "ops-alerts"
    person = seed.people[3]
    user = await slack.lookup_user_by_email(person.email)
    assert (user.id, user.email, user.real_name) == (
        person.slack_user_id,
        person.email,
        person.name,
    )
    assert (await slack.user_info(person.slack_user_id)).profile.display_name == person.display_name
    everyone = await slack.list_users()
    assert {u.id for u in everyone} >= {p.slack_user_id for p in seed.people} | {SLACK_BOT_USER_ID}
    posted = await slack.post_message("triage", "link me")
    link = await slack.get_permalink("triage", posted.ts)
    assert link.endswith(f"/archives/{posted.channel}/p{posted.ts.replace('.', '')}")


async def test_get_message_finds_replies_too(slack: SlackClient) -> None:
    parent = await slack.post_message("triage", "parent")
    reply = await slack.post_message("triage", "child", thread_ts=parent.ts)
    assert (await slack.get_message("triage", reply.ts)).text == "child"
    assert (await slack.get_message("triage", parent.ts)).text == "parent"


async def test_post_ephemeral_is_not_stored_in_the_channel(
    slack: SlackClient, seed: SeedData, sandbox: Sandbox
) -> None:
    person = seed.people[1].slack_user_id
    result = await slack.post_ephemeral("triage", person, "only you can see this")
    assert result.write.after is not None and result.write.after["text"] == "only you can see this"
    assert result.write.before is None and result.write.action == "created"
    assert messages(sandbox) == []
    assert sandbox.state("slack")["ephemeral"][0]["user"] == person
