"""Cell values in the emulated Airtable: validation on write, conversion on read.

Writes are checked the way Airtable checks them without ``typecast``: a value of the
wrong JSON type is ``INVALID_VALUE_FOR_COLUMN``, an unknown select option is
``INVALID_MULTIPLE_CHOICE_OPTIONS`` (with Airtable's odd doubled quotes, and without the
field's name), a computed field refuses every write. ``typecast: true`` converts strings
and creates missing options, as Airtable does.

Reads convert a stored value to the field's *current* type, so a ``change_type`` or
``remove_option`` fault shows stored data the way Airtable shows it after the same change
in its UI: convertible values are converted, the rest are blank.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from connectors.airtable.emulator_schema import COMPUTED_TYPES, FieldDef

TEXT_TYPES = frozenset({"singleLineText", "multilineText", "email", "url", "phoneNumber"})
_TRUTHY = frozenset({"true", "yes", "1", "checked", "x", "on", "y"})
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%B %d, %Y", "%b %d, %Y")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")

AddChoice = Callable[[FieldDef, str], None]


class WireError(Exception):
    """An answer the emulator gives instead of serving: a status and Airtable's body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def typed_error(status: int, kind: str, message: str) -> WireError:
    """Airtable's usual error shape: ``{"error": {"type", "message"}}``."""
    return WireError(status, {"error": {"type": kind, "message": message}})


MODEL_NOT_FOUND_MESSAGE = (
    "Invalid permissions, or the requested model was not found. Check that both your "
    "user and your token have the required permissions, and that the model names "
    "and/or ids are correct."
)


def model_not_found() -> WireError:
    """Airtable's 403 for a base or table that is not there (or that the token can't see)."""
    return typed_error(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", MODEL_NOT_FOUND_MESSAGE)


def not_found() -> WireError:
    """Airtable's bare 404 shape: ``{"error": "NOT_FOUND"}``."""
    return WireError(404, {"error": "NOT_FOUND"})


def unknown_field(name: str) -> WireError:
    return typed_error(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def invalid_value(name: str) -> WireError:
    return typed_error(
        422, "INVALID_VALUE_FOR_COLUMN", f'Field "{name}" cannot accept the provided value'
    )


def unknown_option(option: str) -> WireError:
    return typed_error(
        422,
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        f'Insufficient permissions to create new select option ""{option}""',
    )


def write_value(
    fld: FieldDef, value: Any, *, typecast: bool, add_choice: AddChoice | None
) -> Any | None:
    """The value to store for a write of ``value`` to ``fld``; ``None`` clears the cell.

    Raises :class:`WireError` with Airtable's 422 when the field refuses the value.
    ``add_choice`` is called for options that ``typecast`` creates.
    """
    if fld.type in COMPUTED_TYPES:
        raise typed_error(
            422,
            "INVALID_VALUE_FOR_COLUMN",
            f'Field "{fld.name}" cannot accept a value because the field is computed',
        )
    if value is None or value == "" or value == [] or (value is False and fld.type == "checkbox"):
        return None
    converter = _CONVERTERS.get(fld.type)
    if converter is None:
        return value
    result = converter(fld, value, typecast)
    if result is None:
        raise invalid_value(fld.name)
    if fld.type in ("singleSelect", "multipleSelects"):
        _check_options(fld, result if isinstance(result, list) else [result], typecast, add_choice)
    return result


def read_value(fld: FieldDef, stored: Any) -> Any | None:
    """``stored`` as a field of ``fld``'s current type shows it (``None`` = blank)."""
    if stored is None:
        return None
    converter = _CONVERTERS.get(fld.type)
    if converter is None:
        return stored
    value = converter(fld, stored, False)
    if value is None:
        value = converter(fld, _as_text(stored), True)
    if value is None or value is False:
        return None
    if fld.type == "singleSelect":
        return value if value in fld.choice_names() else None
    if fld.type == "multipleSelects":
        kept = [v for v in value if v in fld.choice_names()]
        return kept or None
    return value


def render_string(value: Any) -> str:
    """A value as ``cellFormat=string`` shows it."""
    if isinstance(value, list):
        return ", ".join(render_string(v) for v in value)
    if value is True:
        return "checked"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_options(
    fld: FieldDef, names: list[str], typecast: bool, add_choice: AddChoice | None
) -> None:
    for name in names:
        if name in fld.choice_names():
            continue
        if not typecast or add_choice is None:
            raise unknown_option(name)
        add_choice(fld, name)


def _text(fld: FieldDef, value: Any, typecast: bool) -> Any:
    if isinstance(value, str):
        return value
    if typecast and isinstance(value, int | float | bool | list):
        return _as_text(value)
    return None


def _number(fld: FieldDef, value: Any, typecast: bool) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if typecast and isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None


def _checkbox(fld: FieldDef, value: Any, typecast: bool) -> Any:
    if isinstance(value, bool):
        return value
    if typecast and isinstance(value, str | int | float):
        return str(value).strip().lower() in _TRUTHY
    return None


def _date(fld: FieldDef, value: Any, typecast: bool) -> Any:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            return None
    if typecast:
        for pattern in _DATE_FORMATS:
            try:
                return datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
    return None


def _single_select(fld: FieldDef, value: Any, typecast: bool) -> Any:
    if isinstance(value, str):
        return value.strip() if typecast else value
    if typecast and isinstance(value, int | float):
        return _as_text(value)
    return None


def _multiple_selects(fld: FieldDef, value: Any, typecast: bool) -> Any:
    if isinstance(value, str) and typecast:
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return list(dict.fromkeys(value))


def _as_text(value: Any) -> str:
    return render_string(value) if not isinstance(value, str) else value


_CONVERTERS: dict[str, Callable[[FieldDef, Any, bool], Any]] = {
    **dict.fromkeys(TEXT_TYPES, _text),
    "number": _number,
    "checkbox": _checkbox,
    "date": _date,
    "singleSelect": _single_select,
    "multipleSelects": _multiple_selects,
}
