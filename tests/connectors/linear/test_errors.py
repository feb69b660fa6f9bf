"""Every error class, provoked over real HTTP: transport faults, auth, limits, tool errors."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import (
    AuthError,
    ConnectorTimeoutError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
)
from connectors.linear import LinearClient
from connectors.linear.models import IssueCreate
from connectors.retry import SINGLE_TRY, recording_retries
from connectors.sandbox.server import Sandbox
from tests.connectors.linear.helpers import TOKEN, fault


async def test_rate_limit_fault_is_read_from_the_body(
    client: LinearClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("rate_limit", retry_after=12, times=1)])
    with pytest.raises(RateLimitError) as caught:
        await client.get_issue("ENG-101")
    error = caught.value
    assert (error.code, error.status, error.retry_after) == ("RATELIMITED", 400, 12.0)
    assert error.retryable
    assert (await client.get_issue("ENG-101")).identifier == "ENG-101"


async def test_real_complexity_limit_runs_out(http: httpx.AsyncClient) -> None:
    with Sandbox(seed=7, services=["linear"], rate_limits=True) as limited:
        client = LinearClient(http, base_url=limited.urls["linear"], token=TOKEN, retry=SINGLE_TRY)
        error = await _until_rate_limited(client, attempts=80)
        assert (error.code, error.status) == ("RATELIMITED", 400)
        assert error.retry_after is not None
        assert error.retry_after > 0
        statuses = [e.status for e in limited.journal.list("linear")]
        assert 44 <= statuses.count(200) <= 50
        assert statuses[-1] == 400


async def _until_rate_limited(client: LinearClient, attempts: int) -> RateLimitError:
    """Page through 100 issues at a time (~5,230 of 250,000 points) until refused."""
    for _ in range(attempts):
        try:
            await client.list_issues(first=100)
        except RateLimitError as exc:
            return exc
    raise AssertionError(f"not rate limited after {attempts} requests")


async def test_missing_token_is_an_auth_error(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    anonymous = LinearClient(http, base_url=sandbox.urls["linear"], token="")
    with pytest.raises(AuthError) as caught:
        await anonymous.get_issue("ENG-101")
    assert (caught.value.code, caught.value.status) == ("AUTHENTICATION_ERROR", 401)
    assert not caught.value.retryable


async def test_revoked_token_is_an_auth_error(client: LinearClient, sandbox: Sandbox) -> None:
    await client.get_issue("ENG-101")
    sandbox.add_faults([fault("revoke_token")])
    with pytest.raises(AuthError) as caught:
        await client.list_issues()
    assert caught.value.code == "AUTHENTICATION_ERROR"


async def test_forbidden_is_an_auth_error(client: LinearClient, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("http_error", status=403, code="FORBIDDEN", times=1)])
    with pytest.raises(AuthError) as caught:
        await client.get_issue("ENG-101")
    assert (caught.value.code, caught.value.status) == ("FORBIDDEN", 403)


async def test_server_error_is_transient(client: LinearClient, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("http_error", status=503, times=1)])
    with pytest.raises(TransientError) as caught:
        await client.list_users()
    assert caught.value.status == 503
    assert caught.value.retryable


async def test_nobody_listening_is_transient(http: httpx.AsyncClient) -> None:
    with Sandbox(seed=7, services=["linear"]) as stopped:
        url = stopped.urls["linear"]
    client = LinearClient(http, base_url=url, token=TOKEN, retry=SINGLE_TRY)
    with pytest.raises(TransientError) as caught:
        await client.get_issue("ENG-101")
    assert caught.value.status is None
    assert caught.value.retryable


async def test_slow_answer_is_a_timeout(sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("latency", seconds=0.5, times=1)])
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.1)) as impatient:
        client = LinearClient(
            impatient, base_url=sandbox.urls["linear"], token=TOKEN, retry=SINGLE_TRY
        )
        with pytest.raises(ConnectorTimeoutError) as caught:
            await client.get_issue("ENG-101")
    assert caught.value.operation == "get_issue"


@pytest.mark.parametrize("status", [200, 500])
async def test_cut_off_json_is_malformed(
    client: LinearClient, sandbox: Sandbox, status: int
) -> None:
    sandbox.add_faults([fault("http_error", status=status, code="malformed_json", times=1)])
    with pytest.raises(MalformedResponseError) as caught:
        await client.get_issue("ENG-101")
    assert caught.value.status == status


async def test_unknown_issue_is_not_found(client: LinearClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.get_issue("ENG-4040")
    assert caught.value.code == "INPUT_ERROR"
    assert caught.value.field is None


async def test_unknown_field_names_the_field(client: LinearClient, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("rename_field", target="priorityLabel", to="priorityName")])
    with pytest.raises(UnknownFieldError) as caught:
        await client.get_issue("ENG-101")
    error = caught.value
    assert (error.field, error.code, error.status) == (
        "priorityLabel",
        "GRAPHQL_VALIDATION_FAILED",
        400,
    )
    assert 'Cannot query field "priorityLabel" on type "Issue"' in error.message


async def test_a_create_that_landed_behind_a_timeout_is_found_by_its_id(sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("duplicate_on_timeout", operation="issueCreate", times=1)])
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        client = LinearClient(http, base_url=sandbox.urls["linear"], token=TOKEN)
        with recording_retries() as log:
            written = await client.upsert_issue(
                "intake:rec901", IssueCreate(team_key="ENG", title="Checkout slow")
            )
    assert written.write.action == "created"
    assert [r.reconciled for r in log] == [True]
