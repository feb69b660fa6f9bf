"""Reads over real HTTP against the sandbox: issues, pages, users, states, labels.

Nothing here writes or injects faults, so the module shares one sandbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from connectors.linear import LinearClient
from connectors.sandbox.seed import ISSUE_COUNT, PRIORITY_LABELS
from connectors.sandbox.server import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, services=["linear"]) as running:
        yield running


async def test_get_issue_by_identifier_maps_every_field(
    client: LinearClient, sandbox: Sandbox
) -> None:
    seeded = sandbox.data.issue("ENG-101")
    issue = await client.get_issue("ENG-101")
    assert issue.id == seeded.id
    assert (issue.identifier, issue.number, issue.title) == ("ENG-101", 101, seeded.title)
    assert issue.description == seeded.description
    assert issue.priority == seeded.priority
    assert issue.priority_label == PRIORITY_LABELS[seeded.priority]
    assert issue.due_date == seeded.due_date
    assert issue.state.name == seeded.state
    assert issue.labels == seeded.labels
    assert issue.team_key == "ENG"
    assert issue.created_at == seeded.created_at
    assert issue.url.startswith("https://linear.app/steptrace/issue/ENG-101/")
    if seeded.assignee:
        assert issue.assignee is not None
        assert issue.assignee.email == sandbox.data.person(seeded.assignee).email


async def test_get_issue_by_uuid_and_lowercase_identifier(
    client: LinearClient, sandbox: Sandbox
) -> None:
    seeded = sandbox.data.issue("ENG-133")
    assert (await client.get_issue(seeded.id)).identifier == "ENG-133"
    assert (await client.get_issue("eng-133")).id == seeded.id


async def test_seeded_gaps_come_back_as_none(client: LinearClient, sandbox: Sandbox) -> None:
    no_due = next(i for i in sandbox.data.issues if i.due_date is None)
    unassigned = next(i for i in sandbox.data.issues if i.assignee is None)
    assert (await client.get_issue(no_due.identifier)).due_date is None
    assert (await client.get_issue(unassigned.identifier)).assignee is None


async def test_list_issues_pages_with_cursor(client: LinearClient) -> None:
    first = await client.list_issues(team_key="ENG", first=25)
    assert len(first.issues) == 25
    assert first.has_next_page
    second = await client.list_issues(team_key="ENG", first=25, after=first.end_cursor)
    assert second.issues[0].number == first.issues[-1].number + 1


async def test_list_issues_defaults_to_fifty_like_linear(client: LinearClient) -> None:
    page = await client.list_issues()
    assert len(page.issues) == 50
    assert page.has_next_page


async def test_iter_issues_walks_every_page(client: LinearClient) -> None:
    seen = [issue.identifier async for issue in client.iter_issues("ENG", page_size=16)]
    assert len(seen) == ISSUE_COUNT
    assert seen[0] == "ENG-101"
    assert seen[-1] == f"ENG-{100 + ISSUE_COUNT}"


async def test_list_issues_of_another_team_is_empty(client: LinearClient) -> None:
    page = await client.list_issues(team_key="OPS")
    assert page.issues == ()
    assert not page.has_next_page


async def test_lists_for_name_resolution(client: LinearClient, sandbox: Sandbox) -> None:
    users = await client.list_users()
    assert {u.email for u in users} == {p.email for p in sandbox.data.people}
    states = await client.list_workflow_states("ENG")
    assert [s.name for s in states][:3] == ["Triage", "Backlog", "Todo"]
    assert {s.type for s in states} >= {"triage", "started", "completed", "canceled"}
    labels = await client.list_labels()
    assert "bug" in {label.name for label in labels}
    assert [t.key for t in await client.list_teams()] == ["ENG"]


async def test_oauth_bearer_token_is_accepted(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    oauth = LinearClient(http, base_url=sandbox.urls["linear"], token="Bearer lin_oauth_abc")
    assert (await oauth.get_issue("ENG-102")).identifier == "ENG-102"


async def test_every_response_carries_rate_limit_headers(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    query = {"query": "{ issues(first: 10) { nodes { id title } } }"}
    url = sandbox.urls["linear"] + "/graphql"
    response = await http.post(url, json=query, headers={"Authorization": "k"})
    assert response.status_code == 200
    for name in ("requests", "complexity"):
        for part in ("limit", "remaining", "reset"):
            assert response.headers[f"x-ratelimit-{name}-{part}"].isdigit()
    assert int(response.headers["x-complexity"]) == 22  # 10 nodes × (1 + 1 + 2 × 0.1)
    reset_ms = int(response.headers["x-ratelimit-requests-reset"])
    assert reset_ms / 1000 >= dt.datetime.now(dt.UTC).timestamp() - 1


async def test_journal_names_operations_by_root_field(
    client: LinearClient, sandbox: Sandbox
) -> None:
    await client.get_issue("ENG-101")
    await client.list_issues(first=1)
    assert [e.operation for e in sandbox.journal.list("linear")[-2:]] == ["issue", "issues"]
