"""The official client, unmodified, against the emulator: the sandbox is honest to it.

pyairtable's own 429 retries are switched off (``retry_strategy=None``) so the tests see
what the emulator answers.
"""

from __future__ import annotations

import pytest
import requests
from pyairtable import Api
from pyairtable.formulas import match

from connectors.sandbox.faults import Fault
from connectors.sandbox.seed import AIRTABLE_BASE_NAME
from connectors.sandbox.server import Sandbox

from .conftest import TOKEN


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(TOKEN, endpoint_url=sandbox.urls["airtable"], retry_strategy=None)


def test_list_with_auto_pagination(api: Api, base_id: str) -> None:
    table = api.table(base_id, "Intake")

    pages = list(table.iterate(page_size=5))
    everything = table.all(page_size=5)

    assert [len(p) for p in pages] == [5, 5, 2]
    assert len(everything) == 12
    assert table.first(formula=match({"Status": "Filed"})) is not None


def test_create_update_delete(api: Api, base_id: str) -> None:
    table = api.table(base_id, "Issues")

    created = table.create({"Linear ID": "ENG-101", "Priority": "High"})
    updated = table.update(created["id"], {"Title": "Checkout"})
    batch = table.batch_create([{"Linear ID": f"ENG-{n}"} for n in range(102, 115)])
    deleted = table.delete(created["id"])
    batch_deleted = table.batch_delete([r["id"] for r in batch])

    assert updated["fields"]["Title"] == "Checkout"
    assert len(batch) == 13  # pyairtable chunks by ten; the emulator takes each chunk
    assert deleted == {"id": created["id"], "deleted": True}
    assert all(d["deleted"] for d in batch_deleted)
    assert table.all() == []


def test_batch_upsert_with_key_fields(api: Api, base_id: str) -> None:
    table = api.table(base_id, "Issues")
    rows = [{"fields": {"Linear ID": f"ENG-{n}", "Status": "Todo"}} for n in range(101, 113)]

    first = table.batch_upsert(rows, key_fields=["Linear ID"])
    second = table.batch_upsert(rows, key_fields=["Linear ID"], typecast=True)

    assert len(first["createdRecords"]) == 12
    assert second["createdRecords"] == []
    assert sorted(second["updatedRecords"]) == sorted(first["createdRecords"])
    assert len(table.all(formula=match({"Status": "Todo"}))) == 12


def test_schema(api: Api, base_id: str) -> None:
    base_schema = api.base(base_id).schema()
    table_schema = api.table(base_id, "Issues").schema()

    assert {t.name for t in base_schema.tables} == {"Issues", "Intake", "Digests"}
    assert table_schema.field("Priority").type == "singleSelect"
    assert table_schema.field("Due").type == "date"
    assert api.bases()[0].name == AIRTABLE_BASE_NAME


def test_errors_surface_as_pyairtable_expects(api: Api, base_id: str, sandbox: Sandbox) -> None:
    table = api.table(base_id, "Issues")
    sandbox.add_faults([Fault(service="airtable", kind="rate_limit", times=1)])

    with pytest.raises(requests.HTTPError) as limited:
        table.all()
    with pytest.raises(requests.HTTPError) as unknown:
        table.create({"Severity": "High"})

    assert limited.value.response is not None
    assert limited.value.response.status_code == 429
    assert "UNKNOWN_FIELD_NAME" in str(unknown.value.args)
