"""Data faults in Linear's vocabulary, read from the engine on every request.

``target`` is an ``Issue`` field name (``dueDate``, ``priority``, ``title``, ``state``…):

- ``rename_field``: the schema serves the field under ``to``; a query for the old name
  fails validation ("Cannot query field "dueDate" on type "Issue"").
- ``drop_field``: the field is nullable and always null.
- ``change_type``: the field has type ``JSON`` and comes back converted ``to`` another
  JSON type (``string``: priority as its label, a date as ``14/11/2026``; ``number``: a
  date as epoch milliseconds; ``datetime``: a date as a full timestamp; ``boolean``,
  ``array``, ``object``, ``null``). An object field (``state``) turned into a scalar
  breaks every query that selects its subfields, as a real type change would.
- ``corrupt_value`` (per request, ``times``/``rate`` honoured): the field comes back as
  ``value``, or damaged (text cut and mojibake'd, priority moved to another level).
- ``remove_option``: the workflow state (``target: state``) or label (``labels``) named
  ``value`` is gone: not listed, not on issues, refused in writes.

``concurrent_edit`` is applied by the ``issueUpdate`` resolver, since it changes stored
data at a precise moment around our write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.linear.emulator_schema import SchemaDrift
from connectors.linear.emulator_state import Hidden, iso
from connectors.sandbox.faults import Fault, FaultEngine, Service
from connectors.sandbox.seed import PRIORITY_LABELS

SERVICE: Service = "linear"
ISSUE_OPERATIONS = frozenset({"issue", "issues", "issueCreate", "issueUpdate"})
_STATE_TARGETS = frozenset({"state", "stateId", "workflowState", "workflowStates"})
_LABEL_TARGETS = frozenset({"labels", "labelIds", "label", "issueLabels"})


@dataclass(frozen=True)
class RequestFaults:
    """The data faults in force for one request."""

    drift: SchemaDrift
    retyped: tuple[tuple[str, str], ...]
    hidden: Hidden
    corrupt: Fault | None


def collect(engine: FaultEngine, operation: str) -> RequestFaults:
    """Ask the engine which data faults apply to ``operation`` now."""
    active = engine.active(
        SERVICE,
        ["rename_field", "drop_field", "change_type", "remove_option"],
        operation=operation,
    )

    def targets(kind: str) -> list[Fault]:
        return [f for f in active if f.kind == kind and f.target]

    retyped = tuple((f.target or "", f.to or "") for f in targets("change_type"))
    removed = targets("remove_option")
    drift = SchemaDrift(
        renamed=tuple((f.target or "", f.to or "") for f in targets("rename_field")),
        dropped=frozenset(f.target or "" for f in targets("drop_field")),
        retyped=frozenset(name for name, _ in retyped),
    )
    hidden = Hidden(
        states=frozenset(str(f.value) for f in removed if f.target in _STATE_TARGETS),
        labels=frozenset(str(f.value) for f in removed if f.target in _LABEL_TARGETS),
    )
    corrupt = None
    if operation in ISSUE_OPERATIONS:
        corrupt = engine.fire(SERVICE, ["corrupt_value"], operation=operation)
    return RequestFaults(drift=drift, retyped=retyped, hidden=hidden, corrupt=corrupt)


def present(view: dict[str, Any], faults: RequestFaults) -> dict[str, Any]:
    """An issue view as the faulty API would send it."""
    out = dict(view)
    for name in faults.drift.dropped & out.keys():
        out[name] = None
    for name, to in faults.retyped:
        if name in out:
            out[name] = retype(name, out[name], to)
    corrupt = faults.corrupt
    if corrupt is not None and corrupt.target in out:
        target = corrupt.target
        out[target] = corrupt_field(target, out[target], corrupt.value)
    for old, new in faults.drift.renamed:
        if old in out:
            out[new] = out.pop(old)
    return out


def retype(name: str, value: Any, to: str) -> Any:
    """``value`` of field ``name`` as JSON type ``to``."""
    kind = to.lower()
    if value is None or kind == "null":
        return None
    if kind == "string":
        return _as_string(name, value)
    if kind in ("number", "float", "integer", "int"):
        return _as_number(value)
    if kind in ("datetime", "timestamp"):
        return _as_datetime(value)
    if kind in ("boolean", "bool"):
        return bool(value)
    if kind in ("array", "list"):
        return value if isinstance(value, list) else [value]
    if kind == "object":
        return value if isinstance(value, dict) else {"value": value}
    return str(value)


def corrupt_field(name: str, value: Any, replacement: Any) -> Any:
    """``value`` replaced by ``replacement``, or damaged when there is none."""
    if isinstance(value, dict) and name == "labels":
        nodes = value["nodes"]
        if replacement is None:
            return {**value, "nodes": nodes[:-1]}
        names = [replacement] if isinstance(replacement, str) else list(replacement)
        renamed = [{**node, "name": str(n)} for node, n in zip(nodes, names, strict=False)]
        return {**value, "nodes": renamed}
    if isinstance(value, dict):
        key = "email" if name == "assignee" else "name"
        new = _damage(value.get(key)) if replacement is None else replacement
        return {**value, key: new}
    if replacement is not None:
        return replacement
    if name == "priority" and isinstance(value, float | int):
        return float(int(value) % 4 + 1)
    return _damage(value)


def _damage(value: Any) -> Any:
    if isinstance(value, str):
        mangled = value.encode("utf-8").decode("latin-1")
        return mangled[: max(1, len(mangled) * 2 // 3)]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    return value


def _as_string(name: str, value: Any) -> str:
    if name == "priority" and isinstance(value, int | float):
        return PRIORITY_LABELS.get(int(value), str(value))
    if isinstance(value, dict):
        nodes = value.get("nodes")
        if isinstance(nodes, list):
            return ", ".join(str(n.get("name")) for n in nodes)
        return str(value.get("name") or value.get("email") or value.get("id"))
    day = _date(value)
    if day is not None:
        return day.strftime("%d/%m/%Y")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _as_number(value: Any) -> float:
    day = _date(value)
    if day is not None:
        return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000
    if isinstance(value, bool | int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float(len(value)) if isinstance(value, str | list) else 0.0


def _as_datetime(value: Any) -> Any:
    day = _date(value)
    if day is not None:
        return f"{day.isoformat()}T00:00:00.000Z"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return iso(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=float(value)))
    return value


def _date(value: Any) -> date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
