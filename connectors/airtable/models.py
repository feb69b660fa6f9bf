"""What the Airtable connector takes and returns; Airtable's raw JSON stays inside it.

A :class:`Record` keeps Airtable's own field names and JSON values (``fields`` is the
tool's view of the row); :meth:`Record.image` is the plain-JSON image that
:class:`~connectors.writes.ExternalWrite` carries for rollback and tracing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.writes import ExternalWrite


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class Record(_Model):
    """One Airtable record. Blank cells are absent from ``fields``, as Airtable sends them."""

    id: str
    created_time: str = Field(alias="createdTime")
    fields: dict[str, Any] = Field(default_factory=dict)

    def image(self) -> dict[str, Any]:
        """The record in Airtable's wire shape, for before/after images."""
        return {"id": self.id, "createdTime": self.created_time, "fields": dict(self.fields)}


class RecordPage(_Model):
    """One page of a listing; ``offset`` is ``None`` on the last page."""

    records: list[Record]
    offset: str | None = None


class RecordUpdate(_Model):
    """A change to one existing record: the fields to set (``None`` clears a cell)."""

    id: str
    fields: dict[str, Any]


class UpsertResult(_Model):
    """One upsert: an :class:`ExternalWrite` per input record, in input order."""

    writes: list[ExternalWrite]
    created_ids: list[str]
    updated_ids: list[str]


class BaseInfo(_Model):
    """A base the token can see."""

    id: str
    name: str
    permission_level: str = Field(alias="permissionLevel")


class SelectChoice(_Model):
    id: str
    name: str
    color: str | None = None


class FieldSchema(_Model):
    """One field: id, name, Airtable type and the type's options as Airtable gives them."""

    id: str
    name: str
    type: str
    description: str | None = None
    options: dict[str, Any] | None = None

    @property
    def choices(self) -> list[SelectChoice]:
        """The select options of a ``singleSelect``/``multipleSelects`` field (else empty)."""
        return [SelectChoice.model_validate(c) for c in (self.options or {}).get("choices", [])]


class TableSchema(_Model):
    """One table's schema, from the metadata API."""

    id: str
    name: str
    primary_field_id: str = Field(alias="primaryFieldId")
    description: str | None = None
    fields: list[FieldSchema]

    def field(self, name_or_id: str) -> FieldSchema | None:
        """The field with this name or id, or ``None``."""
        return next((f for f in self.fields if name_or_id in (f.name, f.id)), None)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]
