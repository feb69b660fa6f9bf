"""Monday calls retried inside one attempt, against the sandbox's fault engine."""

from __future__ import annotations

import httpx

from connectors.monday.client import MondayClient
from connectors.retry import recording_retries
from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox
from tests.connectors.monday.wire import TOKEN


async def test_a_create_that_landed_behind_a_timeout_is_one_item_and_a_known_write(
    sandbox: Sandbox, http: httpx.AsyncClient, board_id: int
) -> None:
    monday = MondayClient(http, base_url=sandbox.urls["monday"], token=TOKEN)
    sandbox.add_faults(
        [Fault(service="monday", kind="duplicate_on_timeout", operation="create_item", times=1)]
    )
    with recording_retries() as log:
        written = await monday.upsert_item(
            board_id, "Linear ID", "ENG-103", "Search slow", {"Status": "Triage"}
        )

    assert written.write.action == "created"
    assert [r.reconciled for r in log] == [True]
    assert len(await monday.find_items(board_id, "Linear ID", "ENG-103")) == 1


async def test_board_reads_absorb_server_errors(
    sandbox: Sandbox, http: httpx.AsyncClient, board_id: int
) -> None:
    monday = MondayClient(http, base_url=sandbox.urls["monday"], token=TOKEN)
    sandbox.add_faults([Fault(service="monday", kind="http_error", status=502, times=2)])
    with recording_retries() as log:
        board = await monday.get_board(board_id)
    assert board.columns
    assert len(log) == 2
