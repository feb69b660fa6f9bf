"""Slack calls retried inside one attempt, against the sandbox's fault engine."""

from __future__ import annotations

import httpx

from connectors.retry import recording_retries
from connectors.sandbox.faults import Fault
from connectors.sandbox.seed import SeedData
from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from tests.connectors.slack.support import TOKEN, messages


def retrying_client(sandbox: Sandbox, http: httpx.AsyncClient) -> SlackClient:
    return SlackClient(http, base_url=sandbox.urls["slack"], token=TOKEN)


async def test_a_post_that_landed_behind_a_timeout_is_found_not_posted_twice(
    sandbox: Sandbox, http: httpx.AsyncClient, seed: SeedData
) -> None:
    slack = retrying_client(sandbox, http)
    sandbox.add_faults(
        [Fault(service="slack", kind="duplicate_on_timeout", operation="chat.postMessage", times=1)]
    )
    with recording_retries() as log:
        posted = await slack.post_message("triage", "ENG-103 synced", idempotency_key="run-1:sync")

    assert posted.write.action == "created"  # a known write, not a hidden one
    assert [(r.operation, r.reconciled) for r in log] == [("post_message", True)]
    texts = [m["text"] for m in messages(sandbox, seed.slack_channel_ids["triage"])]
    assert texts == ["ENG-103 synced"]


async def test_reads_absorb_server_errors(
    sandbox: Sandbox, http: httpx.AsyncClient, seed: SeedData
) -> None:
    slack = retrying_client(sandbox, http)
    person = seed.people[0]
    sandbox.add_faults([Fault(service="slack", kind="http_error", status=503, times=2)])
    with recording_retries() as log:
        user = await slack.lookup_user_by_email(person.email)
    assert user.id
    assert [r.error_class for r in log] == ["TransientError", "TransientError"]
