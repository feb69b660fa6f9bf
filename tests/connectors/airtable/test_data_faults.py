"""Every data fault in Airtable's vocabulary, as the client sees it over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.airtable.client import AirtableClient
from connectors.airtable.models import RecordUpdate
from connectors.errors import InvalidValueError, UnknownFieldError
from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox

ISSUE: dict[str, Any] = {
    "Linear ID": "ENG-101",
    "Title": "Checkout fails",
    "Priority": "High",
    "Labels": ["bug", "customer"],
}


def fault(kind: str, **fields: object) -> Fault:
    return Fault.model_validate({"service": "airtable", "kind": kind, **fields})


async def upsert(client: AirtableClient, base: str, fields: dict[str, Any]) -> Any:
    return await client.upsert_records(base, "Issues", [fields], merge_on=["Linear ID"])


async def test_rename_field_from_run_two(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("rename_field", target="Priority", to="Priority Level", from_run=2)])
    await upsert(client, base_id, ISSUE)  # run 1: the baseline works

    sandbox.begin_run(2)
    with pytest.raises(UnknownFieldError) as caught:
        await upsert(client, base_id, {**ISSUE, "Priority": "Low"})

    assert caught.value.field == "Priority"
    schema = await client.get_table_schema(base_id, "Issues")
    assert "Priority" not in schema.field_names
    assert "Priority Level" in schema.field_names
    [record] = await client.all_records(base_id, "Issues")
    assert record.fields["Priority Level"] == "High"  # the values moved with the field
    await upsert(client, base_id, {"Linear ID": "ENG-101", "Priority Level": "Low"})


async def test_rename_field_breaks_formulas_naming_the_old_name(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("rename_field", target="Status", to="State")])

    with pytest.raises(UnknownFieldError) as caught:
        await client.all_records(base_id, "Intake", formula="{Status} = 'New'")

    assert caught.value.field == "Status"


async def test_drop_field(client: AirtableClient, base_id: str, sandbox: Sandbox) -> None:
    await upsert(client, base_id, ISSUE)
    sandbox.add_faults([fault("drop_field", target="Labels")])

    [record] = await client.all_records(base_id, "Issues")
    schema = await client.get_table_schema(base_id, "Issues")
    with pytest.raises(UnknownFieldError) as caught:
        await upsert(client, base_id, ISSUE)

    assert "Labels" not in record.fields
    assert "Labels" not in schema.field_names
    assert caught.value.field == "Labels"


async def test_change_type_to_number(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    await client.create_records(base_id, "Digests", [{"Name": "Weekly", "Board": "42"}])
    sandbox.add_faults([fault("change_type", target="Board", to="number")])

    schema = await client.get_table_schema(base_id, "Digests")
    [record] = await client.all_records(base_id, "Digests")
    with pytest.raises(InvalidValueError) as caught:
        await client.create_records(base_id, "Digests", [{"Name": "x", "Board": "Triage"}])

    board = schema.field("Board")
    assert board is not None
    assert (board.type, board.options) == ("number", {"precision": 0})
    assert record.fields["Board"] == 42  # converted, as Airtable converts on a type change
    assert caught.value.field == "Board"


async def test_change_type_select_to_text_accepts_any_text(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    await upsert(client, base_id, ISSUE)
    sandbox.add_faults([fault("change_type", target="Priority", to="singleLineText")])

    result = await upsert(client, base_id, {**ISSUE, "Priority": "Critical"})

    assert result.writes[0].before["fields"]["Priority"] == "High"
    assert result.writes[0].after["fields"]["Priority"] == "Critical"


async def test_remove_option(client: AirtableClient, base_id: str, sandbox: Sandbox) -> None:
    await upsert(client, base_id, ISSUE)
    sandbox.add_faults([fault("remove_option", target="Priority", value="High")])

    schema = await client.get_table_schema(base_id, "Issues")
    [record] = await client.all_records(base_id, "Issues")
    with pytest.raises(InvalidValueError) as caught:
        await upsert(client, base_id, ISSUE)

    priority = schema.field("Priority")
    assert priority is not None
    assert "High" not in [c.name for c in priority.choices]
    assert "Priority" not in record.fields  # Airtable blanks cells of a deleted option
    assert caught.value.code == "INVALID_MULTIPLE_CHOICE_OPTIONS"
    assert caught.value.field == "Priority"


async def test_corrupt_value_with_a_given_value(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("corrupt_value", target="Reporter", value="not-an-email", times=1)])

    corrupted = await client.all_records(base_id, "Intake")
    clean = await client.all_records(base_id, "Intake")

    assert {r.fields["Reporter"] for r in corrupted} == {"not-an-email"}
    assert all("@" in r.fields["Reporter"] for r in clean)


async def test_corrupt_value_damages_the_real_value(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    [created] = await client.create_records(base_id, "Issues", [ISSUE])
    sandbox.add_faults([fault("corrupt_value", target="Title", operation="get_record")])

    record = await client.get_record(base_id, "Issues", created.object_id)
    [listed] = await client.all_records(base_id, "Issues")

    assert record.fields["Title"] != ISSUE["Title"]
    assert record.fields["Title"].endswith("\ufffd")
    assert listed.fields["Title"] == ISSUE["Title"]  # only get_record is affected


async def test_concurrent_edit_before_our_write(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    """A person edits just before our write lands: our before-image misses their edit."""
    await upsert(client, base_id, ISSUE)
    sandbox.add_faults(
        [fault("concurrent_edit", target="Title", value="Edited by Dana", when="before_write")]
    )

    result = await upsert(client, base_id, {**ISSUE, "Title": "Ours"})
    [stored] = await client.all_records(base_id, "Issues")

    assert result.writes[0].before["fields"]["Title"] == "Checkout fails"
    assert stored.fields["Title"] == "Ours"  # we overwrote the newer human edit
    assert [f.kind for f in sandbox.engine.fired] == ["concurrent_edit"]


async def test_concurrent_edit_after_our_write(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    """A person edits right after our write: the record no longer matches our after-image."""
    [created] = await client.create_records(base_id, "Issues", [ISSUE])
    sandbox.add_faults(
        [
            fault(
                "concurrent_edit",
                target="Priority",
                value="Urgent",
                when="after_write",
                operation="update_records",
            )
        ]
    )

    [write] = await client.update_records(
        base_id, "Issues", [RecordUpdate(id=created.object_id, fields={"Priority": "Low"})]
    )
    now = await client.get_record(base_id, "Issues", created.object_id)

    assert write.after is not None
    assert write.after["fields"]["Priority"] == "Low"
    assert now.fields["Priority"] == "Urgent"


async def test_a_renamed_field_keeps_its_id(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    table = "Intake"
    before = {f.name: f.id for f in (await client.get_table_schema(base_id, table)).fields}
    name = next(iter(before))
    sandbox.add_faults([Fault(service="airtable", kind="rename_field", target=name, to="Renamed")])
    after = {f.name: f.id for f in (await client.get_table_schema(base_id, table)).fields}
    assert name not in after
    assert after["Renamed"] == before[name], "Airtable keeps a field's id on rename"
