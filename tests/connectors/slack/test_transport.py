"""Transport faults and the real rate limits, seen through the client.

The shared layer injects these faults; the emulator shapes them Slack's way and the
client must turn each into the right error class.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.errors import (
    AuthError,
    ConnectorTimeoutError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    TransientError,
)
from connectors.retry import SINGLE_TRY
from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from connectors.slack.emulator import POST_BURST
from tests.connectors.slack.support import http_client


@pytest.fixture
def limited() -> Iterator[Sandbox]:
    with Sandbox(services=["slack"], rate_limits=True) as running:
        yield running


def _fault(**fields: object) -> Fault:
    return Fault.model_validate({"service": "slack", **fields})


async def test_a_rate_limit_fault_is_a_rate_limit_error_with_retry_after(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([_fault(kind="rate_limit", retry_after=12, times=1)])
    with pytest.raises(RateLimitError) as caught:
        await slack.post_message("triage", "hello")
    error = caught.value
    assert (error.code, error.status, error.retry_after) == ("ratelimited", 429, 12.0)
    assert error.retryable
    assert (await slack.post_message("triage", "hello")).write.action == "created"


async def test_the_real_per_channel_post_limit(limited: Sandbox, http: httpx.AsyncClient) -> None:
    slack = SlackClient(http, base_url=limited.urls["slack"], token="xoxb-test", retry=SINGLE_TRY)
    for n in range(int(POST_BURST)):
        await slack.post_message("triage", f"burst {n}")
    with pytest.raises(RateLimitError) as caught:
        await slack.post_message("#triage", "one too many")
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    # the limit is per channel: another channel still takes posts
    assert (await slack.post_message("incidents", "elsewhere")).write.action == "created"


async def test_the_real_tier_two_limit_on_conversations_list(
    limited: Sandbox, http: httpx.AsyncClient
) -> None:
    slack = SlackClient(http, base_url=limited.urls["slack"], token="xoxb-test", retry=SINGLE_TRY)
    for _ in range(20):  # Tier 2: 20 a minute
        await slack.list_channels()
    with pytest.raises(RateLimitError) as caught:
        await slack.list_channels()
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 3


async def test_a_missing_token_is_not_authed(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    slack = SlackClient(http, base_url=sandbox.urls["slack"], token="")
    with pytest.raises(AuthError) as caught:
        await slack.auth_test()
    assert (caught.value.code, caught.value.status) == ("not_authed", 200)


async def test_a_revoked_token_is_an_auth_error(slack: SlackClient, sandbox: Sandbox) -> None:
    sandbox.add_faults([_fault(kind="revoke_token")])
    with pytest.raises(AuthError) as caught:
        await slack.post_message("triage", "hello")
    assert caught.value.code == "token_revoked" and not caught.value.retryable


@pytest.mark.parametrize(
    ("status", "code"), [(500, "internal_error"), (503, "service_unavailable")]
)
async def test_server_errors_are_transient(
    slack: SlackClient, sandbox: Sandbox, status: int, code: str
) -> None:
    sandbox.add_faults([_fault(kind="http_error", status=status, times=1)])
    with pytest.raises(TransientError) as caught:
        await slack.history("triage")
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.retryable


async def test_an_injected_slack_code_is_mapped_like_a_real_one(
    slack: SlackClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([_fault(kind="http_error", status=200, code="channel_not_found")])
    with pytest.raises(NotFoundError):
        await slack.post_message("triage", "hello")


async def test_a_slow_answer_is_a_timeout(sandbox: Sandbox) -> None:
    sandbox.add_faults([_fault(kind="latency", seconds=0.6, times=1)])
    async with http_client(0.1) as http:
        slack = SlackClient(
            http, base_url=sandbox.urls["slack"], token="xoxb-test", retry=SINGLE_TRY
        )
        with pytest.raises(ConnectorTimeoutError) as caught:
            await slack.auth_test()
    assert caught.value.retryable and caught.value.operation == "auth_test"


async def test_malformed_json_is_a_malformed_response(slack: SlackClient, sandbox: Sandbox) -> None:
    sandbox.add_faults([_fault(kind="http_error", status=200, code="malformed_json", times=1)])
    with pytest.raises(MalformedResponseError) as caught:
        await slack.list_channels()
    assert caught.value.status == 200 and caught.value.retryable


async def test_the_token_may_also_come_as_a_form_field(sandbox: Sandbox) -> None:
    async with http_client() as http:
        url = sandbox.urls["slack"] + "auth.test"
        with_field = (await http.post(url, data={"token": "xoxb-form"})).json()
        without = (await http.post(url, data={})).json()
    assert with_field["ok"] is True
    assert without == {"ok": False, "error": "not_authed"}


@pytest.mark.parametrize(("status", "code"), [(401, "invalid_auth"), (403, "missing_scope")])
async def test_injected_auth_statuses_are_auth_errors(
    slack: SlackClient, sandbox: Sandbox, status: int, code: str
) -> None:
    sandbox.add_faults([_fault(kind="http_error", status=status, times=1)])
    with pytest.raises(AuthError) as caught:
        await slack.auth_test()
    assert (caught.value.status, caught.value.code) == (status, code)
