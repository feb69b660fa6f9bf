"""The error mapping, case by case: every Linear error shape becomes the right class.

These build ``httpx.Response`` objects directly (no server): they pin shapes the sandbox
does not send, such as a rate limit answered with 429 instead of 400.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.errors import (
    AuthError,
    ConnectorError,
    ConnectorTimeoutError,
    InvalidValueError,
    MalformedResponseError,
    NotFoundError,
    PayloadTooLargeError,
    PermanentError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
    ValidationError,
)
from connectors.linear.error_map import BY_CODE, BY_TYPE, data_or_raise, parse_wire
from connectors.linear.models import WireIssue


def _error(message: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": extensions}], "data": None}


def _raise(status: int, body: Any, headers: dict[str, str] | None = None) -> ConnectorError:
    response = httpx.Response(status, json=body, headers=headers)
    with pytest.raises(ConnectorError) as caught:
        data_or_raise(response, body, operation="op")
    return caught.value


@pytest.mark.parametrize("status", [400, 429, 200])
def test_ratelimited_is_read_from_the_body_whatever_the_status(status: int) -> None:
    body = _error("Rate limit exceeded", code="RATELIMITED", statusCode=429)
    error = _raise(status, body, {"retry-after": "7"})
    assert type(error) is RateLimitError
    assert (error.retry_after, error.status) == (7.0, status)


def test_ratelimited_type_alone_and_reset_header() -> None:
    error = _raise(
        400,
        _error("slow down", type="ratelimited"),
        {
            "x-ratelimit-requests-reset": "99999999999999",
        },
    )
    assert type(error) is RateLimitError
    assert error.retry_after is not None
    assert error.retry_after > 0


def test_a_400_without_ratelimited_is_not_a_rate_limit() -> None:
    assert type(_raise(400, _error("bad", code="INVALID_INPUT"))) is InvalidValueError


@pytest.mark.parametrize(("code", "cls"), sorted(BY_CODE.items()))
def test_every_code_is_mapped(code: str, cls: type[ConnectorError]) -> None:
    error = _raise(200, _error("something", code=code))
    assert type(error) is cls
    assert error.code == code


@pytest.mark.parametrize(("kind", "cls"), sorted(BY_TYPE.items()))
def test_every_type_is_mapped(kind: str, cls: type[ConnectorError]) -> None:
    assert type(_raise(200, _error("something", type=kind))) is cls


@pytest.mark.parametrize(
    ("message", "cls", "field"),
    [
        ('Cannot query field "dueDate" on type "Issue".', UnknownFieldError, "dueDate"),
        ("Cannot query field 'dueDate' on type 'Issue'.", UnknownFieldError, "dueDate"),
        (
            'Variable "$input" got invalid value {"dueOn": 1}; Field "dueOn" is not defined '
            'by type "IssueCreateInput".',
            UnknownFieldError,
            "dueOn",
        ),
        (
            'Variable "$input" got invalid value "x" at "input.dueDate"; Expected type '
            '"TimelessDate".',
            InvalidValueError,
            "dueDate",
        ),
        (
            'Variable "$in" has invalid value at .priority: Int cannot',
            InvalidValueError,
            "priority",
        ),
        (
            'Variable "$in" has invalid value: Expected value of type "IssueUpdateInput" not '
            'to include unknown field "dueDate", found: {}.',
            UnknownFieldError,
            "dueDate",
        ),
        ("Entity not found: Issue", NotFoundError, None),
        (
            "Entity not found: IssueLabel: labelIds contained an entry that could not be found.",
            InvalidValueError,
            "labelIds",
        ),
    ],
)
def test_messages_without_codes(message: str, cls: type[ConnectorError], field: str | None) -> None:
    error = _raise(200, {"errors": [{"message": message}]})
    assert type(error) is cls
    assert error.field == field


def test_validation_errors_name_the_property() -> None:
    body = _error(
        "Argument Validation Error",
        code="INVALID_INPUT",
        type="invalid input",
        userPresentableMessage="priority must not be greater than 4",
        validationErrors=[{"property": "priority", "constraints": {}}],
    )
    error = _raise(200, body)
    assert (type(error), error.field) == (InvalidValueError, "priority")
    assert "priority must not be greater than 4" in error.message


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (413, PayloadTooLargeError),
        (429, RateLimitError),
        (500, TransientError),
        (502, TransientError),
        (504, ConnectorTimeoutError),
        (422, ValidationError),
    ],
)
def test_bare_statuses_fall_back_to_the_status(status: int, cls: type[ConnectorError]) -> None:
    assert type(_raise(status, {"message": "nope"})) is cls


def test_unknown_code_with_a_5xx_is_transient() -> None:
    assert type(_raise(502, _error("bad gateway", code="SOMETHING_NEW"))) is TransientError


def test_usage_limit_is_permanent() -> None:
    error = _raise(400, _error("plan limit", type="usage limit exceeded"))
    assert type(error) is PermanentError
    assert not error.retryable


def test_no_data_and_no_errors_is_malformed() -> None:
    assert type(_raise(200, {"data": None})) is MalformedResponseError


def test_data_is_returned_when_there_is_no_error() -> None:
    body = {"data": {"issue": {"id": "x"}}}
    assert data_or_raise(httpx.Response(200, json=body), body, operation="op") == body["data"]


def test_parse_wire_names_the_field_and_keeps_the_detail() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_wire(WireIssue, {"id": "x", "priority": "High"}, operation="get_issue")
    assert caught.value.field in WireIssue.model_fields
    assert caught.value.details["errors"]
