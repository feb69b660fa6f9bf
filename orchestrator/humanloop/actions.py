"""One code path for a person's action on a failed run, whoever carries the click.

The Slack bot's buttons and ``/steptrace rollback``, and the web console's confirmation
page, all call :func:`request_action`: it asks the run's
:class:`~orchestrator.humanloop.escalation.workflow.EscalationWorkflow` to ``act`` (the
workflow's validator is the one place that decides who may do what), then stores the
outcome, allowed or refused, with ``add_human_action``. A caller only chooses how to tell
the person: an ephemeral Slack message, or a page.

:func:`escalation_state` reads the escalation's ``state`` query, so a page can say which
tier the alert is at and who may approve before anyone clicks.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import FailureError
from temporalio.service import RPCError

from orchestrator.humanloop.escalation.model import ActionRequest, EscalationState
from orchestrator.humanloop.escalation.workflow import EscalationWorkflow
from orchestrator.runtime.escalation_handoff import escalation_workflow_id
from tracer.store import HumanActionRecord, TraceStore

audit_log = logging.getLogger("steptrace.audit")


async def request_action(
    store: TraceStore,
    temporal: Client,
    *,
    run_id: str,
    request: ActionRequest,
    detail: dict[str, Any],
    workflow_id: str | None = None,
) -> str | None:
    """Ask the run's escalation to act; audit the outcome; the refusal reason, if any.

    ``detail`` says where the request came from (``{"source": "button", ...}``); the
    stored audit record adds the workflow's answer and the rollback step to it.
    ``workflow_id`` defaults to the run's escalation (``escalation/<run id>``). A run the
    store does not hold is refused, and the refusal audited in the ``steptrace.audit`` log.
    """
    if await asyncio.to_thread(store.get_run, run_id) is None:
        missing = f"no run {run_id} is stored"
        audit_unstored(run_id, request, {**detail, "refused": missing})
        return missing
    handle = temporal.get_workflow_handle(workflow_id or escalation_workflow_id(run_id))
    refusal: str | None = None
    try:
        accepted = await handle.execute_update(EscalationWorkflow.act, request)
    except WorkflowUpdateFailedError as exc:
        refusal = exc.cause.message if isinstance(exc.cause, FailureError) else str(exc)
    except RPCError as exc:
        refusal = f"no open alert for run {run_id} ({exc.message})"
    outcome = {"refused": refusal} if refusal is not None else {"accepted": accepted}
    await audit(store, run_id, request, {**detail, **outcome}, refusal)
    return refusal


async def audit(
    store: TraceStore,
    run_id: str,
    request: ActionRequest,
    detail: dict[str, Any],
    refusal: str | None,
) -> None:
    """Store what a person asked for on a stored run, and what came of it."""
    if refusal is not None:
        detail = {**detail, "refused": refusal}
    record = HumanActionRecord(
        run_id=run_id,
        slack_user_id=request.user,
        action=request.action,
        allowed=refusal is None,
        detail={**detail, "to_step": request.to_step},
    )
    await asyncio.to_thread(store.add_human_action, record)


def audit_unstored(run_id: str | None, request: ActionRequest, detail: dict[str, Any]) -> None:
    """A refusal about no stored run: the store's audit rows belong to runs, so the
    ``steptrace.audit`` log keeps this one."""
    audit_log.warning(
        "refused %s by %s on unknown run %r: %s",
        request.action,
        request.user,
        (run_id or "")[:80],
        detail.get("refused"),
    )


async def escalation_state(temporal: Client, run_id: str) -> EscalationState | None:
    """The run's escalation as its ``state`` query tells it; ``None`` when the run has
    none (never escalated, or its history is gone from the server)."""
    handle = temporal.get_workflow_handle_for(
        EscalationWorkflow.run, escalation_workflow_id(run_id)
    )
    try:
        return await handle.query(EscalationWorkflow.state)
    except (RPCError, WorkflowQueryFailedError):
        return None
