"""The Monday error mapping: every code and every answer shape lands in the error tree.

These build ``httpx.Response`` objects directly (no server needed): the point is the
mapping table and the shapes Monday has used across API versions.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.errors import (
    ALL_ERRORS,
    AuthError,
    ConnectorError,
    ConnectorTimeoutError,
    InvalidValueError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
    ValidationError,
)
from connectors.monday.error_map import ERROR_CODES, data_or_raise


def answer(
    status: int,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    request = httpx.Request("POST", "https://api.monday.com/v2")
    if content is not None:
        return httpx.Response(status, content=content, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def raised(response: httpx.Response, **kwargs: Any) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        data_or_raise(response, operation="test", **kwargs)
    return caught.value


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_code_maps_to_a_class_of_the_tree(code: str) -> None:
    body = {"errors": [{"message": "m", "extensions": {"code": code}}], "account_id": 1}

    error = raised(answer(200, body))

    assert type(error) in ALL_ERRORS
    assert type(error) is ERROR_CODES[code]
    assert error.code == code and error.tool == "monday" and error.operation == "test"


def test_column_value_exception_names_the_column_title() -> None:
    extensions = {
        "code": "ColumnValueException",
        "error_data": {"column_id": "status", "column_type": "status"},
        "status_code": 200,
    }
    body = {"data": {"create_item": None}, "errors": [{"message": "m", "extensions": extensions}]}

    error = raised(answer(200, body), columns={"status": "Status"})

    assert isinstance(error, InvalidValueError)
    assert error.field == "Status"
    assert error.details["error_data"]["column_type"] == "status"


def test_unknown_column_without_a_board_keeps_the_id() -> None:
    extensions = {"code": "InvalidColumnIdException", "error_data": {"column_id": "date4"}}

    error = raised(answer(200, {"errors": [{"message": "m", "extensions": extensions}]}))

    assert isinstance(error, UnknownFieldError) and error.field == "date4"


def test_complexity_budget_retry_in_seconds() -> None:
    extensions = {"code": "COMPLEXITY_BUDGET_EXHAUSTED", "retry_in_seconds": 42}
    body = {"errors": [{"message": "Complexity budget exhausted", "extensions": extensions}]}

    error = raised(answer(429, body, headers={"Retry-After": "40"}))

    assert isinstance(error, RateLimitError) and error.retry_after == 42


def test_legacy_complexity_exception() -> None:
    message = "Complexity budget exhausted, query cost 30001 budget remaining 19986 out of "
    message += "1000000 reset in 3 seconds"
    body = {"error_code": "ComplexityException", "status_code": 429, "error_message": message}

    error = raised(answer(200, body))

    assert isinstance(error, RateLimitError) and error.retry_after == 3


def test_field_limit_retry_in_error_data() -> None:
    body = {
        "error_message": "Concurrency limit exceeded for the field",
        "error_code": "FIELD_LIMIT_EXCEEDED",
        "error_data": {"retry_in_seconds": 15, "entity": "boards"},
        "status_code": 429,
    }

    error = raised(answer(429, body))

    assert isinstance(error, RateLimitError) and error.retry_after == 15


def test_oldest_auth_shape_and_bare_statuses() -> None:
    assert isinstance(raised(answer(401, {"errors": ["Not Authenticated"]})), AuthError)
    assert isinstance(raised(answer(401, content=b"<html>401</html>")), AuthError)
    assert isinstance(raised(answer(504, content=b"upstream timeout")), ConnectorTimeoutError)
    assert isinstance(raised(answer(404, {})), NotFoundError)
    assert isinstance(raised(answer(400, {})), ValidationError)


def test_unknown_code_falls_back_to_monday_status() -> None:
    forbidden = {"errors": [{"message": "m", "extensions": {"code": "New", "status_code": 403}}]}
    plain = {"errors": [{"message": "m", "extensions": {"code": "New"}}]}

    assert isinstance(raised(answer(200, forbidden)), AuthError)
    assert isinstance(raised(answer(200, plain)), ValidationError)
    assert isinstance(raised(answer(502, plain)), TransientError)


def test_not_json_is_malformed_and_retry_after_only_when_retryable() -> None:
    cut = raised(answer(500, content=b'{"data":{"boa', headers={"Retry-After": "2"}))
    auth = raised(
        answer(401, {"errors": [{"message": "Not Authenticated"}]}, headers={"Retry-After": "0"})
    )

    assert isinstance(cut, MalformedResponseError) and cut.status == 500
    assert auth.retry_after is None


def test_data_comes_back_when_there_is_no_error() -> None:
    body = {"data": {"boards": []}, "account_id": 1, "extensions": {"request_id": "r"}}

    assert data_or_raise(answer(200, body), operation="test") == {"boards": []}
