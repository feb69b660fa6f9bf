"""Slack's failures become the right connector errors, from the table and live.

The table test feeds :func:`check_response` each code Slack can answer; the live tests
provoke each validation failure from the sandbox through the client.
"""

from __future__ import annotations

import json
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
    PayloadTooLargeError,
    PermanentError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
    ValidationError,
)
from connectors.sandbox.seed import SeedData
from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from connectors.slack.emulator import SlackEmulator
from connectors.slack.error_map import SLACK_ERRORS, check_response
from tests.connectors.slack.support import http_client


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = httpx.Request("POST", "http://slack.test/api/chat.postMessage")
    return httpx.Response(status, content=content, headers=headers, request=request)


def _raised(response: httpx.Response) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        check_response(response, operation="post_message")
    return caught.value


@pytest.mark.parametrize("code", sorted(SLACK_ERRORS))
def test_every_slack_code_in_the_table_maps_to_its_class(code: str) -> None:
    error = _raised(_response(200, {"ok": False, "error": code}))
    assert type(error) is SLACK_ERRORS[code].error and type(error) in ALL_ERRORS
    assert (error.tool, error.code, error.status) == ("slack", code, 200)
    assert error.field == SLACK_ERRORS[code].field
    assert code in str(error)


def test_the_table_covers_the_codes_the_brief_names() -> None:
    assert SLACK_ERRORS["channel_not_found"].error is NotFoundError
    assert {SLACK_ERRORS[c].error for c in ("not_authed", "invalid_auth", "token_revoked")} == {
        AuthError
    }
    assert SLACK_ERRORS["msg_too_long"].error is PayloadTooLargeError
    assert SLACK_ERRORS["ratelimited"].error is RateLimitError
    assert issubclass(SLACK_ERRORS["is_archived"].error, PermanentError)
    assert issubclass(SLACK_ERRORS["cant_update_message"].error, PermanentError)


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}, RateLimitError),
        (429, b"slow down", {"Retry-After": "3"}, RateLimitError),
        (500, {"ok": False, "error": "internal_error"}, None, TransientError),
        (503, {"ok": False, "error": "channel_not_found"}, None, TransientError),
        (504, b"upstream request timeout", None, ConnectorTimeoutError),
        (502, b"<html>bad gateway</html>", None, MalformedResponseError),
        (200, b'{"ok":false,"error":"inter', None, MalformedResponseError),
        (200, {"channels": []}, None, MalformedResponseError),
        (200, {"ok": False, "error": "some_new_code"}, None, PermanentError),
        (400, {"ok": False, "error": "some_new_code"}, None, ValidationError),
        (404, {"ok": False, "error": "unknown_method"}, None, NotFoundError),
    ],
)
def test_statuses_and_bodies_without_a_known_code(
    status: int, body: Any, headers: dict[str, str] | None, expected: type[ConnectorError]
) -> None:
    error = _raised(_response(status, body, headers))
    assert type(error) is expected and error.status == status
    if headers:
        assert error.retry_after == float(headers["Retry-After"])


def test_fields_come_from_slacks_own_messages() -> None:
    body = {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["[ERROR] missing required field: channel"]},
    }
    error = _raised(_response(200, body))
    assert isinstance(error, InvalidValueError) and error.field == "channel"
    assert error.details["messages"] == ["[ERROR] missing required field: channel"]


async def test_unknown_channel_and_user_are_not_found(slack: SlackClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await slack.post_message("#no-such-channel", "hello")
    assert (caught.value.code, caught.value.field) == ("channel_not_found", "channel")
    with pytest.raises(NotFoundError) as caught:
        await slack.find_channel("no-such-channel")
    assert caught.value.code == "channel_not_found"
    with pytest.raises(NotFoundError) as caught:
        await slack.lookup_user_by_email("nobody@example.com")
    assert (caught.value.code, caught.value.field) == ("users_not_found", "email")


async def test_unknown_thread_and_message_are_not_found(slack: SlackClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await slack.post_message("triage", "reply", thread_ts="1700000000.000100")
    assert (caught.value.code, caught.value.field) == ("thread_not_found", "thread_ts")
    with pytest.raises(NotFoundError) as caught:
        await slack.update_message("triage", "1700000000.000100", text="x")
    assert (caught.value.code, caught.value.field) == ("message_not_found", "ts")


async def test_invalid_values_name_the_argument(slack: SlackClient) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"text": ""}, "no_text", "text"),
        ({"text": "x", "blocks": [{"type": "sectionx"}]}, "invalid_blocks", "blocks"),
        (
            {"text": "x", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]},
            "invalid_blocks",
            "blocks",
        ),
    ]
    for kwargs, code, field in cases:
        with pytest.raises(InvalidValueError) as caught:
            await slack.post_message("triage", **kwargs)
        assert (caught.value.code, caught.value.field) == (code, field)
    with pytest.raises(InvalidValueError) as caught:
        await slack.post_message("", "no channel")
    assert (caught.value.code, caught.value.field) == ("invalid_arguments", "channel")


async def test_an_unknown_block_property_is_an_unknown_field(slack: SlackClient) -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}, "colour": "red"}
    with pytest.raises(UnknownFieldError) as caught:
        await slack.post_message("triage", "x", blocks=[block])
    assert (caught.value.code, caught.value.field) == ("invalid_blocks", "blocks")
    assert "colour" in caught.value.details["messages"][0]


async def test_a_bad_argument_name_is_an_unknown_field(sandbox: Sandbox) -> None:
    async with http_client() as http:
        response = await http.post(
            sandbox.urls["slack"] + "auth.test",
            data={"bad-name!": "1"},
            headers={"Authorization": "Bearer xoxb-test"},
        )
    error = _raised(response)
    assert isinstance(error, UnknownFieldError) and error.field == "bad-name!"


async def test_text_over_forty_thousand_characters_is_too_long(slack: SlackClient) -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        await slack.post_message("triage", "x" * 40_001)
    assert (caught.value.code, caught.value.field) == ("msg_too_long", "text")
    assert (await slack.post_message("triage", "x" * 40_000)).write.action == "created"


async def test_the_bot_cannot_update_or_delete_a_persons_message(
    slack: SlackClient, emulator: SlackEmulator, seed: SeedData
) -> None:
    said = emulator.post_as_person(seed.people[2].slack_user_id, "triage", "my words")
    with pytest.raises(InvalidValueError) as caught:
        await slack.update_message("triage", said["ts"], text="the bot's words")
    assert (caught.value.code, caught.value.field) == ("cant_update_message", "ts")
    with pytest.raises(InvalidValueError) as caught:
        await slack.delete_message("triage", said["ts"])
    assert caught.value.code == "cant_delete_message"
