"""Monday's webhook flow on loopback: ``create_webhook`` on the emulator (the receiver
answers the challenge first), then an item's status set to "Stuck" starts the digest
pipeline; another status change is delivered, signed, and filtered out by the spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from connectors.sandbox.server import Sandbox
from connectors.sandbox.webhooks import MONDAY_SIGNING_SECRET
from orchestrator.config.ports import free_port
from orchestrator.config.settings import SANDBOX_TOKEN
from orchestrator.service.service import ServiceOptions, open_service
from tests.service.processes import write_hooked_spec
from tests.service.sandbox_service import ended_runs, sandbox_settings

STUCK = "data.columnId == 'status' && data.value.label.text == 'Stuck'"
CREATE = (
    "mutation($b: ID!, $u: String!, $c: JSON) { create_webhook(board_id: $b, url: $u, "
    "event: change_status_column_value, config: $c) { id board_id event config } }"
)
SET_STATUS = (
    "mutation($b: ID!, $i: ID!, $v: String) { change_simple_column_value(board_id: $b, "
    'item_id: $i, column_id: "status", value: $v) { id } }'
)


def hooked(folder: Path) -> str:
    """The digest, also started when an item gets stuck (the day is the trigger's time)."""
    return write_hooked_spec(
        folder,
        "monday-digest.yaml",
        {
            "tool": "monday",
            "events": ["update_column_value"],
            "filter": STUCK,
            "input": {"date": "data.triggerTime"},
        },
    )


async def graphql(http: httpx.AsyncClient, url: str, query: str, **variables: Any) -> Any:
    return (await http.post(url, json={"query": query, "variables": variables})).json()


async def test_a_status_set_to_stuck_starts_one_run(temporal_address: str, tmp_path: Path) -> None:
    port = free_port()
    name = hooked(tmp_path / "pipelines")
    with Sandbox(seed=7) as sandbox:
        api = sandbox.urls["monday"] + "/v2"
        board = sandbox.state("monday")["boards"][0]
        item = next(i["id"] for i in board["items"])
        settings = sandbox_settings(
            sandbox, temporal_address, tmp_path, {"monday": MONDAY_SIGNING_SECRET}
        )
        options = ServiceOptions(port=port, write_service_file=False)
        async with (
            httpx.AsyncClient(headers={"authorization": SANDBOX_TOKEN}, timeout=30) as http,
            open_service(options, settings) as service,
        ):
            hook = f"http://127.0.0.1:{port}/hooks/monday"
            deaf = await graphql(http, api, CREATE, b=board["id"], u=f"{service.url}/healthz")
            created = await graphql(http, api, CREATE, b=board["id"], u=hook, c={})
            await graphql(http, api, SET_STATUS, b=board["id"], i=item, v="Done")
            await graphql(http, api, SET_STATUS, b=board["id"], i=item, v="Stuck")
            runs, trigger = await ended_runs(service, name)
            listed = await graphql(
                http, api, "query($b: ID!) { webhooks(board_id: $b) { id event } }", b=board["id"]
            )

    [refusal] = deaf["errors"]
    assert "challenge" in refusal["message"] and deaf["data"]["create_webhook"] is None
    webhook = created["data"]["create_webhook"]
    assert webhook["event"] == "change_status_column_value" and webhook["config"] == "{}"
    assert listed["data"]["webhooks"] == [{"id": webhook["id"], "event": webhook["event"]}]
    assert len(runs) == 1, "the Done change was filtered out, the Stuck one ran once"
    assert runs[0].status.value == "succeeded"
    assert trigger["_delivery"]["tool"] == "monday" and trigger["date"].endswith("Z")
