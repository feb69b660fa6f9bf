"""The ``RollbackWorkflow``: undo each planned write as a traced activity, newest first."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from orchestrator.humanloop.rollback.plan import (
        MARK_ACTIVITY,
        PLAN_ACTIVITY,
        ROLLBACK_WORKFLOW,
        UNDO_ACTIVITY,
        RollbackInput,
        RollbackPlan,
        RollbackRequest,
        RollbackResult,
    )
    from orchestrator.runtime.pipeline_workflow import RECORD_RUN_ACTIVITY, RunEvent
    from orchestrator.tools.undo import UndoResult, UndoTarget, undo_result
    from tracer.steps import StepCall, StepReturn
    from tracer.store import RunStatus


_STORE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=5), maximum_attempts=20)
_UNDO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
)


@workflow.defn(name=ROLLBACK_WORKFLOW)
class RollbackWorkflow:
    @workflow.run
    async def run(self, params: RollbackInput) -> RollbackResult:
        event = RunEvent.of_this_workflow(
            pipeline=params.pipeline,
            version=params.version,
            kind="rollback",
            parent_run_id=params.run_id,
            trigger={"run": params.run_id, "to_step": params.to_step},
        )
        await _record(event)
        try:
            plan: RollbackPlan = await workflow.execute_activity(
                PLAN_ACTIVITY,
                RollbackRequest(run_id=params.run_id, to_step=params.to_step),
                result_type=RollbackPlan,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=_STORE_RETRY,
            )
        except ActivityError as err:
            await _record(event.model_copy(update={"status": "failed"}))
            raise ApplicationError(
                f"rollback of {params.run_id}: {err.cause or err}", non_retryable=True
            ) from err
        results = [
            await _undo(event, i, target, plan.targets) for i, target in enumerate(plan.targets)
        ]
        status = "succeeded" if all(r.done for r in results) else RunStatus.ESCALATED.value
        if status == "succeeded":
            await workflow.execute_activity(
                MARK_ACTIVITY,
                params.run_id,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=_STORE_RETRY,
            )
        await _record(event.model_copy(update={"status": status}))
        return RollbackResult(
            run_id=event.run_id,
            parent_run_id=params.run_id,
            to_step=params.to_step,
            status=status,
            results=results,
        )


async def _undo(
    event: RunEvent, index: int, target: UndoTarget, targets: list[UndoTarget]
) -> UndoResult:
    """Undo one write; a tool that keeps failing makes an ``error`` result, not a crash."""
    same_step = [t for t in targets if t.step_id == target.step_id]
    step_id = f"undo_{target.step_id}"
    if len(same_step) > 1:
        step_id += f"_{target.position + 1}"
    call = StepCall(
        run_id=event.run_id,
        pipeline=event.pipeline,
        pipeline_version=event.version,
        step_id=step_id,
        step_index=index,
        op=UNDO_ACTIVITY,
        args=target.model_dump(mode="json"),
    )
    try:
        returned: StepReturn = await workflow.execute_activity(
            UNDO_ACTIVITY,
            call,
            result_type=StepReturn,
            activity_id=f"{index}:{step_id}",
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=_UNDO_RETRY,
        )
    except ActivityError as err:
        return undo_result(target, "error", f"the undo failed: {err.cause or err}")
    return UndoResult.model_validate(returned.output)


async def _record(event: RunEvent) -> None:
    await workflow.execute_activity(
        RECORD_RUN_ACTIVITY,
        event,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=_STORE_RETRY,
    )
