"""Airtable calls retried inside one attempt, against the sandbox's fault engine."""

from __future__ import annotations

import httpx
import pytest

from connectors.airtable.client import AirtableClient
from connectors.errors import TransientError
from connectors.retry import recording_retries
from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox
from tests.connectors.airtable.conftest import TOKEN


def retrying_client(sandbox: Sandbox, http: httpx.AsyncClient) -> AirtableClient:
    return AirtableClient(http, base_url=sandbox.urls["airtable"], token=TOKEN)


async def test_an_upsert_that_created_behind_a_timeout_is_one_created_record(
    sandbox: Sandbox, http: httpx.AsyncClient, base_id: str
) -> None:
    airtable = retrying_client(sandbox, http)
    sandbox.add_faults(
        [
            Fault(
                service="airtable", kind="duplicate_on_timeout", operation="upsert_records", times=1
            )
        ]
    )
    fields = {"Linear ID": "ENG-901", "Title": "Checkout slow"}
    with recording_retries() as log:
        result = await airtable.upsert_records(base_id, "Issues", [fields], ["Linear ID"])

    (write,) = result.writes
    assert (write.action, write.before) == ("created", None)  # rollback may delete it
    assert [r.reconciled for r in log] == [True]
    found = await airtable.all_records(base_id, "Issues", formula="{Linear ID}='ENG-901'")
    assert len(found) == 1


async def test_reads_absorb_server_errors(
    sandbox: Sandbox, http: httpx.AsyncClient, base_id: str
) -> None:
    airtable = retrying_client(sandbox, http)
    sandbox.add_faults([Fault(service="airtable", kind="http_error", status=503, times=2)])
    with recording_retries() as log:
        schema = await airtable.get_table_schema(base_id, "Issues")
    assert schema.fields
    assert [r.status for r in log] == [503, 503]


async def test_a_create_is_not_repeated_blind(
    sandbox: Sandbox, http: httpx.AsyncClient, base_id: str
) -> None:
    airtable = retrying_client(sandbox, http)
    sandbox.add_faults([Fault(service="airtable", kind="http_error", status=503, times=1)])
    with recording_retries() as log, pytest.raises(TransientError):
        await airtable.create_records(base_id, "Issues", [{"Linear ID": "ENG-902"}])
    assert log == []
