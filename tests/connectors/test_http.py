"""The one translation of httpx's failures into connector errors, over real sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from connectors import errors
from connectors.http import parse_json, retry_after_seconds, send


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def closed_port() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


async def test_timeout_becomes_connector_timeout(silent_server: str) -> None:
    async with httpx.AsyncClient(timeout=0.2) as http:
        with pytest.raises(errors.ConnectorTimeoutError) as info:
            await send(
                http, http.build_request("GET", silent_server), tool="linear", operation="issue"
            )
    assert info.value.retryable
    assert info.value.tool == "linear"


async def test_refused_connection_is_transient(closed_port: str) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        with pytest.raises(errors.TransientError) as info:
            await send(
                http,
                http.build_request("GET", closed_port),
                tool="slack",
                operation="chat.postMessage",
            )
    assert info.value.retryable
    assert "could not reach" in str(info.value)


def test_malformed_json_is_reported_with_a_snippet() -> None:
    response = httpx.Response(
        502, content=b"<html>Bad gateway</html>", headers={"content-type": "text/html"}
    )
    with pytest.raises(errors.MalformedResponseError) as info:
        parse_json(response, tool="monday", operation="create_item")
    assert "Bad gateway" in str(info.value)
    assert info.value.status == 502


def test_retry_after_header() -> None:
    assert retry_after_seconds(httpx.Response(429, headers={"retry-after": "30"})) == 30.0
    assert retry_after_seconds(httpx.Response(429)) is None
    assert retry_after_seconds(httpx.Response(429, headers={"retry-after": "soon"})) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, errors.AuthError),
        (403, errors.AuthError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (413, errors.PayloadTooLargeError),
        (422, errors.ValidationError),
        (429, errors.RateLimitError),
        (500, errors.TransientError),
        (503, errors.TransientError),
        (504, errors.ConnectorTimeoutError),
    ],
)
def test_every_status_maps(status: int, expected: type[errors.ConnectorError]) -> None:
    assert errors.error_for_status(status) is expected


def test_error_describes_itself() -> None:
    error = errors.UnknownFieldError(
        'Unknown field name: "Priority"',
        tool="airtable",
        operation="upsert_records",
        code="UNKNOWN_FIELD_NAME",
        field="Priority",
        status=422,
    )
    described = error.to_dict()
    assert described["class"] == "UnknownFieldError"
    assert described["retryable"] is False
    assert described["field"] == "Priority"
    assert "field='Priority'" in str(error)
    assert all(issubclass(cls, errors.ConnectorError) for cls in errors.ALL_ERRORS)


async def test_a_request_we_cannot_send_is_not_retryable(silent_server: str) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        request = http.build_request("GET", silent_server, headers={"authorization": "Bearer \n"})
        with pytest.raises(errors.ValidationError) as info:
            await send(http, request, tool="airtable", operation="list_records")
    assert not info.value.retryable
