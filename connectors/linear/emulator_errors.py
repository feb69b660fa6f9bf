"""Linear's error bodies, as the emulator sends them.

Every error uses the standard GraphQL ``{"data": …, "errors": [{message, path, locations,
extensions}]}`` shape, with the extensions Linear's own SDK reads (``type``, ``code``,
``statusCode``, ``userError``, ``userPresentableMessage``):

================================  ===========================  ======================
situation                         extensions.code / type        HTTP status
================================  ===========================  ======================
no or revoked token               AUTHENTICATION_ERROR /        401
                                  "authentication error"
rate or complexity limit          RATELIMITED / "ratelimited"   400 (see below)
unknown field (schema drift)      GRAPHQL_VALIDATION_FAILED     400
bad variable value                BAD_USER_INPUT                400
argument validation, bad refs     INVALID_INPUT / "invalid      200 (execution error)
                                  input"
a query above 10,000 points       INPUT_ERROR / "invalid input" 400
the object asked for is missing   INPUT_ERROR / "invalid input" 200 (execution error)
================================  ===========================  ======================

Rate limits answer **400**: most clients seen in the wild (and Linear's own forum answers)
report ``HTTP 400`` with ``extensions.code == "RATELIMITED"``; one reports 429. The body
says ``statusCode: 429`` either way, and the connector reads the code, never the status.
"""

from __future__ import annotations

import math
import re
from typing import Any

from graphql import GraphQLError

RATE_LIMIT_STATUS = 400
_QUOTED = re.compile(r"'([$\w./-]+)'")

# Linear's SDK names these ``extensions.type`` values; the codes are the wire codes.
_TYPE_OF_CODE: dict[str, str] = {
    "AUTHENTICATION_ERROR": "authentication error",
    "FORBIDDEN": "forbidden",
    "RATELIMITED": "ratelimited",
    "INVALID_INPUT": "invalid input",
    "INPUT_ERROR": "invalid input",
    "BAD_USER_INPUT": "graphql error",
    "GRAPHQL_VALIDATION_FAILED": "graphql error",
    "GRAPHQL_PARSE_FAILED": "graphql error",
    "LOCK_TIMEOUT": "lock timeout",
    "USAGE_LIMIT_EXCEEDED": "usage limit exceeded",
    "INTERNAL_SERVER_ERROR": "internal error",
}

_CODE_OF_STATUS: dict[int, str] = {
    400: "INVALID_INPUT",
    401: "AUTHENTICATION_ERROR",
    403: "FORBIDDEN",
    429: "RATELIMITED",
    504: "GATEWAY_TIMEOUT",
}


def extensions(code: str, status_code: int, user_message: str, **extra: Any) -> dict[str, Any]:
    """The ``extensions`` object Linear attaches to an error."""
    return {
        "type": _TYPE_OF_CODE.get(code, "unknown"),
        "code": code,
        "statusCode": status_code,
        "userError": status_code < 500,
        "userPresentableMessage": user_message,
        **extra,
    }


def error_body(message: str, ext: dict[str, Any]) -> dict[str, Any]:
    """A whole response body carrying one error and no data."""
    return {"errors": [{"message": message, "extensions": ext}]}


def authentication_error() -> dict[str, Any]:
    """Linear's body for a missing, invalid or revoked API key (captured from the API)."""
    return error_body(
        "Authentication required, not authenticated",
        extensions(
            "AUTHENTICATION_ERROR", 401, "You need to authenticate to access this operation."
        ),
    )


def ratelimited_error(limit: int, window: str) -> dict[str, Any]:
    """Linear's RATELIMITED body."""
    return error_body(
        f"Rate limit exceeded. Only {limit} {window} are allowed per 1 hour.",
        extensions("RATELIMITED", 429, "Too many requests. Please wait a moment and try again."),
    )


def server_error(status: int, code: str | None) -> dict[str, Any]:
    """The body of an injected ``http_error`` fault."""
    wire_code = code or _CODE_OF_STATUS.get(status, "INTERNAL_SERVER_ERROR")
    message = "Internal server error" if status >= 500 else f"Request failed ({wire_code})"
    return error_body(message, extensions(wire_code, status, "Something went wrong."))


def gateway_timeout() -> dict[str, Any]:
    """What the edge answers when the origin took too long."""
    return error_body(
        "Gateway timeout: the request took too long.",
        extensions("GATEWAY_TIMEOUT", 504, "The request timed out. Please try again."),
    )


def too_complex(cost: float, limit: int) -> dict[str, Any]:
    """Linear's answer (HTTP 400) to a single query above the complexity ceiling."""
    detail = f"The query is too complex. Complexity: {cost}. Maximum allowed complexity: {limit}."
    ext = extensions("INPUT_ERROR", 400, detail, http={"status": 400})
    return error_body("Query too complex", ext)


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` in whole seconds, never 0 while limited."""
    return str(max(1, math.ceil(seconds)))


def entity_not_found(entity: str) -> GraphQLError:
    """The object a query or mutation names by id does not exist."""
    return GraphQLError(
        f"Entity not found: {entity}",
        extensions=extensions("INPUT_ERROR", 400, f"Could not find referenced {entity}."),
    )


def invalid_input(field: str, problem: str) -> GraphQLError:
    """An argument failed validation; ``validationErrors`` names the input property."""
    return GraphQLError(
        "Argument Validation Error",
        extensions=extensions(
            "INVALID_INPUT",
            400,
            problem,
            validationErrors=[{"property": field, "constraints": {"invalid": problem}}],
        ),
    )


def reference_not_found(entity: str, field: str) -> GraphQLError:
    """An input field references an entity that does not exist (or no longer does)."""
    return GraphQLError(
        f"Entity not found: {entity}: {field} contained an entry that could not be found.",
        extensions=extensions(
            "INVALID_INPUT",
            400,
            f"Could not find referenced {entity}.",
            validationErrors=[
                {"property": field, "constraints": {"exists": f"{entity} not found"}}
            ],
        ),
    )


def request_errors(errors: list[GraphQLError], code: str) -> dict[str, Any]:
    """Errors found before execution (parse, validation, variables), with ``code``.

    Messages quote names the way Linear's server (graphql-js) does: ``"dueDate"``.
    """
    formatted = []
    for error in errors:
        entry = error.formatted
        entry["message"] = _QUOTED.sub(r'"\1"', error.message)
        entry["extensions"] = extensions(code, 400, entry["message"])
        formatted.append(entry)
    return {"errors": formatted}
