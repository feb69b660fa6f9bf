"""The emulator's wire format, checked with raw HTTP (what a non-steptrace client sees)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.errors import UnknownFieldError
from connectors.linear import queries
from connectors.linear.error_map import data_or_raise
from connectors.sandbox.server import Sandbox
from tests.connectors.linear.helpers import TOKEN, fault


async def _post(
    http: httpx.AsyncClient,
    sandbox: Sandbox,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = TOKEN,
) -> httpx.Response:
    headers = {"Authorization": token} if token is not None else {}
    body = {"query": query, "variables": variables or {}}
    return await http.post(sandbox.urls["linear"] + "/graphql", json=body, headers=headers)


async def test_missing_key_gets_linears_401_body(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await _post(http, sandbox, "{ viewer { id } }", token=None)
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["message"] == "Authentication required, not authenticated"
    assert error["extensions"]["type"] == "authentication error"
    assert error["extensions"]["code"] == "AUTHENTICATION_ERROR"


async def test_rate_limit_body_headers_and_status(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    sandbox.add_faults([fault("rate_limit", retry_after=2.5, times=1)])
    response = await _post(http, sandbox, "{ viewer { id } }")
    assert response.status_code == 400
    assert response.headers["retry-after"] == "3"
    assert response.headers["x-ratelimit-requests-remaining"] == "0"
    assert response.json()["errors"][0]["extensions"]["code"] == "RATELIMITED"


async def test_not_found_is_an_execution_error_with_null_data(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    response = await _post(http, sandbox, queries.ISSUE, {"id": "ENG-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert (error["message"], error["path"]) == ("Entity not found: Issue", ["issue"])
    assert error["extensions"]["userPresentableMessage"] == "Could not find referenced Issue."
    assert error["locations"]


async def test_bad_variable_is_a_400_bad_user_input(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    mutation = queries.ISSUE_UPDATE
    response = await _post(
        http, sandbox, mutation, {"id": "ENG-101", "input": {"dueDate": "1/2/2026"}}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "dueDate" in error["message"]


async def test_renamed_input_field_is_refused_as_unknown(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    sandbox.add_faults([fault("rename_field", target="dueDate", to="dueOn")])
    mutation = (
        'mutation($in: IssueUpdateInput!) { issueUpdate(id: "ENG-101", input: $in) { success } }'
    )
    response = await _post(http, sandbox, mutation, {"in": {"dueDate": "2026-12-24"}})
    assert response.status_code == 400
    with pytest.raises(UnknownFieldError) as caught:
        data_or_raise(response, response.json(), operation="update_issue")
    assert (caught.value.code, caught.value.field) == ("BAD_USER_INPUT", "dueDate")
    renamed = await _post(http, sandbox, mutation, {"in": {"dueOn": "2026-12-24"}})
    assert renamed.json()["data"]["issueUpdate"]["success"] is True
    assert sandbox.state("linear")["issues"][0]["dueDate"] == "2026-12-24"


async def test_syntax_error_is_a_400(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await _post(http, sandbox, "{ issue(id: ")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_priority_out_of_range_is_invalid_input(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    response = await _post(
        http, sandbox, queries.ISSUE_UPDATE, {"id": "ENG-101", "input": {"priority": 7}}
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["validationErrors"][0]["property"] == "priority"


async def test_mutations_bump_last_sync_id_only_when_something_changes(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    async def update(title: str) -> float:
        response = await _post(
            http, sandbox, queries.ISSUE_UPDATE, {"id": "ENG-101", "input": {"title": title}}
        )
        sync_id: float = response.json()["data"]["issueUpdate"]["lastSyncId"]
        return sync_id

    first = await update("Renamed")
    assert await update("Renamed") == first
    assert await update("Renamed again") == first + 1


async def test_client_supplied_id_must_be_new(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    taken = sandbox.data.issue("ENG-101").id
    payload = {"id": taken, "teamId": sandbox.data.team_id, "title": "again"}
    response = await _post(http, sandbox, queries.ISSUE_CREATE, {"input": payload})
    [error] = response.json()["errors"]
    assert error["extensions"]["validationErrors"][0]["property"] == "id"


async def test_state_control_route_shows_the_store(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    state = (await http.get(sandbox.urls["linear"] + "/_sandbox/state")).json()
    assert state["service"] == "linear"
    assert len(state["issues"]) == len(sandbox.data.issues)
    assert {u["email"] for u in state["users"]} == {p.email for p in sandbox.data.people}
