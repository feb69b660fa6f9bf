"""Readiness of a service process: can it reach Temporal and the trace store?"""

from __future__ import annotations

import asyncio

from orchestrator.observability.server import ReadinessCheck
from orchestrator.service.stack import Stack
from tracer.store import RunStatus
from tracer.store.retention import count_runs


def stack_checks(stack: Stack) -> dict[str, ReadinessCheck]:
    async def temporal() -> None:
        if not await stack.client.service_client.check_health():
            raise RuntimeError("the Temporal frontend reports not serving")

    async def store() -> None:
        if stack.store is not None:
            await asyncio.to_thread(count_runs, stack.store, RunStatus.ESCALATED)

    return {"temporal": temporal, "trace_store": store}
