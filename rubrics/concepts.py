"""What a field means, and the small vocabularies that let values be compared across tools.

A field's concept comes from its name (``Priority``, ``board_priority`` → ``priority``;
``Owner``, ``assignee_email`` → ``assignee``). Priority and status have a vocabulary of
ranks and categories, so that ``1`` with label ``Urgent`` in Linear, ``Urgent`` in
Airtable and ``Critical`` on a Monday board are seen to agree, whatever the pipeline's
value maps say: a map that sends Urgent to Low is exactly what these rubrics must catch.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

# Checked in this order: the first concept with a matching token wins.
CONCEPT_TOKENS: tuple[tuple[str, frozenset[str]], ...] = (
    ("priority", frozenset({"priority"})),
    ("status", frozenset({"status", "state"})),
    ("assignee", frozenset({"assignee", "owner"})),
    ("due", frozenset({"due", "deadline"})),
    ("labels", frozenset({"labels", "label", "tags"})),
    ("url", frozenset({"url", "link"})),
    ("description", frozenset({"description", "body", "details"})),
    ("title", frozenset({"title", "name", "subject"})),
    ("id", frozenset({"id", "identifier", "key"})),
)

PRIORITY_RANKS: dict[str, int] = {
    "urgent": 1,
    "critical": 1,
    "highest": 1,
    "high": 2,
    "medium": 3,
    "normal": 3,
    "moderate": 3,
    "low": 4,
    "lowest": 4,
    "none": 0,
    "no priority": 0,
}
"""Priority words by rank: 1 most urgent, 4 least, 0 no priority (Linear's numbering)."""

STATUS_CATEGORIES: dict[str, str] = {
    "triage": "not_started",
    "backlog": "not_started",
    "todo": "not_started",
    "to do": "not_started",
    "unstarted": "not_started",
    "new": "not_started",
    "open": "not_started",
    "started": "started",
    "in progress": "started",
    "in review": "started",
    "working on it": "started",
    "doing": "started",
    "stuck": "started",
    "done": "done",
    "completed": "done",
    "closed": "done",
    "resolved": "done",
    "canceled": "canceled",
    "cancelled": "canceled",
}
"""Status words by category (Linear's state types: triage … canceled)."""

URGENT_CHANNEL_WORDS: tuple[str, ...] = ("incident", "urgent", "oncall", "on-call", "sev", "page")


def tokens(name: str) -> set[str]:
    """``Linear ID`` → {linear, id}; ``assigneeEmail`` → {assignee, email}."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t}


def concept_of(name: str) -> str:
    """The concept a field name stands for, or ``""``."""
    found = tokens(name)
    for concept, words in CONCEPT_TOKENS:
        if found & words:
            return concept
    return ""


def priority_rank(value: Any) -> int | None:
    """The rank of a priority word (numbers have no meaning without their tool)."""
    if isinstance(value, str):
        return PRIORITY_RANKS.get(value.strip().lower())
    return None


def status_category(value: Any) -> str | None:
    if isinstance(value, str):
        return STATUS_CATEGORIES.get(value.strip().lower())
    return None


def is_urgent_channel(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in URGENT_CHANNEL_WORDS)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def as_date(value: Any, fmt: str | None = None) -> date | None:
    """A date from an ISO text (or ``fmt``), a timestamp text, or a Monday-style dict."""
    if isinstance(value, dict):
        value = value.get("date")
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        return None
    if fmt:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def label_set(value: Any) -> set[str] | None:
    """Labels as a set, from a list or a comma-separated text."""
    if value is None or value == "":
        return set()
    if isinstance(value, list):
        return {str(v).strip() for v in value if str(v).strip()}
    if isinstance(value, str):
        return {part.strip() for part in value.split(",") if part.strip()}
    return None


def text_of(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def same_value(expected: Any, actual: Any) -> bool:
    """Equal as JSON, or as text (``1`` and ``"1"``), empty values all alike."""
    if is_empty(expected) and is_empty(actual):
        return True
    if expected == actual:
        return True
    scalar = (str, int, float, bool)
    if isinstance(expected, scalar) and isinstance(actual, scalar):
        return text_of(expected).strip() == text_of(actual).strip()
    return False
