"""The console inside ``steptrace serve``: one process serves the receiver and the console
(its own port), readiness counts the console, and a one-time link opens a session."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import httpx

from tests.orchestrator.processes import STEPTRACE
from tests.service.processes import ServeProcess

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
SECRET = "console-secret-for-the-serve-test-0123456789"


async def test_serve_serves_the_console_and_a_link_opens_a_session(
    temporal_address: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPTRACE_")}
    env.update(
        STEPTRACE_TEMPORAL_ADDRESS=temporal_address,
        STEPTRACE_DATABASE_URL=f"sqlite:///{tmp_path / 'trace.db'}",
        STEPTRACE_TASK_QUEUE=f"console-{uuid.uuid4().hex[:8]}",
        STEPTRACE_PIPELINES_DIR=str(tmp_path / "pipelines"),
        STEPTRACE_SERVICE_FILE=str(tmp_path / "service.json"),
        STEPTRACE_CONSOLE_SECRET=SECRET,
        STEPTRACE_CONSOLE_LISTEN="127.0.0.1:0",
        PYTHONUNBUFFERED="1",
    )
    (tmp_path / "pipelines").mkdir()
    reference = PIPELINES / "linear-triage-sync.yaml"  # no schedule: nothing shared is synced
    (tmp_path / "pipelines" / reference.name).write_text(reference.read_text())
    service = ServeProcess(env, tmp_path / "serve.log", args=("serve", "--port", "0", "--sandbox"))
    await service.start()
    try:
        console = service.parts["console"]
        link = await _console_link({**env, "STEPTRACE_CONSOLE_URL": console}, "U0A2OJVXRPU")
        async with httpx.AsyncClient(timeout=30) as http:
            ready = await http.get(service.url + "/readyz")
            signin = await http.get(console + "/signin")
            anonymous = await http.get(console + "/runs.json")
            opened = await http.get(link)
            runs = await http.get(console + "/runs.json")
        async with httpx.AsyncClient(timeout=30) as other:
            again = await other.get(link)
    finally:
        code = await service.stop()

    assert ready.status_code == 200 and "console" in ready.json()["checks"], ready.text
    assert signin.status_code == 200 and "/steptrace console" in signin.text
    assert anonymous.status_code == 401
    assert opened.status_code == 303 and opened.headers["location"] == "/runs"
    assert runs.status_code == 200, runs.text
    assert again.status_code == 403 and "used already" in again.text
    assert code == 0, service.log()


async def _console_link(env: dict[str, str], user: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(STEPTRACE), "console-link", "--user", user, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode().strip()
