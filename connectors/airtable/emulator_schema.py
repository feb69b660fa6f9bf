"""The emulated Airtable base: tables, fields, select choices, and schema faults.

The seeded base (``seed.AIRTABLE_BASE_NAME``) has three tables — ``Issues`` (what the
example pipelines upsert into), ``Intake`` (a source table with a dozen seeded rows) and
``Digests`` (empty) — whose ids look like Airtable's (``tbl…``, ``fld…``, ``sel…``) and
are derived from the seed. Records store their values by field *id*, so a renamed field
keeps its values, exactly as in Airtable.

Schema faults (``rename_field``, ``drop_field``, ``change_type``, ``remove_option``) never
edit the stored schema: :func:`effective_table` applies the faults in force to a copy on
every request, so a fault that starts at ``from_run: 3`` changes the schema from run 3 on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.faults import Fault
from connectors.sandbox.seed import (
    AIRTABLE_BASE_NAME,
    AIRTABLE_DIGESTS_TABLE,
    AIRTABLE_INTAKE_TABLE,
    AIRTABLE_ISSUES_TABLE,
    AIRTABLE_PRIORITY_OPTIONS,
    AIRTABLE_STATUS_OPTIONS,
    LINEAR_LABELS,
    stable_id,
)

# Airtable's palette for select choices, in the order the UI hands them out.
CHOICE_COLORS: tuple[str, ...] = (
    "blueLight2",
    "cyanLight2",
    "tealLight2",
    "greenLight2",
    "yellowLight2",
    "orangeLight2",
    "redLight2",
    "pinkLight2",
    "purpleLight2",
    "grayLight2",
)
SELECT_TYPES = frozenset({"singleSelect", "multipleSelects"})
# Types whose values Airtable computes; writes to them are refused.
COMPUTED_TYPES = frozenset(
    {"createdTime", "lastModifiedTime", "formula", "autoNumber", "rollup", "count", "lookup"}
)
INTAKE_STATUS_OPTIONS: tuple[str, ...] = ("New", "Filed", "Rejected")


@dataclass
class FieldDef:
    """One field as the metadata API describes it."""

    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None

    def choice_names(self) -> list[str]:
        return [c["name"] for c in (self.options or {}).get("choices", [])]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "id": self.id, "name": self.name}
        if self.options is not None:
            data["options"] = copy.deepcopy(self.options)
        return data


@dataclass
class TableDef:
    """One table: its fields in display order and its primary field."""

    id: str
    name: str
    primary_field_id: str
    fields: list[FieldDef] = field(default_factory=list)

    def field(self, key: str) -> FieldDef | None:
        """The field named ``key`` (or with id ``key``), as Airtable resolves write keys."""
        for candidate in self.fields:
            if key in (candidate.name, candidate.id):
                return candidate
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "primaryFieldId": self.primary_field_id,
            "fields": [f.to_json() for f in self.fields],
            "views": [
                {
                    "id": stable_id(0, self.id, "view", prefix="viw"),
                    "name": "Grid view",
                    "type": "grid",
                }
            ],
        }


@dataclass
class BaseDef:
    id: str
    name: str
    tables: list[TableDef]

    def table(self, key: str) -> TableDef | None:
        for table in self.tables:
            if key in (table.name, table.id):
                return table
        return None


def seed_base(seed: int, base_id: str) -> BaseDef:
    """The seeded base, with the same ids for the same seed."""
    specs: dict[str, list[tuple[str, str, Any]]] = {
        AIRTABLE_ISSUES_TABLE: [
            ("Linear ID", "singleLineText", None),
            ("Title", "singleLineText", None),
            ("Priority", "singleSelect", AIRTABLE_PRIORITY_OPTIONS),
            ("Status", "singleSelect", AIRTABLE_STATUS_OPTIONS),
            ("Assignee", "email", None),
            ("Due", "date", None),
            ("Labels", "multipleSelects", LINEAR_LABELS),
            ("URL", "url", None),
            ("Created", "createdTime", None),
        ],
        AIRTABLE_INTAKE_TABLE: [
            ("Title", "singleLineText", None),
            ("Description", "multilineText", None),
            ("Priority", "singleSelect", AIRTABLE_PRIORITY_OPTIONS),
            ("Reporter", "email", None),
            ("Linear Issue", "url", None),
            ("Status", "singleSelect", INTAKE_STATUS_OPTIONS),
        ],
        AIRTABLE_DIGESTS_TABLE: [
            ("Name", "singleLineText", None),
            ("Date", "date", None),
            ("Board", "singleLineText", None),
            ("Total", "number", None),
            ("Stuck", "number", None),
            ("Summary", "multilineText", None),
        ],
    }
    tables = []
    for table_name, field_specs in specs.items():
        table_id = stable_id(seed, base_id, "table", table_name, prefix="tbl")
        fields = [
            FieldDef(
                id=stable_id(seed, table_id, "field", name, prefix="fld"),
                name=name,
                type=kind,
                options=default_options(kind, seed=seed, owner=f"{table_id}:{name}", names=extra),
            )
            for name, kind, extra in field_specs
        ]
        tables.append(TableDef(table_id, table_name, fields[0].id, fields))
    return BaseDef(base_id, AIRTABLE_BASE_NAME, tables)


def new_choice(seed: int, owner: str, name: str, index: int) -> dict[str, Any]:
    """A select choice as the metadata API shows it."""
    return {
        "id": stable_id(seed, owner, "choice", name, prefix="sel"),
        "name": name,
        "color": CHOICE_COLORS[index % len(CHOICE_COLORS)],
    }


def default_options(
    kind: str, *, seed: int, owner: str, names: tuple[str, ...] | None = None
) -> dict[str, Any] | None:
    """The ``options`` Airtable gives a field of type ``kind`` (``None`` when it has none)."""
    if kind in SELECT_TYPES:
        return {"choices": [new_choice(seed, owner, n, i) for i, n in enumerate(names or ())]}
    if kind == "number":
        return {"precision": 0}
    if kind == "checkbox":
        return {"icon": "check", "color": "greenBright"}
    if kind == "date":
        return {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"}}
    if kind == "createdTime":
        return {
            "result": {
                "type": "dateTime",
                "options": {
                    "dateFormat": {"name": "iso", "format": "YYYY-MM-DD"},
                    "timeFormat": {"name": "24hour", "format": "HH:mm"},
                    "timeZone": "utc",
                },
            }
        }
    return None


def effective_table(table: TableDef, faults: list[Fault], *, seed: int) -> TableDef:
    """``table`` as clients see it now: a copy with the schema faults in force applied.

    Faults apply in declaration order and find their field by its current name (or id),
    so a ``change_type`` can target a field that an earlier ``rename_field`` renamed.
    """
    view = copy.deepcopy(table)
    for fault in faults:
        target = view.field(fault.target or "")
        if target is None:
            continue
        if fault.kind == "rename_field" and fault.to:
            target.name = fault.to
        elif fault.kind == "drop_field":
            view.fields.remove(target)
        elif fault.kind == "change_type" and fault.to:
            _retype(target, fault.to, seed=seed)
        elif fault.kind == "remove_option" and target.type in SELECT_TYPES:
            choices = (target.options or {}).get("choices", [])
            kept = [c for c in choices if c["name"] != str(fault.value)]
            target.options = {"choices": kept}
    return view


def _retype(target: FieldDef, kind: str, *, seed: int) -> None:
    """Change a field's type the way Airtable's UI does: choices come from old options."""
    if kind in SELECT_TYPES and target.type in SELECT_TYPES:
        target.type = kind
        return
    target.type = kind
    target.options = default_options(kind, seed=seed, owner=target.id)
