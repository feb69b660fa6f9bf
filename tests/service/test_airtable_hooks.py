"""Airtable's webhook flow end to end on loopback: the webhook is created through the
emulator's ``POST /v0/bases/{base}/webhooks``, a new Intake row makes Airtable ping the
service's receiver (signed with the hook's MAC secret), the receiver reads the change
from the payloads cursor and starts the intake pipeline for that row — once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from connectors.sandbox.server import Sandbox
from orchestrator.config.ports import free_port
from orchestrator.config.settings import SANDBOX_TOKEN
from orchestrator.service.service import ServiceOptions, open_service
from tests.orchestrator.processes import poll_until
from tests.service.sandbox_service import sandbox_settings
from tracer.store import RunStatus

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def intake_pipeline(folder: Path, table_id: str) -> str:
    spec: dict[str, Any] = yaml.safe_load(
        (PIPELINES / "airtable-intake-to-linear.yaml").read_text()
    )
    # Created rows only: the run's own update (marking the row Filed) starts nothing.
    spec["triggers"] = [
        {
            "tool": "airtable",
            "events": [table_id],
            "actions": ["create"],
            "input": {"record_id": "data.id"},
        }
    ]
    folder.mkdir()
    (folder / "intake.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(spec["name"])


async def test_a_new_intake_row_starts_one_run(temporal_address: str, tmp_path: Path) -> None:
    port = free_port()
    with Sandbox(seed=7) as sandbox:
        api = sandbox.urls["airtable"]
        auth = {"authorization": f"Bearer {SANDBOX_TOKEN}"}
        async with httpx.AsyncClient(headers=auth) as http:
            [base] = (await http.get(f"{api}/v0/meta/bases")).json()["bases"]
            tables = (await http.get(f"{api}/v0/meta/bases/{base['id']}/tables")).json()
            intake = next(t for t in tables["tables"] if t["name"] == "Intake")
            hook = (
                await http.post(
                    f"{api}/v0/bases/{base['id']}/webhooks",
                    json={
                        "notificationUrl": f"http://127.0.0.1:{port}/hooks/airtable",
                        "specification": {"options": {"filters": {"dataTypes": ["tableData"]}}},
                    },
                )
            ).json()
            name = intake_pipeline(tmp_path / "pipelines", intake["id"])
            settings = sandbox_settings(
                sandbox, temporal_address, tmp_path, {"airtable": hook["macSecretBase64"]}
            )
            options = ServiceOptions(port=port, write_service_file=False)
            async with open_service(options, settings) as service:
                store = service.stack.store
                assert store is not None
                created = await http.post(
                    f"{api}/v0/{base['id']}/Intake",
                    json={"fields": {"Title": "Printer on fire", "Reporter": "ada@example.com"}},
                )
                row = created.json()["id"]
                await poll_until(
                    lambda: any(r.ended_at for r in store.list_runs(pipeline=name)),
                    within=120,
                    every=0.1,
                )
                runs = store.list_runs(pipeline=name)
                # The run's own update of the row pinged again; nothing more started.
                pages = (
                    await http.get(f"{api}/v0/bases/{base['id']}/webhooks/{hook['id']}/payloads")
                ).json()
                triggers = [store.get_payload(r.trigger_hash or "") for r in runs]

    assert [r.status for r in runs] == [RunStatus.SUCCEEDED]
    assert triggers[0]["record_id"] == row
    assert len(pages["payloads"]) >= 2, "the create and the run's own update"
    assert service.receiver.started == [runs[0].workflow_id]
