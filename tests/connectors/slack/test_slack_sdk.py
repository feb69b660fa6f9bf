"""The official slack_sdk WebClient, unmodified, works against the emulator.

If these pass, the emulator speaks Slack's wire format well enough for a real client:
JSON and GET-with-query calls, cursor pagination, the error envelope, and 429 handling.
"""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from connectors.sandbox.faults import Fault
from connectors.sandbox.seed import SeedData
from connectors.sandbox.server import Sandbox
from tests.connectors.slack.support import TOKEN


@pytest.fixture
def web(sandbox: Sandbox) -> WebClient:
    return WebClient(token=TOKEN, base_url=sandbox.urls["slack"])


def test_post_message_and_replies(web: WebClient, seed: SeedData) -> None:
    parent = web.chat_postMessage(
        channel="#triage",
        text="ENG-101 triaged",
        metadata={"event_type": "triage", "event_payload": {"issue": "ENG-101"}},
    )
    assert parent["ok"] and parent["channel"] == seed.slack_channel_ids["triage"]
    web.chat_postMessage(channel=parent["channel"], text="thanks", thread_ts=parent["ts"])
    thread = web.conversations_replies(channel=parent["channel"], ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["ENG-101 triaged", "thanks"]
    assert thread["messages"][0]["reply_count"] == 1


def test_conversations_list_pagination(web: WebClient, seed: SeedData) -> None:
    names = [c["name"] for page in web.conversations_list(limit=2) for c in page["channels"]]
    assert sorted(names) == sorted(seed.slack_channel_ids)


def test_users_lookup_by_email(web: WebClient, seed: SeedData) -> None:
    person = seed.people[5]
    user = web.users_lookupByEmail(email=person.email)["user"]
    assert (user["id"], user["real_name"]) == (person.slack_user_id, person.name)


def test_an_error_envelope_raises_slack_api_error(web: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        web.chat_postMessage(channel="#no-such-channel", text="hello")
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "channel_not_found"


def test_a_429_is_retried_by_the_rate_limit_handler(sandbox: Sandbox) -> None:
    sandbox.add_faults([Fault(service="slack", kind="rate_limit", retry_after=0, times=1)])
    seen = len(sandbox.journal.list("slack"))
    web = WebClient(
        token=TOKEN,
        base_url=sandbox.urls["slack"],
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert web.auth_test()["user_id"] == "U0STEPBOT"  # answered on the second try
    first = sandbox.journal.list("slack")[seen]
    assert (first.status, first.fault) == (429, "rate_limit")
