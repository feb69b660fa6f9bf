"""The Monday emulator's wire format: what a raw client (or Monday's own SDK) sees."""

from __future__ import annotations

import json

from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox
from tests.connectors.monday.wire import Wire

CREATE = """
mutation ($board: ID!, $values: JSON) {
  create_item(board_id: $board, item_name: "wire", column_values: $values) {
    id column_values { id text value ... on StatusValue { index label } }
  }
}
"""


async def test_missing_token_gets_the_401_body(wire: Wire) -> None:
    response = await wire.post("{ boards { id } }", headers={})

    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Not Authenticated"
    assert "retry-after" in response.headers


async def test_api_version_header(wire: Wire) -> None:
    ok = await wire.post("{ me { id } }", headers={"Authorization": "t", "API-Version": "2025-10"})
    bad = await wire.post("{ me { id } }", headers={"Authorization": "t", "API-Version": "2025-3"})

    assert ok.status_code == 200 and ok.json()["data"]["me"]["id"]
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "InvalidApiVersionException"


async def test_body_that_is_not_json(wire: Wire) -> None:
    response = await wire.http.post(wire.url, content=b"{nope", headers={"Authorization": "t"})

    assert response.status_code == 400
    assert response.json()["error_code"] == "JsonParseException"


async def test_application_errors_are_http_200(wire: Wire, sandbox: Sandbox) -> None:
    board = sandbox.data.monday_board_id

    unknown = await wire.post(CREATE, {"board": board, "values": json.dumps({"nope": "x"})})
    invalid = await wire.post(CREATE, {"board": board, "values": json.dumps({"date4": "soon"})})
    no_board = await wire.post(CREATE, {"board": 1, "values": None})

    assert {unknown.status_code, invalid.status_code, no_board.status_code} == {200}
    codes = [r.json()["errors"][0]["extensions"] for r in (unknown, invalid, no_board)]
    assert codes[0]["code"] == "InvalidColumnIdException"
    assert codes[0]["error_data"]["column_id"] == "nope"
    assert codes[1]["code"] == "ColumnValueException"
    assert codes[1]["error_data"]["column_type"] == "date"
    assert codes[2]["code"] == "InvalidBoardIdException"
    assert unknown.json()["account_id"] == 9_000_000 + sandbox.seed


async def test_simple_string_forms_are_accepted(wire: Wire, sandbox: Sandbox) -> None:
    person = sandbox.data.people[1]
    values = {
        "status": "Done",
        "priority": {"index": 3},
        "date4": "2026-08-14 13:25:00",
        "person": str(person.monday_user_id),
        "link": "https://example.com docs",
    }

    response = await wire.post(
        CREATE, {"board": sandbox.data.monday_board_id, "values": json.dumps(values)}
    )

    columns = {c["id"]: c for c in response.json()["data"]["create_item"]["column_values"]}
    assert columns["status"]["label"] == "Done" and columns["status"]["index"] == 1
    assert columns["priority"]["text"] == "Low"
    assert json.loads(columns["date4"]["value"]) == {"date": "2026-08-14", "time": "13:25:00"}
    assert columns["person"]["text"] == person.name
    assert columns["link"]["text"] == "docs - https://example.com"


async def test_create_labels_if_missing_adds_the_label(wire: Wire, sandbox: Sandbox) -> None:
    mutation = CREATE.replace(
        "column_values: $values", "column_values: $values, create_labels_if_missing: true"
    )

    response = await wire.post(
        mutation,
        {"board": sandbox.data.monday_board_id, "values": json.dumps({"status": "Blocked"})},
    )

    status = response.json()["data"]["create_item"]["column_values"][0]
    assert status["label"] == "Blocked"
    columns = sandbox.state("monday")["boards"][0]["columns"]
    assert "Blocked" in next(c for c in columns if c["id"] == "status")["labels"].values()


async def test_complexity_and_query_params(wire: Wire, sandbox: Sandbox) -> None:
    query = """
    query ($b: [ID!]) {
      complexity { before after query reset_in_x_seconds }
      boards(ids: $b) {
        items_page(limit: 100, query_params: {rules: [
          {column_id: "status", compare_value: [2], operator: any_of}
        ]}) { cursor items { id } }
      }
    }
    """

    body = (await wire.post(query, {"b": [sandbox.data.monday_board_id]})).json()

    complexity = body["data"]["complexity"]
    assert complexity["before"] - complexity["after"] == complexity["query"] > 0
    stuck = body["data"]["boards"][0]["items_page"]["items"]
    board = sandbox.state("monday")["boards"][0]
    expected = [i for i in board["items"] if i["values"]["status"]["value"]["index"] == 2]
    assert len(stuck) == len(expected) > 0


async def test_validation_errors_name_the_field(wire: Wire) -> None:
    body = (await wire.post("{ boards { id colour } }")).json()

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "colour" in body["errors"][0]["message"]


async def test_expired_cursor(wire: Wire) -> None:
    body = (await wire.post('{ next_items_page(cursor: "MSwgone") { cursor } }')).json()

    assert body["errors"][0]["extensions"]["code"] == "CursorException"


async def test_operations_are_named_by_their_root_field(wire: Wire, sandbox: Sandbox) -> None:
    limited = Fault(service="monday", kind="rate_limit", operation="users", retry_after=5)
    sandbox.add_faults([limited])

    boards = await wire.post("{ complexity { query } boards { id } }")
    users = await wire.post("{ complexity { query } users { id } }")

    assert boards.status_code == 200
    assert users.status_code == 429
    assert users.headers["retry-after"] == "5"
    assert users.json()["errors"][0]["extensions"]["retry_in_seconds"] == 5
