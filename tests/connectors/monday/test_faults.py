"""Every data fault in Monday's vocabulary, seen through the client over HTTP."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.errors import InvalidValueError, UnknownFieldError
from connectors.monday.client import MondayClient
from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox


def fault(kind: str, **fields: object) -> Fault:
    return Fault.model_validate({"service": "monday", "kind": kind, **fields})


async def test_renamed_column_fails_clearly_by_its_old_title(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("rename_field", target="Priority", to="Priority Level")])

    with pytest.raises(UnknownFieldError) as caught:
        await monday.upsert_item(board_id, "Linear ID", "ENG-101", "x", {"Priority": "High"})

    assert caught.value.field == "Priority"
    assert "'Priority Level' (priority)" in caught.value.message
    renamed = await monday.upsert_item(
        board_id, "Linear ID", "ENG-101", "x", {"Priority Level": "High"}
    )
    assert renamed.item is not None and renamed.item.column_values["priority"].label == "High"


async def test_rename_from_run_two_leaves_run_one_alone(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("rename_field", target="Status", to="State", from_run=2)])
    values = {"Status": "Stuck"}

    sandbox.begin_run(1)
    first = await monday.upsert_item(board_id, "Linear ID", "ENG-104", "x", values)
    sandbox.begin_run(2)
    with pytest.raises(UnknownFieldError) as caught:
        await monday.upsert_item(board_id, "Linear ID", "ENG-104", "x", values)

    assert first.write.action == "created"
    assert caught.value.field == "Status"


async def test_dropped_column_disappears_from_board_and_reads(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("drop_field", target="Due")])

    board = await monday.get_board(board_id)
    items = [item async for item in monday.list_items(board_id)]
    with pytest.raises(UnknownFieldError) as caught:
        await monday.create_item(board_id, "x", {"Due": date(2026, 12, 1)})

    assert "Due" not in [c.title for c in board.columns]
    assert all("date4" not in item.column_values for item in items)
    assert caught.value.field == "Due"


async def test_changed_type_changes_validation(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("change_type", target="Status", to="numbers")])

    board = await monday.get_board(board_id)
    with pytest.raises(InvalidValueError) as caught:
        await monday.create_item(board_id, "x", {"Status": "Done"})

    status = board.column_by_id("status")
    assert status is not None and status.type == "numbers"
    assert caught.value.code == "ColumnValueException"
    assert caught.value.field == "Status"
    assert caught.value.details["error_data"]["column_type"] == "numbers"


async def test_changed_type_to_text_keeps_the_display_text(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    before = (await monday.find_items(board_id, "Linear ID", "ENG-150"))[0]
    sandbox.add_faults([fault("change_type", target="Due", to="text")])

    after = await monday.get_item(before.id)

    assert after is not None
    assert after.column_values["date4"].type == "text"
    assert after.text("date4") == before.text("date4")


async def test_type_outside_mondays_enum_reads_as_unsupported(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("change_type", target="Labels", to="hologram")])

    item = (await monday.find_items(board_id, "Linear ID", "ENG-150"))[0]

    assert item.column_values["text_labels"].type == "unsupported"


async def test_removed_status_label(monday: MondayClient, sandbox: Sandbox, board_id: int) -> None:
    stuck = await monday.find_items(board_id, "Status", "Stuck")
    sandbox.add_faults([fault("remove_option", target="Status", value="Stuck")])

    board = await monday.get_board(board_id)
    with pytest.raises(InvalidValueError) as caught:
        await monday.create_item(board_id, "x", {"Status": "Stuck"})
    reread = await monday.get_item(stuck[0].id)

    status = board.column_by_id("status")
    assert status is not None and "Stuck" not in status.label_names()
    assert caught.value.field == "Status" and caught.value.code == "ColumnValueException"
    assert reread is not None
    assert reread.column_values["status"].label is None
    assert reread.text("status") == ""


async def test_corrupt_value_returns_the_given_value(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults([fault("corrupt_value", target="Linear ID", value="ENG-999", times=1)])

    corrupted = [item async for item in monday.list_items(board_id, page_size=50)]
    clean = [item async for item in monday.list_items(board_id, page_size=50)]

    assert {item.text("text_linear") for item in corrupted} == {"ENG-999"}
    assert "ENG-999" not in {item.text("text_linear") for item in clean}


async def test_corrupt_value_without_value_damages_a_copy(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    original = (await monday.find_items(board_id, "Linear ID", "ENG-150"))[0]
    sandbox.add_faults([fault("corrupt_value", target="Status")])

    damaged = await monday.get_item(original.id)

    assert damaged is not None
    label = original.column_values["status"].label
    assert label is not None
    assert damaged.column_values["status"].label == label[::-1]
    assert damaged.text("text_linear") == original.text("text_linear")


async def test_corrupt_value_on_the_item_name(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    original = (await monday.find_items(board_id, "Linear ID", "ENG-150"))[0]
    sandbox.add_faults([fault("corrupt_value", target="name", value="???")])

    damaged = await monday.get_item(original.id)

    assert damaged is not None and damaged.name == "???"


async def test_concurrent_edit_after_our_write(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults(
        [fault("concurrent_edit", target="Status", value="Stuck", when="after_write")]
    )
    target = (await monday.find_items(board_id, "Linear ID", "ENG-145"))[0]
    ours = "Done" if target.column_values["status"].label != "Done" else "Canceled"

    result = await monday.change_column_values(board_id, target.id, {"Status": ours})
    now = await monday.get_item(target.id)

    assert result.item is not None and result.item.column_values["status"].label == ours
    assert now is not None and now.column_values["status"].label == "Stuck"
    assert now.updated_at is not None and result.item.updated_at is not None
    assert now.updated_at > result.item.updated_at  # the person's edit is newer than ours


async def test_concurrent_edit_before_our_write(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    sandbox.add_faults(
        [fault("concurrent_edit", target="Priority", value="Critical", when="before_write")]
    )
    items = [item async for item in monday.list_items(board_id)]
    target = next(i for i in items if i.column_values["priority"].label != "Critical")
    key = target.text("text_linear")

    result = await monday.upsert_item(
        board_id, "Linear ID", key, target.name, {"Status": "Stuck", "Due": "2027-01-04"}
    )

    before, after = result.write.before, result.write.after
    assert before is not None and after is not None
    # The before-image was read before the person's edit; the after-image shows both.
    assert before["column_values"]["priority"]["label"] != "Critical"
    assert after["column_values"]["priority"]["label"] == "Critical"
    assert after["column_values"]["date4"]["text"] == "2027-01-04"


async def test_a_renamed_column_keeps_its_id(
    monday: MondayClient, sandbox: Sandbox, board_id: int
) -> None:
    before = {c.title: c.id for c in (await monday.get_board(board_id)).columns}
    sandbox.add_faults([fault("rename_field", target="Priority", to="Urgency")])
    after = {c.title: c.id for c in (await monday.get_board(board_id)).columns}
    assert "Priority" not in after
    assert after["Urgency"] == before["Priority"], "Monday keeps a column's id on rename"
