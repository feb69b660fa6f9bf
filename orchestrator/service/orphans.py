"""Runs the store says are ``running`` but whose workflow is gone.

A run is recorded ``running`` when it starts and ended by its own workflow; if the
workflow is gone (a one-off ``steptrace run`` on a private dev server was killed, or the
workflow was terminated), nobody will ever end the record. ``steptrace runs`` asks
Temporal about each running run and shows those as ``orphaned``.
"""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.config.settings import Settings
from orchestrator.service.submit import find_target
from tracer.store import RunRecord, RunStatus

ORPHANED = "orphaned"
UNVERIFIED = "running?"


async def orphan_labels(settings: Settings, runs: Iterable[RunRecord]) -> dict[str, str]:
    """run id → ``orphaned`` (workflow gone or closed) or ``running?`` (no Temporal to ask)."""
    running = [r for r in runs if r.status is RunStatus.RUNNING]
    if not running:
        return {}
    target = await find_target(settings)
    if target is None:
        # No service and no configured server: the private dev servers of one-off runs
        # are gone with their processes, and so are their workflows.
        label = UNVERIFIED if settings.temporal_address else ORPHANED
        return {r.run_id: label for r in running}
    return {r.run_id: ORPHANED for r in running if await _gone(target.client, r)}


async def _gone(client: Client, run: RunRecord) -> bool:
    workflow_id, _, temporal_run_id = run.run_id.partition("/")
    handle = client.get_workflow_handle(workflow_id, run_id=temporal_run_id or None)
    try:
        described = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return True
        raise
    return described.status is not WorkflowExecutionStatus.RUNNING
