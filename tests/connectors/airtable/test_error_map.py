"""Every Airtable error answer maps to the right connector error, with code and field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.airtable.error_map import CODE_CLASSES, error_from_response
from connectors.errors import (
    ALL_ERRORS,
    AuthError,
    ConflictError,
    ConnectorError,
    ConnectorTimeoutError,
    InvalidValueError,
    MalformedResponseError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
    ValidationError,
)


def typed(kind: str, message: str = "") -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


CASES: list[tuple[int, Any, type[ConnectorError], str | None, str | None]] = [
    # status, body, class, code, field
    (
        401,
        typed("AUTHENTICATION_REQUIRED", "Authentication required"),
        AuthError,
        "AUTHENTICATION_REQUIRED",
        None,
    ),
    (403, typed("INVALID_PERMISSIONS", "nope"), AuthError, "INVALID_PERMISSIONS", None),
    (
        403,
        typed("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"),
        NotFoundError,
        "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
        None,
    ),
    (404, {"error": "NOT_FOUND"}, NotFoundError, "NOT_FOUND", None),
    (
        404,
        typed("TABLE_NOT_FOUND", "Could not find table X"),
        NotFoundError,
        "TABLE_NOT_FOUND",
        None,
    ),
    (
        422,
        typed("ROW_DOES_NOT_EXIST", "Record ID recX does not exist"),
        NotFoundError,
        "ROW_DOES_NOT_EXIST",
        None,
    ),
    (
        422,
        typed("UNKNOWN_FIELD_NAME", 'Unknown field name: "Priority"'),
        UnknownFieldError,
        "UNKNOWN_FIELD_NAME",
        "Priority",
    ),
    (
        422,
        typed("INVALID_VALUE_FOR_COLUMN", 'Field "Due" cannot accept the provided value'),
        InvalidValueError,
        "INVALID_VALUE_FOR_COLUMN",
        "Due",
    ),
    (
        422,
        typed("INVALID_VALUE_FOR_COLUMN", "Field location_latitude can not accept value 41.88"),
        InvalidValueError,
        "INVALID_VALUE_FOR_COLUMN",
        "location_latitude",
    ),
    (
        422,
        typed(
            "INVALID_MULTIPLE_CHOICE_OPTIONS",
            'Insufficient permissions to create new select option ""Critical""',
        ),
        InvalidValueError,
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        "Priority",
    ),
    (
        422,
        typed(
            "INVALID_FILTER_BY_FORMULA",
            "The formula for filtering records is invalid: Unknown field names: status",
        ),
        UnknownFieldError,
        "INVALID_FILTER_BY_FORMULA",
        "status",
    ),
    (
        422,
        typed("INVALID_FILTER_BY_FORMULA", "The formula is invalid"),
        ValidationError,
        "INVALID_FILTER_BY_FORMULA",
        None,
    ),
    (
        422,
        typed("INVALID_RECORDS", "A maximum of 10 records"),
        ValidationError,
        "INVALID_RECORDS",
        None,
    ),
    (
        422,
        typed("LIST_RECORDS_ITERATOR_NOT_AVAILABLE"),
        TransientError,
        "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
        None,
    ),
    (422, typed("SOMETHING_NEW", "?"), ValidationError, "SOMETHING_NEW", None),
    (
        429,
        {"errors": [{"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded."}]},
        RateLimitError,
        "RATE_LIMIT_REACHED",
        None,
    ),
    (413, typed("REQUEST_TOO_LARGE"), PayloadTooLargeError, "REQUEST_TOO_LARGE", None),
    (409, typed("CONFLICT"), ConflictError, "CONFLICT", None),
    (500, typed("SERVER_ERROR"), TransientError, "SERVER_ERROR", None),
    (503, b"<html>down</html>", TransientError, None, None),
    (504, typed("GATEWAY_TIMEOUT"), ConnectorTimeoutError, "GATEWAY_TIMEOUT", None),
    (400, b"not json", ValidationError, None, None),
]


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(("status", "body", "cls", "code", "field"), CASES)
def test_error_cases_map(
    status: int, body: Any, cls: type[ConnectorError], code: str | None, field: str | None
) -> None:
    sent = [{"Linear ID": "ENG-1", "Priority": "Critical"}]

    error = error_from_response(response(status, body), operation="op", sent_fields=sent)

    assert type(error) is cls
    assert (error.tool, error.operation, error.status) == ("airtable", "op", status)
    assert (error.code, error.field) == (code, field)


def test_every_error_class_is_reachable() -> None:
    produced = {cls for _, _, cls, _, _ in CASES}
    assert produced >= set(ALL_ERRORS) - {MalformedResponseError}  # that one is parse_json's
    assert set(CODE_CLASSES.values()) <= set(ALL_ERRORS)


def test_rate_limit_waits_thirty_seconds_unless_told() -> None:
    body = {"errors": [{"error": "RATE_LIMIT_REACHED", "message": "x"}]}

    fixed = error_from_response(response(429, body), operation="op")
    told = error_from_response(response(429, body, {"Retry-After": "7"}), operation="op")

    assert fixed.retry_after == 30
    assert told.retry_after == 7
