"""The Monday client's operations against the sandbox, over real HTTP: the happy paths."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
    UnknownFieldError,
)
from connectors.monday.client import MondayClient
from connectors.monday.models import ColumnInput
from connectors.sandbox.seed import MONDAY_BOARD_NAME, MONDAY_STATUS_LABELS
from connectors.sandbox.server import Sandbox


async def test_get_board_has_columns_with_status_labels(
    monday: MondayClient, board_id: int
) -> None:
    board = await monday.get_board(board_id)

    assert board.name == MONDAY_BOARD_NAME
    assert [c.title for c in board.columns] == [
        "Name",
        "Status",
        "Priority",
        "Due",
        "Owner",
        "Linear ID",
        "Link",
        "Labels",
    ]
    status = board.column_by_id("status")
    assert status is not None and status.type == "status"
    assert sorted(status.label_names()) == sorted(MONDAY_STATUS_LABELS)
    assert {g.id for g in board.groups} == {"topics", "done"}


async def test_find_board_by_name(monday: MondayClient, board_id: int) -> None:
    assert (await monday.find_board(MONDAY_BOARD_NAME.lower())).id == str(board_id)
    with pytest.raises(NotFoundError) as caught:
        await monday.find_board("Roadmap")
    assert caught.value.details["board_names"] == [MONDAY_BOARD_NAME]


async def test_list_items_pages_through_every_item(monday: MondayClient, board_id: int) -> None:
    items = [item async for item in monday.list_items(board_id, page_size=6)]

    assert len(items) == 20
    assert len({i.id for i in items}) == 20
    statuses = {i.column_values["status"].label for i in items}
    assert "Stuck" in statuses
    due = [i.column_values["date4"].value["date"] for i in items if i.text("date4")]
    assert any(d < "2026-11-23" for d in due) and any(d >= "2026-11-23" for d in due)


async def test_find_items_by_title_and_value(monday: MondayClient, board_id: int) -> None:
    found = await monday.find_items(board_id, "Linear ID", "ENG-150")

    assert [i.text("text_linear") for i in found] == ["ENG-150"]
    stuck = await monday.find_items(board_id, "Status", "Stuck")
    assert stuck and all(i.column_values["status"].label == "Stuck" for i in stuck)


async def test_find_user_by_email(monday: MondayClient, sandbox: Sandbox) -> None:
    person = sandbox.data.people[2]

    user = await monday.find_user_by_email(person.email.upper())

    assert user is not None and user.id == str(person.monday_user_id)
    assert await monday.find_user_by_email("nobody@example.com") is None


async def test_create_item_encodes_typed_values(
    monday: MondayClient, board_id: int, sandbox: Sandbox
) -> None:
    owner = sandbox.data.people[0]

    result = await monday.create_item(
        board_id,
        "Checkout fails",
        {
            "Status": "Stuck",
            "priority": 1,  # by column id, as a status index
            "Due": datetime(2026, 12, 1, 13, 25, tzinfo=UTC),
            "Owner": [owner.email],
            "Linear ID": "ENG-101",
            "Link": "https://linear.app/steptrace/issue/eng-101",
        },
        group_id="topics",
    )

    item = result.item
    assert item is not None
    assert item.column_values["status"].label == "Stuck"
    assert item.column_values["priority"].label == "High"
    assert item.column_values["date4"].value == {"date": "2026-12-01", "time": "13:25:00"}
    assert item.text("person") == owner.name
    assert result.write.action == "created"
    assert result.write.before is None
    assert result.write.after is not None and result.write.after["id"] == item.id


async def test_change_column_values_returns_before_and_after(
    monday: MondayClient, board_id: int
) -> None:
    target = (await monday.find_items(board_id, "Linear ID", "ENG-145"))[0]

    result = await monday.change_column_values(
        board_id, target.id, {"Status": "Done", "Due": date(2026, 12, 24), "Name": "Renamed"}
    )

    assert result.write.action == "updated"
    assert result.write.before == target.image()
    after = result.write.after
    assert after is not None
    assert after["name"] == "Renamed"
    assert after["column_values"]["status"]["label"] == "Done"
    assert after["column_values"]["date4"]["text"] == "2026-12-24"
    assert after["updated_at"] > target.image()["updated_at"]


async def test_upsert_twice_leaves_one_item_and_reports_unchanged(
    monday: MondayClient, board_id: int
) -> None:
    values: dict[str, ColumnInput] = {
        "Status": "Triage",
        "Priority": "High",
        "Due": date(2026, 12, 5),
    }

    first = await monday.upsert_item(board_id, "Linear ID", "ENG-101", "Login broken", values)
    second = await monday.upsert_item(board_id, "Linear ID", "ENG-101", "Login broken", values)

    assert first.write.action == "created"
    assert second.write.action == "unchanged"
    assert second.write.before == second.write.after == first.write.after
    assert len(await monday.find_items(board_id, "Linear ID", "ENG-101")) == 1


async def test_upsert_changes_only_what_differs(monday: MondayClient, board_id: int) -> None:
    existing = (await monday.find_items(board_id, "Linear ID", "ENG-150"))[0]
    new_status = "Stuck" if existing.column_values["status"].label != "Stuck" else "Done"

    result = await monday.upsert_item(
        board_id,
        "Linear ID",
        "ENG-150",
        existing.name,
        {"Status": new_status, "Linear ID": "ENG-150"},  # the key itself is not rewritten
    )

    assert result.write.action == "updated"
    assert result.write.object_id == existing.id
    before, after = result.write.before, result.write.after
    assert before is not None and after is not None
    changed = [
        cid
        for cid in after["column_values"]
        if after["column_values"][cid] != before["column_values"][cid]
    ]
    assert changed == ["status"]


async def test_upsert_refuses_a_duplicated_key(monday: MondayClient, board_id: int) -> None:
    await monday.create_item(board_id, "one", {"Linear ID": "ENG-102"})
    await monday.create_item(board_id, "two", {"Linear ID": "ENG-102"})

    with pytest.raises(ConflictError) as caught:
        await monday.upsert_item(board_id, "Linear ID", "ENG-102", "x", {})

    assert caught.value.field == "Linear ID"
    assert len(caught.value.details["item_ids"]) == 2


async def test_delete_item_returns_the_before_image(monday: MondayClient, board_id: int) -> None:
    target = (await monday.find_items(board_id, "Linear ID", "ENG-160"))[0]

    result = await monday.delete_item(target.id)

    assert result.write.action == "deleted"
    assert result.write.before == target.image()
    assert result.write.after is None
    assert await monday.get_item(target.id) is None


async def test_unknown_title_names_the_known_columns(monday: MondayClient, board_id: int) -> None:
    with pytest.raises(UnknownFieldError) as caught:
        await monday.create_item(board_id, "x", {"Stauts": "Done"})

    assert caught.value.field == "Stauts"
    assert "'Status' (status)" in caught.value.message


async def test_unknown_email_is_an_invalid_value(monday: MondayClient, board_id: int) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await monday.create_item(board_id, "x", {"Owner": "ghost@example.com"})

    assert caught.value.field == "Owner"
