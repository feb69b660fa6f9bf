"""The Monday.com connector: one async client over Monday's GraphQL API v2.

Configured by base URL and token only and handed its ``httpx.AsyncClient``, so the same
code talks to ``https://api.monday.com`` or the sandbox. Values are written by column
**title** (what ops people see) or id; titles are resolved against the board as it is
*now* — the board is read on every write, never cached — so a renamed or dropped column
fails loudly with :class:`UnknownFieldError` instead of writing to the wrong place.

Every write returns its :class:`ExternalWrite` (before and after images; Monday does not
return the before-image, so the item is read first). :meth:`MondayClient.upsert_item` is
idempotent on a key column: it finds first, then creates or changes only what differs,
so a repeat — including a retry after a ``504`` whose write did land — never creates a
second item. The client never retries; errors come from :mod:`.error_map`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx

from connectors.errors import ConflictError, NotFoundError
from connectors.http import send
from connectors.monday.encoding import (
    compare_text,
    emails_in,
    encode_value,
    matches,
    parse_board,
    parse_item,
    resolve_column,
)
from connectors.monday.error_map import data_or_raise
from connectors.monday.models import Board, ColumnInput, Item, ItemWriteResult, User
from connectors.retry import DEFAULT_POLICY, RetryPolicy, is_graphql_mutation, retrying
from connectors.writes import ExternalWrite, write_action

DEFAULT_API_VERSION = "2025-10"
PAGE_SIZE = 100
BOARDS_PAGE_SIZE = 100

ITEM_FIELDS = """
fragment ItemFields on Item {
  id name created_at updated_at board { id } group { id title }
  column_values { id type text value ... on StatusValue { index label } }
}
"""
BOARD_QUERY = """
query ($ids: [ID!]) {
  boards(ids: $ids) { id name columns { id title type settings_str } groups { id title } }
}
"""
BOARDS_PAGE_QUERY = """
query ($limit: Int, $page: Int) {
  boards(limit: $limit, page: $page) {
    id name columns { id title type settings_str } groups { id title }
  }
}
"""
ITEMS_PAGE_QUERY = (
    ITEM_FIELDS
    + """
query ($ids: [ID!], $limit: Int!) {
  boards(ids: $ids) { items_page(limit: $limit) { cursor items { ...ItemFields } } }
}
"""
)
NEXT_PAGE_QUERY = (
    ITEM_FIELDS
    + """
query ($cursor: String!, $limit: Int!) {
  next_items_page(cursor: $cursor, limit: $limit) { cursor items { ...ItemFields } }
}
"""
)
FIND_QUERY = (
    ITEM_FIELDS
    + """
query ($board: ID!, $columns: [ItemsPageByColumnValuesQuery!], $limit: Int!) {
  items_page_by_column_values(board_id: $board, columns: $columns, limit: $limit) {
    cursor items { ...ItemFields }
  }
}
"""
)
ITEM_QUERY = ITEM_FIELDS + "query ($ids: [ID!]) { items(ids: $ids) { ...ItemFields } }"
USERS_QUERY = "query ($emails: [String]) { users(emails: $emails) { id name email } }"
CREATE_MUTATION = (
    ITEM_FIELDS
    + """
mutation ($board: ID!, $name: String!, $group: String, $values: JSON) {
  create_item(board_id: $board, item_name: $name, group_id: $group, column_values: $values) {
    ...ItemFields
  }
}
"""
)
CHANGE_MUTATION = (
    ITEM_FIELDS
    + """
mutation ($board: ID!, $item: ID!, $values: JSON!) {
  change_multiple_column_values(board_id: $board, item_id: $item, column_values: $values) {
    ...ItemFields
  }
}
"""
)
DELETE_MUTATION = "mutation ($item: ID!) { delete_item(item_id: $item) { id } }"


class MondayClient:
    """Monday.com's API v2 for steptrace's pipelines; see the module docstring.

    Board and item ids may be given as ``int`` or ``str``; models carry them as ``str``.
    The keyword-only ``operation`` and ``board`` arguments let one operation reuse the
    others (``upsert_item`` finds, then creates or changes): errors then name the
    operation the caller asked for, and the board is read once per operation, not
    once per call.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        token: str,
        api_version: str = DEFAULT_API_VERSION,
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self._retry = retry
        self._http = http
        self._url = base_url.rstrip("/") + "/v2"
        self._headers = {
            "Authorization": token,
            "API-Version": api_version,
            "Content-Type": "application/json",
        }

    # -- reads -----------------------------------------------------------------------

    async def get_board(self, board_id: int | str, *, operation: str = "get_board") -> Board:
        """The board with its columns (status labels included) and groups."""
        data = await self._call(BOARD_QUERY, {"ids": [str(board_id)]}, operation=operation)
        boards = data.get("boards") or []
        if not boards:
            raise NotFoundError(
                f"no board {board_id} (or the token cannot see it)",
                tool="monday",
                operation=operation,
                details={"board_id": str(board_id)},
            )
        return parse_board(boards[0])

    async def find_board(self, name: str) -> Board:
        """The board called ``name`` (exactly, else ignoring case), from every page of boards."""
        boards: list[Board] = []
        page = 1
        while True:
            variables = {"limit": BOARDS_PAGE_SIZE, "page": page}
            data = await self._call(BOARDS_PAGE_QUERY, variables, operation="find_board")
            raw = data.get("boards") or []
            boards.extend(parse_board(b) for b in raw)
            if len(raw) < BOARDS_PAGE_SIZE:
                break
            page += 1
        for exact in (True, False):
            for board in boards:
                if board.name == name or (not exact and board.name.lower() == name.lower()):
                    return board
        raise NotFoundError(
            f"no board called {name!r} (boards: {', '.join(repr(b.name) for b in boards)})",
            tool="monday",
            operation="find_board",
            details={"board_names": [b.name for b in boards]},
        )

    async def list_items(
        self, board_id: int | str, *, page_size: int = PAGE_SIZE
    ) -> AsyncIterator[Item]:
        """Every item of the board, page by page (``items_page``, then ``next_items_page``)."""
        variables = {"ids": [str(board_id)], "limit": page_size}
        data = await self._call(ITEMS_PAGE_QUERY, variables, operation="list_items")
        boards = data.get("boards") or []
        if not boards:
            raise NotFoundError(f"no board {board_id}", tool="monday", operation="list_items")
        page = boards[0]["items_page"]
        while True:
            for raw in page["items"]:
                yield parse_item(raw)
            if not page.get("cursor"):
                return
            variables = {"cursor": page["cursor"], "limit": page_size}
            data = await self._call(NEXT_PAGE_QUERY, variables, operation="list_items")
            page = data["next_items_page"]

    async def get_item(self, item_id: int | str, *, operation: str = "get_item") -> Item | None:
        """The item, or ``None`` when Monday has no such item."""
        data = await self._call(ITEM_QUERY, {"ids": [str(item_id)]}, operation=operation)
        items = data.get("items") or []
        return parse_item(items[0]) if items else None

    async def find_items(
        self,
        board_id: int | str,
        column: str,
        value: ColumnInput,
        *,
        board: Board | None = None,
        operation: str = "find_items",
    ) -> list[Item]:
        """Items whose ``column`` (title or id) shows ``value``; every page."""
        board = board or await self.get_board(board_id, operation=operation)
        target = resolve_column(board, column, operation=operation)
        columns = [{"column_id": target.id, "column_values": [compare_text(target, value)]}]
        variables = {"board": str(board_id), "columns": columns, "limit": PAGE_SIZE}
        data = await self._call(FIND_QUERY, variables, operation=operation, board=board)
        page = data["items_page_by_column_values"]
        found = [parse_item(raw) for raw in page["items"]]
        while page.get("cursor"):
            variables = {"cursor": page["cursor"], "limit": PAGE_SIZE}
            data = await self._call(NEXT_PAGE_QUERY, variables, operation=operation)
            page = data["next_items_page"]
            found.extend(parse_item(raw) for raw in page["items"])
        return found

    async def find_user_by_email(self, email: str) -> User | None:
        """The Monday user with this email (case-insensitive), or ``None``."""
        users = await self._users([email], operation="find_user_by_email")
        wanted = email.strip().lower()
        return next((u for u in users if u.email.lower() == wanted), None)

    # -- writes ----------------------------------------------------------------------

    async def create_item(
        self,
        board_id: int | str,
        name: str,
        values: Mapping[str, ColumnInput] | None = None,
        group_id: str | None = None,
        *,
        operation: str = "create_item",
        board: Board | None = None,
        reconcile: Callable[[], Awaitable[Item | None]] | None = None,
    ) -> ItemWriteResult:
        """Create an item; ``values`` by column title or id. Not idempotent: see upsert.

        ``reconcile`` reads back the item this create would make (by its key): after an
        answer that may hide a landed create, a found item is the answer, not a retry.
        """
        board = board or await self.get_board(board_id, operation=operation)
        encoded = await self._encode(board, values or {}, operation=operation)
        name = str(encoded.pop("name", name))
        variables = {
            "board": str(board_id),
            "name": name,
            "group": group_id,
            "values": json.dumps(encoded),
        }

        async def create() -> Item:
            data = await self._call(CREATE_MUTATION, variables, operation=operation, board=board)
            return parse_item(data["create_item"])

        item = await retrying(
            create,
            tool="monday",
            operation=operation,
            idempotent=False,
            reconcile=reconcile,
            policy=self._retry,
        )
        return _result(board, None, item)

    async def change_column_values(
        self,
        board_id: int | str,
        item_id: int | str,
        values: Mapping[str, ColumnInput],
        *,
        operation: str = "change_column_values",
        board: Board | None = None,
    ) -> ItemWriteResult:
        """Change some columns of an item (a ``Name`` value renames it).

        The item is read first, for the before-image; the after-image is the item as
        Monday's answer to the write shows it (a person's edit a moment later is not in
        it, so a later rollback can tell it apart).
        """
        board = board or await self.get_board(board_id, operation=operation)
        before = await self._existing(item_id, operation=operation)
        encoded = await self._encode(board, values, operation=operation)
        variables = {"board": str(board_id), "item": str(item_id), "values": json.dumps(encoded)}
        data = await self._call(CHANGE_MUTATION, variables, operation=operation, board=board)
        return _result(board, before, parse_item(data["change_multiple_column_values"]))

    async def upsert_item(
        self,
        board_id: int | str,
        key_column: str,
        key_value: ColumnInput,
        name: str,
        values: Mapping[str, ColumnInput],
        group_id: str | None = None,
    ) -> ItemWriteResult:
        """Create or update the one item whose ``key_column`` shows ``key_value``.

        Idempotent: a repeat changes nothing (``action="unchanged"``) and a retry after a
        timed-out create finds the item the first attempt made. Two items with the same
        key raise :class:`ConflictError` rather than guessing which one is meant.
        """
        op = "upsert_item"
        board = await self.get_board(board_id, operation=op)
        found = await self.find_items(board_id, key_column, key_value, board=board, operation=op)
        wanted = {**values, key_column: key_value}
        if not found:

            async def landed() -> Item | None:
                again = await self.find_items(
                    board_id, key_column, key_value, board=board, operation=op
                )
                return again[0] if len(again) == 1 else None

            return await self.create_item(
                board_id, name, wanted, group_id, operation=op, board=board, reconcile=landed
            )
        if len(found) > 1:
            raise ConflictError(
                f"{len(found)} items on board {board.name!r} have {key_column!r} = "
                f"{key_value!r} (ids {', '.join(i.id for i in found)}); the key must be unique",
                tool="monday",
                operation=op,
                code="duplicate_key",
                field=key_column,
                details={"item_ids": [i.id for i in found]},
            )
        return await self._update_differences(board, found[0], name, wanted, operation=op)

    async def delete_item(self, item_id: int | str) -> ItemWriteResult:
        """Delete an item; the write's before-image is the item as it was."""
        op = "delete_item"
        before = await self._existing(item_id, operation=op)
        await self._call(DELETE_MUTATION, {"item": str(item_id)}, operation=op)
        write = ExternalWrite(
            tool="monday",
            kind="item",
            container=before.board_id or "",
            object_id=before.id,
            action="deleted",
            before=before.image(),
            after=None,
        )
        return ItemWriteResult(item=None, write=write)

    # -- helpers ---------------------------------------------------------------------

    async def _update_differences(
        self,
        board: Board,
        current: Item,
        name: str,
        wanted: Mapping[str, ColumnInput],
        *,
        operation: str,
    ) -> ItemWriteResult:
        encoded = await self._encode(board, wanted, operation=operation)
        columns = {c.id: c for c in board.columns}
        changes = {
            column_id: value
            for column_id, value in encoded.items()
            if column_id != "name"
            and not matches(columns[column_id], current.column_values.get(column_id), value)
        }
        new_name = str(encoded.get("name", name))
        if new_name != current.name:
            changes["name"] = new_name
        if not changes:
            return _result(board, current, current)
        variables = {"board": board.id, "item": current.id, "values": json.dumps(changes)}
        data = await self._call(CHANGE_MUTATION, variables, operation=operation, board=board)
        return _result(board, current, parse_item(data["change_multiple_column_values"]))

    async def _existing(self, item_id: int | str, *, operation: str) -> Item:
        item = await self.get_item(item_id, operation=operation)
        if item is None:
            raise NotFoundError(
                f"no item {item_id}",
                tool="monday",
                operation=operation,
                code="InvalidItemIdException",
                details={"item_id": str(item_id)},
            )
        return item

    async def _encode(
        self, board: Board, values: Mapping[str, ColumnInput], *, operation: str
    ) -> dict[str, Any]:
        """Monday's ``column_values`` JSON (by column id) for values given by title or id."""
        columns = {key: resolve_column(board, key, operation=operation) for key in values}
        emails = [
            e for key, v in values.items() if columns[key].type == "people" for e in emails_in(v)
        ]
        user_ids = {}
        if emails:
            users = await self._users(emails, operation=operation)
            user_ids = {u.email.lower(): u.id for u in users}
        encoded: dict[str, Any] = {}
        for key, value in values.items():
            column = columns[key]
            if column.type == "name":
                encoded["name"] = str(value)
            else:
                encoded[column.id] = encode_value(column, value, user_ids, operation=operation)
        return encoded

    async def _users(self, emails: list[str], *, operation: str) -> list[User]:
        data = await self._call(USERS_QUERY, {"emails": emails}, operation=operation)
        return [
            User(id=str(u["id"]), name=str(u["name"]), email=str(u["email"]))
            for u in data.get("users") or []
        ]

    async def _call(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        operation: str,
        board: Board | None = None,
    ) -> dict[str, Any]:
        """One GraphQL call; queries and the setting of column values (a repeat sets the
        same values) are retried inside the attempt, other mutations are not."""

        async def once() -> dict[str, Any]:
            return await self._call_once(query, variables, operation=operation, board=board)

        idempotent = not is_graphql_mutation(query) or query == CHANGE_MUTATION
        return await retrying(
            once, tool="monday", operation=operation, idempotent=idempotent, policy=self._retry
        )

    async def _call_once(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        operation: str,
        board: Board | None,
    ) -> dict[str, Any]:
        request = self._http.build_request(
            "POST", self._url, headers=self._headers, json={"query": query, "variables": variables}
        )
        response = await send(self._http, request, tool="monday", operation=operation)
        titles = {c.id: c.title for c in board.columns} if board else None
        return data_or_raise(response, operation=operation, columns=titles)


def _result(board: Board, before: Item | None, after: Item) -> ItemWriteResult:
    before_image = before.image() if before else None
    after_image = after.image()
    write = ExternalWrite(
        tool="monday",
        kind="item",
        container=board.id,
        object_id=after.id,
        action=write_action(before_image, after_image),
        before=before_image,
        after=after_image,
    )
    return ItemWriteResult(item=after, write=write)
