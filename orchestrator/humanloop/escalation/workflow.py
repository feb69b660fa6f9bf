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

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from orchestrator.humanloop.alerts import REPLAYABLE_FIXES, AlertContext
    from orchestrator.humanloop.escalation.model import (
        POST_ALERT_ACTIVITY,
        POST_NOTE_ACTIVITY,
        RUN_ACTION_ACTIVITY,
        ActionOutcome,
        ActionRequest,
        EscalationState,
        PostAlertInput,
        PostedMessage,
        PostNoteInput,
        RunActionInput,
        Status,
        duration_text,
        refusal_reason,
    )
    from orchestrator.runtime.escalation_handoff import (
        ESCALATION_WORKFLOW,
        REPEAT_SIGNAL,
        EscalationInput,
        RepeatNotice,
    )


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

    @workflow.signal(name=REPEAT_SIGNAL)
    async def repeat(self, notice: RepeatNotice) -> None:
        """Another run failed the same way: say so in this alert's thread, with the count."""
        await workflow.wait_condition(lambda: bool(self._alerts))
        await self._note(
            f"Again: run {notice.run_id} failed the same way ({notice.count} times so far)."
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
            failure_group=params.failure_group,
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
        return duration_text(seconds or 0)

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
