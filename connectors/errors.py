"""One exception tree for every connector.

Every error a connector raises says which tool and operation failed, whether a retry can
help and how long to wait, the tool's own error code, and the field or column the tool
names when it names one. A connector retries one call inside the step's attempt only
where that is safe and brief (:mod:`connectors.retry`, recorded on the attempt); past
that, the caller (the activity boundary in the orchestrator) turns ``retryable`` and
``retry_after`` into Temporal's retry decisions.

::

    ConnectorError
    ├── RetryableError                 a retry can help
    │   ├── TransientError             5xx, dropped connection
    │   │   ├── ConnectorTimeoutError  no answer in time (the write may have happened)
    │   │   └── MalformedResponseError the server answered something that is not JSON
    │   └── RateLimitError             429 and friends; ``retry_after`` says how long
    └── PermanentError                 a retry cannot help until something changes
        ├── AuthError                  missing, invalid or revoked token; no permission
        ├── NotFoundError              the object, table, board or channel is not there
        ├── ValidationError            the tool refused the request's content
        │   ├── UnknownFieldError      a field or column the tool does not know
        │   └── InvalidValueError      a value the field or column does not accept
        ├── ConflictError              someone else changed the object first
        └── PayloadTooLargeError       over the tool's size limit

Foreign exceptions (httpx's) are translated in exactly one place,
:func:`connectors.http.send`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

Tool = Literal["linear", "airtable", "monday", "slack"]


class ConnectorError(Exception):
    """Base of every connector error.

    Attributes:
        tool: which tool answered (``linear``, ``airtable``, ``monday``, ``slack``).
        operation: the connector operation, e.g. ``upsert_records``.
        code: the tool's own error code (``UNKNOWN_FIELD_NAME``, ``RATELIMITED``,
            ``channel_not_found``, ``ColumnValueException``…), when it gives one.
        field: the field or column the tool names, when it names one.
        status: the HTTP status, when there was a response.
        retry_after: seconds to wait before a retry can succeed, when known.
        details: anything else the tool said that helps (request id, error data).
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        tool: Tool,
        operation: str,
        code: str | None = None,
        field: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.tool: Tool = tool
        self.operation = operation
        self.code = code
        self.field = field
        self.status = status
        self.retry_after = retry_after
        self.details = details or {}

    def __str__(self) -> str:
        parts = [f"{self.tool}.{self.operation}: {self.message}"]
        if self.code:
            parts.append(f"code={self.code}")
        if self.field:
            parts.append(f"field={self.field!r}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after:g}s")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, for traces and for Temporal's error details."""
        return {
            "class": type(self).__name__,
            "tool": self.tool,
            "operation": self.operation,
            "message": self.message,
            "retryable": self.retryable,
            "code": self.code,
            "field": self.field,
            "status": self.status,
            "retry_after": self.retry_after,
            "details": self.details,
        }


class RetryableError(ConnectorError):
    """A retry can help, possibly after ``retry_after`` seconds."""

    retryable = True


class TransientError(RetryableError):
    """The tool failed on its side (5xx) or the connection dropped."""


class ConnectorTimeoutError(TransientError):
    """No answer in time. A write may still have happened: retry only idempotent writes."""


class MalformedResponseError(TransientError):
    """The tool answered with a body that is not the JSON it should be."""


class RateLimitError(RetryableError):
    """Over the tool's rate or complexity limit; ``retry_after`` says how long to wait."""


class PermanentError(ConnectorError):
    """A retry cannot help until a person or a spec change fixes something."""


class AuthError(PermanentError):
    """The token is missing, invalid, revoked, or lacks the permission."""


class NotFoundError(PermanentError):
    """The object, table, board, channel or user does not exist."""


class ValidationError(PermanentError):
    """The tool refused the content of the request."""


class UnknownFieldError(ValidationError):
    """The request names a field or column the tool does not know (see ``field``)."""


class InvalidValueError(ValidationError):
    """A value the field or column does not accept (see ``field``)."""


class ConflictError(PermanentError):
    """Someone else changed the object first."""


class PayloadTooLargeError(PermanentError):
    """The request is over the tool's size limit."""


ALL_ERRORS: tuple[type[ConnectorError], ...] = (
    TransientError,
    ConnectorTimeoutError,
    MalformedResponseError,
    RateLimitError,
    AuthError,
    NotFoundError,
    ValidationError,
    UnknownFieldError,
    InvalidValueError,
    ConflictError,
    PayloadTooLargeError,
)


def error_for_status(status: int) -> type[ConnectorError]:
    """The error class a bare HTTP status means when the body says nothing more."""
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 413:
        return PayloadTooLargeError
    if status == 429:
        return RateLimitError
    if status in (408, 504):
        return ConnectorTimeoutError
    if status >= 500:
        return TransientError
    return ValidationError
