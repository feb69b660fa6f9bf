"""The emulated base's records and the record operations on them.

One :class:`BaseStore` holds the base's schema and its records (values keyed by field
id, like Airtable). Every request works on a :class:`TableView`: the table's schema with
the schema faults in force applied (see :mod:`.emulator_schema`). Writes are validated
completely before anything is stored, so a 422 leaves the table untouched, as in
Airtable. The per-request data faults ``corrupt_value`` and ``concurrent_edit`` are
applied here, with the record rendering and the write they change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from connectors.airtable.emulator_formula import Row, compile_formula, truthy
from connectors.airtable.emulator_schema import (
    COMPUTED_TYPES,
    BaseDef,
    FieldDef,
    TableDef,
    effective_table,
    new_choice,
    seed_base,
)
from connectors.airtable.emulator_seed import intake_rows
from connectors.airtable.emulator_values import (
    model_not_found,
    not_found,
    read_value,
    render_string,
    typed_error,
    unknown_field,
    write_value,
)
from connectors.sandbox.faults import Fault, FaultKind
from connectors.sandbox.seed import EPOCH, SeedData, stable_id

MAX_RECORDS_PER_WRITE = 10
MAX_PAGE_SIZE = 100
MAX_OPEN_ITERATORS = 1_000
SCHEMA_FAULTS: tuple[FaultKind, ...] = (
    "rename_field",
    "drop_field",
    "change_type",
    "remove_option",
)


@dataclass
class StoredRecord:
    id: str
    created_time: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListParams:
    """The list parameters, read from the query string or a ``listRecords`` body."""

    page_size: int = MAX_PAGE_SIZE
    offset: str | None = None
    formula: str | None = None
    fields: tuple[str, ...] | None = None
    sort: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    cell_format: str = "json"
    by_field_id: bool = False
    max_records: int | None = None


@dataclass(frozen=True)
class RenderOptions:
    by_field_id: bool = False
    cell_format: str = "json"
    only: frozenset[str] | None = None  # field ids
    corrupt: Fault | None = None


@dataclass
class TableView:
    """A table as this request sees it, with its records."""

    schema: TableDef
    records: dict[str, StoredRecord]


@dataclass
class Planned:
    """One record of a write, validated: which record, and the values it gets."""

    record_id: str | None
    patch: dict[str, Any]


class BaseStore:
    """The seeded base and its records, shared by every request of one emulator."""

    def __init__(self, data: SeedData) -> None:
        self.seed = data.seed
        self.base: BaseDef = seed_base(data.seed, data.airtable_base_id)
        self.records: dict[str, dict[str, StoredRecord]] = {t.id: {} for t in self.base.tables}
        self.iterators: dict[str, list[str]] = {}
        self.lock = threading.RLock()
        self._sequence = 0  # records created, for ids and createdTime
        self._iterations = 0  # listing iterators handed out
        self._seed_intake(data)

    # --- lookup -------------------------------------------------------------------

    def check_base(self, base_id: str) -> None:
        """Airtable's 403 for a base that is not there (or that the token cannot see)."""
        if base_id != self.base.id:
            raise model_not_found()

    def view(self, base_id: str, table_key: str, schema_faults: list[Fault]) -> TableView:
        """The table ``table_key`` (name or id) as the schema faults in force show it."""
        self.check_base(base_id)
        table = self.base.table(table_key)
        if table is None:
            raise model_not_found()
        schema = effective_table(table, schema_faults, seed=self.seed)
        return TableView(schema, self.records[table.id])

    def schema_json(self, schema_faults: list[Fault]) -> dict[str, Any]:
        """The base's tables as ``GET /v0/meta/bases/{base}/tables`` answers."""
        tables = [effective_table(t, schema_faults, seed=self.seed) for t in self.base.tables]
        return {"tables": [t.to_json() for t in tables]}

    # --- reads --------------------------------------------------------------------

    def render(
        self, view: TableView, record: StoredRecord, options: RenderOptions
    ) -> dict[str, Any]:
        """A record in Airtable's wire shape; blank cells are left out."""
        fields: dict[str, Any] = {}
        for fld in view.schema.fields:
            if options.only is not None and fld.id not in options.only:
                continue
            value = self._cell(fld, record)
            if options.corrupt is not None and fld.name == options.corrupt.target:
                value = _corrupted(options.corrupt, value)
            if value is None:
                continue
            if options.cell_format == "string":
                value = render_string(value)
            fields[fld.id if options.by_field_id else fld.name] = value
        return {"id": record.id, "createdTime": record.created_time, "fields": fields}

    def get(self, view: TableView, record_id: str) -> StoredRecord:
        # Airtable finds a record by id anywhere in the base, whatever table the URL names.
        for records in self.records.values():
            if record_id in records:
                return records[record_id]
        raise not_found()

    def list_page(
        self, view: TableView, params: ListParams, options: RenderOptions
    ) -> dict[str, Any]:
        """One page of a listing, with ``offset`` when more pages follow."""
        if params.offset is not None:
            ids = self.iterators.pop(params.offset, None)
            if ids is None:
                raise typed_error(
                    422,
                    "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
                    "This iterator is no longer available.",
                )
        else:
            ids = self._matching_ids(view, params)
        size = max(1, min(params.page_size, MAX_PAGE_SIZE))
        page, rest = ids[:size], ids[size:]
        body: dict[str, Any] = {
            "records": [
                self.render(view, view.records[i], options) for i in page if i in view.records
            ]
        }
        if rest:
            self._iterations += 1
            iterator = stable_id(self.seed, "itr", self._iterations, prefix="itr")
            offset = f"{iterator}/{rest[0]}"
            self.iterators[offset] = rest
            while len(self.iterators) > MAX_OPEN_ITERATORS:  # like Airtable's, they expire
                del self.iterators[next(iter(self.iterators))]
            body["offset"] = offset
        return body

    def field_ids(self, view: TableView, keys: Iterable[str]) -> frozenset[str]:
        """The ids of the fields ``keys`` names; an unknown name is a 422."""
        ids = set()
        for key in keys:
            fld = view.schema.field(key)
            if fld is None:
                raise unknown_field(key)
            ids.add(fld.id)
        return frozenset(ids)

    def _matching_ids(self, view: TableView, params: ListParams) -> list[str]:
        records = list(view.records.values())
        if params.formula:
            names = {f.name for f in view.schema.fields}
            formula = compile_formula(params.formula, names)
            records = [r for r in records if truthy(formula(self._row(view, r)))]
        for name, descending in reversed(params.sort):
            fld = view.schema.field(name)
            if fld is None:
                raise unknown_field(name)
            records.sort(key=self._sort_key_for(fld), reverse=descending)
        ids = [r.id for r in records]
        return ids[: params.max_records] if params.max_records else ids

    def _sort_key_for(self, fld: FieldDef) -> Callable[[StoredRecord], tuple[int, Any]]:
        return lambda record: _sort_key(self._cell(fld, record))

    def _row(self, view: TableView, record: StoredRecord) -> Row:
        return Row(record.id, {f.name: self._cell(f, record) for f in view.schema.fields})

    @staticmethod
    def _cell(fld: FieldDef, record: StoredRecord) -> Any:
        if fld.type == "createdTime":
            return record.created_time
        if fld.type in COMPUTED_TYPES:
            return None
        return read_value(fld, record.values.get(fld.id))

    # --- writes -------------------------------------------------------------------

    def plan(
        self, view: TableView, fields: Any, *, record_id: str | None, typecast: bool
    ) -> Planned:
        """Validate one record's ``fields``; nothing is stored yet."""
        if not isinstance(fields, dict):
            raise typed_error(
                422, "INVALID_REQUEST_MISSING_FIELDS", 'Could not find field "fields"'
            )
        patch: dict[str, Any] = {}
        for key, value in fields.items():
            fld = view.schema.field(key)
            if fld is None:
                raise unknown_field(key)
            patch[fld.id] = write_value(fld, value, typecast=typecast, add_choice=self._add_choice)
        return Planned(record_id, patch)

    def match(self, view: TableView, planned: Planned, merge_on: list[str]) -> str | None:
        """The one record whose merge fields equal ``planned``'s, for an upsert."""
        wanted = {}
        for name in merge_on:
            fld = view.schema.field(name)
            if fld is None:
                raise unknown_field(name)
            if planned.patch.get(fld.id) is None:
                raise typed_error(
                    422,
                    "INVALID_VALUE_FOR_COLUMN",
                    f'Field "{name}" is used in fieldsToMergeOn but the record has no value for it',
                )
            wanted[fld.id] = read_value(fld, planned.patch[fld.id])
        fields = {f.id: f for f in view.schema.fields}
        hits = [
            r.id
            for r in view.records.values()
            if all(self._cell(fields[i], r) == v for i, v in wanted.items())
        ]
        if len(hits) > 1:
            raise typed_error(
                422,
                "INVALID_RECORDS",
                f"{len(hits)} records match the fieldsToMergeOn values; upsert needs at most one",
            )
        return hits[0] if hits else None

    def commit(self, view: TableView, planned: Planned, *, replace: bool) -> StoredRecord:
        """Store one validated record write (create when it names no record)."""
        if planned.record_id is None:
            record = self._new_record(view)
        else:
            record = view.records.get(planned.record_id) or self._missing(planned.record_id)
            if replace:
                record.values = {}
        for field_id, value in planned.patch.items():
            if value is None:
                record.values.pop(field_id, None)
            else:
                record.values[field_id] = value
        return record

    def human_edit(self, view: TableView, record_ids: Iterable[str], edit: Fault) -> None:
        """A person sets ``edit.target`` to ``edit.value`` on these records (no validation)."""
        fld = view.schema.field(edit.target or "")
        if fld is None:
            return
        for record_id in record_ids:
            record = view.records.get(record_id)
            if record is None:
                continue
            if edit.value is None:
                record.values.pop(fld.id, None)
            else:
                record.values[fld.id] = edit.value

    def delete(self, view: TableView, record_ids: list[str]) -> list[dict[str, Any]]:
        missing = [i for i in record_ids if i not in view.records]
        if missing:
            raise not_found()
        for record_id in record_ids:
            del view.records[record_id]
        return [{"id": i, "deleted": True} for i in record_ids]

    def existing(self, view: TableView, record_id: str) -> StoredRecord:
        """The record ``record_id`` of this table; Airtable's 422 when it is not there."""
        return view.records.get(record_id) or self._missing(record_id)

    @staticmethod
    def _missing(record_id: str) -> StoredRecord:
        raise typed_error(
            422, "ROW_DOES_NOT_EXIST", f"Record ID {record_id} does not exist in this table"
        )

    def _new_record(self, view: TableView) -> StoredRecord:
        self._sequence += 1
        record_id = stable_id(self.seed, view.schema.id, "record", self._sequence, prefix="rec")
        created = EPOCH + timedelta(days=14, seconds=self._sequence)
        record = StoredRecord(record_id, created.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        view.records[record_id] = record
        return record

    def _add_choice(self, fld: FieldDef, name: str) -> None:
        """``typecast`` creates a select option: in the stored schema and in this view."""
        choice = new_choice(self.seed, fld.id, name, len(fld.choice_names()))
        for table in self.base.tables:
            stored = next((f for f in table.fields if f.id == fld.id), None)
            if stored is not None and stored is not fld and name not in stored.choice_names():
                stored.options = {"choices": [*(stored.options or {}).get("choices", []), choice]}
        fld.options = {"choices": [*(fld.options or {}).get("choices", []), choice]}

    def _seed_intake(self, data: SeedData) -> None:
        table = self.base.tables[1]
        view = TableView(table, self.records[table.id])
        for fields in intake_rows(data):
            planned = self.plan(view, fields, record_id=None, typecast=False)
            self.commit(view, planned, replace=False)

    def snapshot(self) -> dict[str, Any]:
        """The stored base (no faults applied), for ``GET /_sandbox/state``."""
        tables = []
        for table in self.base.tables:
            view = TableView(table, self.records[table.id])
            records = [self.render(view, r, RenderOptions()) for r in view.records.values()]
            tables.append({**table.to_json(), "records": records})
        return {"bases": [{"id": self.base.id, "name": self.base.name, "tables": tables}]}


def check_batch(records: Any, verb: str) -> list[Any]:
    """The ``records`` list of a write; Airtable refuses more than ten per request."""
    if not isinstance(records, list) or not records:
        raise typed_error(
            422, "INVALID_RECORDS", 'Could not find field "records" in the request body'
        )
    if len(records) > MAX_RECORDS_PER_WRITE:
        raise typed_error(
            422,
            "INVALID_RECORDS",
            f"A maximum of {MAX_RECORDS_PER_WRITE} records can be {verb} per request but you "
            f"have provided {len(records)}.",
        )
    return records


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    return (1, render_string(value).lower())


def _corrupted(fault: Fault, value: Any) -> Any:
    """``corrupt_value``: the fault's ``value``, else a damaged copy of the real one."""
    if fault.value is not None:
        return fault.value
    if isinstance(value, str):
        return value[: max(1, len(value) // 2)] + "\ufffd"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return -value if value else -1
    if isinstance(value, list):
        return value[:-1] or None
    return value
