"""Mutations of the Monday emulator: create, change and delete items; post updates.

``change_column_value`` takes one column's JSON form, ``change_simple_column_value`` its
simple string form (a status label, ``2026-08-14``), both through the same validation as
``change_multiple_column_values``; ``create_update`` posts a comment on an item;
``create_webhook`` / ``delete_webhook`` manage the board's webhooks, which every item
created or changed here is delivered to (:mod:`.emulator_hooks`).

Every column value is validated before anything is stored, so a write is all or
nothing, as in Monday. A ``concurrent_edit`` fault fires once per write: a person sets
the fault's ``target`` column to its ``value`` just before our write lands
(``before_write``) or right after it (``after_write``), bumping ``updated_at``; the
mutation still answers with the item as *our* write left it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from connectors.monday.emulator_resolvers import (
    Info,
    ItemNode,
    QueryRoot,
    RequestContext,
    column_of,
    ctx_of,
    update_node,
)
from connectors.monday.emulator_schema import app_error, json_argument
from connectors.monday.emulator_state import (
    ITEM_NAME_MAX_LENGTH,
    Board,
    Item,
    StoredValue,
    iso,
)
from connectors.monday.emulator_values import ColumnValueError, edit_value, parse_input
from connectors.sandbox.faults import Fault


class Root(QueryRoot):
    """The root value: query fields (inherited) and mutation fields, as methods."""

    def create_item(
        self,
        info: Info,
        board_id: str,
        item_name: str,
        group_id: str | None = None,
        column_values: Any = None,
        create_labels_if_missing: bool | None = None,
        **_: Any,
    ) -> ItemNode:
        ctx = ctx_of(info)
        board = ctx.board(board_id)
        _check_name(item_name)
        group = _group(board, group_id)
        values = _parse_values(ctx, board, column_values, bool(create_labels_if_missing))
        edit = _concurrent_edit(ctx, creating=True)
        now = ctx.state.tick()
        item = Item(ctx.state.new_item_id(), item_name, board.id, group, now, now)
        _assign(item, values)
        board.items[item.id] = item
        node = ItemNode(item, ctx, freeze=True)
        if ctx.hooks is not None:
            ctx.hooks.created(ctx.state, board, item)
        if edit is not None and edit.when == "after_write":
            _person_edits(ctx, board, item, edit)
        return node

    def change_multiple_column_values(
        self,
        info: Info,
        board_id: str,
        column_values: Any,
        item_id: str | None = None,
        create_labels_if_missing: bool | None = None,
    ) -> ItemNode:
        ctx = ctx_of(info)
        board = ctx.board(board_id)
        item = ctx.item(item_id, board)
        values = _parse_values(ctx, board, column_values, bool(create_labels_if_missing))
        edit = _concurrent_edit(ctx, creating=False)
        if edit is not None and edit.when == "before_write":
            _person_edits(ctx, board, item, edit)
        before, before_name = dict(item.values), item.name
        _assign(item, values)
        item.updated_at = ctx.state.tick()
        node = ItemNode(item, ctx, freeze=True)
        if ctx.hooks is not None:
            ctx.hooks.changed(ctx.state, board, item, before, before_name)
        if edit is not None and edit.when == "after_write":
            _person_edits(ctx, board, item, edit)
        return node

    def change_column_value(
        self,
        info: Info,
        board_id: str,
        column_id: str,
        value: Any,
        item_id: str | None = None,
        create_labels_if_missing: bool | None = None,
    ) -> ItemNode:
        """One column's value, in the column's JSON form (a JSON-encoded string)."""
        return self.change_multiple_column_values(
            info, board_id, {column_id: json_argument(value)}, item_id, create_labels_if_missing
        )

    def change_simple_column_value(
        self,
        info: Info,
        board_id: str,
        column_id: str,
        value: str | None = None,
        item_id: str | None = None,
        create_labels_if_missing: bool | None = None,
    ) -> ItemNode:
        """One column's value in its simple string form ("Done", "2026-08-14")."""
        return self.change_multiple_column_values(
            info, board_id, {column_id: value or ""}, item_id, create_labels_if_missing
        )

    def create_update(
        self, info: Info, body: str, item_id: str | None = None, parent_id: str | None = None
    ) -> dict[str, Any]:
        """An update (a comment) on an item, written by the token's user."""
        ctx = ctx_of(info)
        item = ctx.item(item_id)
        if not body.strip():
            raise app_error("InvalidArgumentException", "Update body can not be empty")
        now = iso(ctx.state.tick())
        user = next(iter(ctx.state.users.values()))
        update = {
            "id": str(ctx.state.new_item_id()),
            "body": body,
            "text_body": re.sub(r"<[^>]+>", "", body),
            "item_id": str(item.id),
            "creator_id": str(user.id),
            "created_at": now,
            "updated_at": now,
        }
        ctx.state.updates.append(update)
        return update_node(ctx.state, update)

    def create_webhook(
        self, info: Info, board_id: str, url: str, event: str, config: Any = None
    ) -> dict[str, Any]:
        """A webhook on the board; its URL must echo Monday's challenge first."""
        ctx = ctx_of(info)
        board = ctx.state.boards.get(int(board_id)) if str(board_id).isdigit() else None
        if board is None:
            raise app_error(
                "InvalidArgumentException", "Board not found", error_data={"board_id": board_id}
            )
        assert ctx.hooks is not None
        return ctx.hooks.create(ctx.state, board, url, event, config)

    def delete_webhook(self, info: Info, id: str) -> dict[str, Any]:
        ctx = ctx_of(info)
        assert ctx.hooks is not None
        return ctx.hooks.delete(ctx.state, id)

    def delete_item(self, info: Info, item_id: str | None = None) -> ItemNode:
        ctx = ctx_of(info)
        item = ctx.item(item_id)
        node = ItemNode(item, ctx, freeze=True)
        del ctx.state.boards[item.board_id].items[item.id]
        return node


def _check_name(name: str) -> None:
    if len(name) > ITEM_NAME_MAX_LENGTH:
        raise app_error(
            "ItemNameTooLongException",
            f"Item name is too long: {len(name)} characters, the limit is {ITEM_NAME_MAX_LENGTH}",
            error_data={"column_id": "name", "length": len(name)},
        )


def _group(board: Board, group_id: str | None) -> str:
    if group_id is None:
        return board.groups[0].id
    if any(g.id == group_id for g in board.groups):
        return group_id
    raise app_error(
        "InvalidGroupIdException",
        "The group does not exist on this board",
        error_data={"group_id": group_id, "board_id": board.id},
    )


def _parse_values(
    ctx: RequestContext, board: Board, raw: Any, create_labels: bool
) -> dict[str, StoredValue | None]:
    """Every written value, validated before any is stored (a write is all or nothing)."""
    if raw is None:
        return {}
    raw = json_argument(raw)
    if not isinstance(raw, dict):
        raise app_error("JsonParseException", "Syntax error in JSON input", status_code=400)
    parsed: dict[str, StoredValue | None] = {}
    for column_id, value in raw.items():
        column = column_of(ctx, board, column_id)
        if column.type == "name":
            _check_name(str(value))
            parsed["name"] = StoredValue("name", str(value))
            continue
        try:
            parsed[column.id] = parse_input(column, value, ctx.state, create_labels=create_labels)
        except ColumnValueError as exc:
            raise app_error(
                "ColumnValueException",
                str(exc),
                error_data={
                    "column_id": column.id,
                    "column_type": column.type,
                    "column_value": json.dumps(value),
                },
            ) from exc
    if create_labels:
        ctx.forget_views()
    return parsed


def _assign(item: Item, values: dict[str, StoredValue | None]) -> None:
    for column_id, stored in values.items():
        if column_id == "name" and stored is not None:
            item.name = str(stored.value)
        elif stored is None:
            item.values.pop(column_id, None)
        else:
            item.values[column_id] = stored


def _concurrent_edit(ctx: RequestContext, *, creating: bool) -> Fault | None:
    """The ``concurrent_edit`` fault for this write, if one fires.

    A new item cannot be edited before it exists, so a create only fires an
    ``after_write`` edit (and leaves a ``before_write`` one for the next change).
    """
    faults = ctx.engine.active("monday", ["concurrent_edit"], operation=ctx.operation)
    if creating and not any(f.when == "after_write" for f in faults):
        return None
    return ctx.engine.fire("monday", ["concurrent_edit"], operation=ctx.operation)


def _person_edits(ctx: RequestContext, board: Board, item: Item, fault: Fault) -> None:
    """``concurrent_edit``: someone sets ``target`` to ``value`` in the UI."""
    column = next((c for c in ctx.view(board).columns if fault.target in (c.title, c.id)), None)
    if column is None:
        return
    if column.type == "name":
        item.name = str(fault.value)
    else:
        try:
            _assign(item, {column.id: edit_value(column, fault.value, ctx.state)})
        except ColumnValueError:
            return  # a person's edit the column refuses never lands
    item.updated_at = ctx.state.tick()
