"""Monday.com: the ops a pipeline may name, and how a Monday write is undone.

Items. An item we created is deleted; one we updated gets its name and column values
back (compared without Monday's bookkeeping such as ``changed_at``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from orchestrator.tools.clients import ToolClients
from orchestrator.tools.op import OpArgs, ToolAdapter, ToolOp, images, parse
from orchestrator.tools.shapes import item_output
from orchestrator.tools.undo import Undone, UndoTarget, checked, settle
from tracer.steps import StepCall, StepReturn


class MondayUpsertItemArgs(OpArgs):
    board: str | int | None = Field(default=None, description="board id or name")
    key_column: str
    key_value: str
    name: str
    values: dict[str, Any] = Field(default_factory=dict)


class MondayListItemsArgs(OpArgs):
    board: str | int | None = None


async def list_items(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(MondayListItemsArgs, call)
    board_id = await clients.monday_board(args.board)
    board = await clients.monday.get_board(board_id)
    items = [item async for item in clients.monday.list_items(board_id)]
    output = {
        "board": {"id": board.id, "name": board.name},
        "items": [item_output(board, item) for item in items],
    }
    return StepReturn(output=output)


async def upsert_item(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(MondayUpsertItemArgs, call)
    board_id = await clients.monday_board(args.board)
    result = await clients.monday.upsert_item(
        board_id, args.key_column, args.key_value, args.name, args.values
    )
    board = await clients.monday.get_board(board_id)
    output = item_output(board, result.item) if result.item else None
    return StepReturn(output=output, writes=images(result.write))


# -- undo ---------------------------------------------------------------------------------


def _item_state(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if image is None:
        return None
    columns = image.get("column_values") or {}
    values = {cid: _clean(col.get("value")) for cid, col in columns.items()}
    return {"name": image.get("name"), **{k: v for k, v in values.items() if v not in (None, "")}}


def _clean(value: Any) -> Any:
    """A Monday value without its bookkeeping (nulls, ``changed_at``), for comparing."""
    if isinstance(value, dict):
        return {
            k: _clean(v) for k, v in value.items() if v is not None and k != "changed_at"
        } or None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


async def undo_monday(clients: ToolClients, target: UndoTarget) -> Undone:
    async def read() -> dict[str, Any] | None:
        item = await clients.monday.get_item(target.object_id)
        return _item_state(item.image()) if item is not None else None

    now, ours, was = await read(), _item_state(target.after), _item_state(target.before)
    settled = settle(target, now, ours, was)
    if settled is not None:
        return settled, []
    assert now is not None, "a missing object is settled by settle()"
    if target.action == "created":
        deleted = await clients.monday.delete_item(target.object_id)
        return checked(target, "deleted", await read() is None), [deleted.write]
    assert was is not None
    values = {
        key: was.get(key) for key in sorted(set(was) | set(now)) if was.get(key) != now.get(key)
    }
    written = await clients.monday.change_column_values(target.container, target.object_id, values)
    return checked(target, "restored", await read() == was), [written.write]


ADAPTER = ToolAdapter(
    tool="monday",
    ops=(
        ToolOp(
            "monday.upsert_item", MondayUpsertItemArgs, True, "upsert a Monday item", upsert_item
        ),
        ToolOp("monday.list_items", MondayListItemsArgs, False, "list a board's items", list_items),
    ),
    undo=undo_monday,
)
