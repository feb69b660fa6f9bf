"""Monday's answers → :mod:`connectors.errors`: the one place the connector maps errors.

Monday reports application errors with **HTTP 200** and ``errors[].extensions.code``,
transport errors with 400/401/429/5xx, and older API versions (and some limits) with
top-level ``error_code`` / ``error_message`` / ``error_data``. Every shape is accepted:

- the code comes from ``extensions.code``, else the top-level ``error_code``;
- ``retry_after`` from ``extensions.retry_in_seconds``, ``error_data.retry_in_seconds``,
  the legacy message's "reset in N seconds", else the ``Retry-After`` header;
- ``field`` from ``error_data.column_id`` (translated to the column's title when the
  caller knows the board), ``name`` for ``ItemNameTooLongException``.

An unknown code falls back to the status Monday puts in ``extensions.status_code``, then
the HTTP status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from connectors.errors import (
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
    error_for_status,
)
from connectors.http import parse_json, retry_after_seconds

ERROR_CODES: dict[str, type[ConnectorError]] = {
    # rate and complexity limits
    "COMPLEXITY_BUDGET_EXHAUSTED": RateLimitError,
    "ComplexityException": RateLimitError,
    "FIELD_LIMIT_EXCEEDED": RateLimitError,
    "DAILY_LIMIT_EXCEEDED": RateLimitError,
    "RATE_LIMIT_EXCEEDED": RateLimitError,
    "IP_RATE_LIMIT_EXCEEDED": RateLimitError,
    "maxConcurrencyExceeded": RateLimitError,
    "Rate Limit Exceeded": RateLimitError,
    # authentication and permission
    "Unauthorized": AuthError,
    "UNAUTHENTICATED": AuthError,
    "UserUnauthorizedException": AuthError,
    "USER_UNAUTHORIZED": AuthError,
    "MissingRequiredPermissionsException": AuthError,
    # objects that are not there
    "InvalidBoardIdException": NotFoundError,
    "InvalidItemIdException": NotFoundError,
    "InvalidUserIdException": NotFoundError,
    "InvalidGroupIdException": NotFoundError,
    "ResourceNotFoundException": NotFoundError,
    # request content
    "InvalidColumnIdException": UnknownFieldError,
    "ColumnValueException": InvalidValueError,
    "ItemNameTooLongException": InvalidValueError,
    "CorrectedValueException": InvalidValueError,
    "InvalidArgumentException": ValidationError,
    "JsonParseException": ValidationError,
    "CursorException": ValidationError,
    "CursorExpiredError": ValidationError,
    "GRAPHQL_PARSE_FAILED": ValidationError,
    "GRAPHQL_VALIDATION_FAILED": ValidationError,
    "InvalidApiVersionException": ValidationError,
    "BAD_REQUEST": ValidationError,
    # Monday's side
    "INTERNAL_SERVER_ERROR": TransientError,
    "InternalServerError": TransientError,
    "GATEWAY_TIMEOUT": ConnectorTimeoutError,
}

# A non-JSON body with these statuses still says enough (an HTML 504 page is a timeout).
_STATUS_WINS = (401, 403, 408, 429, 504)
_OVER_CEILING = "exceeds max complexity"
_RESET_IN = re.compile(r"reset in (\d+(?:\.\d+)?) seconds?")


def data_or_raise(
    response: httpx.Response,
    *,
    operation: str,
    columns: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``data`` of a Monday answer, or the connector error the answer means.

    ``columns`` maps column ids to titles, so an error naming a column id reports the
    title ops people see.
    """
    status = response.status_code
    if status in _STATUS_WINS and not _looks_like_json(response):
        raise _build(error_for_status(status), response, {}, operation, columns)
    body = parse_json(response, tool="monday", operation=operation)
    if not isinstance(body, dict):
        raise MalformedResponseError(
            f"expected a JSON object, got {type(body).__name__}",
            tool="monday",
            operation=operation,
            status=status,
        )
    error = first_error(body)
    if error is None and status >= 400:
        error = {}
    if error is not None:
        error = {**error, "request_id": _request_id(body)}
        raise _build(error_class(error, status), response, error, operation, columns)
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def first_error(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first error of any shape, flattened to ``code``/``message``/``error_data``/…"""
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, str):  # the oldest shape: {"errors": ["Not Authenticated"]}
            return {"message": first, "code": body.get("error_code")}
        if isinstance(first, dict):
            extensions = first.get("extensions") or {}
            return {
                **extensions,
                "message": first.get("message") or body.get("error_message"),
                "code": extensions.get("code") or body.get("error_code"),
                "error_data": extensions.get("error_data") or body.get("error_data") or {},
                "path": first.get("path"),
            }
    if body.get("error_code") or body.get("error_message"):
        return {
            "message": body.get("error_message"),
            "code": body.get("error_code"),
            "error_data": body.get("error_data") or {},
            "status_code": body.get("status_code"),
        }
    return None


def error_class(error: Mapping[str, Any], http_status: int) -> type[ConnectorError]:
    """The class for one flattened error: by code, else by Monday's status, else HTTP's.

    One ``ComplexityException`` is no rate limit: a single query over Monday's ceiling
    ("Query has complexity of N, which exceeds max complexity of 5000000") fails the same
    way every time, so it is a :class:`ValidationError`, never retried.
    """
    code = error.get("code")
    if code == "ComplexityException" and _OVER_CEILING in str(error.get("message", "")):
        return ValidationError
    if isinstance(code, str) and code in ERROR_CODES:
        return ERROR_CODES[code]
    inner = error.get("status_code")
    if isinstance(inner, int) and inner >= 400:
        return error_for_status(inner)
    if http_status >= 400:
        return error_for_status(http_status)
    return ValidationError


def _build(
    cls: type[ConnectorError],
    response: httpx.Response,
    error: Mapping[str, Any],
    operation: str,
    columns: Mapping[str, str] | None,
) -> ConnectorError:
    data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    assert isinstance(data, dict)
    column_id = data.get("column_id")
    field = (columns or {}).get(column_id, column_id) if isinstance(column_id, str) else None
    if error.get("code") == "ItemNameTooLongException":
        field = "name"
    message = str(error.get("message") or f"HTTP {response.status_code}")
    details = {k: v for k, v in error.items() if k not in ("message", "code") and v}
    return cls(
        message,
        tool="monday",
        operation=operation,
        code=str(error["code"]) if error.get("code") else None,
        field=field,
        status=response.status_code,
        retry_after=_retry_after(error, data, response) if cls.retryable else None,
        details=details,
    )


def _retry_after(
    error: Mapping[str, Any], data: Mapping[str, Any], response: httpx.Response
) -> float | None:
    for candidate in (error.get("retry_in_seconds"), data.get("retry_in_seconds")):
        if isinstance(candidate, (int, float)) and not isinstance(candidate, bool):
            return float(candidate)
    match = _RESET_IN.search(str(error.get("message") or ""))
    if match:
        return float(match.group(1))
    return retry_after_seconds(response)


def _request_id(body: Mapping[str, Any]) -> str | None:
    extensions = body.get("extensions")
    request_id = extensions.get("request_id") if isinstance(extensions, dict) else None
    return str(request_id) if request_id else None


def _looks_like_json(response: httpx.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True
