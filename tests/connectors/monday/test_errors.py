"""Every error class the Monday client raises, provoked through the sandbox over HTTP."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import (
    AuthError,
    ConnectorTimeoutError,
    InvalidValueError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
)
from connectors.monday.client import MondayClient
from connectors.retry import SINGLE_TRY
from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox


def fault(kind: str, **fields: object) -> Fault:
    return Fault.model_validate({"service": "monday", "kind": kind, **fields})


async def test_rate_limit_fault_gives_retry_in_seconds(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("rate_limit", retry_after=12, times=1)])

    with pytest.raises(RateLimitError) as caught:
        await monday.get_board(board_id)

    assert caught.value.code == "COMPLEXITY_BUDGET_EXHAUSTED"
    assert caught.value.retry_after == 12
    assert caught.value.status == 429
    assert (await monday.get_board(board_id)).id == str(board_id)  # only once


async def test_legacy_complexity_exception_shape(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("rate_limit", code="ComplexityException", retry_after=7)])

    with pytest.raises(RateLimitError) as caught:
        await monday.get_board(board_id)

    assert caught.value.code == "ComplexityException"
    assert caught.value.retry_after == 7  # read from "reset in 7 seconds"


async def drain(http: httpx.AsyncClient, sandbox: Sandbox, query: str) -> list[int]:
    """Send ``query`` until Monday refuses it; the statuses seen."""
    statuses: list[int] = []
    while not statuses or statuses[-1] == 200:
        response = await http.post(
            sandbox.urls["monday"] + "/v2", json={"query": query}, headers={"Authorization": "t"}
        )
        statuses.append(response.status_code)
    return statuses


async def test_real_complexity_budget(http: httpx.AsyncClient) -> None:
    page = "items_page(limit: 500) { items { id name column_values { id text } } }"
    with Sandbox(seed=7, services=["monday"], rate_limits=True) as sandbox:
        # ~4.6M, ~345k, then ~23k points a query: what is left is less than the ~35k
        # points of one 500-item page of the client's.
        for boards in (400, 30, 2):
            query = f"{{ boards(limit: {boards}) {{ {page} }} }}"
            assert (await drain(http, sandbox, query))[-1] == 429
        monday = MondayClient(http, base_url=sandbox.urls["monday"], token="t")
        with pytest.raises(RateLimitError) as caught:
            async for _ in monday.list_items(sandbox.data.monday_board_id, page_size=500):
                pass

    assert caught.value.code == "COMPLEXITY_BUDGET_EXHAUSTED"
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 60


async def test_missing_token_is_an_auth_error(
    sandbox: Sandbox, http: httpx.AsyncClient, board_id: int
) -> None:
    anonymous = MondayClient(http, base_url=sandbox.urls["monday"], token="")

    with pytest.raises(AuthError) as caught:
        await anonymous.get_board(board_id)

    assert caught.value.status == 401
    assert caught.value.retry_after is None
    assert "Not Authenticated" in caught.value.message


async def test_revoked_token_is_an_auth_error(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("revoke_token")])

    with pytest.raises(AuthError):
        await monday.upsert_item(board_id, "Linear ID", "ENG-101", "x", {})


async def test_invalid_status_label_names_the_column(monday: MondayClient, board_id: int) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await monday.create_item(board_id, "x", {"Status": "Blocked"})

    assert caught.value.code == "ColumnValueException"
    assert caught.value.field == "Status"
    assert caught.value.status == 200
    assert caught.value.details["error_data"]["column_type"] == "status"


async def test_invalid_date_names_the_column(monday: MondayClient, board_id: int) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await monday.create_item(board_id, "x", {"Due": "14/08/2026"})

    assert caught.value.field == "Due"


async def test_item_name_too_long(monday: MondayClient, board_id: int) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await monday.create_item(board_id, "x" * 300, {})

    assert caught.value.code == "ItemNameTooLongException"
    assert caught.value.field == "name"


async def test_unknown_board_and_item_are_not_found(monday: MondayClient) -> None:
    with pytest.raises(NotFoundError):
        await monday.get_board(42)
    with pytest.raises(NotFoundError) as caught:
        await monday.delete_item(42)
    assert caught.value.code == "InvalidItemIdException"


async def test_server_error_is_transient(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("http_error", status=503, retry_after=3, times=1)])

    with pytest.raises(TransientError) as caught:
        await monday.get_board(board_id)

    assert caught.value.status == 503
    assert caught.value.retry_after == 3


async def test_application_error_injected_with_status_200(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("http_error", status=200, code="UserUnauthorizedException")])

    with pytest.raises(AuthError) as caught:
        await monday.get_board(board_id)

    assert caught.value.code == "UserUnauthorizedException"


async def test_slow_answer_is_a_timeout(sandbox: Sandbox, board_id: int) -> None:
    sandbox.add_faults([fault("latency", seconds=0.6, times=1)])
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2)) as impatient:
        monday = MondayClient(
            impatient, base_url=sandbox.urls["monday"], token="t", retry=SINGLE_TRY
        )
        with pytest.raises(ConnectorTimeoutError):
            await monday.get_board(board_id)


async def test_malformed_json_body(monday: MondayClient, sandbox: Sandbox, board_id: int) -> None:
    sandbox.add_faults([fault("http_error", status=500, code="malformed_json", times=1)])

    with pytest.raises(MalformedResponseError) as caught:
        await monday.get_board(board_id)

    assert caught.value.status == 500
    assert caught.value.retryable


async def test_timed_out_create_is_not_duplicated_by_the_retry(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("duplicate_on_timeout", operation="create_item", times=1)])
    values = {"Status": "Triage"}

    with pytest.raises(ConnectorTimeoutError):
        await monday.upsert_item(board_id, "Linear ID", "ENG-103", "Search slow", values)
    retried = await monday.upsert_item(board_id, "Linear ID", "ENG-103", "Search slow", values)

    assert retried.write.action == "unchanged"
    assert len(await monday.find_items(board_id, "Linear ID", "ENG-103")) == 1


async def test_dropped_column_written_by_id_is_unknown(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("drop_field", target="Labels")])

    with pytest.raises(UnknownFieldError) as caught:
        await monday.create_item(board_id, "x", {"text_labels": "bug"})

    assert caught.value.field == "text_labels"
    assert "Labels" not in caught.value.details["known_columns"]
