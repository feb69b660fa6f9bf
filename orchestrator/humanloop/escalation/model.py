"""The escalation's vocabulary: activity names, the state, people's requests, who may act.

Pure data and pure rules, shared by the workflow, its activities, its starter and the bot.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from orchestrator.humanloop.alerts import ActionName, AlertContext
from orchestrator.spec.pipeline import TierSpec
from tracer.diagnosis_model import Diagnosis, ProposedFix

POST_ALERT_ACTIVITY = "steptrace.escalation.post_alert"
POST_NOTE_ACTIVITY = "steptrace.escalation.post_note"
RUN_ACTION_ACTIVITY = "steptrace.escalation.run_action"
Status = Literal["open", "acknowledged", "acting", "resolved"]


class ActionOutcome(BaseModel):
    """What an approved action did: ``run_id`` is the linked replay or rollback run."""

    ok: bool
    summary: str
    run_id: str | None = None


class ActionRequest(BaseModel):
    """One person's click or command."""

    action: ActionName
    user: str = Field(description="Slack user id")
    to_step: str | None = Field(default=None, description="rollback target (else the alert's)")


class PostedMessage(BaseModel):
    channel: str
    ts: str


class EscalationState(BaseModel):
    run_id: str
    tier: int
    tier_name: str
    status: Status
    approvers: list[str]
    acknowledged_by: str | None = None
    alerts: list[PostedMessage] = []
    outcome: ActionOutcome | None = None


class PostAlertInput(BaseModel):
    diagnosis: Diagnosis
    context: AlertContext
    channel: str
    idempotency_key: str


class PostNoteInput(BaseModel):
    alert: PostedMessage
    text: str
    idempotency_key: str


class RunActionInput(BaseModel):
    action: Literal["approve", "rollback"]
    run_id: str
    fix: ProposedFix
    from_step: str | None = None
    to_step: str | None = None


def refusal_reason(state: EscalationState, tier: TierSpec, request: ActionRequest) -> str | None:
    """Why ``request`` may not happen now, or ``None`` when it may."""
    if state.status == "resolved":
        return f"run {state.run_id} is already resolved"
    if state.status == "acting":
        return f"an action on run {state.run_id} is already running; wait for its result"
    if request.action in ("approve", "rollback") and request.user not in tier.approvers:
        allowed = ", ".join(f"<@{user}>" for user in tier.approvers) or "nobody"
        return (
            f"only the approvers of tier {state.tier} ({state.tier_name}) may "
            f"{'approve' if request.action == 'approve' else 'roll back'}: {allowed}"
        )
    return None


def duration_text(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
