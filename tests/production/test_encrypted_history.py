"""Temporal stores ciphertext: a secret planted in a run is in neither ``temporal workflow
show`` nor the dev server's SQLite file — while the same run without the codec puts it
in both (the check can fail) — and the codec server hands it back, through the
``temporal`` CLI's own codec client, to a caller with the token and the key.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from connectors.sandbox.faults import Fault
from orchestrator.config.settings import Settings
from orchestrator.runtime.codec import Keyring, new_key_entry
from orchestrator.runtime.devserver import DevServer, temporal_binary
from orchestrator.service.codec_server import CodecServerConfig, codec_app
from orchestrator.service.stack import RunOutcome, StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline
from tests.databases import all_database_text
from tests.production.servers import serve_app

# Synthetic secrets, one set per run so each run's leak is told apart.
ENCRYPTED = ("xoxb-5550001-CodecPlantedAlpha9Zq", "Bearer-CodecTriggerAlpha7Lm3")
CONTROL = ("xoxb-5550002-CodecPlantedBravo4Rt", "Bearer-CodecTriggerBravo2Xw8")
TOKEN = "codec-test-token-not-a-secret"


def planted(secrets: tuple[str, str]) -> tuple[list[Fault], dict[str, Any]]:
    description = f"Ops box config:\nSLACK_BOT_TOKEN={secrets[0]}\n"
    faults = [
        Fault(service="linear", kind="corrupt_value", target="description", value=description)
    ]
    trigger = {"issue": "ENG-101", "note": f"escalated with {secrets[1]}"}
    return faults, trigger


async def run_once(
    server: DevServer,
    tmp: Path,
    name: str,
    secrets: tuple[str, str],
    keys: str | None,
    pipeline: LoadedPipeline,
) -> RunOutcome:
    faults, trigger = planted(secrets)
    settings = Settings(
        temporal_address=server.address, codec_keys=SecretStr(keys) if keys else None
    )
    options = StackOptions(faults=faults, database_url=f"sqlite:///{tmp / f'{name}.db'}")
    async with open_stack(options, settings) as stack:
        outcome = await stack.run(pipeline, trigger)
    assert outcome.status == "succeeded", outcome.error
    return outcome


def show(server: DevServer, workflow_id: str, *codec: str) -> str:
    """What ``temporal workflow show --output json`` prints, with every payload's
    base64 ``data`` decoded beside it (that is how the CLI prints payloads)."""
    command = [
        str(temporal_binary()),
        "workflow",
        "show",
        "--address",
        server.address,
        "--workflow-id",
        workflow_id,
        "--output",
        "json",
        *codec,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout)["events"], "the history was read"
    return done.stdout + "\n" + "\n".join(_decoded_data(json.loads(done.stdout)))


def _decoded_data(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [text for item in value.values() for text in _decoded_data(item)]
        data = value.get("data")
        if isinstance(data, str):
            with contextlib.suppress(ValueError):
                found.append(base64.b64decode(data, validate=True).decode("utf-8", "replace"))
        return found
    if isinstance(value, list):
        return [text for item in value for text in _decoded_data(item)]
    return []


def codec_server(keys: str) -> contextlib.AbstractAsyncContextManager[str]:
    config = CodecServerConfig(
        Keyring.parse(keys, source="test"), "default", ["http://127.0.0.1:8233"], TOKEN
    )
    return serve_app(codec_app(config))


async def test_history_holds_ciphertext_and_the_codec_server_decodes_it(
    dev_server: DevServer, tmp_path: Path, reference: LoadedPipeline
) -> None:
    old_key = new_key_entry("2026-06")
    encrypted = await run_once(dev_server, tmp_path, "enc", ENCRYPTED, old_key, reference)
    control = await run_once(dev_server, tmp_path, "plain", CONTROL, None, reference)
    encrypted_id, control_id = encrypted.run_id.split("/")[0], control.run_id.split("/")[0]

    shown = show(dev_server, encrypted_id)
    for secret in ENCRYPTED:
        assert secret not in shown
    control_shown = show(dev_server, control_id)
    assert all(secret in control_shown for secret in CONTROL)  # the check can fail

    database = all_database_text(f"sqlite:///{tmp_path / 'temporal.db'}")
    assert all(secret.encode() in database for secret in CONTROL)
    for secret in ENCRYPTED:
        assert secret.encode() not in database

    # A rotated keyring (new key first) still opens the history of the old key.
    rotated = f"{new_key_entry('2026-12')},{old_key}"
    async with codec_server(rotated) as url:
        decoded = await asyncio.to_thread(
            show,
            dev_server,
            encrypted_id,
            "--codec-endpoint",
            url,
            "--codec-auth",
            f"Bearer {TOKEN}",
        )
        refused = await asyncio.to_thread(
            subprocess.run,
            [
                str(temporal_binary()),
                "workflow",
                "show",
                "--address",
                dev_server.address,
                "--workflow-id",
                encrypted_id,
                "--output",
                "json",
                "--codec-endpoint",
                url,
                "--codec-auth",
                "Bearer wrong",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert all(secret in decoded for secret in ENCRYPTED)
    assert refused.returncode != 0 or not any(s in refused.stdout for s in ENCRYPTED)
