"""The Monday connector's inputs and outputs; Monday's raw JSON stays inside the connector.

Ids are strings (Monday's ``ID`` type serialises as a string). ``Item.column_values`` is
keyed by column id, each value with Monday's display ``text`` and its ``value`` JSON
already decoded. Values to write are given by column title or id as plain Python
(:data:`ColumnInput`); :mod:`.encoding` turns them into Monday's JSON formats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.writes import ExternalWrite

ColumnInput = str | int | float | date | datetime | Sequence[str | int] | Mapping[str, Any] | None
"""A value to write: a status label or index, a date or datetime, people (emails or
user ids), text, a link URL, or Monday's own JSON form as a mapping; ``None`` clears."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class StatusLabel(_Model):
    index: int
    label: str


class Column(_Model):
    """A board column; ``labels`` are the status labels (empty for other types)."""

    id: str
    title: str
    type: str
    labels: tuple[StatusLabel, ...] = ()

    def label_names(self) -> list[str]:
        return [label.label for label in self.labels]


class Group(_Model):
    id: str
    title: str


class Board(_Model):
    id: str
    name: str
    columns: tuple[Column, ...]
    groups: tuple[Group, ...] = ()

    def column_by_id(self, column_id: str) -> Column | None:
        return next((c for c in self.columns if c.id == column_id), None)


class ColumnValue(_Model):
    """One column of one item: Monday's ``text`` and the decoded ``value`` JSON."""

    id: str
    type: str
    text: str | None = None
    value: Any = None
    label: str | None = None
    index: int | None = None


class Item(_Model):
    id: str
    name: str
    board_id: str | None = None
    group: Group | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    column_values: dict[str, ColumnValue] = Field(default_factory=dict)

    def text(self, column_id: str) -> str | None:
        """The display text of one column, ``None`` when the item has no such column."""
        value = self.column_values.get(column_id)
        return value.text if value is not None else None

    def image(self) -> dict[str, Any]:
        """The item as plain JSON, for before/after images."""
        return self.model_dump(mode="json")


class User(_Model):
    id: str
    name: str
    email: str


class ItemWriteResult(_Model):
    """The item after a write (``None`` after a delete) and the write's images."""

    item: Item | None
    write: ExternalWrite
