"""How a value differs between two runs: presence, JSON type, shape, or only its value.

The diagnosis compares the same value in a failed run and in the last good run. Values
differ between runs all the time (another issue has another title), so only a change of
*presence*, *type* or *shape* says the data itself changed form. The shape of a string is
its format (an ISO date, a date in another layout, an email, a URL, a number written as
text, free text), the shape of a list is the set of its items' types, and the shape of an
object is its set of keys.
"""

from __future__ import annotations

import re
from typing import Any

from tracer.lineage import ANY_ITEM, Path

MISSING = "missing"
APPEARED = "appeared"
TYPE = "type"
SHAPE = "shape"
VALUE = "value"
STRUCTURAL = frozenset({MISSING, TYPE, SHAPE})
"""Changes that mean the data changed form, not just content."""

_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso-date", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    ("iso-datetime", re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")),
    ("date", re.compile(r"^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$")),
    ("number-text", re.compile(r"^-?\d+(\.\d+)?$")),
    ("email", re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")),
    ("url", re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)),
)
RECOGNISED_FORMATS = frozenset(name for name, _ in _FORMATS)


def value_at(payload: Any, path: Path) -> tuple[bool, Any]:
    """``(present, value)`` at ``path``; ``*`` collects the value from every list item."""
    current = payload
    for position, segment in enumerate(path):
        if segment == ANY_ITEM:
            if not isinstance(current, list):
                return False, None
            rest = path[position + 1 :]
            found = [value_at(item, rest) for item in current]
            return True, [value for present, value in found if present]
        if _has(current, segment):
            current = current[segment]
        else:
            return False, None
    return True, current


def _has(container: Any, segment: str | int) -> bool:
    if isinstance(container, dict):
        return isinstance(segment, str) and segment in container
    if isinstance(container, list):
        return isinstance(segment, int) and -len(container) <= segment < len(container)
    return False


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def text_format(text: str) -> str:
    """The format class of a string: one of :data:`RECOGNISED_FORMATS`, ``empty`` or ``text``."""
    if not text.strip():
        return "empty"
    for name, pattern in _FORMATS:
        if pattern.match(text):
            return name
    return "text"


def shape(value: Any) -> str:
    kind = json_type(value)
    if kind == "string":
        return f"string:{text_format(value)}"
    if kind == "array":
        return "array:" + ",".join(sorted({json_type(item) for item in value}))
    if kind == "object":
        return "object:" + ",".join(sorted(value))
    return kind


def change(good: tuple[bool, Any], now: tuple[bool, Any]) -> str | None:
    """How ``now`` differs from ``good`` (each a ``(present, value)`` pair), or ``None``."""
    good_there = good[0] and good[1] is not None
    now_there = now[0] and now[1] is not None
    if not good_there:
        return APPEARED if now_there else None
    if not now_there:
        return MISSING
    if json_type(good[1]) != json_type(now[1]):
        return TYPE
    if shape(good[1]) != shape(now[1]):
        return SHAPE
    return VALUE if good[1] != now[1] else None
