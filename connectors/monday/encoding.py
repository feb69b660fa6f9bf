"""Between Python values and Monday's wire formats, for the Monday client.

Writes: :func:`resolve_column` finds a column by the title ops people see (or its id) and
raises :class:`UnknownFieldError` naming the known columns; :func:`encode_value` turns a
plain value into the JSON Monday wants for the column's type (status ``{"label": …}``,
date ``{"date", "time"}``, people ``{"personsAndTeams": […]}``, text as a string).

Reads: :func:`parse_board` and :func:`parse_item` turn Monday's JSON into models. They
accept the variants Monday has used across versions: column types ``color`` and
``multiple-person`` for ``status`` and ``people``; ``value`` as a JSON string or already
decoded; status labels in ``settings_str`` as ``{"labels": {"1": "Done"}}`` or as a list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from connectors.errors import InvalidValueError, UnknownFieldError
from connectors.monday.models import (
    Board,
    Column,
    ColumnInput,
    ColumnValue,
    Group,
    Item,
    StatusLabel,
)

_TYPE_ALIASES = {"color": "status", "multiple-person": "people", "long-text": "long_text"}


def resolve_column(board: Board, title_or_id: str, *, operation: str) -> Column:
    """The column titled (or with the id) ``title_or_id``; titles win over ids."""
    for column in board.columns:
        if column.title == title_or_id:
            return column
    for column in board.columns:
        if column.id == title_or_id:
            return column
    known = ", ".join(f"{c.title!r} ({c.id})" for c in board.columns)
    raise UnknownFieldError(
        f"board {board.name!r} ({board.id}) has no column {title_or_id!r}; known columns: {known}",
        tool="monday",
        operation=operation,
        field=title_or_id,
        details={"board_id": board.id, "known_columns": [c.title for c in board.columns]},
    )


def encode_value(
    column: Column, value: ColumnInput, user_ids: Mapping[str, str], *, operation: str
) -> Any:
    """Monday's JSON for ``value`` in ``column``; ``user_ids`` maps emails to user ids."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)  # already Monday's own form
    if column.type == "status":
        return {"index": value} if isinstance(value, int) else {"label": str(value)}
    if column.type == "date":
        return _encode_date(value)
    if column.type == "people":
        return {"personsAndTeams": _people(column, value, user_ids, operation=operation)}
    if column.type == "link":
        return {"url": str(value), "text": str(value)}
    if column.type == "long_text":
        return {"text": _plain(value)}
    return _plain(value)


def _encode_date(value: ColumnInput) -> Any:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return {"date": moment.date().isoformat(), "time": moment.strftime("%H:%M:%S")}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    day, _, time_of_day = str(value).strip().replace("T", " ").partition(" ")
    return {"date": day, "time": time_of_day} if time_of_day else {"date": day}


def _people(
    column: Column, value: ColumnInput, user_ids: Mapping[str, str], *, operation: str
) -> list[dict[str, Any]]:
    entries = []
    for person in _as_list(value):
        user_id = user_ids.get(str(person).lower()) if "@" in str(person) else str(person)
        if user_id is not None and not user_id.isdigit():
            raise InvalidValueError(
                f"{person!r} for people column {column.title!r} is neither an email nor a "
                "Monday user id",
                tool="monday",
                operation=operation,
                field=column.title,
            )
        if user_id is None:
            raise InvalidValueError(
                f"no Monday user with email {person!r} for column {column.title!r}",
                tool="monday",
                operation=operation,
                field=column.title,
            )
        entries.append({"id": int(user_id), "kind": "person"})
    return entries


def emails_in(value: ColumnInput) -> list[str]:
    """The emails a people value names (they must be looked up before encoding)."""
    people = _as_list(value)
    return [p for p in people if isinstance(p, str) and "@" in p]


def _as_list(value: ColumnInput) -> list[Any]:
    if isinstance(value, (str, int)):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return []


def _plain(value: ColumnInput) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(str(v) for v in value)
    return str(value)


def matches(column: Column, current: ColumnValue | None, encoded: Any) -> bool:
    """Whether the item already holds ``encoded`` (so an upsert need not write it)."""
    if current is None or current.value in (None, "", {}):
        return encoded in (None, "", {})
    if encoded is None:
        return False
    value = current.value
    if column.type == "status" and isinstance(encoded, dict):
        if "label" in encoded:
            return encoded["label"] in (current.label, current.text)
        return bool(current.index == encoded.get("index"))
    if column.type == "date" and isinstance(encoded, dict) and isinstance(value, dict):
        return bool(
            value.get("date") == encoded.get("date")
            and (value.get("time") or None) == (encoded.get("time") or None)
        )
    if column.type == "people" and isinstance(encoded, dict) and isinstance(value, dict):
        return _ids(value) == _ids(encoded)
    if column.type == "link" and isinstance(encoded, dict) and isinstance(value, dict):
        return bool(value.get("url") == encoded.get("url"))
    if isinstance(encoded, dict) and "text" in encoded:
        return bool(current.text == encoded["text"])
    return bool(current.text == encoded or value == encoded)


def _ids(value: Mapping[str, Any]) -> set[str]:
    return {str(p.get("id")) for p in value.get("personsAndTeams") or [] if isinstance(p, dict)}


def compare_text(column: Column, value: ColumnInput) -> str:
    """The display text a value has on the board, to find items by it."""
    if column.type == "date" and isinstance(value, (date, datetime)):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    if column.type == "status" and isinstance(value, int):
        label = next((x.label for x in column.labels if x.index == value), None)
        return label if label is not None else str(value)
    return _plain(value)


def parse_board(raw: Mapping[str, Any]) -> Board:
    return Board(
        id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        columns=tuple(_parse_column(c) for c in raw.get("columns") or []),
        groups=tuple(
            Group(id=str(g["id"]), title=str(g["title"])) for g in raw.get("groups") or []
        ),
    )


def _parse_column(raw: Mapping[str, Any]) -> Column:
    kind = str(raw.get("type") or "")
    kind = _TYPE_ALIASES.get(kind, kind)
    labels: tuple[StatusLabel, ...] = ()
    if kind == "status":
        labels = _status_labels(raw.get("settings_str"))
    return Column(id=str(raw["id"]), title=str(raw["title"]), type=kind, labels=labels)


def _status_labels(settings_str: Any) -> tuple[StatusLabel, ...]:
    settings = _decode(settings_str)
    labels = settings.get("labels") if isinstance(settings, dict) else None
    if isinstance(labels, dict):
        pairs = [(int(i), str(label)) for i, label in labels.items() if str(i).isdigit()]
    elif isinstance(labels, list):  # newer shape: [{"id": 1, "label": "Done"}, …]
        pairs = [(int(x["id"]), str(x.get("label") or x.get("name"))) for x in labels]
    else:
        pairs = []
    return tuple(StatusLabel(index=i, label=label) for i, label in sorted(pairs) if label)


def parse_item(raw: Mapping[str, Any]) -> Item:
    group = raw.get("group")
    board = raw.get("board")
    return Item(
        id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        board_id=str(board["id"]) if isinstance(board, dict) else None,
        group=Group(id=str(group["id"]), title=str(group.get("title") or ""))
        if isinstance(group, dict)
        else None,
        created_at=raw.get("created_at"),
        updated_at=raw.get("updated_at"),
        column_values={str(cv["id"]): _parse_value(cv) for cv in raw.get("column_values") or []},
    )


def _parse_value(raw: Mapping[str, Any]) -> ColumnValue:
    kind = str(raw.get("type") or "")
    index = raw.get("index")
    return ColumnValue(
        id=str(raw["id"]),
        type=_TYPE_ALIASES.get(kind, kind),
        text=raw.get("text"),
        value=_decode(raw.get("value")),
        label=raw.get("label"),
        index=index if isinstance(index, int) else None,
    )


def _decode(value: Any) -> Any:
    """Monday's ``value``/``settings_str``: a JSON string; kept as is if it is not JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
