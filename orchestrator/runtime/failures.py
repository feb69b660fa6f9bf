"""The activity boundary: our exceptions become Temporal's ``ApplicationError``.

Connectors never retry; they say whether a retry can help and when. Here that becomes
``non_retryable`` and ``next_retry_delay``, so Temporal does the retrying with the step's
retry policy. The error's description travels in ``details[0]``, where the tracer reads
the tool's code, the field and the HTTP status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from temporalio.exceptions import ApplicationError

from connectors.errors import ConnectorError
from connectors.retry import InnerRetry
from orchestrator.spec.transform import TransformError


class ResultTooLargeError(Exception):
    """A step's result is over Temporal's payload limit, so it cannot be handed on.

    Not retryable: the same input gives the same output. ``size`` and ``limit`` are the
    bytes of the result as Temporal measures it (the serialised payload) and the limit.
    """

    def __init__(self, message: str, *, size: int, limit: int, field: str | None) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit
        self.field = field


def to_application_error(exc: Exception, *, step_id: str, op: str) -> ApplicationError:
    """The ``ApplicationError`` Temporal should see for ``exc`` raised by a step."""
    if isinstance(exc, ConnectorError):
        delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        return ApplicationError(
            str(exc),
            exc.to_dict(),
            type=type(exc).__name__,
            non_retryable=not exc.retryable,
            next_retry_delay=delay,
        )
    if isinstance(exc, TransformError):
        details: dict[str, Any] = {
            "class": "TransformError",
            "message": str(exc),
            "retryable": False,
            "code": exc.code,
            "field": exc.field,
        }
        return ApplicationError(str(exc), details, type="TransformError", non_retryable=True)
    if isinstance(exc, ResultTooLargeError):
        details = {
            "class": "PayloadTooLarge",
            "message": str(exc),
            "retryable": False,
            "code": "payload_too_large",
            "field": exc.field,
            "size": exc.size,
            "limit": exc.limit,
        }
        return ApplicationError(str(exc), details, type="PayloadTooLarge", non_retryable=True)
    if isinstance(exc, PydanticValidationError):
        message = f"step `{step_id}` ({op}): invalid arguments: {_first_errors(exc)}"
        field = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else None
        details = {
            "class": "InvalidArguments",
            "message": message,
            "retryable": False,
            "code": "invalid_arguments",
            "field": field,
        }
        return ApplicationError(message, details, type="InvalidArguments", non_retryable=True)
    return ApplicationError(
        f"step `{step_id}` ({op}): {type(exc).__name__}: {exc}",
        {"class": type(exc).__name__, "message": str(exc), "retryable": True},
        type=type(exc).__name__,
    )


def attach_retries(error: ApplicationError, retried: Sequence[InnerRetry]) -> None:
    """Put the attempt's inner retries on its error, so the trace keeps them."""
    first = error.details[0] if error.details else None
    if retried and isinstance(first, dict):
        first["inner_retries"] = [r.as_json() for r in retried]


def _first_errors(exc: PydanticValidationError, limit: int = 3) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "(arguments)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
