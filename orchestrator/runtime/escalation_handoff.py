"""What a failed pipeline run hands to its escalation: the child workflow's name, id, input.

The pipeline workflow starts the escalation as a child when a run fails; the escalation
itself (its workflow, activities and starter) lives in :mod:`orchestrator.humanloop.escalation`,
above this room. Only this contract is shared, so the engine never imports the human loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pydantic import BaseModel, Field

from orchestrator.spec.pipeline import EscalationSpec, TierSpec
from tracer.diagnosis_model import Diagnosis
from tracer.fingerprint import of_diagnosis

ESCALATION_WORKFLOW = "EscalationWorkflow"


class EscalationInput(BaseModel):
    run_id: str
    diagnosis: Diagnosis
    tiers: list[TierSpec] = Field(min_length=2)
    start_tier: int = 1
    rollback_to: str | None = Field(default=None, description="the step before the onset")
    failure_group: str | None = Field(
        default=None, description="the failure's fingerprint id (tracer.fingerprint)"
    )


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
    run_id: str,
    diagnosis: Diagnosis,
    spec: EscalationSpec,
    step_ids: Sequence[str],
    *,
    pipeline: str | None = None,
) -> EscalationInput:
    """The workflow input for a failed run of a pipeline whose spec has ``escalation:``
    (with ``pipeline``, the alert names and links its failure group)."""
    return EscalationInput(
        run_id=run_id,
        diagnosis=diagnosis,
        failure_group=(
            of_diagnosis(pipeline, diagnosis.model_dump(mode="json")).id if pipeline else None
        ),
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


# -- one alert per kind of failure --------------------------------------------------------

ALERT_GROUP_WORKFLOW = "AlertGroupWorkflow"
RAISE_ALERT_ACTIVITY = "steptrace.raise_alert"
FAILURE_SIGNAL = "failure"
REPEAT_SIGNAL = "repeat"


class RepeatNotice(BaseModel):
    """Another run failing the way an open alert's run did."""

    run_id: str
    count: int = Field(description="failures in this group so far, the first included")


class RaiseAlert(BaseModel):
    """What a failed run asks for: an alert, or a reply in the open one of its group."""

    group_id: str
    escalation: EscalationInput


def failure_group_id(pipeline: str, diagnosis: Diagnosis, *, task_queue: str) -> str:
    """The alert group of a failure: its fingerprint (:mod:`tracer.fingerprint`, the id the
    console and insights show), raised on the same task queue (one service's workers; a
    test's or a one-off run's own queue never joins the service's alerts)."""
    group = of_diagnosis(pipeline, diagnosis.model_dump(mode="json")).id
    scope = hashlib.sha256(f"{task_queue}|{group}".encode()).hexdigest()[:8]
    return f"alert-group/{pipeline}/{group}-{scope}"
