"""Writes: create, update, idempotent upsert, and their before/after images."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from connectors.errors import ConnectorTimeoutError, InvalidValueError, NotFoundError
from connectors.linear import IssueCreate, IssueUpdate, LinearClient
from connectors.sandbox.seed import ISSUE_COUNT, generate
from connectors.sandbox.server import Sandbox
from tests.connectors.linear.helpers import fault, stored_issues

FIRST_PERSON = generate(7).people[0].email
NEW = IssueCreate(
    title="Webhook retries pile up",
    description="Seen in the 😅 dashboard",
    priority=2,
    due_date=dt.date(2026, 12, 1),
    state="Todo",
    assignee_email=FIRST_PERSON,
    labels=("bug", "infra"),
)


async def test_create_issue_reports_a_created_write(client: LinearClient, sandbox: Sandbox) -> None:
    result = await client.create_issue(NEW)
    issue = result.issue
    assert issue.identifier == f"ENG-{101 + ISSUE_COUNT}"
    assert (issue.title, issue.priority, issue.priority_label) == (NEW.title, 2, "High")
    assert issue.due_date == dt.date(2026, 12, 1)
    assert issue.state.name == "Todo"
    assert issue.assignee is not None
    assert issue.assignee.email == FIRST_PERSON
    assert issue.labels == ("bug", "infra")
    write = result.write
    assert (write.tool, write.kind, write.container, write.action) == (
        "linear",
        "issue",
        "ENG",
        "created",
    )
    assert write.before is None
    assert write.after is not None
    assert write.after["identifier"] == issue.identifier
    assert len(stored_issues(sandbox)) == ISSUE_COUNT + 1


async def test_create_with_only_a_title_takes_linear_defaults(client: LinearClient) -> None:
    issue = (await client.create_issue(IssueCreate(title="Bare"))).issue
    assert (issue.priority, issue.state.name, issue.assignee, issue.labels) == (
        0,
        "Triage",
        None,
        (),
    )


async def test_update_issue_images_hold_old_and_new_values(client: LinearClient) -> None:
    old = await client.get_issue("ENG-104")
    new_priority = 1 if old.priority != 1 else 4
    changes = IssueUpdate(priority=new_priority, state="Done", due_date=None)
    result = await client.update_issue("ENG-104", changes)
    write = result.write
    assert write.action == "updated"
    assert write.object_id == old.id
    assert write.before is not None
    assert write.after is not None
    assert write.before["priority"] == old.priority
    assert write.after["priority"] == new_priority
    assert write.after["state"]["name"] == "Done"
    assert write.after["dueDate"] is None
    assert result.issue.updated_at > old.updated_at


async def test_update_with_nothing_new_is_unchanged(client: LinearClient) -> None:
    old = await client.get_issue("ENG-105")
    result = await client.update_issue("ENG-105", IssueUpdate(title=old.title))
    assert result.write.action == "unchanged"
    assert result.write.before == result.write.after
    assert result.issue.updated_at == old.updated_at


async def test_update_missing_issue_is_not_found(client: LinearClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.update_issue("ENG-999", IssueUpdate(title="x"))
    assert caught.value.code == "INPUT_ERROR"
    assert caught.value.operation == "update_issue"


async def test_upsert_twice_leaves_one_issue(client: LinearClient, sandbox: Sandbox) -> None:
    first = await client.upsert_issue("airtable:recA1", NEW)
    second = await client.upsert_issue("airtable:recA1", NEW)
    assert first.write.action == "created"
    assert second.write.action == "unchanged"
    assert first.issue.id == second.issue.id == LinearClient.issue_id_for("airtable:recA1")
    assert len(stored_issues(sandbox)) == ISSUE_COUNT + 1


async def test_upsert_updates_only_what_differs(client: LinearClient) -> None:
    await client.upsert_issue("k-2", NEW)
    changed = NEW.model_copy(update={"priority": 4, "labels": ("infra", "bug")})
    result = await client.upsert_issue("k-2", changed)
    assert result.write.action == "updated"
    assert result.issue.priority == 4
    assert result.issue.labels == ("bug", "infra")


async def test_upsert_retried_after_a_timeout_does_not_duplicate(
    client: LinearClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("duplicate_on_timeout", operation="issueCreate", times=1)])
    with pytest.raises(ConnectorTimeoutError) as caught:
        await client.upsert_issue("monday:item-9", NEW)
    assert caught.value.status == 504
    assert caught.value.retryable
    retried = await client.upsert_issue("monday:item-9", NEW)
    assert retried.write.action == "unchanged"
    titles = [i["title"] for i in stored_issues(sandbox)]
    assert titles.count(NEW.title) == 1


async def test_tool_refuses_an_empty_title(client: LinearClient) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await client.create_issue(IssueCreate(title="   "))
    assert (caught.value.code, caught.value.field) == ("INVALID_INPUT", "title")


async def test_unknown_names_are_refused_before_sending(
    client: LinearClient, sandbox: Sandbox
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await client.create_issue(IssueCreate(title="x", state="Doing"))
    assert caught.value.field == "stateId"
    assert "In Progress" in caught.value.message
    with pytest.raises(InvalidValueError) as caught:
        await client.create_issue(IssueCreate(title="x", assignee_email="nobody@example.com"))
    assert caught.value.field == "assigneeId"
    assert not [e for e in sandbox.journal.list() if e.operation == "issueCreate"]


async def test_concurrent_upserts_of_one_key_make_one_issue(
    client: LinearClient, sandbox: Sandbox
) -> None:
    # Both read "not found" before either creates; the loser's create is refused
    # (id taken) and it falls back to reading and updating the winner's issue.
    results = await asyncio.gather(*(client.upsert_issue("race", NEW) for _ in range(2)))
    assert sorted(r.write.action for r in results) == ["created", "unchanged"]
    assert [i["title"] for i in stored_issues(sandbox)].count(NEW.title) == 1
    creates = [e.status for e in sandbox.journal.list() if e.operation == "issueCreate"]
    assert creates == [200, 200]  # the second one carried Linear's "id taken" error
