"""Leaf values of handoff payloads, and the choice of the paths worth analysing.

A payload is flattened to ``(path, value)`` pairs: object keys joined by dots, list
elements under ``[]`` (so ``labels[]`` holds each label), scalars as text, and every empty
value (``null``, ``""``, ``[]``, ``{}``) as :data:`EMPTY` so that "this field became empty"
is an ordinary value whose rate can move. Only *low-cardinality* paths are kept for
analysis: a path with 2 to ``max_values`` distinct values seen in a fair share of a
pipeline's runs is a category (a team, a priority, a default taken); a path with
thousands of values (ids, titles, timestamps) is not a condition anything can share.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["EMPTY", "MAX_DEPTH", "MAX_TEXT", "flatten"]

EMPTY = "∅"
MAX_DEPTH = 6
MAX_TEXT = 80
"""Longer strings are free text, never a category: they are skipped, not truncated."""
_MAX_LEAVES = 400


def flatten(value: Any) -> list[tuple[str, str]]:
    """The ``(path, value)`` leaves of one decoded payload (at most a few hundred)."""
    out: list[tuple[str, str]] = []
    for pair in _walk(value, "", 0):
        out.append(pair)
        if len(out) >= _MAX_LEAVES:
            break
    return out


def _walk(value: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    if value is None or value == "" or value == [] or value == {}:
        if path:
            yield path, EMPTY
        return
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key), depth + 1)
        return
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            return
        for item in value:
            yield from _walk(item, f"{path}[]", depth + 1)
        return
    if isinstance(value, bool):
        yield path, "true" if value else "false"
    elif isinstance(value, str):
        if len(value) <= MAX_TEXT:
            yield path, value
    else:
        yield path, str(value)
