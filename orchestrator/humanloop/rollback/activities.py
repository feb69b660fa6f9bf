"""The rollback's activities: plan (reads the store), undo (calls a tool), mark."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from orchestrator.humanloop.rollback.plan import (
    MARK_ACTIVITY,
    PLAN_ACTIVITY,
    UNDO_ACTIVITY,
    RollbackError,
    RollbackPlan,
    RollbackRequest,
    plan_rollback,
)
from orchestrator.runtime.failures import to_application_error
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.op import images
from orchestrator.tools.registry import ADAPTERS
from orchestrator.tools.undo import UndoTarget, undo_result
from tracer.run_model import find_run
from tracer.steps import StepCall, StepReturn
from tracer.store import RunStatus, TraceStore


class RollbackActivities:
    """The rollback's activities: plan (reads the store), undo (calls a tool), mark."""

    def __init__(self, store: TraceStore | None, clients: ToolClients) -> None:
        self.store = store
        self.clients = clients

    def all(self) -> list[Callable[..., Any]]:
        return [self.plan, self.undo, self.mark_rolled_back]

    def _store(self) -> TraceStore:
        if self.store is None:
            raise ApplicationError(
                "a rollback needs the trace store (tracing is off)", non_retryable=True
            )
        return self.store

    @activity.defn(name=PLAN_ACTIVITY)
    async def plan(self, request: RollbackRequest) -> RollbackPlan:
        store = self._store()
        try:
            run = await asyncio.to_thread(find_run, store, request.run_id)
            targets = await asyncio.to_thread(plan_rollback, store, run, request.to_step)
        except (LookupError, RollbackError) as exc:
            raise ApplicationError(str(exc), type="RollbackError", non_retryable=True) from exc
        return RollbackPlan(targets=targets)

    @activity.defn(name=UNDO_ACTIVITY)
    async def undo(self, call: StepCall) -> StepReturn:
        target = UndoTarget.model_validate(call.args)
        adapter = ADAPTERS.get(target.tool)  # type: ignore[call-overload]
        if adapter is None:
            result = undo_result(target, "not_undoable", f"no way to undo a {target.tool} write")
            return StepReturn(output=result.model_dump(mode="json"))
        try:
            result, writes = await adapter.undo(self.clients, target)
        except Exception as exc:
            raise to_application_error(exc, step_id=call.step_id, op=call.op) from exc
        return StepReturn(output=result.model_dump(mode="json"), writes=images(*writes))

    @activity.defn(name=MARK_ACTIVITY)
    async def mark_rolled_back(self, run_id: str) -> None:
        await asyncio.to_thread(self._store().set_run_status, run_id, RunStatus.ROLLED_BACK)
