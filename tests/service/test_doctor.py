"""`steptrace doctor` against the sandbox: each tool's credential and schema, the store."""

from __future__ import annotations

from pathlib import Path

from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox
from orchestrator.config.settings import SANDBOX_TOKEN, TOOLS, Settings
from orchestrator.service.doctor import run_checks
from tracer.store import TraceStore


def configured(sandbox: Sandbox, database: str, **extra: str) -> Settings:
    env = {"STEPTRACE_DATABASE_URL": database, **extra}
    for tool in TOOLS:
        env[f"STEPTRACE_{tool.upper()}_URL"] = sandbox.urls[tool]
        env[f"STEPTRACE_{tool.upper()}_TOKEN"] = SANDBOX_TOKEN
    return Settings.from_env(env)


async def test_every_check_passes_on_a_configured_workspace(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'trace.db'}"
    TraceStore.open(database).close()
    with Sandbox(seed=7) as sandbox:
        checks = await run_checks(configured(sandbox, database))
    by_name = {c.name: c for c in checks}
    for tool in TOOLS:
        assert by_name[f"{tool} credential"].status == "ok", by_name[f"{tool} credential"]
        assert by_name[f"{tool} schema"].status == "ok", by_name[f"{tool} schema"]
    assert "data.records:write" in by_name["airtable credential"].detail
    assert by_name["store"].status == "ok"
    assert by_name["temporal"].status == "info"  # none configured: the embedded one


async def test_failing_lines_name_the_fix(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'fresh.db'}"  # never opened: not migrated
    revoked = [Fault(service="monday", kind="revoke_token")]
    with Sandbox(seed=7, faults=revoked) as sandbox:
        settings = configured(sandbox, database, STEPTRACE_MONDAY_BOARD="No Such Board").model_copy(
            update={"temporal_address": "127.0.0.1:1"}
        )
        checks = await run_checks(settings)
    by_name = {c.name: c for c in checks}
    assert by_name["monday credential"].status == "failing"
    assert "STEPTRACE_MONDAY_TOKEN" in by_name["monday credential"].fix
    assert by_name["linear credential"].status == "ok"
    assert by_name["temporal"].status == "failing"
    assert "STEPTRACE_TEMPORAL_ADDRESS" in by_name["temporal"].fix
    assert by_name["store"].status == "failing" and "migrates" in by_name["store"].fix
    sandbox_only = await run_checks(Settings.from_env({"STEPTRACE_DATABASE_URL": database}))
    assert [c.detail for c in sandbox_only if c.name == "slack"] == [
        "sandbox (no STEPTRACE_SLACK_TOKEN)"
    ]
