"""``change_column_value``, ``change_simple_column_value``, ``create_update``, the query
ceiling and the gateway's HTML pages, over raw HTTP (the official clients' view of the
same is in ``tests/connectors/conformance``)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.errors import ValidationError
from connectors.monday.error_map import data_or_raise
from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox
from tests.connectors.monday.wire import Wire

COLUMNS = """query($b: [ID!]) { boards(ids: $b) {
    columns { id type } items_page(limit: 1) { items { id } } } }"""
READ = """query($i: [ID!]) { items(ids: $i) {
    column_values { id text } updates { body creator { id } } } }"""


async def _board(wire: Wire, board_id: int) -> tuple[dict[str, str], str]:
    board = (await wire.post(COLUMNS, {"b": [board_id]})).json()["data"]["boards"][0]
    by_type: dict[str, str] = {}
    for column in board["columns"]:
        by_type.setdefault(column["type"], column["id"])  # the first column of each type
    return by_type, board["items_page"]["items"][0]["id"]


async def _texts(wire: Wire, item_id: str) -> dict[str, Any]:
    item = (await wire.post(READ, {"i": [item_id]})).json()["data"]["items"][0]
    return {c["id"]: c["text"] for c in item["column_values"]} | {"updates": item["updates"]}


async def test_change_column_value_takes_the_json_form(wire: Wire, board_id: int) -> None:
    columns, item = await _board(wire, board_id)
    mutation = """mutation($b: ID!, $i: ID, $c: String!, $v: JSON!) {
        change_column_value(board_id: $b, item_id: $i, column_id: $c, value: $v) { id } }"""
    answer = await wire.post(
        mutation, {"b": board_id, "i": item, "c": columns["status"], "v": '{"label": "Done"}'}
    )
    assert answer.json()["data"]["change_column_value"]["id"] == item
    assert (await _texts(wire, item))[columns["status"]] == "Done"


async def test_change_simple_column_value_takes_the_string_form(wire: Wire, board_id: int) -> None:
    columns, item = await _board(wire, board_id)
    mutation = """mutation($b: ID!, $i: ID, $c: String!, $v: String) {
        change_simple_column_value(board_id: $b, item_id: $i, column_id: $c, value: $v) { id } }"""
    await wire.post(mutation, {"b": board_id, "i": item, "c": columns["date"], "v": "2026-08-14"})
    await wire.post(mutation, {"b": board_id, "i": item, "c": columns["status"], "v": "Stuck"})
    texts = await _texts(wire, item)
    assert texts[columns["date"]].startswith("2026-08-14")
    assert texts[columns["status"]] == "Stuck"
    refused = await wire.post(
        mutation, {"b": board_id, "i": item, "c": columns["status"], "v": "Nope"}
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "ColumnValueException"


async def test_create_update_posts_a_comment(wire: Wire, board_id: int) -> None:
    _, item = await _board(wire, board_id)
    mutation = (
        "mutation($i: ID, $t: String!) { create_update(item_id: $i, body: $t) { id text_body } }"
    )
    created = (await wire.post(mutation, {"i": item, "t": "Seen on <b>17.2</b>"})).json()
    assert created["data"]["create_update"]["text_body"] == "Seen on 17.2"
    assert [u["body"] for u in (await _texts(wire, item))["updates"]] == ["Seen on <b>17.2</b>"]
    missing = (await wire.post(mutation, {"i": "1", "t": "x"})).json()
    assert missing["errors"][0]["extensions"]["code"] == "InvalidItemIdException"


async def test_a_query_above_five_million_points_is_refused(wire: Wire) -> None:
    heavy = (
        "{ boards(limit: 1000) { items_page(limit: 500) { items { id column_values { text } } } } }"
    )
    answer = await wire.post(heavy)
    assert answer.status_code == 200
    error = answer.json()["errors"][0]
    assert error["message"].startswith("Query has complexity of ")
    assert error["message"].endswith("which exceeds max complexity of 5000000")
    assert error["extensions"]["code"] == "ComplexityException"


async def test_a_gateway_timeout_is_an_html_page(wire: Wire, sandbox: Sandbox) -> None:
    sandbox.add_faults([Fault(service="monday", kind="http_error", status=504, times=1)])
    answer = await wire.post("{ me { id } }")
    assert answer.status_code == 504
    assert answer.headers["content-type"].startswith("text/html")
    assert "504 Gateway Time-out" in answer.text
    assert answer.headers["retry-after"] == "1"


async def test_the_connector_does_not_retry_a_query_over_the_ceiling(wire: Wire) -> None:
    heavy = (
        "{ boards(limit: 1000) { items_page(limit: 500) { items { column_values { text } } } } }"
    )
    answer = await wire.post(heavy)
    with pytest.raises(ValidationError) as caught:
        data_or_raise(answer, operation="list_items")
    assert not caught.value.retryable
