"""Linear's webhook flow on loopback: ``webhookCreate`` on the emulator, then issues
entering "In Progress" start the pipeline; other updates are delivered, signed, and
filtered out by the spec."""

from __future__ import annotations

from pathlib import Path

import httpx

from connectors.sandbox.server import Sandbox
from orchestrator.config.ports import free_port
from orchestrator.config.settings import SANDBOX_TOKEN
from orchestrator.service.service import ServiceOptions, open_service
from tests.service.sandbox_service import (
    LINEAR_SECRET,
    ended_runs,
    linear_hooked_spec,
    linear_webhook,
    sandbox_settings,
    update_linear_issue,
)


async def test_an_issue_entering_a_state_starts_one_run(
    temporal_address: str, tmp_path: Path
) -> None:
    port = free_port()
    name = linear_hooked_spec(tmp_path / "pipelines")
    with Sandbox(seed=7) as sandbox:
        api = sandbox.urls["linear"] + "/graphql"
        settings = sandbox_settings(sandbox, temporal_address, tmp_path, {"linear": LINEAR_SECRET})
        options = ServiceOptions(port=port, write_service_file=False)
        async with (
            httpx.AsyncClient(headers={"authorization": SANDBOX_TOKEN}) as http,
            open_service(options, settings) as service,
        ):
            hook = f"http://127.0.0.1:{port}/hooks/linear"
            created = await linear_webhook(http, api, hook, LINEAR_SECRET)
            await update_linear_issue(http, api, "ENG-103", title="Renamed, nothing else")
            await update_linear_issue(http, api, "ENG-103", state="In Progress")
            runs, trigger = await ended_runs(service, name)

    assert created["webhookCreate"]["success"]
    assert len(runs) == 1 and trigger["issue"] == "ENG-103"
    assert runs[0].status.value == "succeeded"
