"""A verified delivery, in one shape whatever the tool, and the runs it asks for.

Linear sends the entity itself; Monday sends ``{"event": …}``; Airtable's changes come
from its payloads cursor (:mod:`orchestrator.triggers.airtable_cursor`), one per changed
record. Each becomes an :class:`Event`; a pipeline's ``triggers:`` entry decides by
tool, type, action and ``filter`` whether it starts a run, and ``input`` builds the run's
trigger from it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jmespath

from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.spec.triggers import WebhookTool, WebhookTrigger


@dataclass(frozen=True)
class Event:
    """One change a tool told us about."""

    tool: WebhookTool
    delivery_id: str
    """The tool's id for this delivery: the same when the tool delivers it again."""
    type: str
    action: str
    data: dict[str, Any]
    updated_from: dict[str, Any] | None = None

    def view(self) -> dict[str, Any]:
        """What a trigger's ``filter`` and ``input`` expressions read."""
        return {
            "tool": self.tool,
            "type": self.type,
            "action": self.action,
            "data": self.data,
            "updatedFrom": self.updated_from,
        }


@dataclass(frozen=True)
class Match:
    pipeline: LoadedPipeline
    trigger: dict[str, Any]
    workflow_id: str


def linear_event(payload: dict[str, Any], headers: dict[str, str]) -> Event:
    # Linear-Delivery is documented by third parties only; without it the body identifies
    # the delivery, less webhookTimestamp: a retry is stamped with its own send time.
    stable = {k: v for k, v in payload.items() if k != "webhookTimestamp"}
    delivery = headers.get("linear-delivery") or _digest(stable)
    return Event(
        tool="linear",
        delivery_id=delivery,
        type=str(payload.get("type", "")),
        action=str(payload.get("action", "")),
        data=dict(payload.get("data") or {}),
        updated_from=payload.get("updatedFrom"),
    )


def monday_event(payload: dict[str, Any]) -> Event:
    event = dict(payload.get("event") or {})
    delivery = str(event.get("triggerUuid") or _digest(event))
    previous = event.get("previousValue")
    return Event(
        tool="monday",
        delivery_id=delivery,
        type=str(event.get("type", "")),
        action="create" if event.get("type") == "create_pulse" else "update",
        data=event,
        updated_from={"value": previous} if previous is not None else None,
    )


def matches(pipelines: Iterable[LoadedPipeline], event: Event) -> list[Match]:
    """Every run this event asks for: one per pipeline whose trigger accepts it."""
    found: list[Match] = []
    for pipeline in pipelines:
        for trigger in pipeline.spec.triggers:
            if _accepts(trigger, event):
                found.append(
                    Match(pipeline, _trigger_input(trigger, event), _workflow_id(pipeline, event))
                )
                break
    return found


def _accepts(trigger: WebhookTrigger, event: Event) -> bool:
    if trigger.tool != event.tool:
        return False
    if trigger.events and event.type not in trigger.events:
        return False
    if trigger.actions and event.action not in trigger.actions:
        return False
    return trigger.filter is None or bool(jmespath.search(trigger.filter, event.view()))


def _trigger_input(trigger: WebhookTrigger, event: Event) -> dict[str, Any]:
    view = event.view()
    built = {name: jmespath.search(expr, view) for name, expr in trigger.input.items()}
    return {**built, "_delivery": {"tool": event.tool, "id": event.delivery_id}}


def _workflow_id(pipeline: LoadedPipeline, event: Event) -> str:
    """One workflow per (pipeline, delivery): a redelivery names the same workflow."""
    safe = re.sub(r"[^A-Za-z0-9_.:-]", "-", event.delivery_id)[:80]
    return f"{pipeline.spec.name}-{event.tool}-{safe}"


def _digest(value: Any) -> str:
    import json

    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
