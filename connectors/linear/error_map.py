"""Every way a Linear response can fail, mapped to :mod:`connectors.errors` in one place.

Linear reports failures inside the body (``errors[].extensions.code`` / ``.type``), often
with HTTP 200 or 400 whatever the cause, so the body decides and the status is only the
fallback (a rate limit is ``RATELIMITED`` whether it comes as 400 or 429):

====================================================  ======================================
Linear says                                           connector error
====================================================  ======================================
RATELIMITED / "ratelimited"                           RateLimitError (``retry-after``)
AUTHENTICATION_ERROR, FORBIDDEN, feature not access.  AuthError
GRAPHQL_VALIDATION_FAILED, "Cannot query field …"     UnknownFieldError (the field)
BAD_USER_INPUT, INVALID_INPUT, INPUT_ERROR            InvalidValueError (the input field)
"Entity not found: X" naming no input field           NotFoundError
LOCK_TIMEOUT, INTERNAL_SERVER_ERROR, 5xx              TransientError (504: timeout)
USAGE_LIMIT_EXCEEDED                                  PermanentError
a payload with ``success: false``                     ValidationError
a node whose JSON does not fit the schema             ValidationError (the field)
====================================================  ======================================
"""

from __future__ import annotations

import re
import time
from typing import Any, TypeVar

import httpx
import pydantic

from connectors.errors import (
    AuthError,
    ConnectorError,
    ConnectorTimeoutError,
    InvalidValueError,
    MalformedResponseError,
    NotFoundError,
    PermanentError,
    RateLimitError,
    Tool,
    TransientError,
    UnknownFieldError,
    ValidationError,
    error_for_status,
)
from connectors.http import retry_after_seconds

TOOL: Tool = "linear"
Model = TypeVar("Model", bound=pydantic.BaseModel)

BY_CODE: dict[str, type[ConnectorError]] = {
    "RATELIMITED": RateLimitError,
    "AUTHENTICATION_ERROR": AuthError,
    "FORBIDDEN": AuthError,
    "FEATURE_NOT_ACCESSIBLE": AuthError,
    "GRAPHQL_VALIDATION_FAILED": UnknownFieldError,
    "GRAPHQL_PARSE_FAILED": ValidationError,
    "BAD_USER_INPUT": InvalidValueError,
    "INVALID_INPUT": InvalidValueError,
    "INPUT_ERROR": InvalidValueError,
    "LOCK_TIMEOUT": TransientError,
    "INTERNAL_SERVER_ERROR": TransientError,
    "GATEWAY_TIMEOUT": ConnectorTimeoutError,
    "USAGE_LIMIT_EXCEEDED": PermanentError,
}
BY_TYPE: dict[str, type[ConnectorError]] = {
    "ratelimited": RateLimitError,
    "authentication error": AuthError,
    "forbidden": AuthError,
    "feature not accessible": AuthError,
    "invalid input": InvalidValueError,
    "lock timeout": TransientError,
    "internal error": TransientError,
    "usage limit exceeded": PermanentError,
}
_FIELD_PATTERNS = (
    re.compile(r'Cannot query field ["\'](?P<field>\w+)["\']'),
    re.compile(r'Field ["\'](?P<field>\w+)["\'] is not defined by'),
    re.compile(r'unknown field ["\'](?P<field>\w+)["\']'),
    re.compile(r'Field ["\'](?P<field>\w+)["\'] must not have a selection'),
    re.compile(r'\bat ["\']?(?:\w+)?\.(?:\w+\.)*(?P<field>\w+)["\']?'),
    re.compile(r": (?P<field>\w+) contained an entry"),
)
_UNKNOWN_FIELD = re.compile(r"Cannot query field|is not defined by|unknown field")


def data_or_raise(response: httpx.Response, body: Any, *, operation: str) -> dict[str, Any]:
    """The ``data`` of a GraphQL response, or the connector error the response means."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        raise error_from(errors, response, operation=operation)
    if response.status_code >= 400:
        cls = error_for_status(response.status_code)
        raise cls(
            f"HTTP {response.status_code} without a GraphQL error",
            tool=TOOL,
            operation=operation,
            status=response.status_code,
            retry_after=_retry_after(response) if cls is RateLimitError else None,
        )
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise MalformedResponseError(
            "the response has neither data nor errors",
            tool=TOOL,
            operation=operation,
            status=response.status_code,
        )
    return data


def error_from(errors: list[Any], response: httpx.Response, *, operation: str) -> ConnectorError:
    """The connector error for Linear's first error (the others go in ``details``)."""
    first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
    raw_ext = first.get("extensions")
    ext: dict[str, Any] = raw_ext if isinstance(raw_ext, dict) else {}
    message = str(first.get("message") or "Linear reported an error")
    field = field_of(message, ext)
    cls = classify(ext.get("code"), ext.get("type"), message, field, response.status_code)
    user_message = ext.get("userPresentableMessage")
    if user_message and user_message != message:
        message = f"{message} ({user_message})"
    return cls(
        message,
        tool=TOOL,
        operation=operation,
        code=ext.get("code") or ext.get("type"),
        field=field,
        status=response.status_code,
        retry_after=_retry_after(response) if cls is RateLimitError else None,
        details={"path": first.get("path"), "extensions": ext, "more_errors": errors[1:]},
    )


def classify(
    code: Any, kind: Any, message: str, field: str | None, status: int
) -> type[ConnectorError]:
    """The error class for one GraphQL error.

    Two messages outrank the code, because Linear sends them under generic codes:
    "Entity not found" (not found, or a bad reference when an input field is named) and
    an unknown field. Then the code, the type, the message, and last the HTTP status.
    """
    if code != "RATELIMITED" and message.startswith("Entity not found"):
        return InvalidValueError if field else NotFoundError
    if code != "RATELIMITED" and _UNKNOWN_FIELD.search(message):
        return UnknownFieldError  # also inside a BAD_USER_INPUT: an input field gone
    if isinstance(code, str) and code in BY_CODE:
        return BY_CODE[code]
    if isinstance(kind, str) and kind.lower() in BY_TYPE:
        return BY_TYPE[kind.lower()]
    if "invalid value" in message:
        return InvalidValueError
    return error_for_status(status) if status >= 400 else ValidationError


def field_of(message: str, extensions: dict[str, Any]) -> str | None:
    """The input or schema field a Linear error names, if it names one."""
    validation = extensions.get("validationErrors")
    if isinstance(validation, list) and validation and isinstance(validation[0], dict):
        prop = validation[0].get("property")
        if isinstance(prop, str):
            return prop
    for pattern in _FIELD_PATTERNS:
        match = pattern.search(message)
        if match:
            return match["field"]
    return None


def mutation_failed(operation: str, payload: dict[str, Any]) -> ValidationError:
    """A mutation answered ``success: false`` without saying why."""
    return ValidationError(
        "Linear answered success: false",
        tool=TOOL,
        operation=operation,
        details={"payload": payload},
    )


def parse_wire(model: type[Model], data: Any, *, operation: str) -> Model:
    """``data`` read as ``model``; a mismatch is a :class:`ValidationError` naming the field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in problem["loc"])
        got = problem.get("input")
        raise ValidationError(
            f"Linear sent {where} as {got!r} ({type(got).__name__}): {problem['msg']}; "
            "the API's schema may have changed",
            tool=TOOL,
            operation=operation,
            code="unexpected_response_shape",
            field=where,
            details={"errors": exc.errors(include_url=False, include_input=False)},
        ) from exc


def _retry_after(response: httpx.Response) -> float | None:
    """``retry-after``, else the time until the request budget resets (epoch ms)."""
    seconds = retry_after_seconds(response)
    if seconds is not None:
        return seconds
    reset = response.headers.get("x-ratelimit-requests-reset")
    try:
        return max(0.0, float(reset) / 1000 - time.time()) if reset else None
    except ValueError:
        return None
