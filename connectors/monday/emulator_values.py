"""Column values in the Monday emulator: what a request sees, accepts and returns.

:class:`BoardView` is a board as one request sees it, with the schema faults in force
applied in Monday's vocabulary (``target`` is a column title, or a column id such as
``name``): ``rename_field`` changes a title (the id stays, as in Monday),
``drop_field`` removes the column, ``change_type`` changes its type (validation and
rendering follow) and ``remove_option`` removes one status label.

:func:`parse_input` validates a written value the way Monday does (JSON forms and the
simple-string forms) and raises :class:`ColumnValueError` with Monday's message;
:func:`render` turns a stored value into the ``column_values`` entry a read returns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.monday.emulator_schema import column_types
from connectors.monday.emulator_state import Board, Column, MondayState, StoredValue
from connectors.sandbox.faults import Fault

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
_CLEARED: tuple[Any, ...] = (None, "", {})


class ColumnValueError(Exception):
    """A value the column does not accept; Monday answers ``ColumnValueException``."""


@dataclass(frozen=True)
class ColumnView:
    """One column as a request sees it (after faults)."""

    id: str
    title: str
    type: str
    labels: dict[int, str]

    def settings_str(self) -> str:
        """Monday's ``settings_str``: status labels keyed by their index, as JSON."""
        if self.type != "status":
            return "{}"
        return json.dumps({"labels": {str(i): label for i, label in sorted(self.labels.items())}})


class BoardView:
    """A board's columns with the schema faults in force applied."""

    def __init__(self, board: Board, faults: list[Fault]) -> None:
        self.board = board
        self.columns = [
            view for column in board.columns if (view := _apply(column, faults)) is not None
        ]
        self._by_id = {view.id: view for view in self.columns}

    def column(self, column_id: str) -> ColumnView | None:
        return self._by_id.get(column_id)


def _apply(column: Column, faults: list[Fault]) -> ColumnView | None:
    title, kind, labels = column.title, column.type, dict(column.labels)
    for fault in faults:
        if fault.target not in (column.title, column.id):
            continue
        if fault.kind == "drop_field":
            return None
        if fault.kind == "rename_field" and fault.to:
            title = fault.to
        elif fault.kind == "change_type" and fault.to:
            kind = fault.to
        elif fault.kind == "remove_option":
            labels = {i: label for i, label in labels.items() if label != str(fault.value)}
    return ColumnView(column.id, title, kind, labels)


def parse_input(
    column: ColumnView, raw: Any, state: MondayState, *, create_labels: bool
) -> StoredValue | None:
    """The stored form of ``raw`` written to ``column``; ``None`` clears the value."""
    if raw in _CLEARED:
        return None
    parser = _PARSERS.get(column.type, _parse_text)
    return StoredValue(column.type, parser(column, raw, state, create_labels))


def _parse_status(column: ColumnView, raw: Any, state: MondayState, create: bool) -> Any:
    if isinstance(raw, dict) and "index" in raw:
        index = _as_int(raw["index"])
        if index is None or index not in column.labels:
            raise ColumnValueError(
                f"This status index doesn't exist: {raw['index']!r}. " + _known(column)
            )
        return {"index": index, "post_id": None}
    label = raw.get("label") if isinstance(raw, dict) else raw
    if not isinstance(label, str):
        raise ColumnValueError(f"invalid value for a status column: {raw!r}")
    for index, known in column.labels.items():
        if known == label:
            return {"index": index, "post_id": None}
    if not create:
        raise ColumnValueError(f"This status label doesn't exist: {label!r}. " + _known(column))
    return {"index": _add_label(column, label, state), "post_id": None}


def _add_label(view: ColumnView, label: str, state: MondayState) -> int:
    """``create_labels_if_missing``: add the label to the stored column."""
    for board in state.boards.values():
        for column in board.columns:
            if column.id == view.id:
                index = max([*column.labels, *view.labels, -1]) + 1
                column.labels[index] = label
                return index
    raise ColumnValueError(f"column {view.id!r} is gone")


def _known(column: ColumnView) -> str:
    pairs = ", ".join(f"{i}: {label}" for i, label in sorted(column.labels.items()))
    return f"Possible statuses are: {{{pairs}}}"


def _parse_date(column: ColumnView, raw: Any, state: MondayState, create: bool) -> Any:
    if isinstance(raw, str):
        day_part, _, time_part = raw.strip().partition(" ")
        raw = {"date": day_part, "time": time_part or None}
    if not isinstance(raw, dict) or not isinstance(raw.get("date"), str):
        raise ColumnValueError(f"invalid value for a date column: {raw!r}")
    day: str = raw["date"]
    moment: Any = raw.get("time")
    if not _DATE.match(day) or not _valid_date(day):
        raise ColumnValueError(f"Invalid date: {day!r}, expected YYYY-MM-DD")
    if moment is not None and (not isinstance(moment, str) or not _TIME.match(moment)):
        raise ColumnValueError(f"Invalid time: {moment!r}, expected HH:MM:SS")
    return {"date": day, "time": moment}


def _valid_date(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def _parse_people(column: ColumnView, raw: Any, state: MondayState, create: bool) -> Any:
    if isinstance(raw, str):
        entries = [{"id": part.strip(), "kind": "person"} for part in raw.split(",") if part]
    elif isinstance(raw, dict) and isinstance(raw.get("personsAndTeams"), list):
        entries = raw["personsAndTeams"]
    else:
        raise ColumnValueError(f"invalid value for a people column: {raw!r}")
    people = []
    for entry in entries:
        user_id = _as_int(entry.get("id")) if isinstance(entry, dict) else None
        if user_id is None or user_id not in state.users:
            raise ColumnValueError(f"User not found: {entry!r}")
        people.append({"id": user_id, "kind": entry.get("kind", "person")})
    return {"personsAndTeams": people}


def _parse_link(column: ColumnView, raw: Any, state: MondayState, create: bool) -> Any:
    if isinstance(raw, str):
        url, _, text = raw.strip().partition(" ")
        return {"url": url, "text": text or url}
    if isinstance(raw, dict) and isinstance(raw.get("url"), str):
        return {"url": raw["url"], "text": str(raw.get("text") or raw["url"])}
    raise ColumnValueError(f"invalid value for a link column: {raw!r}")


def _parse_numbers(column: ColumnView, raw: Any, state: MondayState, create: bool) -> Any:
    if not isinstance(raw, bool):
        try:
            float(raw)
            return str(raw)
        except (TypeError, ValueError):
            pass
    raise ColumnValueError(f"invalid value for a numbers column: {raw!r}")


def _parse_text(column: ColumnView, raw: Any, state: MondayState, create: bool) -> Any:
    if isinstance(raw, dict) and column.type == "long_text" and isinstance(raw.get("text"), str):
        return raw["text"]
    if isinstance(raw, (dict, list, bool)):
        raise ColumnValueError(f"invalid value for a {column.type} column: {raw!r}")
    return str(raw)


_PARSERS = {
    "status": _parse_status,
    "date": _parse_date,
    "people": _parse_people,
    "link": _parse_link,
    "numbers": _parse_numbers,
}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def render(column: ColumnView, stored: StoredValue | None, state: MondayState) -> dict[str, Any]:
    """The ``column_values`` entry for ``stored`` under the column's current type."""
    value, text = _value_and_text(column, stored, state)
    out: dict[str, Any] = {
        "id": column.id,
        "type": column.type if column.type in column_types() else "unsupported",
        "text": text,
        "value": None if value is None else json.dumps(value),
        "__typename": _TYPENAMES.get(column.type, "UnsupportedValue"),
    }
    if column.type == "status":
        index = value.get("index") if isinstance(value, dict) else None
        out["index"] = index
        out["label"] = column.labels.get(index) if isinstance(index, int) else None
    elif column.type == "date":
        out["date"] = value.get("date") if isinstance(value, dict) else None
        out["time"] = value.get("time") if isinstance(value, dict) else None
    elif column.type == "people":
        people = value.get("personsAndTeams", []) if isinstance(value, dict) else []
        out["persons_and_teams"] = [{"id": p["id"], "kind": p["kind"]} for p in people]
    elif column.type == "link":
        out["url"] = value.get("url") if isinstance(value, dict) else None
        out["url_text"] = value.get("text") if isinstance(value, dict) else None
    return out


def _value_and_text(
    column: ColumnView, stored: StoredValue | None, state: MondayState
) -> tuple[Any, str]:
    if stored is None:
        return None, ""
    if stored.type != column.type:  # change_type: Monday keeps the display text
        old = ColumnView(column.id, column.title, stored.type, column.labels)
        _, text = _value_and_text(old, stored, state)
        return (text, text) if column.type in ("text", "long_text") and text else (None, "")
    value = stored.value
    if column.type == "status":
        label = column.labels.get(value["index"])
        return (value, label) if label is not None else (None, "")  # a removed label
    if column.type == "date":
        moment = f" {value['time'][:5]}" if value.get("time") else ""
        return value, value["date"] + moment
    if column.type == "people":
        names = [
            state.users[p["id"]].name for p in value["personsAndTeams"] if p["id"] in state.users
        ]
        return value, ", ".join(names)
    if column.type == "link":
        return value, f"{value['text']} - {value['url']}"
    return value, str(value)


_TYPENAMES = {
    "status": "StatusValue",
    "date": "DateValue",
    "people": "PeopleValue",
    "text": "TextValue",
    "long_text": "LongTextValue",
    "link": "LinkValue",
    "numbers": "NumbersValue",
}


def corrupt(entry: dict[str, Any], fault: Fault) -> dict[str, Any]:
    """``corrupt_value``: the fault's ``value`` instead of the stored one, or a damaged copy.

    The damaged copy reverses every string (text, label, date), so it stays valid JSON
    but no longer means what was written — what a rubric, not a parser, must catch.
    """
    damaged = dict(entry)
    if fault.value is not None:
        damaged["text"] = str(fault.value)
        damaged["value"] = json.dumps(fault.value)
        if "label" in damaged:
            damaged["label"] = str(fault.value)
        return damaged
    damaged["text"] = (entry["text"] or "")[::-1]
    if entry["value"] is not None:
        damaged["value"] = json.dumps(_reverse_strings(json.loads(entry["value"])))
    for key in ("label", "date", "url_text"):
        if isinstance(entry.get(key), str):
            damaged[key] = entry[key][::-1]
    return damaged


def _reverse_strings(value: Any) -> Any:
    if isinstance(value, str):
        return value[::-1]
    if isinstance(value, dict):
        return {k: _reverse_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reverse_strings(v) for v in value]
    return value


def edit_value(column: ColumnView, value: Any, state: MondayState) -> StoredValue | None:
    """``concurrent_edit``: what a person's simple edit (a label, a date, an email) stores."""
    if column.type == "people" and isinstance(value, str) and "@" in value:
        user = state.user_by_email(value)
        value = str(user.id) if user else value
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    return parse_input(column, value, state, create_labels=True)
