"""What a failed pipeline run hands to its escalation: the child workflow's name, id, input.

The pipeline workflow starts the escalation as a child when a run fails; the escalation
itself (its workflow, activities and starter) lives in :mod:`orchestrator.humanloop.escalation`,
above this room. Only this contract is shared, so the engine never imports the human loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from orchestrator.spec.pipeline import EscalationSpec, TierSpec
from tracer.diagnosis_model import Diagnosis

ESCALATION_WORKFLOW = "EscalationWorkflow"


class EscalationInput(BaseModel):
    run_id: str
    diagnosis: Diagnosis
    tiers: list[TierSpec] = Field(min_length=2)
    start_tier: int = 1
    rollback_to: str | None = Field(default=None, description="the step before the onset")


def escalation_workflow_id(run_id: str) -> str:
    """The escalation workflow of a run: one per run, so a second start finds it."""
    return f"escalation/{run_id}"


def starting_tier(spec: EscalationSpec, fault_class: str) -> int:
    """The tier the fault class starts at (``start``, else ``default_start``)."""
    return int(spec.start.get(fault_class, spec.default_start))  # type: ignore[call-overload]


def rollback_target(step_ids: Sequence[str], onset_step: str | None) -> str | None:
    """The step to roll back to: the one before the onset (``None`` if there is none)."""
    if onset_step is None or onset_step not in step_ids:
        return None
    index = list(step_ids).index(onset_step)
    return step_ids[index - 1] if index > 0 else None


def escalation_input(
    run_id: str, diagnosis: Diagnosis, spec: EscalationSpec, step_ids: Sequence[str]
) -> EscalationInput:
    """The workflow input for a failed run of a pipeline whose spec has ``escalation:``."""
    return EscalationInput(
        run_id=run_id,
        diagnosis=diagnosis,
        tiers=spec.tiers,
        start_tier=starting_tier(spec, diagnosis.fault_class),
        # When the failure started at the step that failed, that step wrote nothing: there
        # is nothing to roll back, so the alert offers no button for it.
        rollback_to=(
            rollback_target(step_ids, diagnosis.onset_step)
            if diagnosis.onset_step != diagnosis.failed_step
            else None
        ),
    )
