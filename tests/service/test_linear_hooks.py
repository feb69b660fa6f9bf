"""Linear's webhook flow on loopback: ``webhookCreate`` on the emulator, then issues
entering "In Progress" start the pipeline; other updates are delivered, signed, and
filtered out by the spec."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.sandbox.server import Sandbox
from orchestrator.config.ports import free_port
from orchestrator.config.settings import SANDBOX_TOKEN, TOOLS, Settings, ToolEndpoint
from orchestrator.service.service import ServiceOptions, open_service
from tests.orchestrator.processes import poll_until
from tests.service.processes import write_hooked_spec

SECRET = "linear-webhook-signing-secret-0123456789"
ENTERING = "data.state.name == 'In Progress' && updatedFrom.state != null"


def hooked(folder: Path) -> str:
    return write_hooked_spec(
        folder,
        "linear-triage-sync.yaml",
        {
            "tool": "linear",
            "events": ["Issue"],
            "filter": ENTERING,
            "input": {"issue": "data.identifier"},
        },
    )


async def gql(http: httpx.AsyncClient, url: str, query: str, **variables: Any) -> Any:
    response = await http.post(url, json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_an_issue_entering_a_state_starts_one_run(
    temporal_address: str, tmp_path: Path
) -> None:
    port = free_port()
    name = hooked(tmp_path / "pipelines")
    with Sandbox(seed=7) as sandbox:
        api = sandbox.urls["linear"] + "/graphql"
        settings = Settings(
            temporal_address=temporal_address,
            database_url=f"sqlite:///{tmp_path / 'trace.db'}",
            pipelines_dir=str(tmp_path / "pipelines"),
            task_queue=f"linear-{uuid.uuid4().hex[:8]}",
            webhook_secrets={"linear": SecretStr(SECRET)},
            endpoints={
                tool: ToolEndpoint(base_url=sandbox.urls[tool], token=SecretStr(SANDBOX_TOKEN))
                for tool in TOOLS
            },
        )
        options = ServiceOptions(port=port, write_service_file=False)
        async with (
            httpx.AsyncClient(headers={"authorization": SANDBOX_TOKEN}) as http,
            open_service(options, settings) as service,
        ):
            created = await gql(
                http,
                api,
                "mutation($i: WebhookCreateInput!) { webhookCreate(input: $i) "
                "{ success webhook { id enabled } } }",
                i={
                    "url": f"http://127.0.0.1:{port}/hooks/linear",
                    "resourceTypes": ["Issue"],
                    "allPublicTeams": True,
                    "secret": SECRET,
                },
            )
            states = await gql(http, api, "{ workflowStates { nodes { id name } } }")
            started = next(
                s["id"] for s in states["workflowStates"]["nodes"] if s["name"] == "In Progress"
            )
            update = (
                "mutation($id: String!, $i: IssueUpdateInput!) "
                "{ issueUpdate(id: $id, input: $i) { success } }"
            )
            await gql(http, api, update, id="ENG-103", i={"title": "Renamed, nothing else"})
            await gql(http, api, update, id="ENG-103", i={"stateId": started})
            store = service.stack.store
            assert store is not None
            await poll_until(
                lambda: any(r.ended_at for r in store.list_runs(pipeline=name)),
                within=120,
                every=0.1,
            )
            runs = store.list_runs(pipeline=name)
            trigger = store.get_payload(runs[0].trigger_hash or "")

    assert created["webhookCreate"]["success"]
    assert len(runs) == 1 and trigger["issue"] == "ENG-103"
    assert runs[0].status.value == "succeeded"
