"""The schemas a run depended on, as evidence: fields and options with the tools' stable ids.

A tool renames a field without changing its id (Airtable's ``fld…``, Monday's column id),
drops an option, changes a type. Comparing the schema a good run saw with the one a
failed run saw, **by id**, says which of these happened: a rename is the same id under
another name, never a guess from similar names. The composition root fetches schemas
(Airtable tables, Monday boards, Linear states and labels, Slack channels) and turns them
into :class:`ContainerSchema`; the store keeps each one as a content-addressed payload,
so an unchanged schema costs one row per run and no bytes.

Nothing here knows a tool: a container is ``tool`` + ``container`` (a table id, a board
id, a team key, ``channels``), a field has an id, a name, a type and options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Option:
    id: str
    name: str


@dataclass(frozen=True)
class FieldSchema:
    """One field (or column, channel list, label set) with its stable id."""

    id: str
    name: str
    type: str
    options: tuple[Option, ...] = ()

    def option_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options)


@dataclass(frozen=True)
class ContainerSchema:
    """The fields of one container (a table, a board, a team, a workspace's channels)."""

    tool: str
    container: str
    fields: tuple[FieldSchema, ...] = ()

    def by_name(self, name: str) -> FieldSchema | None:
        return next((f for f in self.fields if f.name == name), None)

    def by_id(self, field_id: str) -> FieldSchema | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON in a stable order, so that equal schemas hash equal."""
        return {
            "tool": self.tool,
            "container": self.container,
            "fields": [
                {
                    "id": f.id,
                    "name": f.name,
                    "type": f.type,
                    "options": [{"id": o.id, "name": o.name} for o in f.options],
                }
                for f in sorted(self.fields, key=lambda f: f.id)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContainerSchema:
        return cls(
            tool=str(data.get("tool", "")),
            container=str(data.get("container", "")),
            fields=tuple(
                FieldSchema(
                    id=str(f["id"]),
                    name=str(f["name"]),
                    type=str(f.get("type", "")),
                    options=tuple(
                        Option(str(o["id"]), str(o["name"])) for o in f.get("options", [])
                    ),
                )
                for f in data.get("fields", [])
            ),
        )


@dataclass(frozen=True)
class SchemaChange:
    """One difference between two snapshots of the same container, found by id."""

    kind: str
    """``renamed``, ``dropped``, ``added``, ``retyped``, ``option_removed``,
    ``option_renamed`` or ``option_added``."""
    field_id: str
    name: str
    to: str | None = None

    def sentence(self) -> str:
        what = {
            "renamed": f"field `{self.field_id}` renamed `{self.name}` → `{self.to}`",
            "dropped": f"field `{self.name}` (`{self.field_id}`) removed",
            "added": f"field `{self.name}` (`{self.field_id}`) added",
            "retyped": f"field `{self.name}` (`{self.field_id}`) changed type to `{self.to}`",
            "option_removed": f"`{self.name}` no longer offers `{self.to}`",
            "option_renamed": f"`{self.name}`: option {self.to}",
            "option_added": f"`{self.name}` offers `{self.to}` now",
        }
        return what.get(self.kind, f"{self.kind} {self.name}")


@dataclass(frozen=True)
class SchemaDiff:
    then_run: str | None
    changes: tuple[SchemaChange, ...] = field(default=())

    def renamed(self) -> dict[str, str]:
        """Old name → new name, for the fields whose id stayed."""
        return {c.name: c.to for c in self.changes if c.kind == "renamed" and c.to}

    def text(self) -> str:
        return "; ".join(c.sentence() for c in self.changes)


def diff_schemas(
    then: ContainerSchema, now: ContainerSchema, then_run: str | None = None
) -> SchemaDiff:
    """What changed in a container between two snapshots, matched by field and option id."""
    changes: list[SchemaChange] = []
    for old in then.fields:
        new = now.by_id(old.id)
        if new is None:
            changes.append(SchemaChange("dropped", old.id, old.name))
            continue
        if new.name != old.name:
            changes.append(SchemaChange("renamed", old.id, old.name, new.name))
        if new.type != old.type:
            changes.append(SchemaChange("retyped", old.id, new.name, new.type))
        changes.extend(_option_changes(old, new))
    known = {f.id for f in then.fields}
    changes.extend(SchemaChange("added", f.id, f.name) for f in now.fields if f.id not in known)
    return SchemaDiff(then_run, tuple(changes))


def _option_changes(old: FieldSchema, new: FieldSchema) -> list[SchemaChange]:
    now = {o.id: o.name for o in new.options}
    then = {o.id: o.name for o in old.options}
    found: list[SchemaChange] = []
    for option_id, name in then.items():
        if option_id not in now:
            found.append(SchemaChange("option_removed", old.id, new.name, name))
        elif now[option_id] != name:
            found.append(
                SchemaChange("option_renamed", old.id, new.name, f"`{name}` → `{now[option_id]}`")
            )
    found.extend(
        SchemaChange("option_added", old.id, new.name, name)
        for option_id, name in now.items()
        if option_id not in then
    )
    return found


def renamed_field(then: ContainerSchema, now: ContainerSchema, name: str) -> str | None:
    """The name the field called ``name`` in ``then`` has in ``now`` (same id), if renamed."""
    old = then.by_name(name)
    new = now.by_id(old.id) if old is not None else None
    return new.name if new is not None and new.name != name else None


def option_offered(schema: ContainerSchema, field_name: str, value: str) -> bool | None:
    """Whether the field offers ``value`` (``None``: no such field, or it has no options)."""
    found = schema.by_name(field_name)
    if found is None or not found.options:
        return None
    return value in found.option_names()
