"""``steptrace run`` is never the only thing keeping a run alive.

With a service running, ``run`` submits to it (found through the service file) and a
SIGKILL of ``run`` leaves the run to the service. With no service but a configured
Temporal, ``run``'s own worker polls the stable task queue, so after a SIGKILL the next
``steptrace serve`` on that queue finishes the run.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.sandbox.faults import SERVICES, Fault
from connectors.sandbox.server import Sandbox
from tests.orchestrator.processes import STEPTRACE, poll_until, worker_env
from tests.service.processes import ServeProcess
from tracer.store import RunStatus, TraceStore

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    latency = [Fault(service=s, kind="latency", seconds=0.3) for s in SERVICES]
    with Sandbox(seed=7, faults=latency) as running:
        yield running


def quick_pipeline(folder: Path) -> Path:
    """The reference pipeline with 3 s step timeouts (a lost attempt is retried soon)."""
    spec: dict[str, Any] = yaml.safe_load((PIPELINES / "linear-triage-sync.yaml").read_text())
    for step in spec["steps"]:
        step["timeout_seconds"] = 3.0
        step["retry"] = {"maximum_attempts": 10, "initial_interval_seconds": 0.2}
    folder.mkdir()
    path = folder / "quick.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def env_for(temporal: str, tmp: Path, sandbox: Sandbox, queue: str) -> dict[str, str]:
    env = worker_env(
        temporal_address=temporal,
        database_url=f"sqlite:///{tmp / 'trace.db'}",
        task_queue=queue,
        tool_urls=sandbox.urls,
    )
    env.update(
        STEPTRACE_PIPELINES_DIR=str(tmp / "pipelines"),
        STEPTRACE_SERVICE_FILE=str(tmp / "service.json"),
        STEPTRACE_LISTEN="127.0.0.1:0",
    )
    return env


async def killed_run(env: dict[str, str], spec: Path, store: TraceStore, log: Path) -> str:
    """Start ``steptrace run``, SIGKILL it once its run is under way; the run's id."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(STEPTRACE),
            "run",
            str(spec),
            "--trigger",
            json.dumps({"issue": "ENG-102"}),
            env=env,
            stdout=out,
            stderr=out,
            cwd=log.parent,
        )
    await poll_until(lambda: bool(store.list_runs(limit=1)), within=90, every=0.05)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    [run] = store.list_runs(limit=1)
    assert run.ended_at is None, "the run ended before the kill; raise the sandbox latency"
    return run.run_id


async def test_a_killed_run_command_leaves_its_run_to_the_service(
    temporal_address: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    spec = quick_pipeline(tmp_path / "pipelines")
    env = env_for(temporal_address, tmp_path, sandbox, f"run-{uuid.uuid4().hex[:8]}")
    service = await ServeProcess(env, tmp_path / "serve.log").start()
    store = TraceStore.open(f"sqlite:///{tmp_path / 'trace.db'}")
    try:
        run_id = await killed_run(env, spec, store, tmp_path / "run.log")
        await poll_until(lambda: _ended(store, run_id), within=120, every=0.1)
    finally:
        code = await service.stop()
    assert "submitted to the service at" in (tmp_path / "run.log").read_text()
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED  # type: ignore[union-attr]
    assert code == 0, service.log()


async def test_a_run_left_by_a_killed_run_command_is_finished_by_the_next_worker(
    temporal_address: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    spec = quick_pipeline(tmp_path / "pipelines")
    env = env_for(temporal_address, tmp_path, sandbox, f"run-{uuid.uuid4().hex[:8]}")
    store = TraceStore.open(f"sqlite:///{tmp_path / 'trace.db'}")
    run_id = await killed_run(env, spec, store, tmp_path / "run.log")
    assert "submitted" not in (tmp_path / "run.log").read_text(), "no service was running"
    service = await ServeProcess(env, tmp_path / "serve.log").start()
    try:
        await poll_until(lambda: _ended(store, run_id), within=120, every=0.1)
    finally:
        await service.stop()
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED  # type: ignore[union-attr]


def _ended(store: TraceStore, run_id: str) -> bool:
    run = store.get_run(run_id)
    return run is not None and run.ended_at is not None


async def test_a_run_whose_workflow_died_with_its_dev_server_shows_as_orphaned(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    spec = quick_pipeline(tmp_path / "pipelines")
    env = env_for("unused", tmp_path, sandbox, "steptrace")
    del env["STEPTRACE_TEMPORAL_ADDRESS"]  # a private dev server, gone with the process
    store = TraceStore.open(f"sqlite:///{tmp_path / 'trace.db'}")
    run_id = await killed_run(env, spec, store, tmp_path / "run.log")
    listed = await asyncio.create_subprocess_exec(
        str(STEPTRACE), "runs", "--json", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await listed.communicate()
    [shown] = json.loads(out)
    assert (shown["run_id"], shown["status"]) == (run_id, "orphaned")
    # Its dev server went with it (it dies with its parent, even on SIGKILL).
    await poll_until(lambda: not _dev_servers_under(tmp_path), within=30, every=0.1)


def _dev_servers_under(tmp_path: Path) -> list[int]:
    """Dev servers whose steptrace ran in this test (their cwd is tmp_path)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"start-dev" in command and _cwd(int(proc.name)) == tmp_path:
            found.append(int(proc.name))
    return found


def _cwd(pid: int) -> Path | None:
    try:
        return Path(f"/proc/{pid}/cwd").resolve()
    except OSError:
        return None
