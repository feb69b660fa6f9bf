"""Query resolvers of the Monday emulator: the query root and the board and item nodes.

One :class:`RequestContext` lives for one HTTP request: it holds the schema faults in
force (read from the engine when the request arrives, so ``from_run`` faults switch on
mid-sandbox), the request's ``corrupt_value`` fault (fired once, on the first value
read) and the complexity figures the ``complexity`` field reports. Pagination cursors
live server-side in :class:`Cursors`, as Monday's do. Writes are in
:mod:`.emulator_mutations`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.monday.emulator_hooks import BoardHooks
from connectors.monday.emulator_schema import app_error, column_types
from connectors.monday.emulator_state import (
    Board,
    Item,
    MondayState,
    iso,
)
from connectors.monday.emulator_values import (
    BoardView,
    ColumnView,
    corrupt,
    render,
)
from connectors.sandbox.faults import Fault, FaultEngine

Info = GraphQLResolveInfo["RequestContext"]

MAX_PAGE_SIZE = 500


@dataclass
class Cursors:
    """Server-side pagination cursors, as Monday keeps them: a token → the remaining ids."""

    pages: dict[str, tuple[int, list[int]]] = field(default_factory=dict)
    serial: int = 0

    def page(self, board_id: int, ids: list[int], limit: int) -> dict[str, Any]:
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        head, rest = ids[:limit], ids[limit:]
        cursor = None
        if rest:
            self.serial += 1
            raw = f"{board_id}:{self.serial}:{len(head)}".encode()
            cursor = "MSw" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
            self.pages[cursor] = (board_id, rest)
        return {"cursor": cursor, "ids": head, "board_id": board_id}

    def resume(self, cursor: str, limit: int) -> dict[str, Any]:
        if cursor not in self.pages:
            raise app_error(
                "CursorException",
                "The cursor is invalid or has expired",
                error_data={"cursor": cursor},
            )
        board_id, ids = self.pages.pop(cursor)
        return self.page(board_id, ids, limit)


@dataclass
class RequestContext:
    state: MondayState
    engine: FaultEngine
    cursors: Cursors
    operation: str
    complexity: dict[str, int]
    schema_faults: list[Fault]
    hooks: BoardHooks | None = None
    _views: dict[int, BoardView] = field(default_factory=dict)
    _corruption: list[Fault | None] = field(default_factory=list)

    def view(self, board: Board) -> BoardView:
        if board.id not in self._views:
            self._views[board.id] = BoardView(board, self.schema_faults)
        return self._views[board.id]

    def forget_views(self) -> None:
        """Drop cached board views (a write may have added a status label)."""
        self._views.clear()

    def corruption(self) -> Fault | None:
        """The ``corrupt_value`` fault for this request, fired on the first value read."""
        if not self._corruption:
            fault = self.engine.fire("monday", ["corrupt_value"], operation=self.operation)
            self._corruption.append(fault)
        return self._corruption[0]

    def board(self, board_id: Any) -> Board:
        board = self.state.boards.get(_int(board_id))
        if board is None:
            raise app_error(
                "InvalidBoardIdException",
                "The board does not exist. Please check your board ID and try again",
                error_data={"board_id": _int(board_id)},
            )
        return board

    def item(self, item_id: Any, board: Board | None = None) -> Item:
        item = self.state.find_item(_int(item_id))
        if item is None or (board is not None and item.board_id != board.id):
            raise app_error(
                "InvalidItemIdException",
                "Item not found in board",
                error_data={"item_id": _int(item_id)},
            )
        return item


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def ctx_of(info: Info) -> RequestContext:
    context: RequestContext = info.context
    return context


class BoardNode:
    """A board in a response; methods are fields with arguments."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.id = str(board.id)
        self.name = board.name
        self.state = "active"

    def columns(
        self, info: Info, ids: list[str] | None = None, types: Any = None
    ) -> list[dict[str, Any]]:
        views = ctx_of(info).view(self.board).columns
        known = column_types()
        return [
            {
                "id": c.id,
                "title": c.title,
                "type": c.type if c.type in known else "unsupported",
                "settings_str": c.settings_str(),
                "archived": False,
                "description": None,
            }
            for c in views
            if (ids is None or c.id in ids) and (types is None or c.type in types)
        ]

    def groups(self, info: Info, ids: list[str] | None = None) -> list[Any]:
        return [vars(g) for g in self.board.groups if ids is None or g.id in ids]

    def items_page(
        self,
        info: Info,
        limit: int = 25,
        cursor: str | None = None,
        query_params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        ctx = ctx_of(info)
        if cursor:
            return _items_response(ctx, ctx.cursors.resume(cursor, limit))
        ids = [i.id for i in self.board.items.values() if _matches(ctx, i, query_params or {})]
        return _items_response(ctx, ctx.cursors.page(self.board.id, ids, limit))


class ItemNode:
    """An item in a response, rendered through the request's board view."""

    def __init__(self, item: Item, ctx: RequestContext, *, freeze: bool = False) -> None:
        self.item = item
        self.id = str(item.id)
        self._name = item.name
        self.state = "active"
        self.created_at = iso(item.created_at)
        self.updated_at = iso(item.updated_at)
        self._ctx = ctx
        self._board = ctx.state.boards[item.board_id]
        # A write answers with the item as the write left it, even if a person edits it
        # a moment later (``concurrent_edit`` after_write), so its values are taken now.
        self._frozen = self.rendered() if freeze else None

    def board(self, info: Info) -> BoardNode:
        return BoardNode(self._board)

    def name(self, info: Info) -> str:
        """The item name; a ``corrupt_value`` fault on ``name`` (or its title) damages it."""
        fault = self._ctx.corruption()
        column = self._ctx.view(self._board).column("name")
        if fault is None or fault.target not in ("name", column.title if column else "Name"):
            return self._name
        return str(fault.value) if fault.value is not None else self._name[::-1]

    def updates(self, info: Info, limit: int = 25, page: int = 1) -> list[dict[str, Any]]:
        """The item's updates (comments), newest first, as Monday lists them."""
        mine = [u for u in reversed(self._ctx.state.updates) if u["item_id"] == self.id]
        start = (max(page, 1) - 1) * limit
        return [update_node(self._ctx.state, u) for u in mine[start : start + limit]]

    def group(self, info: Info) -> dict[str, Any] | None:
        group = next((g for g in self._board.groups if g.id == self.item.group_id), None)
        return vars(group) if group else None

    def column_values(
        self, info: Info, ids: list[str] | None = None, types: Any = None
    ) -> list[dict[str, Any]]:
        return [
            entry
            for entry in (self._frozen if self._frozen is not None else self.rendered())
            if (ids is None or entry["id"] in ids) and (types is None or entry["type"] in types)
        ]

    def rendered(self) -> list[dict[str, Any]]:
        """Every value but the name (Monday lists the name column, not its value)."""
        fault = self._ctx.corruption()
        out = []
        for column in self._ctx.view(self._board).columns:
            if column.type == "name":
                continue
            entry = render(column, self.item.values.get(column.id), self._ctx.state)
            if fault is not None and fault.target in (column.title, column.id):
                entry = corrupt(entry, fault)
            out.append(entry)
        return out


def _items_response(ctx: RequestContext, page: dict[str, Any]) -> dict[str, Any]:
    board = ctx.state.boards[page["board_id"]]
    items = [ItemNode(board.items[i], ctx) for i in page["ids"] if i in board.items]
    return {"cursor": page["cursor"], "items": items}


def _matches(ctx: RequestContext, item: Item, params: dict[str, Any]) -> bool:
    if params.get("ids") and str(item.id) not in {str(i) for i in params["ids"]}:
        return False
    rules = params.get("rules") or []
    results = [_rule_matches(ctx, item, rule) for rule in rules]
    if not results:
        return True
    return any(results) if params.get("operator") == "or" else all(results)


def _rule_matches(ctx: RequestContext, item: Item, rule: dict[str, Any]) -> bool:
    column = column_of(ctx, ctx.state.boards[item.board_id], str(rule["column_id"]))
    entry = render(column, item.values.get(column.id), ctx.state)
    wanted = rule.get("compare_value")
    wanted = wanted if isinstance(wanted, list) else [wanted]
    present = {entry["text"], str(entry.get("index")), *_people_ids(entry)} - {"", "None"}
    if column.type == "name":
        present = {item.name}
    operator = rule.get("operator") or "any_of"
    hit = any(str(w) in present for w in wanted)
    outcomes = {
        "any_of": hit,
        "not_any_of": not hit,
        "is_empty": not present,
        "is_not_empty": bool(present),
        "contains_text": any(str(w).lower() in entry["text"].lower() for w in wanted),
        "not_contains_text": not any(str(w).lower() in entry["text"].lower() for w in wanted),
    }
    return outcomes[operator]


def _people_ids(entry: dict[str, Any]) -> set[str]:
    people = entry.get("persons_and_teams") or []
    return {str(p["id"]) for p in people} | {f"person-{p['id']}" for p in people}


def column_of(ctx: RequestContext, board: Board, column_id: str) -> ColumnView:
    column = ctx.view(board).column(column_id)
    if column is None:
        raise app_error(
            "InvalidColumnIdException",
            "This column ID doesn't exist for the board",
            error_data={"column_id": column_id, "board_id": board.id},
        )
    return column


class QueryRoot:
    """The root value's query fields, as methods."""

    def boards(
        self,
        info: Info,
        ids: list[str] | None = None,
        limit: int | None = None,
        page: int | None = None,
        **_: Any,
    ) -> list[BoardNode]:
        boards = ctx_of(info).state.boards
        wanted = [_int(i) for i in ids] if ids is not None else list(boards)
        found = [BoardNode(boards[i]) for i in wanted if i in boards]
        size = limit or 25  # Monday's default page of boards
        start = (max(page or 1, 1) - 1) * size
        return found[start : start + size]

    def items(self, info: Info, ids: list[str] | None = None, **_: Any) -> list[Any]:
        ctx = ctx_of(info)
        found = [ctx.state.find_item(_int(i)) for i in (ids or [])[:100]]
        return [ItemNode(item, ctx) for item in found if item is not None]

    def next_items_page(self, info: Info, cursor: str, limit: int = 25) -> Any:
        ctx = ctx_of(info)
        return _items_response(ctx, ctx.cursors.resume(cursor, limit))

    def items_page_by_column_values(
        self,
        info: Info,
        board_id: str,
        columns: list[dict[str, Any]] | None = None,
        limit: int = 25,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        ctx = ctx_of(info)
        if cursor:
            return _items_response(ctx, ctx.cursors.resume(cursor, limit))
        board = ctx.board(board_id)
        rules = [
            {"column_id": c["column_id"], "compare_value": c["column_values"]}
            for c in columns or []
        ]
        ids = [i.id for i in board.items.values() if _matches(ctx, i, {"rules": rules})]
        return _items_response(ctx, ctx.cursors.page(board.id, ids, limit))

    def users(
        self,
        info: Info,
        ids: list[str] | None = None,
        emails: list[str] | None = None,
        **_: Any,
    ) -> list[dict[str, Any]]:
        state = ctx_of(info).state
        wanted_ids = {_int(i) for i in ids} if ids is not None else None
        wanted_emails = {e.lower() for e in emails} if emails is not None else None
        return [
            {"id": str(u.id), "name": u.name, "email": u.email, "enabled": True}
            for u in state.users.values()
            if (wanted_ids is None or u.id in wanted_ids)
            and (wanted_emails is None or u.email.lower() in wanted_emails)
        ]

    def updates(
        self, info: Info, ids: list[str] | None = None, limit: int = 25, page: int = 1
    ) -> list[dict[str, Any]]:
        state = ctx_of(info).state
        found = [u for u in reversed(state.updates) if ids is None or u["id"] in ids]
        start = (max(page, 1) - 1) * limit
        return [update_node(state, u) for u in found[start : start + limit]]

    def webhooks(
        self, info: Info, board_id: str, app_webhooks_only: bool | None = None
    ) -> list[dict[str, Any]]:
        """The board's webhooks (all made through the API, so all the app's)."""
        board = ctx_of(info).board(board_id)
        return [w.node() for w in ctx_of(info).state.webhooks.values() if w.board_id == board.id]

    def me(self, info: Info) -> dict[str, Any]:
        user = next(iter(ctx_of(info).state.users.values()))
        return {"id": str(user.id), "name": user.name, "email": user.email, "enabled": True}

    def complexity(self, info: Info) -> dict[str, int]:
        return ctx_of(info).complexity


def update_node(state: MondayState, update: dict[str, Any]) -> dict[str, Any]:
    """A stored update as the API shows it, with its creator."""
    creator = state.users.get(int(update["creator_id"]))
    user = None
    if creator is not None:
        user = {
            "id": str(creator.id),
            "name": creator.name,
            "email": creator.email,
            "enabled": True,
        }
    return {**update, "creator": user}
