"""Tiered escalation of a failed run: the ``EscalationWorkflow`` and its activities.

Started for a ``failed`` or ``qc_failed`` run (:func:`start_escalation`), the workflow
posts the diagnosis as an alert to the starting tier's channel and waits for a person.
Nobody acknowledging within the tier's ``ack_timeout`` moves the alert to the next tier
(said in the old alert's thread, posted afresh in the new tier's channel). Acknowledging
stops the climbing; Approve and Roll back run through :class:`HumanLoopActions` and their
result is posted in the thread; Escalate climbs at once.

People act through the ``act`` update. Its validator decides (:func:`refusal_reason`):
only the current tier's approvers may approve or roll back, so the workflow, not the
bot, is the one place that says who may do what; a refused update never reaches the
history. The caller (the Slack bot) audits both outcomes.

Tier 0 is the automatic one: the retry policy of every step. By the time a run has
failed, its retries are spent, so an escalation whose fault class starts at tier 0 pages
tier 1 and says that retries did not help.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from connectors.slack.client import SlackClient
    from connectors.slack.models import MessageMetadata
    from orchestrator.diagnosis.model import Diagnosis, ProposedFix
    from orchestrator.humanloop.alerts import (
        REPLAYABLE_FIXES,
        ActionName,
        AlertContext,
        alert_blocks,
        alert_metadata,
        alert_text,
    )
    from orchestrator.spec.pipeline import EscalationSpec, TierSpec
    from tracer.store import TraceStore

ESCALATION_WORKFLOW = "EscalationWorkflow"
POST_ALERT_ACTIVITY = "steptrace.escalation.post_alert"
POST_NOTE_ACTIVITY = "steptrace.escalation.post_note"
RUN_ACTION_ACTIVITY = "steptrace.escalation.run_action"
Status = Literal["open", "acknowledged", "acting", "resolved"]


# -- the actions people can approve ------------------------------------------------------


class ActionOutcome(BaseModel):
    """What an approved action did: ``run_id`` is the linked replay or rollback run."""

    ok: bool
    summary: str
    run_id: str | None = None


class HumanLoopActions(Protocol):
    """The replay and rollback a person approves from an alert."""

    async def approve_and_replay(
        self, run_id: str, fix: ProposedFix, from_step: str | None
    ) -> ActionOutcome: ...

    async def rollback(self, run_id: str, to_step: str) -> ActionOutcome: ...


class TemporalActions:
    """The real replay and rollback (:mod:`orchestrator.humanloop.replay`,
    :mod:`orchestrator.humanloop.rollback`), as linked runs on ``task_queue``;
    what a worker hands :class:`EscalationActivities`."""

    def __init__(self, client: Client, task_queue: str, store: TraceStore) -> None:
        self._client = client
        self._task_queue = task_queue
        self._store = store

    async def approve_and_replay(
        self, run_id: str, fix: ProposedFix, from_step: str | None
    ) -> ActionOutcome:
        from orchestrator.humanloop.replay import (
            replay_run,
        )  # here: the workflow module stays light

        fix_id = None
        if fix.kind == "spec_patch":
            stored = await asyncio.to_thread(self._store.diagnoses, run_id)
            fix_id = stored[-1].id if stored else None
            from_step = None  # the replay starts at the first step the patch changes
        elif fix.kind == "data_patch":
            raise ApplicationError(
                f"run {run_id}: a data patch is applied by hand, then replayed without a fix "
                f"({fix.detail or 'see the diagnosis'})",
                non_retryable=True,
            )
        outcome = await replay_run(
            self._client, self._task_queue, self._store, run_id, from_step, fix_id=fix_id
        )
        summary = f"replay from `{outcome.from_step}` {outcome.status}"
        if outcome.error:
            summary += f": {outcome.error}"
        return ActionOutcome(
            ok=outcome.status == "succeeded", summary=summary, run_id=outcome.run_id
        )

    async def rollback(self, run_id: str, to_step: str) -> ActionOutcome:
        from orchestrator.humanloop.rollback import (
            rollback_run,
        )  # here: the workflow module stays light

        result = await rollback_run(self._client, self._task_queue, self._store, run_id, to_step)
        left = result.left_over
        summary = (
            f"rollback to `{to_step}` {result.status}: {len(result.results) - len(left)} undone"
        )
        if left:
            summary += "; left for a person: " + "; ".join(
                f"{r.tool} {r.kind} {r.object_id} ({r.outcome}: {r.detail})" for r in left
            )
        return ActionOutcome(ok=not left, summary=summary, run_id=result.run_id)


# -- inputs, results and state -----------------------------------------------------------


class EscalationInput(BaseModel):
    run_id: str
    diagnosis: Diagnosis
    tiers: list[TierSpec] = Field(min_length=2)
    start_tier: int = 1
    rollback_to: str | None = Field(default=None, description="the step before the onset")


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


# -- pure helpers ------------------------------------------------------------------------


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


def _duration_text(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


# -- activities --------------------------------------------------------------------------


class EscalationActivities:
    """The escalation's side effects: Slack posts and the approved actions."""

    def __init__(self, slack: SlackClient, actions: HumanLoopActions) -> None:
        self._slack = slack
        self._actions = actions

    def all(self) -> list[Callable[..., Any]]:
        return [self.post_alert, self.post_note, self.run_action]

    @activity.defn(name=POST_ALERT_ACTIVITY)
    async def post_alert(self, params: PostAlertInput) -> PostedMessage:
        metadata = alert_metadata(params.context)
        posted = await self._slack.post_message(
            params.channel,
            alert_text(params.diagnosis),
            blocks=alert_blocks(params.diagnosis, params.context),
            metadata=MessageMetadata.model_validate(metadata),
            idempotency_key=params.idempotency_key,
        )
        return PostedMessage(channel=posted.channel, ts=posted.ts)

    @activity.defn(name=POST_NOTE_ACTIVITY)
    async def post_note(self, params: PostNoteInput) -> PostedMessage:
        posted = await self._slack.post_message(
            params.alert.channel,
            params.text,
            thread_ts=params.alert.ts,
            idempotency_key=params.idempotency_key,
        )
        return PostedMessage(channel=posted.channel, ts=posted.ts)

    @activity.defn(name=RUN_ACTION_ACTIVITY)
    async def run_action(self, params: RunActionInput) -> ActionOutcome:
        if params.action == "approve":
            return await self._actions.approve_and_replay(
                params.run_id, params.fix, params.from_step
            )
        if params.to_step is None:
            raise ApplicationError(
                f"rollback of run {params.run_id}: no step to roll back to",
                non_retryable=True,
            )
        return await self._actions.rollback(params.run_id, params.to_step)


# -- the workflow ------------------------------------------------------------------------

_SLACK_TIMEOUT = timedelta(seconds=30)
_SLACK_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=10)
# A replay or rollback is not safely repeatable blind: one attempt, its failure reported.
_ACTION_TIMEOUT = timedelta(minutes=30)
_ACTION_RETRY = RetryPolicy(maximum_attempts=1)


@workflow.defn(name=ESCALATION_WORKFLOW)
class EscalationWorkflow:
    @workflow.init
    def __init__(self, params: EscalationInput) -> None:
        self._params = params
        self._tier = min(max(params.start_tier, 1), len(params.tiers) - 1)
        self._status: Status = "open"
        self._acknowledged_by: str | None = None
        self._alerts: list[PostedMessage] = []
        self._inbox: list[ActionRequest] = []
        self._outcome: ActionOutcome | None = None
        self._notes = 0

    @workflow.run
    async def run(self, params: EscalationInput) -> EscalationState:
        note = None
        if params.start_tier == 0:
            note = "automatic retries (tier 0) did not fix it"
        await self._page(note)
        while self._status != "resolved":
            try:
                await workflow.wait_condition(lambda: bool(self._inbox), timeout=self._timeout())
            except TimeoutError:
                await self._climb(f"No acknowledgement within {self._timeout_text()}")
                continue
            await self._handle(self._inbox.pop(0))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    @workflow.query
    def state(self) -> EscalationState:
        params = self._params
        tier = params.tiers[self._tier]
        return EscalationState(
            run_id=params.run_id,
            tier=self._tier,
            tier_name=tier.name or f"tier {self._tier}",
            status=self._status,
            approvers=tier.approvers,
            acknowledged_by=self._acknowledged_by,
            alerts=self._alerts,
            outcome=self._outcome,
        )

    @workflow.update
    def act(self, request: ActionRequest) -> str:
        self._inbox.append(request)
        return f"{request.action} by {request.user} accepted at tier {self._tier}"

    @act.validator
    def _check_act(self, request: ActionRequest) -> None:
        params = self._params
        reason = refusal_reason(self.state(), params.tiers[self._tier], request)
        if reason is None and request.action == "escalate" and self._is_last_tier():
            reason = f"run {params.run_id} is already at the last tier ({self._tier})"
        if reason is None:
            reason = self._action_problem(params, request)
        if reason is not None:
            raise ApplicationError(reason, type="ActionRefused", non_retryable=True)

    # -- steps of the loop ---------------------------------------------------------------

    async def _handle(self, request: ActionRequest) -> None:
        who = f"<@{request.user}>"
        if request.action == "acknowledge":
            self._status, self._acknowledged_by = "acknowledged", request.user
            await self._note(f"{who} acknowledged: the alert stays at {self._tier_label()}.")
        elif request.action == "escalate":
            await self._climb(f"{who} escalated")
        else:
            await self._run_action(request)

    async def _run_action(self, request: ActionRequest) -> None:
        params = self._params
        before: Status = self._status
        self._status = "acting"
        to_step = request.to_step or params.rollback_to
        what = (
            "approved the fix; replaying"
            if request.action == "approve"
            else (f"is rolling back to `{to_step}`")
        )
        await self._note(f"<@{request.user}> {what}…")
        action_input = RunActionInput(
            action="approve" if request.action == "approve" else "rollback",
            run_id=params.run_id,
            fix=params.diagnosis.proposed_fix,
            from_step=params.diagnosis.onset_step,
            to_step=to_step,
        )
        try:
            outcome: ActionOutcome = await workflow.execute_activity(
                RUN_ACTION_ACTIVITY,
                action_input,
                result_type=ActionOutcome,
                start_to_close_timeout=_ACTION_TIMEOUT,
                retry_policy=_ACTION_RETRY,
            )
        except ActivityError as err:
            outcome = ActionOutcome(ok=False, summary=str(err.cause or err))
        self._outcome = outcome
        self._status = "resolved" if outcome.ok else before
        linked = f" (run {outcome.run_id})" if outcome.run_id else ""
        verdict = "Done" if outcome.ok else "Failed"
        await self._note(f"{verdict}{linked}: {outcome.summary}")

    async def _climb(self, reason: str) -> None:
        if self._is_last_tier():
            return
        old = self._tier_label()
        self._tier += 1
        self._status, self._acknowledged_by = "open", None
        channel = self._params.tiers[self._tier].channel
        await self._note(f"{reason} at {old}: escalated to {self._tier_label()} in {channel}.")
        await self._page(f"escalated from {old}: {reason.lower()}")

    async def _page(self, note: str | None) -> None:
        params = self._params
        tier = params.tiers[self._tier]
        info = workflow.info()
        context = AlertContext(
            run_id=params.run_id,
            workflow_id=info.workflow_id,
            tier=self._tier,
            tier_name=tier.name or f"tier {self._tier}",
            mentions=tier.mentions,
            rollback_to=params.rollback_to,
            note=note,
        )
        posted: PostedMessage = await workflow.execute_activity(
            POST_ALERT_ACTIVITY,
            PostAlertInput(
                diagnosis=params.diagnosis,
                context=context,
                channel=tier.channel,
                idempotency_key=f"{info.workflow_id}/{info.run_id}:alert:{self._tier}",
            ),
            result_type=PostedMessage,
            start_to_close_timeout=_SLACK_TIMEOUT,
            retry_policy=_SLACK_RETRY,
        )
        self._alerts.append(posted)

    async def _note(self, text: str) -> None:
        """Say ``text`` in the current alert's thread."""
        info = workflow.info()
        self._notes += 1
        await workflow.execute_activity(
            POST_NOTE_ACTIVITY,
            PostNoteInput(
                alert=self._alerts[-1],
                text=text,
                idempotency_key=f"{info.workflow_id}/{info.run_id}:note:{self._notes}",
            ),
            result_type=PostedMessage,
            start_to_close_timeout=_SLACK_TIMEOUT,
            retry_policy=_SLACK_RETRY,
        )

    # -- small queries on the state ------------------------------------------------------

    def _timeout(self) -> timedelta | None:
        """How long to wait for a person: unbounded once acknowledged or at the top."""
        if self._status == "acknowledged" or self._is_last_tier():
            return None
        seconds = self._params.tiers[self._tier].ack_timeout
        return None if seconds is None else timedelta(seconds=seconds)

    def _timeout_text(self) -> str:
        seconds = self._params.tiers[self._tier].ack_timeout
        return _duration_text(seconds or 0)

    def _is_last_tier(self) -> bool:
        return self._tier >= len(self._params.tiers) - 1

    def _tier_label(self) -> str:
        tier = self._params.tiers[self._tier]
        return f"tier {self._tier} ({tier.name})" if tier.name else f"tier {self._tier}"

    @staticmethod
    def _action_problem(params: EscalationInput, request: ActionRequest) -> str | None:
        if request.action == "approve" and params.diagnosis.proposed_fix.kind not in (
            REPLAYABLE_FIXES
        ):
            return (
                f"the proposed fix ({params.diagnosis.proposed_fix.kind}) cannot be approved "
                "and replayed; roll back or escalate"
            )
        if request.action == "rollback" and not (request.to_step or params.rollback_to):
            return "no step to roll back to: use `/steptrace rollback <run> <step>`"
        return None


# -- starting one ------------------------------------------------------------------------


async def start_escalation(
    client: Client, params: EscalationInput, *, task_queue: str
) -> WorkflowHandle[EscalationWorkflow, EscalationState]:
    """Start the escalation of ``params.run_id``, or find the one already running."""
    return await client.start_workflow(
        EscalationWorkflow.run,
        params,
        id=escalation_workflow_id(params.run_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
