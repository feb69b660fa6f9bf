"""The receiver in a whole (in-process) service: Monday's handshake and signed events,
filters, redelivery, and refusals — over real HTTP on loopback."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr

from connectors.sandbox.webhooks import (
    Subscription,
    monday_authorization,
    monday_challenge,
    monday_delivery,
)
from orchestrator.config.settings import Settings
from orchestrator.service.service import ServiceOptions, open_service

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
SECRET = "monday-signing-secret-0123456789abcdef"


def monday_pipeline(folder: Path) -> None:
    spec: dict[str, Any] = yaml.safe_load((PIPELINES / "linear-triage-sync.yaml").read_text())
    spec["triggers"] = [
        {
            "tool": "monday",
            "events": ["update_column_value"],
            "filter": "data.columnTitle == 'Status'",
            "input": {"issue": "data.pulseName"},
        }
    ]
    folder.mkdir()
    (folder / "hooked.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


async def test_monday_handshake_events_and_refusals(temporal_address: str, tmp_path: Path) -> None:
    monday_pipeline(tmp_path / "pipelines")
    settings = Settings(
        temporal_address=temporal_address,
        database_url=f"sqlite:///{tmp_path / 'trace.db'}",
        pipelines_dir=str(tmp_path / "pipelines"),
        task_queue=f"receiver-{time.time_ns()}",
        webhook_secrets={"monday": SecretStr(SECRET)},
    )
    options = ServiceOptions(embedded=True, port=0, write_service_file=False)
    subscription = Subscription("monday", "", SECRET)
    event = {"type": "update_column_value", "columnTitle": "Status", "pulseName": "ENG-104"}
    other = {**event, "columnTitle": "Owner"}
    async with open_service(options, settings) as service, httpx.AsyncClient() as http:
        url = service.url + "/hooks/monday"
        hello = monday_challenge(subscription)
        echoed = await http.post(url, content=hello.body, headers=hello.headers)
        sent = monday_delivery(subscription, event)
        first = await http.post(url, content=sent.body, headers=sent.headers)
        again = await http.post(url, content=sent.body, headers=sent.headers)
        filtered = monday_delivery(subscription, other)
        skipped = await http.post(url, content=filtered.body, headers=filtered.headers)
        forged = monday_delivery(Subscription("monday", "", "x" * 40), event)
        refused = await http.post(url, content=forged.body, headers=forged.headers)
        stale = {"authorization": monday_authorization(SECRET, now=time.time() - 600)}
        late = await http.post(url, content=sent.body, headers=stale)
        [workflow_id] = first.json()["runs"]
        result = await service.stack.client.get_workflow_handle(workflow_id).result()
        ready = await http.get(service.url + "/readyz")

    assert echoed.json() == {"challenge": hello.body.decode().split('"')[3]}
    assert again.json()["runs"] == [workflow_id], "a redelivery names the same run"
    assert service.receiver.started == [workflow_id] and service.receiver.duplicates == 1
    assert skipped.json()["runs"] == [], "the filter let the Owner change through"
    assert (refused.status_code, late.status_code) == (401, 401)
    assert result["status"] == "succeeded"
    assert ready.status_code == 200
