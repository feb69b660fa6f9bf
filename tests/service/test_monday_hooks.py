"""Monday's webhook flow on loopback: ``create_webhook`` on the emulator (the receiver
answers the challenge first), then an item's status set to "Stuck" starts the digest
pipeline; another status change is delivered, signed, and filtered out by the spec."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.sandbox.server import Sandbox
from connectors.sandbox.webhooks import MONDAY_SIGNING_SECRET
from orchestrator.config.ports import free_port
from orchestrator.config.settings import SANDBOX_TOKEN, TOOLS, Settings, ToolEndpoint
from orchestrator.service.service import ServiceOptions, open_service
from tests.orchestrator.processes import poll_until
from tests.service.processes import write_hooked_spec

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
        settings = Settings(
            temporal_address=temporal_address,
            database_url=f"sqlite:///{tmp_path / 'trace.db'}",
            pipelines_dir=str(tmp_path / "pipelines"),
            task_queue=f"monday-{uuid.uuid4().hex[:8]}",
            webhook_secrets={"monday": SecretStr(MONDAY_SIGNING_SECRET)},
            endpoints={
                tool: ToolEndpoint(base_url=sandbox.urls[tool], token=SecretStr(SANDBOX_TOKEN))
                for tool in TOOLS
            },
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
            store = service.stack.store
            assert store is not None
            await poll_until(
                lambda: any(r.ended_at for r in store.list_runs(pipeline=name)),
                within=120,
                every=0.1,
            )
            runs = store.list_runs(pipeline=name)
            trigger = store.get_payload(runs[0].trigger_hash or "")
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
