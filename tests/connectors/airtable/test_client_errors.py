"""Every error class the client raises, each produced by the sandbox over real HTTP."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from connectors.airtable.client import AirtableClient
from connectors.airtable.models import RecordUpdate
from connectors.errors import (
    AuthError,
    ConnectorTimeoutError,
    InvalidValueError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    TransientError,
    UnknownFieldError,
    ValidationError,
)
from connectors.retry import SINGLE_TRY
from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox

from .conftest import TLS, TOKEN


def fault(kind: str, **fields: object) -> Fault:
    return Fault.model_validate({"service": "airtable", "kind": kind, **fields})


async def test_rate_limit_fault(client: AirtableClient, base_id: str, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("rate_limit", times=1)])

    with pytest.raises(RateLimitError) as caught:
        await client.all_records(base_id, "Intake")

    assert caught.value.status == 429
    assert caught.value.code == "RATE_LIMIT_REACHED"
    assert caught.value.retry_after == 30  # Airtable's fixed penalty
    assert caught.value.retryable
    assert len(await client.all_records(base_id, "Intake")) == 12


async def test_rate_limit_fault_with_retry_after(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("rate_limit", times=1, retry_after=2)])

    with pytest.raises(RateLimitError) as caught:
        await client.get_table_schema(base_id, "Issues")

    assert caught.value.retry_after == 2


async def test_real_rate_limit_blocks_the_base_for_thirty_seconds(
    http: httpx.AsyncClient,
) -> None:
    with Sandbox(services=["airtable"], rate_limits=True) as limited:
        client = AirtableClient(
            http, base_url=limited.urls["airtable"], token=TOKEN, retry=SINGLE_TRY
        )
        base = limited.data.airtable_base_id
        # 20 at once: even on a slow machine they arrive well within the 3 s that 5/s
        # plus a burst of 5 would need to let them all through.
        outcomes = await _burst(client, base, 20)
        assert outcomes.count("ok") < 20
        assert "limited" in outcomes

        with pytest.raises(RateLimitError) as caught:
            await client.get_record(base, "Intake", "recWhatever")
        assert caught.value.retry_after is not None
        assert caught.value.retry_after > 25


async def _burst(client: AirtableClient, base: str, count: int) -> list[str]:
    async def one() -> str:
        try:
            await client.get_table_schema(base, "Intake")
        except RateLimitError:
            return "limited"
        return "ok"

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_missing_token(sandbox: Sandbox, http: httpx.AsyncClient, base_id: str) -> None:
    client = AirtableClient(http, base_url=sandbox.urls["airtable"], token="")

    with pytest.raises(AuthError) as caught:
        await client.all_records(base_id, "Intake")

    assert caught.value.status == 401
    assert caught.value.code == "AUTHENTICATION_REQUIRED"
    assert not caught.value.retryable


async def test_revoked_token(client: AirtableClient, base_id: str, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("revoke_token")])

    with pytest.raises(AuthError) as caught:
        await client.upsert_records(base_id, "Issues", [{"Linear ID": "ENG-1"}], ["Linear ID"])

    assert caught.value.status == 401


async def test_unknown_field(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(UnknownFieldError) as caught:
        await client.create_records(base_id, "Issues", [{"Linear ID": "ENG-1", "Severity": 2}])

    assert caught.value.code == "UNKNOWN_FIELD_NAME"
    assert caught.value.field == "Severity"
    assert caught.value.status == 422


async def test_unknown_field_in_formula(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(UnknownFieldError) as caught:
        await client.all_records(base_id, "Intake", formula="{Severity} = 'High'")

    assert caught.value.code == "INVALID_FILTER_BY_FORMULA"
    assert caught.value.field == "Severity"


async def test_invalid_value(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await client.create_records(base_id, "Issues", [{"Linear ID": "ENG-1", "Due": "soon"}])

    assert caught.value.code == "INVALID_VALUE_FOR_COLUMN"
    assert caught.value.field == "Due"
    assert await client.all_records(base_id, "Issues") == []  # nothing half-written


async def test_unknown_select_option_names_the_field(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await client.upsert_records(
            base_id, "Issues", [{"Linear ID": "ENG-1", "Priority": "Critical"}], ["Linear ID"]
        )

    assert caught.value.code == "INVALID_MULTIPLE_CHOICE_OPTIONS"
    assert caught.value.field == "Priority"


async def test_typecast_creates_the_option(client: AirtableClient, base_id: str) -> None:
    await client.create_records(
        base_id, "Issues", [{"Linear ID": "ENG-1", "Priority": "Critical"}], typecast=True
    )

    schema = await client.get_table_schema(base_id, "Issues")
    priority = schema.field("Priority")
    assert priority is not None
    assert "Critical" in [c.name for c in priority.choices]


async def test_computed_field_refuses_writes(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await client.create_records(
            base_id, "Issues", [{"Linear ID": "ENG-1", "Created": "2026-01-01"}]
        )

    assert caught.value.field == "Created"
    assert "computed" in caught.value.message


async def test_missing_merge_field_is_rejected(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(ValidationError) as caught:
        await client.upsert_records(base_id, "Issues", [{"Title": "no key"}], ["Linear ID"])

    assert caught.value.field == "Linear ID"
    assert await client.all_records(base_id, "Issues") == []


async def test_merge_on_needs_one_to_three_fields(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(ValidationError):
        await client.upsert_records(base_id, "Issues", [{"Title": "x"}], [])


async def test_not_found(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(NotFoundError) as missing_record:
        await client.get_record(base_id, "Issues", "recDoesNotExist01")
    with pytest.raises(NotFoundError) as missing_table:
        await client.all_records(base_id, "Tickets")
    with pytest.raises(NotFoundError) as missing_row:
        await client.delete_records(base_id, "Issues", ["recDoesNotExist01"])
    with pytest.raises(NotFoundError) as missing_schema:
        await client.get_table_schema(base_id, "Tickets")

    assert (missing_record.value.status, missing_record.value.code) == (404, "NOT_FOUND")
    assert missing_table.value.code == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"
    assert missing_table.value.status == 403
    assert missing_row.value.status == 404
    assert missing_schema.value.code == "TABLE_NOT_FOUND"


async def test_update_of_a_missing_record(client: AirtableClient, base_id: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.update_records(
            base_id, "Issues", [RecordUpdate(id="recDoesNotExist01", fields={"Title": "x"})]
        )

    assert caught.value.code == "ROW_DOES_NOT_EXIST"


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    client: AirtableClient, base_id: str, sandbox: Sandbox, status: int
) -> None:
    sandbox.add_faults([fault("http_error", status=status, times=1)])

    with pytest.raises(TransientError) as caught:
        await client.all_records(base_id, "Intake")

    assert caught.value.status == status
    assert caught.value.retryable


async def test_timeout(base_id: str, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("latency", seconds=0.6, times=1)])

    async with httpx.AsyncClient(timeout=0.2, verify=TLS) as impatient:
        client = AirtableClient(
            impatient, base_url=sandbox.urls["airtable"], token=TOKEN, retry=SINGLE_TRY
        )
        with pytest.raises(ConnectorTimeoutError) as caught:
            await client.get_table_schema(base_id, "Issues")

    assert caught.value.retryable


async def test_malformed_json(client: AirtableClient, base_id: str, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("http_error", status=200, code="malformed_json", times=1)])

    with pytest.raises(MalformedResponseError) as caught:
        await client.all_records(base_id, "Intake")

    assert caught.value.status == 200


async def test_malformed_error_body_still_maps_by_status(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("http_error", status=503, code="malformed_json", times=1)])

    with pytest.raises(TransientError) as caught:
        await client.all_records(base_id, "Intake")

    assert caught.value.status == 503


async def test_expired_offset_says_list_again(
    client: AirtableClient, base_id: str, sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    pages = client.list_records(base_id, "Intake", page_size=5)
    first = await anext(pages)
    assert first.offset is not None
    await pages.aclose()
    url = f"{sandbox.urls['airtable']}/v0/{base_id}/Intake"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    ok = await http.get(url, params={"offset": first.offset}, headers=headers)
    stale = await http.get(url, params={"offset": first.offset}, headers=headers)

    assert ok.status_code == 200
    assert stale.status_code == 422
    assert stale.json()["error"]["type"] == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"


async def test_more_than_ten_records_is_refused_like_airtable(
    sandbox: Sandbox, http: httpx.AsyncClient, base_id: str
) -> None:
    records = [{"fields": {"Linear ID": f"ENG-{n}"}} for n in range(11)]

    response = await http.post(
        f"{sandbox.urls['airtable']}/v0/{base_id}/Issues",
        json={"records": records},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["type"] == "INVALID_RECORDS"
    assert "maximum of 10 records" in response.json()["error"]["message"]


async def test_duplicate_on_timeout_then_retry_leaves_one_record(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("duplicate_on_timeout", times=1, operation="upsert_records")])
    issue = {"Linear ID": "ENG-101", "Title": "Checkout"}

    with pytest.raises(ConnectorTimeoutError) as caught:
        await client.upsert_records(base_id, "Issues", [issue], merge_on=["Linear ID"])
    retried = await client.upsert_records(base_id, "Issues", [issue], merge_on=["Linear ID"])

    assert caught.value.status == 504
    assert [w.action for w in retried.writes] == ["unchanged"]
    assert len(await client.all_records(base_id, "Issues")) == 1


async def test_a_success_status_with_an_error_body_is_malformed(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("http_error", status=200, code="SERVER_ERROR", times=1)])

    with pytest.raises(MalformedResponseError):
        await client.get_record(base_id, "Intake", "recAnything0001")
