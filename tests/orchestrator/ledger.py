"""Accounting for "nothing lost, nothing doubled": what Temporal saw, what the store
holds, and what the sandbox's tools ended up with.

Temporal's history is the ledger of record for attempts: for every activity it keeps the
last attempt that started and how it ended. The trace store must hold exactly one record
for each of those (plus, legitimately, records of earlier attempts Temporal no longer
shows). The tools' state must show each external object once, however often a write was
retried, timed out after landing, or was cut off by a dead worker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from tracer.store import AttemptRecord, TraceStore

INFRASTRUCTURE_PREFIX = "steptrace."


class AttemptKey(NamedTuple):
    """The store's key of an activity attempt (DESIGN §3)."""

    workflow_id: str
    temporal_run_id: str
    activity_id: str
    attempt: int


async def finished_attempts(handle: WorkflowHandle[Any, Any], run_id: str) -> list[AttemptKey]:
    """Step attempts whose completion or failure Temporal recorded in this run's history.

    The history keeps only the last attempt of each activity: its ``ActivityTaskStarted``
    carries the attempt number, and the closing event points back at it.
    """
    scheduled: dict[int, str] = {}
    started: dict[int, int] = {}
    keys: list[AttemptKey] = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            if not attributes.activity_type.name.startswith(INFRASTRUCTURE_PREFIX):
                scheduled[event.event_id] = attributes.activity_id
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[event.event_id] = event.activity_task_started_event_attributes.attempt
        elif event.event_type in _CLOSING:
            scheduled_id, started_id = _closing_ids(event)
            if scheduled_id in scheduled:
                key = AttemptKey(handle.id, run_id, scheduled[scheduled_id], started[started_id])
                keys.append(key)
    return keys


_CLOSING = (
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
)


def _closing_ids(event: Any) -> tuple[int, int]:
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        attributes = event.activity_task_completed_event_attributes
    else:
        attributes = event.activity_task_failed_event_attributes
    return int(attributes.scheduled_event_id), int(attributes.started_event_id)


def stored_attempts(store: TraceStore, run_ids: Iterable[str]) -> list[AttemptRecord]:
    """Every step attempt the store holds for these runs."""
    return [record for run_id in run_ids for record in store.attempts(run_id)]


def key_of(record: AttemptRecord) -> AttemptKey:
    return AttemptKey(
        record.workflow_id, record.temporal_run_id, record.activity_id, record.attempt
    )


def repeated(values: Iterable[Any]) -> dict[Any, int]:
    """The values that occur more than once, with their counts."""
    return {value: n for value, n in Counter(values).items() if n > 1}


# --- the tools' state ------------------------------------------------------------------


def airtable_linear_ids(state: dict[str, Any], table: str = "Issues") -> list[str]:
    """The ``Linear ID`` of every record in the Airtable table ``table``."""
    return [
        str(record["fields"].get("Linear ID"))
        for base in state["bases"]
        for found in base["tables"]
        if found["name"] == table
        for record in found["records"]
    ]


def monday_linear_ids(state: dict[str, Any], board: str = "Triage") -> list[str]:
    """The ``Linear ID`` column of every item on the Monday board ``board``."""
    ids: list[str] = []
    for found in state["boards"]:
        if found["name"] != board:
            continue
        column = next(c["id"] for c in found["columns"] if c["title"] == "Linear ID")
        for item in found["items"]:
            value = item["values"].get(column, {}).get("value")
            ids.append(str(value))
    return ids


def slack_idempotency_keys(state: dict[str, Any]) -> list[str]:
    """The idempotency key of every live message steptrace posted (unkeyed ones excluded)."""
    keys: list[str] = []
    for message in state["messages"]:
        if message.get("deleted"):
            continue
        metadata = message.get("metadata") or {}
        key = (metadata.get("event_payload") or {}).get("idempotency_key")
        if isinstance(key, str):
            keys.append(key)
    return keys


def linear_issues(state: dict[str, Any]) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = state["issues"]
    return issues
