"""Airtable: the ops a pipeline may name, and how an Airtable write is undone.

Records. A record we created is deleted; one we updated gets its old values back. Only
the fields people can write are compared and restored (computed fields are left out).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from connectors.airtable.models import RecordUpdate
from connectors.errors import NotFoundError
from connectors.writes import ExternalWrite
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.op import OpArgs, ToolAdapter, ToolOp, images, parse
from orchestrator.tools.shapes import record_output
from orchestrator.tools.undo import Undone, UndoTarget, checked, settle
from tracer.steps import StepCall, StepReturn


class AirtableUpsertRecordArgs(OpArgs):
    table: str
    merge_on: list[str] = Field(min_length=1, max_length=3)
    fields: dict[str, Any]
    base: str | None = Field(default=None, description="base id or name; default from config")
    typecast: bool = False


class AirtableGetRecordArgs(OpArgs):
    table: str
    record_id: str
    base: str | None = None


class AirtableUpdateRecordArgs(OpArgs):
    table: str
    record_id: str
    fields: dict[str, Any]
    base: str | None = None
    typecast: bool = False


class AirtableListRecordsArgs(OpArgs):
    table: str
    formula: str | None = None
    base: str | None = None
    max_records: int | None = Field(default=None, ge=1)


async def get_record(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(AirtableGetRecordArgs, call)
    base = await clients.airtable_base(args.base)
    record = await clients.airtable.get_record(base, args.table, args.record_id)
    return StepReturn(output=record_output(record.id, record.fields))


async def list_records(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(AirtableListRecordsArgs, call)
    base = await clients.airtable_base(args.base)
    records = await clients.airtable.all_records(base, args.table, formula=args.formula)
    if args.max_records is not None:
        records = records[: args.max_records]
    return StepReturn(output={"records": [record_output(r.id, r.fields) for r in records]})


async def update_record(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(AirtableUpdateRecordArgs, call)
    base = await clients.airtable_base(args.base)
    update = RecordUpdate(id=args.record_id, fields=args.fields)
    writes = await clients.airtable.update_records(
        base, args.table, [update], typecast=args.typecast
    )
    return _record_written(writes[0])


async def upsert_record(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(AirtableUpsertRecordArgs, call)
    base = await clients.airtable_base(args.base)
    result = await clients.airtable.upsert_records(
        base, args.table, [args.fields], args.merge_on, typecast=args.typecast
    )
    return _record_written(result.writes[0])


def _record_written(write: ExternalWrite) -> StepReturn:
    """An Airtable write as a step's result: the record as it is now, and the write."""
    after = write.after or {}
    fields = after.get("fields", after)
    output = record_output(write.object_id, dict(fields) if isinstance(fields, dict) else {})
    return StepReturn(output=output, writes=images(write))


# -- undo ---------------------------------------------------------------------------------

AIRTABLE_COMPUTED = frozenset(
    {
        "createdTime",
        "lastModifiedTime",
        "createdBy",
        "lastModifiedBy",
        "formula",
        "autoNumber",
        "rollup",
        "count",
        "lookup",
        "multipleLookupValues",
        "button",
    }
)
"""Airtable field types no one writes: left out of comparisons and restores."""


async def undo_airtable(clients: ToolClients, target: UndoTarget) -> Undone:
    base, _, table = target.container.partition("/")
    schema = await clients.airtable.get_table_schema(base, table)
    computed = {f.name for f in schema.fields if f.type in AIRTABLE_COMPUTED}

    def fields(image: dict[str, Any] | None) -> dict[str, Any] | None:
        if image is None:
            return None
        raw = image.get("fields", {})
        return {k: v for k, v in raw.items() if k not in computed and v not in (None, "", [])}

    async def read() -> dict[str, Any] | None:
        return fields(await _airtable_record(clients, base, table, target.object_id))

    now, ours, was = await read(), fields(target.after), fields(target.before)
    settled = settle(target, now, ours, was)
    if settled is not None:
        return settled, []
    assert now is not None, "a missing object is settled by settle()"
    if target.action == "created":
        writes = await clients.airtable.delete_records(base, table, [target.object_id])
        return checked(target, "deleted", await read() is None), writes
    assert was is not None
    changes = {k: was.get(k) for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k)}
    update = RecordUpdate(id=target.object_id, fields=changes)
    writes = await clients.airtable.update_records(base, table, [update])
    return checked(target, "restored", await read() == was), writes


async def _airtable_record(
    clients: ToolClients, base: str, table: str, record_id: str
) -> dict[str, Any] | None:
    try:
        record = await clients.airtable.get_record(base, table, record_id)
    except NotFoundError:
        return None
    return record.image()


ADAPTER = ToolAdapter(
    tool="airtable",
    ops=(
        ToolOp(
            "airtable.upsert_record",
            AirtableUpsertRecordArgs,
            True,
            "upsert one Airtable record on merge fields",
            upsert_record,
        ),
        ToolOp("airtable.get_record", AirtableGetRecordArgs, False, "read a record", get_record),
        ToolOp(
            "airtable.update_record",
            AirtableUpdateRecordArgs,
            True,
            "update a record",
            update_record,
        ),
        ToolOp(
            "airtable.list_records", AirtableListRecordsArgs, False, "list records", list_records
        ),
    ),
    undo=undo_airtable,
)
