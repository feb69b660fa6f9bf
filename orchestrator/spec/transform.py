"""Evaluating a step: its arguments, and the ``map:`` of a ``transform``.

Pure functions of the run context, so the workflow can evaluate arguments
deterministically and the diagnosis can replay a transform against recorded snapshots.
A ``transform`` entry is an expression, optionally followed, in this order, by a value
map (with a ``default`` for values it does not list), a date format and a length cap.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from orchestrator.spec.pipeline import ArgValue, MapEntry, key_text

Context = dict[str, Any]


class TransformError(ValueError):
    """A value the transform cannot map. ``code`` says which rule refused it."""

    def __init__(self, step_id: str, field: str, code: str, message: str) -> None:
        self.step_id = step_id
        self.field = field
        self.code = code
        super().__init__(f"step `{step_id}`, map.{field}: {message}")


def evaluate_args(args: dict[str, ArgValue], context: Context) -> dict[str, Any]:
    """Each argument's value: strings are JMESPath expressions, other scalars literals."""
    return {name: _evaluate(value, context) for name, value in args.items()}


def _evaluate(value: ArgValue, context: Context) -> Any:
    if isinstance(value, str):
        return jmespath.search(value, context)
    if isinstance(value, dict):
        return {key: _evaluate(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_evaluate(item, context) for item in value]
    return value


def run_transform(step_id: str, entries: dict[str, MapEntry | str], context: Context) -> Context:
    """The object a ``transform`` step outputs."""
    return {name: _map_one(step_id, name, entry, context) for name, entry in entries.items()}


def _map_one(step_id: str, name: str, entry: MapEntry | str, context: Context) -> Any:
    if isinstance(entry, str):
        return _search(step_id, name, entry, context)
    value = _search(step_id, name, entry.source, context)
    has_default = "default" in entry.model_fields_set
    if value is None and has_default:
        return entry.default
    if entry.values is not None:
        value = _lookup(step_id, name, entry, value, has_default)
    if entry.date_format is not None and value is not None:
        value = _format_date(step_id, name, value, entry.date_format)
    if entry.max_length is not None and isinstance(value, str):
        value = value[: entry.max_length]
    return value


def _search(step_id: str, name: str, expression: str, context: Context) -> Any:
    """``jmespath.search``; a runtime error (``join`` given a null, say) is a
    :class:`TransformError`: the same handoff fails the same way, so retrying cannot help."""
    try:
        return jmespath.search(expression, context)
    except JMESPathError as exc:
        raise TransformError(
            step_id, name, "expression_error", f"`{expression}` does not evaluate: {exc}"
        ) from exc


def _lookup(step_id: str, name: str, entry: MapEntry, value: Any, has_default: bool) -> Any:
    assert entry.values is not None
    key = key_text(value)
    if key in entry.values:
        return entry.values[key]
    if has_default:
        return entry.default
    known = ", ".join(repr(k) for k in entry.values)
    raise TransformError(
        step_id,
        name,
        "value_not_in_map",
        f"{value!r} (from `{entry.source}`) is not in the value map (known: {known}) "
        "and there is no default",
    )


def _format_date(step_id: str, name: str, value: Any, fmt: str) -> str:
    parsed = _parse_date(value)
    if parsed is None:
        raise TransformError(
            step_id, name, "bad_date", f"{value!r} is not an ISO date or timestamp"
        )
    return parsed.strftime(fmt)


def _parse_date(value: Any) -> date | datetime | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return None
