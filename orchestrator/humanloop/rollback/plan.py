"""What a rollback will undo: the recorded writes after a step, newest first.

Pure and synchronous over the trace store; the workflow's plan activity and the CLI's
preview both call it, so a preview shows exactly what the rollback will write.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from orchestrator.tools.undo import UndoResult, UndoTarget
from tracer.run_model import read_run
from tracer.store import AttemptStatus, RunRecord, RunStatus, TraceStore

ROLLBACK_WORKFLOW = "RollbackWorkflow"
PLAN_ACTIVITY = "steptrace.rollback_plan"
MARK_ACTIVITY = "steptrace.mark_rolled_back"
UNDO_ACTIVITY = "rollback.undo_write"


class RollbackError(ValueError):
    """The rollback cannot start or did not finish; the message names the bad input."""


class RollbackRequest(BaseModel):
    run_id: str
    to_step: str


class RollbackInput(RollbackRequest):
    pipeline: str
    version: str = ""


class RollbackPlan(BaseModel):
    targets: list[UndoTarget] = Field(default_factory=list)


class RollbackResult(BaseModel):
    run_id: str
    parent_run_id: str
    to_step: str
    status: str
    results: list[UndoResult] = Field(default_factory=list)

    @property
    def conflicts(self) -> list[UndoResult]:
        return [r for r in self.results if r.outcome == "conflict"]

    @property
    def left_over(self) -> list[UndoResult]:
        """Everything a person must look at: conflicts, what cannot be undone, failures."""
        return [r for r in self.results if not r.done]


def plan_rollback(store: TraceStore, run: RunRecord, to_step: str) -> list[UndoTarget]:
    """The writes of every step after ``to_step`` in ``run``, newest first.

    Raises :class:`RollbackError` for a running run, a step the run does not have, or a
    step after which nothing ran.
    """
    if run.status is RunStatus.RUNNING:
        raise RollbackError(f"run {run.run_id} is still running; roll it back once it has ended")
    recorded = read_run(store, run)
    order = {step.step_id: step.index for step in recorded.steps}
    if to_step not in order:
        known = ", ".join(order) or "none"
        raise RollbackError(f"run {run.run_id} has no step {to_step!r} (its steps: {known})")
    later = [step for step in recorded.steps if step.index > order[to_step]]
    if not later:
        raise RollbackError(
            f"nothing ran after step `{to_step}` in run {run.run_id}: there is nothing to "
            "roll back; name an earlier step"
        )
    targets: list[UndoTarget] = []
    for step in later:
        # Writes are recorded only with a step's result: only a succeeded attempt has them.
        done = [a for a in step.attempts if a.status is AttemptStatus.SUCCEEDED]
        for attempt in done:
            for position, write in enumerate(attempt.external_writes):
                if write.action == "unchanged":
                    continue
                image = recorded.write_image(write)
                targets.append(
                    UndoTarget(
                        step_id=step.step_id,
                        step_index=step.index,
                        position=position,
                        **image.model_dump(),
                    )
                )
    return sorted(targets, key=lambda t: (t.step_index, t.position), reverse=True)
