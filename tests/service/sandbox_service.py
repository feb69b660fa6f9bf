"""An in-process service against the sandbox's emulators: its settings, and the
emulators' GraphQL calls (shared by the webhook tests)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.sandbox.server import Sandbox
from orchestrator.config.settings import SANDBOX_TOKEN, TOOLS, Settings, ToolEndpoint
from orchestrator.service.service import Service
from tests.orchestrator.processes import poll_until
from tests.service.processes import write_hooked_spec
from tracer.store import RunRecord

LINEAR_SECRET = "linear-webhook-signing-secret-0123456789"
ENTERING_IN_PROGRESS = "data.state.name == 'In Progress' && updatedFrom.state != null"


def linear_hooked_spec(folder: Path) -> str:
    """``linear-triage-sync`` started by issues entering "In Progress" (its name)."""
    return write_hooked_spec(
        folder,
        "linear-triage-sync.yaml",
        {
            "tool": "linear",
            "events": ["Issue"],
            "filter": ENTERING_IN_PROGRESS,
            "input": {"issue": "data.identifier"},
        },
    )


def sandbox_settings(
    sandbox: Sandbox, temporal_address: str, tmp_path: Path, secrets: dict[str, str]
) -> Settings:
    """A service on the test's Temporal server with every tool on the sandbox, its own
    store and task queue, the pipelines in ``tmp_path / "pipelines"``, and ``secrets``
    (by tool) to check webhook signatures with."""
    return Settings(
        temporal_address=temporal_address,
        database_url=f"sqlite:///{tmp_path / 'trace.db'}",
        pipelines_dir=str(tmp_path / "pipelines"),
        task_queue=f"hooks-{uuid.uuid4().hex[:8]}",
        webhook_secrets={tool: SecretStr(secret) for tool, secret in secrets.items()},
        endpoints={
            tool: ToolEndpoint(base_url=sandbox.urls[tool], token=SecretStr(SANDBOX_TOKEN))
            for tool in TOOLS
        },
    )


async def graphql(http: httpx.AsyncClient, url: str, query: str, **variables: Any) -> Any:
    """The ``data`` of a GraphQL call that must succeed."""
    response = await http.post(url, json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def linear_webhook(http: httpx.AsyncClient, api: str, url: str, secret: str) -> Any:
    """``webhookCreate`` on the Linear emulator: issue events of every team to ``url``."""
    return await graphql(
        http,
        api,
        "mutation($i: WebhookCreateInput!) { webhookCreate(input: $i) "
        "{ success webhook { id enabled } } }",
        i={"url": url, "resourceTypes": ["Issue"], "allPublicTeams": True, "secret": secret},
    )


async def update_linear_issue(
    http: httpx.AsyncClient, api: str, issue: str, *, state: str | None = None, **fields: Any
) -> None:
    """``issueUpdate`` on the Linear emulator; ``state`` by name."""
    if state is not None:
        states = await graphql(http, api, "{ workflowStates { nodes { id name } } }")
        fields["stateId"] = next(
            s["id"] for s in states["workflowStates"]["nodes"] if s["name"] == state
        )
    await graphql(
        http,
        api,
        "mutation($id: String!, $i: IssueUpdateInput!) { issueUpdate(id: $id, input: $i) "
        "{ success } }",
        id=issue,
        i=fields,
    )


async def ended_runs(service: Service, pipeline: str) -> tuple[list[RunRecord], Any]:
    """Once a run of ``pipeline`` has ended: the pipeline's runs, newest first, and the
    newest one's trigger."""
    store = service.stack.store
    assert store is not None
    await poll_until(
        lambda: any(r.ended_at for r in store.list_runs(pipeline=pipeline)),
        within=120,
        every=0.1,
    )
    runs = store.list_runs(pipeline=pipeline)
    return runs, store.get_payload(runs[0].trigger_hash or "")
