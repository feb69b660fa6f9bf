"""Every Slack failure becomes one :mod:`connectors.errors` class, here and only here.

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": code}``; rate
limits with HTTP 429 and ``Retry-After``; its edge answers 5xx, sometimes not in JSON.
:func:`check_response` returns the body of a success and raises for everything else:
the class comes from :data:`SLACK_ERRORS` by Slack's code, or from the HTTP status when
the code is unknown (an unknown code on HTTP 200 is a :class:`PermanentError`).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import httpx

from connectors.errors import (
    AuthError,
    ConnectorError,
    InvalidValueError,
    MalformedResponseError,
    NotFoundError,
    PayloadTooLargeError,
    PermanentError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
    error_for_status,
)
from connectors.http import parse_json, retry_after_seconds


class SlackErrorKind(NamedTuple):
    """What one of Slack's error codes means to us."""

    error: type[ConnectorError]
    field: str | None
    hint: str


_NOT_FOUND = "the channel does not exist, was renamed, or is private without the bot in it"
_AUTH = "check the bot token (SLACK_BOT_TOKEN) and the app's scopes"

SLACK_ERRORS: dict[str, SlackErrorKind] = {
    "channel_not_found": SlackErrorKind(NotFoundError, "channel", _NOT_FOUND),
    "users_not_found": SlackErrorKind(NotFoundError, "email", "no active user has this email"),
    "user_not_found": SlackErrorKind(NotFoundError, "user", "no such user"),
    "thread_not_found": SlackErrorKind(NotFoundError, "thread_ts", "no thread starts at this ts"),
    "message_not_found": SlackErrorKind(NotFoundError, "ts", "no message at this ts (deleted?)"),
    "not_authed": SlackErrorKind(AuthError, None, "no token was sent; " + _AUTH),
    "invalid_auth": SlackErrorKind(AuthError, None, "the token is not valid; " + _AUTH),
    "token_revoked": SlackErrorKind(AuthError, None, "the token was revoked; reinstall the app"),
    "token_expired": SlackErrorKind(AuthError, None, "the token expired; refresh it"),
    "account_inactive": SlackErrorKind(AuthError, None, "the bot or its workspace is inactive"),
    "missing_scope": SlackErrorKind(AuthError, None, "the token lacks a scope; " + _AUTH),
    "not_allowed_token_type": SlackErrorKind(AuthError, None, "this method wants another token"),
    "no_permission": SlackErrorKind(AuthError, None, "the bot lacks permission here"),
    "not_in_channel": SlackErrorKind(AuthError, "channel", "invite the bot to the channel"),
    "ratelimited": SlackErrorKind(RateLimitError, None, "over Slack's rate limit; wait"),
    "msg_too_long": SlackErrorKind(PayloadTooLargeError, "text", "text is over 40,000 characters"),
    "no_text": SlackErrorKind(InvalidValueError, "text", "give text or blocks"),
    "invalid_blocks": SlackErrorKind(InvalidValueError, "blocks", "blocks fail Block Kit checks"),
    "invalid_blocks_format": SlackErrorKind(InvalidValueError, "blocks", "blocks are not a list"),
    "invalid_arguments": SlackErrorKind(InvalidValueError, None, "an argument is missing/wrong"),
    "invalid_arg_name": SlackErrorKind(UnknownFieldError, None, "an argument name Slack rejects"),
    "invalid_metadata_format": SlackErrorKind(InvalidValueError, "metadata", "bad metadata"),
    "invalid_metadata_schema": SlackErrorKind(InvalidValueError, "metadata", "bad metadata"),
    "invalid_cursor": SlackErrorKind(InvalidValueError, "cursor", "the cursor is stale or bad"),
    "invalid_ts_latest": SlackErrorKind(InvalidValueError, "latest", "not a Slack ts"),
    "invalid_ts_oldest": SlackErrorKind(InvalidValueError, "oldest", "not a Slack ts"),
    "user_not_in_channel": SlackErrorKind(InvalidValueError, "user", "the user is not a member"),
    "is_archived": SlackErrorKind(
        InvalidValueError, "channel", "the channel is archived; unarchive it or post elsewhere"
    ),
    "cant_update_message": SlackErrorKind(
        InvalidValueError, "ts", "the message is not the bot's own; the bot can edit only its own"
    ),
    "cant_delete_message": SlackErrorKind(
        InvalidValueError, "ts", "the message is not the bot's own; the bot can delete only its own"
    ),
    "internal_error": SlackErrorKind(TransientError, None, "Slack failed on its side"),
    "fatal_error": SlackErrorKind(TransientError, None, "Slack failed on its side"),
    "service_unavailable": SlackErrorKind(TransientError, None, "Slack is unavailable"),
    "request_timeout": SlackErrorKind(TransientError, None, "the request body arrived cut off"),
}

_REQUIRED_FIELD = re.compile(r"missing required field: (\w+)")
_POINTER = re.compile(r"json-pointer:/(\w+)")
_ARG_NAME = re.compile(r"invalid argument name: (\S+)")


def check_response(response: httpx.Response, *, operation: str) -> dict[str, Any]:
    """The body of a successful call; raises the mapped error for anything else."""
    status = response.status_code
    try:
        body = parse_json(response, tool="slack", operation=operation)
    except MalformedResponseError:
        if status in (408, 429, 504):  # a gateway's own page: the status says it all
            raise _from_status(response, operation) from None
        raise
    if not isinstance(body, dict) or "ok" not in body:
        raise MalformedResponseError(
            f"expected Slack's {{ok: …}} envelope, got {str(body)[:200]!r}",
            tool="slack",
            operation=operation,
            status=status,
        )
    if body["ok"] is True and status < 400:
        return body
    raise slack_error(body, response, operation=operation)


def slack_error(
    body: dict[str, Any], response: httpx.Response, *, operation: str
) -> ConnectorError:
    """The error for an ``ok: false`` envelope (or a failing status with a JSON body)."""
    status = response.status_code
    code = str(body.get("error") or "") or None
    known = SLACK_ERRORS.get(code or "")
    if status == 429 or status >= 500 or known is None:
        # The status outranks the code: a 5xx is transient whatever the body says.
        fallback = PermanentError if status < 400 else error_for_status(status)
        known = SlackErrorKind(fallback, None, known.hint if known else f"HTTP {status}")
    meta = body.get("response_metadata") or {}
    messages = [str(m) for m in meta.get("messages", [])] if isinstance(meta, dict) else []
    details: dict[str, Any] = {
        k: body[k] for k in ("errors", "needed", "provided", "warning", "detail") if k in body
    }
    if messages:
        details["messages"] = messages
    if code == "invalid_blocks" and any("additional property" in m for m in messages):
        # A block key Block Kit does not know: an unknown field, not a bad value.
        known = known._replace(error=UnknownFieldError)
    return known.error(
        f"Slack answered {code or 'an error'}: {known.hint}",
        tool="slack",
        operation=operation,
        code=code,
        field=_named_field(messages, body.get("errors")) or known.field,
        status=status,
        retry_after=retry_after_seconds(response),
        details=details,
    )


def _named_field(messages: list[str], errors: Any) -> str | None:
    """The argument Slack's ``[ERROR] …`` messages name, if they name one."""
    texts = [*messages, *(str(e) for e in errors)] if isinstance(errors, list) else messages
    for text in texts:
        match = _REQUIRED_FIELD.search(text) or _POINTER.search(text) or _ARG_NAME.search(text)
        if match:
            return match.group(1)
    return None


def _from_status(response: httpx.Response, operation: str) -> ConnectorError:
    status = response.status_code
    return error_for_status(status)(
        f"HTTP {status} without a Slack envelope: {response.text[:120]!r}",
        tool="slack",
        operation=operation,
        status=status,
        retry_after=retry_after_seconds(response),
    )
