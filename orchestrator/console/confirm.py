"""The confirmation page: exactly what an action will write, before anyone writes it.

An action goes through :func:`orchestrator.humanloop.actions.request_action`, the same
path the Slack buttons take: an ``act`` update of the run's escalation workflow (which
decides whether this person may), then an audit record. What the approved action then
writes is shown from the same sources the workflow will use: the stored diagnosis's
fix (the spec patch the replay runs with, from the onset step) or the rollback plan
(:func:`orchestrator.humanloop.rollback.plan.plan_rollback`: every recorded write after
the step, newest first, with the before-image it will be restored to).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from orchestrator.diagnosis.diagnoser import stored_diagnosis
from orchestrator.humanloop.alerts import REPLAYABLE_FIXES, ActionName
from orchestrator.humanloop.escalation.model import ActionRequest
from orchestrator.humanloop.rollback.plan import RollbackError, plan_rollback
from orchestrator.runtime.escalation_handoff import escalation_workflow_id
from orchestrator.tools.undo import UndoTarget
from tracer.diagnosis_model import ProposedFix
from tracer.store import RunRecord, TraceStore

ACTIONS: tuple[ActionName, ...] = ("approve", "rollback", "acknowledge", "escalate")
TITLES: dict[ActionName, str] = {
    "approve": "Approve the fix and replay",
    "rollback": "Roll back",
    "acknowledge": "Acknowledge",
    "escalate": "Escalate to the next tier",
}


class Confirmation(BaseModel):
    run_id: str
    action: ActionName
    title: str
    workflow_id: str
    request: ActionRequest
    audit: dict[str, object]
    effects: list[str]
    fix: ProposedFix | None = None
    replay_from: str | None = None
    undo: list[UndoTarget] = []
    problem: str | None = None
    source: Literal["console"] = "console"


def confirmation(
    store: TraceStore, run: RunRecord, action: ActionName, user: str, to_step: str | None
) -> Confirmation:
    """What ``action`` by ``user`` on ``run`` would send and write; ``problem`` says why
    it cannot be done, when that is known before asking the workflow."""
    request = ActionRequest(action=action, user=user, to_step=to_step)
    page = Confirmation(
        run_id=run.run_id,
        action=action,
        title=TITLES[action],
        workflow_id=escalation_workflow_id(run.run_id),
        request=request,
        audit={
            "run_id": run.run_id,
            "slack_user_id": user,
            "action": action,
            "detail": {"source": "console", "to_step": to_step},
        },
        effects=[],
    )
    if action == "approve":
        _approve(store, run, page)
    elif action == "rollback":
        _rollback(store, run, to_step, page)
    elif action == "acknowledge":
        page.effects.append(
            "The alert stays at its tier and stops climbing; the thread says who acknowledged."
        )
    else:
        page.effects.append(
            "The alert climbs to the next tier now: a note in this thread and a new alert "
            "in the next tier's channel."
        )
    return page


def _approve(store: TraceStore, run: RunRecord, page: Confirmation) -> None:
    diagnosis = stored_diagnosis(store, run.run_id)
    if diagnosis is None:
        page.problem = f"run {run.run_id} has no stored diagnosis: nothing to approve"
        return
    fix = diagnosis.proposed_fix
    page.fix = fix
    page.replay_from = None if fix.kind == "spec_patch" else diagnosis.onset_step
    if fix.kind not in REPLAYABLE_FIXES:
        page.problem = f"the proposed fix ({fix.kind}) cannot be approved and replayed"
        return
    where = (
        "from the first step the patch changes"
        if fix.kind == "spec_patch"
        else f"from `{page.replay_from}`"
    )
    page.effects.append(
        f"A replay of run {run.run_id} starts {where}, as a new run linked to this one; "
        "the steps before it reuse their recorded outputs."
    )
    if fix.kind == "spec_patch":
        page.effects.append(
            "The patched spec below is stored as a new version of the pipeline "
            f"({(fix.patched_version or '?')[:12]}); the original spec is not changed."
        )
    page.effects.append("The result is posted in the alert's thread and shown on this page.")


def _rollback(store: TraceStore, run: RunRecord, to_step: str | None, page: Confirmation) -> None:
    if not to_step:
        page.problem = "choose the step to roll back to"
        return
    try:
        page.undo = plan_rollback(store, run, to_step)
    except RollbackError as exc:
        page.problem = str(exc)
        return
    page.effects.append(
        f"{len(page.undo)} recorded writes after `{to_step}` are undone, newest first: "
        "a created object is deleted, an updated one gets its before-image back. An object "
        "a person changed since is left alone and reported."
    )
