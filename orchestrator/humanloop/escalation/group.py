"""One open alert per kind of failure: repeats go into its thread with a count.

A failed run's ``steptrace.raise_alert`` activity signals-with-start the group workflow
of its failure (:func:`~orchestrator.runtime.escalation_handoff.failure_group_id`: the
failure's fingerprint from :mod:`tracer.fingerprint`, on the run's task queue). Temporal
runs at most one workflow per id, so two workers failing the same way at the same moment
still give one alert. The group starts the first run's :class:`EscalationWorkflow` and,
while that is open, signals each later run to it (the escalation says "again, N times" in
its thread).
Once the alert is resolved the group ends, and the next failure raises a fresh alert.
"""

from __future__ import annotations

import asyncio

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from orchestrator.runtime.escalation_handoff import (
        ALERT_GROUP_WORKFLOW,
        ESCALATION_WORKFLOW,
        FAILURE_SIGNAL,
        RAISE_ALERT_ACTIVITY,
        REPEAT_SIGNAL,
        EscalationInput,
        RaiseAlert,
        RepeatNotice,
        escalation_workflow_id,
    )


@workflow.defn(name=ALERT_GROUP_WORKFLOW)
class AlertGroupWorkflow:
    def __init__(self) -> None:
        self._pending: list[EscalationInput] = []
        self._count = 0

    @workflow.signal(name=FAILURE_SIGNAL)
    def failure(self, params: EscalationInput) -> None:
        self._pending.append(params)

    @workflow.query
    def count(self) -> int:
        return self._count

    @workflow.run
    async def run(self) -> int:
        while True:
            await workflow.wait_condition(lambda: bool(self._pending))
            first = self._pending.pop(0)
            self._count += 1
            try:
                child = await workflow.start_child_workflow(
                    ESCALATION_WORKFLOW,
                    first,
                    id=escalation_workflow_id(first.run_id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
            except WorkflowAlreadyStartedError:
                continue  # this run's escalation exists already (raised twice)
            done = asyncio.ensure_future(_outcome(child))
            while True:
                await workflow.wait_condition(
                    lambda done=done: bool(self._pending) or done.done()  # type: ignore[misc]
                )
                if done.done():
                    break
                repeat = self._pending.pop(0)
                self._count += 1
                notice = RepeatNotice(run_id=repeat.run_id, count=self._count)
                await child.signal(REPEAT_SIGNAL, notice)
            if not self._pending:
                return self._count
            self._count = 0  # the alert is closed: the next failure opens a new one


async def _outcome(child: workflow.ChildWorkflowHandle[object, object]) -> None:
    try:
        await child
    except ChildWorkflowError:
        workflow.logger.warning("escalation %s ended in error", child.id)


class AlertGroupActivities:
    """``steptrace.raise_alert``: signal-with-start of the failure's group."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    @activity.defn(name=RAISE_ALERT_ACTIVITY)
    async def raise_alert(self, request: RaiseAlert) -> str:
        await self._client.start_workflow(
            ALERT_GROUP_WORKFLOW,
            id=request.group_id,
            task_queue=self._task_queue,
            start_signal=FAILURE_SIGNAL,
            start_signal_args=[request.escalation],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        return request.group_id
