"""The client's happy paths against the sandbox: every operation, over real HTTP."""

from __future__ import annotations

from connectors.airtable.client import AirtableClient
from connectors.airtable.models import RecordUpdate
from connectors.sandbox.seed import (
    AIRTABLE_BASE_NAME,
    AIRTABLE_PRIORITY_OPTIONS,
    generate,
)
from connectors.sandbox.server import Sandbox

ISSUE = {
    "Linear ID": "ENG-101",
    "Title": "Checkout fails for customers in the EU",
    "Priority": "High",
    "Status": "Todo",
    "Assignee": "ada.haddad@example.com",
    "Due": "2026-12-01",
    "Labels": ["bug", "customer"],
    "URL": "https://linear.app/steptrace/issue/ENG-101",
}


async def test_list_records_pages_through_intake(client: AirtableClient, base_id: str) -> None:
    pages = [page async for page in client.list_records(base_id, "Intake", page_size=5)]

    assert [len(p.records) for p in pages] == [5, 5, 2]
    assert [p.offset is None for p in pages] == [False, False, True]
    ids = [r.id for p in pages for r in p.records]
    assert len(set(ids)) == 12
    assert all(i.startswith("rec") for i in ids)


async def test_intake_is_seeded_deterministically_with_unicode_and_a_missing_title(
    client: AirtableClient, base_id: str
) -> None:
    records = await client.all_records(base_id, "Intake")
    again = await client.all_records(base_id, "Intake")

    assert records == again
    assert sum("Title" not in r.fields for r in records) == 1
    assert any(not r.fields.get("Title", "").isascii() for r in records)


async def test_list_with_formula_and_fields(client: AirtableClient, base_id: str) -> None:
    everything = await client.all_records(base_id, "Intake")
    filed = [r for r in everything if r.fields.get("Status") == "Filed"]

    found = await client.all_records(
        base_id, "Intake", formula="{Status} = 'Filed'", fields=["Title", "Status"]
    )

    assert [r.id for r in found] == [r.id for r in filed]
    assert all(set(r.fields) <= {"Title", "Status"} for r in found)


async def test_create_get_update_delete(client: AirtableClient, base_id: str) -> None:
    [created] = await client.create_records(base_id, "Issues", [ISSUE])
    assert created.action == "created"
    assert created.before is None
    assert created.after is not None
    assert created.after["fields"]["Labels"] == ["bug", "customer"]

    record = await client.get_record(base_id, "Issues", created.object_id)
    assert record.fields["Title"] == ISSUE["Title"]

    [updated] = await client.update_records(
        base_id, "Issues", [RecordUpdate(id=record.id, fields={"Status": "Done", "Due": None})]
    )
    assert updated.action == "updated"
    assert updated.before == record.image()
    assert updated.after is not None
    assert updated.after["fields"]["Status"] == "Done"
    assert "Due" not in updated.after["fields"]

    [deleted] = await client.delete_records(base_id, "Issues", [record.id])
    assert deleted.action == "deleted"
    assert deleted.before is not None
    assert deleted.before["fields"]["Status"] == "Done"
    assert deleted.after is None
    assert await client.all_records(base_id, "Issues") == []


async def test_replace_clears_fields_not_given(client: AirtableClient, base_id: str) -> None:
    [created] = await client.create_records(base_id, "Issues", [ISSUE])

    [replaced] = await client.update_records(
        base_id,
        "Issues",
        [RecordUpdate(id=created.object_id, fields={"Linear ID": "ENG-101"})],
        replace=True,
    )

    assert replaced.after is not None
    assert set(replaced.after["fields"]) == {"Linear ID", "Created"}


async def test_upsert_twice_leaves_one_record(client: AirtableClient, base_id: str) -> None:
    first = await client.upsert_records(base_id, "Issues", [ISSUE], merge_on=["Linear ID"])
    second = await client.upsert_records(base_id, "Issues", [ISSUE], merge_on=["Linear ID"])
    changed = await client.upsert_records(
        base_id, "Issues", [{**ISSUE, "Status": "Done"}], merge_on=["Linear ID"]
    )

    assert [w.action for w in first.writes] == ["created"]
    assert [w.action for w in second.writes] == ["unchanged"]
    assert [w.action for w in changed.writes] == ["updated"]
    assert second.updated_ids == first.created_ids
    assert changed.writes[0].before == second.writes[0].after
    assert len(await client.all_records(base_id, "Issues")) == 1


async def test_upsert_batches_more_than_ten(client: AirtableClient, base_id: str) -> None:
    issues = [{"Linear ID": f"ENG-{n}", "Title": f"Issue {n}"} for n in range(101, 126)]

    result = await client.upsert_records(base_id, "Issues", issues, merge_on=["Linear ID"])
    again = await client.upsert_records(base_id, "Issues", issues, merge_on=["Linear ID"])

    assert len(result.created_ids) == 25
    assert {w.action for w in again.writes} == {"unchanged"}
    assert len(await client.all_records(base_id, "Issues", page_size=10)) == 25


async def test_upsert_on_two_merge_fields(client: AirtableClient, base_id: str) -> None:
    digest = {"Name": "Weekly", "Board": "Triage", "Total": 12, "Date": "2026-11-23"}

    await client.upsert_records(base_id, "Digests", [digest], merge_on=["Name", "Date"])
    result = await client.upsert_records(
        base_id, "Digests", [{**digest, "Stuck": 3}], merge_on=["Name", "Date"]
    )

    assert [w.action for w in result.writes] == ["updated"]
    assert result.writes[0].before is not None
    assert "Stuck" not in result.writes[0].before["fields"]


async def test_list_bases_and_table_schema(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    bases = await client.list_bases()
    schema = await client.get_table_schema(base_id, "Issues")
    by_id = await client.get_table_schema(base_id, schema.id)

    assert [(b.id, b.name) for b in bases] == [(base_id, AIRTABLE_BASE_NAME)]
    assert by_id == schema
    assert schema.field(schema.primary_field_id) == schema.field("Linear ID")
    priority = schema.field("Priority")
    assert priority is not None
    assert priority.type == "singleSelect"
    assert [c.name for c in priority.choices] == list(AIRTABLE_PRIORITY_OPTIONS)
    assert all(c.id.startswith("sel") and c.color for c in priority.choices)
    due = schema.field("Due")
    assert due is not None
    assert due.options == {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"}}


def test_ids_derive_from_the_seed(sandbox: Sandbox) -> None:
    """The same seed gives the same base, table and field ids in a second sandbox."""
    with Sandbox(services=["airtable"]) as other:
        assert other.state("airtable") == sandbox.state("airtable")
    assert sandbox.data.airtable_base_id == generate(7).airtable_base_id


async def test_upsert_that_typecast_matched_never_looks_created(
    client: AirtableClient, base_id: str
) -> None:
    """The before-read misses "11/23/2026", Airtable matches it: the write says updated."""
    await client.upsert_records(
        base_id, "Digests", [{"Name": "Weekly", "Date": "2026-11-23"}], ["Date"]
    )

    result = await client.upsert_records(
        base_id, "Digests", [{"Date": "11/23/2026", "Total": 3}], ["Date"], typecast=True
    )

    assert result.created_ids == []
    assert [(w.action, w.before) for w in result.writes] == [("updated", None)]
    assert len(await client.all_records(base_id, "Digests")) == 1
