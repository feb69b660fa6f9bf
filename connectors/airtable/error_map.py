"""The one place where Airtable's error answers become :mod:`connectors.errors` classes.

Airtable answers errors in three shapes, all handled here:

- ``{"error": {"type": "UNKNOWN_FIELD_NAME", "message": "Unknown field name: \\"X\\""}}``
- ``{"error": "NOT_FOUND"}`` (bare string, usually with 404)
- ``{"errors": [{"error": "RATE_LIMIT_REACHED", "message": "…"}]}`` (429)

The status decides first for 429 and 5xx (those are retryable whatever the body says);
otherwise the ``type`` decides, and an unknown type falls back to the status. Airtable
names the field in some messages (``Unknown field name: "X"``, ``Field "X" cannot
accept…``) but not for an unknown select option, so that field is found in the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from connectors.errors import (
    AuthError,
    ConnectorError,
    ConnectorTimeoutError,
    InvalidValueError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
    ValidationError,
    error_for_status,
)
from connectors.http import retry_after_seconds

# Airtable's rule: after a 429, every request to the base fails for 30 seconds.
RATE_LIMIT_PENALTY_SECONDS = 30.0

CODE_CLASSES: dict[str, type[ConnectorError]] = {
    "AUTHENTICATION_REQUIRED": AuthError,
    "UNAUTHORIZED": AuthError,
    "INVALID_AUTHORIZATION": AuthError,
    "INVALID_PERMISSIONS": AuthError,
    # Airtable uses one code for "no such base/table" and "no permission on it"; with a
    # token that works elsewhere the model is what is missing, so it is not an AuthError.
    "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND": NotFoundError,
    "NOT_FOUND": NotFoundError,
    "TABLE_NOT_FOUND": NotFoundError,
    "MODEL_ID_NOT_FOUND": NotFoundError,
    "ROW_DOES_NOT_EXIST": NotFoundError,
    "VIEW_NAME_NOT_FOUND": NotFoundError,
    "UNKNOWN_FIELD_NAME": UnknownFieldError,
    "INVALID_VALUE_FOR_COLUMN": InvalidValueError,
    "INVALID_MULTIPLE_CHOICE_OPTIONS": InvalidValueError,
    "CANNOT_UPDATE_COMPUTED_FIELD": InvalidValueError,
    "INVALID_FILTER_BY_FORMULA": ValidationError,
    "INVALID_RECORDS": ValidationError,
    "INVALID_REQUEST_BODY": ValidationError,
    "INVALID_REQUEST_UNKNOWN": ValidationError,
    "INVALID_REQUEST_MISSING_FIELDS": ValidationError,
    # The listing's iterator expired: listing again from the start will work.
    "LIST_RECORDS_ITERATOR_NOT_AVAILABLE": TransientError,
    "RATE_LIMIT_REACHED": RateLimitError,
    "TOO_MANY_REQUESTS": RateLimitError,
    "REQUEST_TOO_LARGE": PayloadTooLargeError,
    "SERVER_ERROR": TransientError,
    "SERVICE_UNAVAILABLE": TransientError,
    "GATEWAY_TIMEOUT": ConnectorTimeoutError,
}

_UNKNOWN_FIELD = re.compile(r'Unknown field names?: "?(?P<name>[^"]+?)"?\s*$')
_FIELD_IN_MESSAGE = re.compile(r'Field "(?P<quoted>[^"]+)"|Field (?P<bare>\S+) can(?:not| not)')
_OPTION = re.compile(r'select option ""?(?P<option>.*?)""?\s*$')


def error_from_response(
    response: httpx.Response,
    *,
    operation: str,
    sent_fields: Iterable[Mapping[str, Any]] = (),
) -> ConnectorError:
    """The connector error for an Airtable error answer.

    ``sent_fields`` are the records' ``fields`` of the request, used to name the field
    when Airtable's message does not.
    """
    code, message = _code_and_message(response)
    status = response.status_code
    field = _field(code, message, sent_fields)
    cls = _class_for(status, code)
    if code == "INVALID_FILTER_BY_FORMULA" and field is not None:
        cls = UnknownFieldError  # the formula names a field the table does not have
    retry_after = retry_after_seconds(response)
    if cls is RateLimitError and retry_after is None:
        retry_after = RATE_LIMIT_PENALTY_SECONDS
    return cls(
        message or f"HTTP {status} from Airtable",
        tool="airtable",
        operation=operation,
        code=code,
        field=field,
        status=status,
        retry_after=retry_after,
        details={"body": response.text[:500]} if code is None else {},
    )


def _class_for(status: int, code: str | None) -> type[ConnectorError]:
    if status == 429:
        return RateLimitError
    if status >= 500:
        return error_for_status(status)
    if code is not None and code in CODE_CLASSES:
        return CODE_CLASSES[code]
    return error_for_status(status)


def _code_and_message(response: httpx.Response) -> tuple[str | None, str]:
    """Airtable's error type and message, from whichever of its three shapes it used."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:200]
    if not isinstance(body, dict):
        return None, str(body)[:200]
    error = body.get("error")
    if isinstance(error, dict):
        return _text(error.get("type")), _text(error.get("message")) or ""
    if isinstance(error, str):
        return error, _text(body.get("message")) or error
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return _text(first.get("error") or first.get("type")), _text(first.get("message")) or ""
    return None, response.text[:200]


def _field(code: str | None, message: str, sent: Iterable[Mapping[str, Any]]) -> str | None:
    if code in ("UNKNOWN_FIELD_NAME", "INVALID_FILTER_BY_FORMULA"):
        match = _UNKNOWN_FIELD.search(message)
        return match.group("name").split(", ")[0] if match else None
    if code == "INVALID_MULTIPLE_CHOICE_OPTIONS":
        match = _OPTION.search(message)
        return _field_holding(match.group("option"), sent) if match else None
    match = _FIELD_IN_MESSAGE.search(message)
    return (match.group("quoted") or match.group("bare")) if match else None


def _field_holding(option: str, sent: Iterable[Mapping[str, Any]]) -> str | None:
    """The field of the request whose value is (or contains) the select ``option``."""
    for fields in sent:
        for name, value in fields.items():
            values = value if isinstance(value, list) else [value]
            if option in values:
                return name
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
