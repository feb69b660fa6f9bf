"""The emulator serves Linear's whole schema: defaults, filters, ordering, the new objects.

Driven over real HTTP with raw GraphQL, so these run without Node; the official SDK's
view of the same behaviour is in ``tests/connectors/conformance``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.sandbox.server import Sandbox
from tests.connectors.linear.helpers import TOKEN, fault


async def _data(
    http: httpx.AsyncClient, sandbox: Sandbox, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = await _body(http, sandbox, query, variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _body(
    http: httpx.AsyncClient, sandbox: Sandbox, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await http.post(
        sandbox.urls["linear"] + "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": TOKEN},
    )
    body: dict[str, Any] = response.json()
    body["status"] = response.status_code
    return body


async def test_unmodelled_fields_resolve_to_empty_defaults(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    data = await _data(
        http,
        sandbox,
        """{ issue(id: "ENG-101") { identifier sortOrder slaType canceledAt trashed
             children { nodes { id } pageInfo { hasNextPage } } subscribers { nodes { id } }
             reactionData botActor { id } } }""",
    )
    issue = data["issue"]
    assert issue["identifier"] == "ENG-101"
    assert (issue["sortOrder"], issue["slaType"], issue["canceledAt"]) == (0.0, None, None)
    assert issue["children"] == {"nodes": [], "pageInfo": {"hasNextPage": False}}
    assert issue["subscribers"]["nodes"] == []
    assert issue["reactionData"] == {}
    assert issue["botActor"] is None


async def test_an_unmodelled_non_null_object_is_a_stable_stub(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    query = "{ organization { name urlKey subscription { id } } viewer { organization { id } } }"
    first = await _data(http, sandbox, query)
    second = await _data(http, sandbox, query)
    assert first == second
    assert first["organization"]["urlKey"] == "steptrace"


async def test_an_unmodelled_mutation_is_refused_not_faked(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    body = await _body(http, sandbox, 'mutation { cycleArchive(id: "x") { success } }')
    error = body["errors"][0]
    assert "does not emulate the mutation 'cycleArchive'" in error["message"]
    assert error["extensions"]["type"] == "invalid input"


@pytest.mark.parametrize(
    ("issue_filter", "check"),
    [
        ({"labels": {"some": {"name": {"eq": "bug"}}}}, lambda i: "bug" in i["names"]),
        ({"labels": {"every": {"name": {"eq": "bug"}}}}, lambda i: set(i["names"]) <= {"bug"}),
        ({"assignee": {"null": True}}, lambda i: i["assignee"] is None),
        ({"dueDate": {"lt": "2100-01-01", "null": False}}, lambda i: i["dueDate"] is not None),
        ({"priority": {"in": [1, 2]}}, lambda i: i["priority"] in (1.0, 2.0)),
        ({"title": {"containsIgnoreCase": "WEBHOOK"}}, lambda i: "webhook" in i["title"].lower()),
        (
            {"or": [{"priority": {"eq": 1}}, {"state": {"type": {"eq": "started"}}}]},
            lambda i: i["priority"] == 1 or i["state"]["type"] == "started",
        ),
    ],
)
async def test_issue_filters(
    sandbox: Sandbox, http: httpx.AsyncClient, issue_filter: dict[str, Any], check: Any
) -> None:
    query = """query($f: IssueFilter) { issues(first: 100, filter: $f) { nodes {
        title priority dueDate assignee { id } state { type }
        labels(first: 10) { nodes { name } } } } }"""
    everything = (await _data(http, sandbox, query))["issues"]["nodes"]
    kept = (await _data(http, sandbox, query, {"f": issue_filter}))["issues"]["nodes"]
    for issue in [*everything, *kept]:
        issue["names"] = [label["name"] for label in issue["labels"]["nodes"]]
    assert kept == [i for i in everything if check(i)]
    assert 0 < len(kept) < len(everything)


async def test_order_by_and_backward_pagination(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    await _data(
        http, sandbox, 'mutation { issueUpdate(id: "ENG-101", input: {title: "x"}) { success } }'
    )
    query = """query($o: PaginationOrderBy, $f: Int, $l: Int, $b: String) {
        issues(orderBy: $o, first: $f, last: $l, before: $b) { nodes { identifier updatedAt }
        pageInfo { hasPreviousPage startCursor } } }"""
    by_update = (await _data(http, sandbox, query, {"o": "updatedAt", "f": 100}))["issues"]["nodes"]
    assert by_update[-1]["identifier"] == "ENG-101"  # the one just touched
    last_two = (await _data(http, sandbox, query, {"o": "updatedAt", "l": 2}))["issues"]
    assert [n["identifier"] for n in last_two["nodes"]] == [n["identifier"] for n in by_update[-2:]]
    assert last_two["pageInfo"]["hasPreviousPage"]


async def test_comments_archive_and_webhooks(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    comment = await _data(
        http,
        sandbox,
        'mutation { commentCreate(input: {issueId: "ENG-101", body: "seen"}) '
        "{ success comment { id body user { id } issue { identifier } } } }",
    )
    assert comment["commentCreate"]["comment"]["issue"]["identifier"] == "ENG-101"
    await _data(http, sandbox, 'mutation { issueArchive(id: "ENG-101") { success } }')
    listed = await _data(http, sandbox, "{ issues(first: 250) { nodes { identifier } } }")
    assert "ENG-101" not in {n["identifier"] for n in listed["issues"]["nodes"]}
    archived = await _data(
        http, sandbox, '{ issue(id: "ENG-101") { archivedAt comments { nodes { body } } } }'
    )
    assert archived["issue"]["archivedAt"] is not None
    assert archived["issue"]["comments"]["nodes"] == [{"body": "seen"}]

    hook = await _data(
        http,
        sandbox,
        'mutation { webhookCreate(input: {url: "https://example.test/h", allPublicTeams: true,'
        ' resourceTypes: ["Issue"]}) { webhook { id enabled resourceTypes } } }',
    )
    hook_id = hook["webhookCreate"]["webhook"]["id"]
    assert hook["webhookCreate"]["webhook"]["enabled"] is True
    await _data(http, sandbox, f'mutation {{ webhookDelete(id: "{hook_id}") {{ success }} }}')
    assert (await _data(http, sandbox, "{ webhooks { nodes { id } } }"))["webhooks"]["nodes"] == []


async def test_a_bad_webhook_url_is_invalid_input(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    body = await _body(
        http,
        sandbox,
        'mutation { webhookCreate(input: {url: "not a url", allPublicTeams: true,'
        ' resourceTypes: ["Issue"]}) { success } }',
    )
    assert body["errors"][0]["extensions"]["validationErrors"][0]["property"] == "url"


async def test_a_query_above_the_ceiling_is_refused(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    body = await _body(
        http,
        sandbox,
        "{ issues(first: 250) { nodes { labels { nodes { id } } comments { nodes { id } } } } }",
    )
    assert body["status"] == 400
    error = body["errors"][0]
    assert error["message"] == "Query too complex"
    assert error["extensions"]["code"] == "INPUT_ERROR"
    assert "Maximum allowed complexity: 10000." in error["extensions"]["userPresentableMessage"]


async def test_nested_issue_lists_show_the_requests_faults(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    sandbox.add_faults([fault("rename_field", target="title", to="name")])
    data = await _data(
        http,
        sandbox,
        '{ team(id: "ENG") { issues(first: 3, filter: {title: {startsWith: ""}}) '
        "{ nodes { name } } } }",
    )
    names = [n["name"] for n in data["team"]["issues"]["nodes"]]
    assert len(names) == 3
    assert all(names)  # the stored titles, under the renamed field


async def test_comments_filter_by_issue(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    for issue in ("ENG-101", "ENG-102"):
        await _data(
            http,
            sandbox,
            f'mutation {{ commentCreate(input: {{issueId: "{issue}", body: "on {issue}"}}) '
            "{ success } }",
        )
    data = await _data(
        http,
        sandbox,
        "{ comments(filter: {issue: {number: {eq: 102}}}) { nodes { body } } }",
    )
    assert data["comments"]["nodes"] == [{"body": "on ENG-102"}]


async def test_sort_by_priority_puts_no_priority_last(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    query = (
        """query($s: [IssueSortInput!]) { issues(first: 100, sort: $s) { nodes { priority } } }"""
    )
    rising = await _data(http, sandbox, query, {"s": [{"priority": {"order": "Ascending"}}]})
    falling = await _data(http, sandbox, query, {"s": [{"priority": {"order": "Descending"}}]})
    up = [n["priority"] for n in rising["issues"]["nodes"]]
    down = [n["priority"] for n in falling["issues"]["nodes"]]
    ranked = [p for p in up if p]
    assert ranked == sorted(ranked) and up[len(ranked) :] == [0.0] * (len(up) - len(ranked))
    assert [p for p in down if p] == sorted(ranked, reverse=True)
    assert 0.0 in up and len(set(ranked)) > 1


async def test_an_unmodelled_root_query_by_id_answers_that_stub(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    data = await _data(http, sandbox, '{ cycle(id: "c-1") { id number issues { nodes { id } } } }')
    assert data["cycle"] == {"id": "c-1", "number": 0.0, "issues": {"nodes": []}}


async def test_an_input_field_the_sandbox_does_not_store_is_refused(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    body = await _body(
        http,
        sandbox,
        'mutation { issueUpdate(id: "ENG-101", input: {parentId: "ENG-102"}) { success } }',
    )
    error = body["errors"][0]
    assert error["extensions"]["validationErrors"][0]["property"] == "parentId"
    assert (
        "does not store IssueUpdateInput.parentId" in error["extensions"]["userPresentableMessage"]
    )
