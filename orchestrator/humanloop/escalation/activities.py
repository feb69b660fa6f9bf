"""The escalation's activities: the Slack posts, and the actions a person approved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.slack.client import SlackClient
from connectors.slack.models import MessageMetadata
from orchestrator.humanloop.alerts import alert_blocks, alert_metadata, alert_text
from orchestrator.humanloop.escalation.model import (
    POST_ALERT_ACTIVITY,
    POST_NOTE_ACTIVITY,
    RUN_ACTION_ACTIVITY,
    ActionOutcome,
    PostAlertInput,
    PostedMessage,
    PostNoteInput,
    RunActionInput,
)
from tracer.diagnosis_model import ProposedFix


class HumanLoopActions(Protocol):
    """The replay and rollback a person approves from an alert."""

    async def approve_and_replay(
        self, run_id: str, fix: ProposedFix, from_step: str | None
    ) -> ActionOutcome: ...

    async def rollback(self, run_id: str, to_step: str) -> ActionOutcome: ...


class EscalationActivities:
    """The escalation's side effects: Slack posts and the approved actions."""

    def __init__(
        self, slack: SlackClient, actions: HumanLoopActions, *, console_url: str | None = None
    ) -> None:
        self._slack = slack
        self._actions = actions
        self._console_url = console_url  # the alert links its failure group's page there

    def all(self) -> list[Callable[..., Any]]:
        return [self.post_alert, self.post_note, self.run_action]

    @activity.defn(name=POST_ALERT_ACTIVITY)
    async def post_alert(self, params: PostAlertInput) -> PostedMessage:
        context = params.context.model_copy(update={"console_url": self._console_url})
        metadata = alert_metadata(context)
        posted = await self._slack.post_message(
            params.channel,
            alert_text(params.diagnosis),
            blocks=alert_blocks(params.diagnosis, context),
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
