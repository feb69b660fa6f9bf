"""Webhooks of the Monday emulator: ``create_webhook``, ``delete_webhook``, ``webhooks``
and the events they deliver.

``create_webhook(board_id, url, event, config)`` behaves as Monday's: the board must
exist, and before the webhook is stored the URL gets the challenge
(``{"challenge": …}``) and must echo it. Then every matching change on the board is
delivered, signed with the app's signing secret
(:class:`connectors.sandbox.webhooks.MondayHooks`), in Monday's event shapes:

==============================  ===============================  ==========================
``event`` (WebhookEventType)    fires on                         delivered ``type``
==============================  ===============================  ==========================
``create_item``                 ``create_item``                  ``create_pulse``
``change_column_value``         any column's value changing      ``update_column_value``
``change_specific_column_value``  ``config.columnId``'s value     ``update_column_value``
``change_status_column_value``  a status column (``config.columnId`` narrows it)
                                                                 ``update_column_value``
``change_name``                 the item's name                  ``update_name``
==============================  ===============================  ==========================

The other event types Monday knows (updates, subitems, moves, archives) are refused with
an error naming the ones the sandbox delivers, so a test never waits on a webhook that
cannot come. Changes made by a ``concurrent_edit`` fault (a person in the UI) are not
delivered.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from connectors.monday.emulator_schema import app_error, json_argument
from connectors.monday.emulator_state import (
    Board,
    Item,
    MondayState,
    StoredValue,
    StoredWebhook,
)
from connectors.sandbox.webhooks import MondayHooks

DELIVERED_EVENTS = (
    "create_item",
    "change_column_value",
    "change_specific_column_value",
    "change_status_column_value",
    "change_name",
)
FIRST_WEBHOOK_ID = 520_000_000
# The type names Monday's webhooks use where the API's differ (a status is "color").
_WEBHOOK_COLUMN_TYPES = {"status": "color", "people": "multiple-person", "numbers": "numeric"}


class BoardHooks:
    """The emulator's webhooks over its state; deliveries go out through ``transport``."""

    def __init__(self, transport: MondayHooks) -> None:
        self.transport = transport

    def create(
        self, state: MondayState, board: Board, url: str, event: str, config: Any
    ) -> dict[str, Any]:
        if event not in DELIVERED_EVENTS:
            raise app_error(
                "InvalidArgumentException",
                f"the sandbox does not deliver {event} webhooks; it delivers "
                + ", ".join(DELIVERED_EVENTS),
                error_data={"event": event},
            )
        parsed = _config(config, board, event)
        refused = self.transport.verify_url(url)
        if refused is not None:
            raise app_error(
                "InvalidArgumentException",
                f"Failed to verify the webhook URL {url}: {refused}",
                error_data={"url": url},
            )
        hook = StoredWebhook(
            FIRST_WEBHOOK_ID + len(state.webhooks) + 1, board.id, url, event, parsed
        )
        state.webhooks[hook.id] = hook
        return hook.node()

    def delete(self, state: MondayState, webhook_id: Any) -> dict[str, Any]:
        hook = state.webhooks.pop(int(str(webhook_id)), None) if str(webhook_id).isdigit() else None
        if hook is None:
            raise app_error(
                "InvalidArgumentException",
                "Webhook not found",
                error_data={"id": str(webhook_id)},
            )
        return hook.node()

    def created(self, state: MondayState, board: Board, item: Item) -> None:
        """``create_item`` webhooks: a ``create_pulse`` event with the item's values."""
        values = {cid: _value(board, cid, v) for cid, v in item.values.items()}
        event = {**_item_fields(state, board, item), "type": "create_pulse", "columnValues": values}
        self._send(state, board, event, lambda hook: hook.event == "create_item")

    def changed(
        self,
        state: MondayState,
        board: Board,
        item: Item,
        before: dict[str, StoredValue],
        before_name: str,
    ) -> None:
        """Column and name webhooks for one write to ``item``."""
        if item.name != before_name:
            event = {
                **_item_fields(state, board, item),
                "type": "update_name",
                "value": {"name": item.name},
                "previousValue": {"name": before_name},
            }
            self._send(state, board, event, lambda hook: hook.event == "change_name")
        for column in board.columns:
            old, new = before.get(column.id), item.values.get(column.id)
            if column.type == "name" or old == new:
                continue
            event = {
                **_item_fields(state, board, item),
                "type": "update_column_value",
                "columnId": column.id,
                "columnType": _WEBHOOK_COLUMN_TYPES.get(column.type, column.type),
                "columnTitle": column.title,
                "value": _value(board, column.id, new),
                "previousValue": _value(board, column.id, old),
                "changedAt": time.time(),
            }
            self._send(state, board, event, _column_filter(column.id, column.type))

    def _send(self, state: MondayState, board: Board, event: dict[str, Any], wanted: Any) -> None:
        for hook in list(state.webhooks.values()):
            if hook.board_id == board.id and wanted(hook):
                self.transport.deliver(
                    hook.url, {**event, "subscriptionId": hook.id}, state.account_id
                )


def _column_filter(column_id: str, column_type: str) -> Any:
    def wanted(hook: StoredWebhook) -> bool:
        named = (hook.config or {}).get("columnId")
        if hook.event == "change_column_value":
            return True
        if hook.event == "change_specific_column_value":
            return named == column_id
        if hook.event == "change_status_column_value":
            return column_type == "status" and named in (None, column_id)
        return False

    return wanted


def _config(config: Any, board: Board, event: str) -> dict[str, Any] | None:
    config = json_argument(config)
    if config is not None and not isinstance(config, dict):
        raise app_error("InvalidArgumentException", "config must be a JSON object")
    column_id = (config or {}).get("columnId")
    if event == "change_specific_column_value" and column_id is None:
        raise app_error(
            "InvalidArgumentException",
            'change_specific_column_value needs config {"columnId": "<column id>"}',
        )
    if column_id is not None and all(c.id != column_id for c in board.columns):
        raise app_error(
            "InvalidColumnIdException",
            "This column ID doesn't exist for the board",
            error_data={"column_id": column_id, "board_id": board.id},
        )
    return config


def _item_fields(state: MondayState, board: Board, item: Item) -> dict[str, Any]:
    group = next(g for g in board.groups if g.id == item.group_id)
    user = next(iter(state.users.values()))
    return {
        "app": "monday",
        "userId": user.id,
        "originalTriggerUuid": None,
        "boardId": board.id,
        "groupId": group.id,
        "groupName": group.title,
        "groupColor": group.color,
        "isTopGroup": board.groups[0].id == group.id,
        "pulseId": item.id,
        "pulseName": item.name,
        "triggerTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def _value(board: Board, column_id: str, stored: StoredValue | None) -> Any:
    """A value as Monday's webhooks carry it: a status with its label, text as
    ``{"value": …}``, anything else as stored; ``None`` for an empty cell."""
    if stored is None:
        return None
    if stored.type == "status" and isinstance(stored.value, dict):
        column = next(c for c in board.columns if c.id == column_id)
        index = stored.value.get("index")
        label = {"index": index, "text": column.labels.get(index) if index is not None else None}
        return {"label": label, "post_id": stored.value.get("post_id")}
    if stored.type == "text":
        return {"value": stored.value}
    return stored.value
