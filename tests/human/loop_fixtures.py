"""What the end-to-end human-loop tests share: the real bot served on 127.0.0.1 next to a
real stack, what Slack would deliver to it (signed), and waits on what the stack posts.

Nothing of ours is stood in for: the stack runs the pipeline, its diagnosis and its
escalation on a real Temporal dev server; the bot talks to the stack's Slack sandbox and
acts through the escalation workflow; the people are played through the Slack emulator
(``post_as_person``) and through the requests Slack would send the bot.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from temporalio.client import WorkflowHandle

from connectors.sandbox.seed import SLACK_BOT_USER_ID
from connectors.sandbox.server import Sandbox
from orchestrator.humanloop.alerts import ALERT_EVENT_TYPE
from orchestrator.humanloop.bot import local_bot
from orchestrator.humanloop.escalation.model import EscalationState
from orchestrator.humanloop.escalation.workflow import EscalationWorkflow
from orchestrator.humanloop.slack_delivery import (
    FORM,
    JSON,
    click_body,
    command_body,
    deliver,
    mention_body,
)
from orchestrator.runtime.escalation_handoff import escalation_workflow_id
from orchestrator.service.stack import Stack
from tests.human.escalation_fixtures import stop_if_waiting
from tests.orchestrator.processes import poll_until

# A bound on how long the loop may take to show something: a hang fails, it never waits.
WITHIN = 60.0
EVERY = 0.05

Handle = WorkflowHandle[EscalationWorkflow, EscalationState]
Message = dict[str, Any]


async def eventually(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    """Wait until ``condition()`` holds (the stack and the bot act in the background)."""
    await poll_until(condition, within=WITHIN, every=EVERY)


# -- the stack's side ----------------------------------------------------------------------


def sandbox_of(stack: Stack) -> Sandbox:
    assert stack.sandbox is not None, "the loop tests need the stack's own sandbox"
    return stack.sandbox


def messages(stack: Stack, channel_name: str) -> list[Message]:
    """The messages of one channel, oldest first (deleted ones left out)."""
    snapshot = sandbox_of(stack).state("slack")
    return [
        m for m in snapshot["messages"] if m["channel_name"] == channel_name and not m["deleted"]
    ]


def alerts(stack: Stack, run_id: str, channel_name: str) -> list[Message]:
    """The alerts about ``run_id`` in one channel (the thread parents with our metadata)."""
    return [
        m
        for m in messages(stack, channel_name)
        if (m.get("metadata") or {}).get("event_type") == ALERT_EVENT_TYPE
        and m["metadata"]["event_payload"]["run_id"] == run_id
    ]


async def alert_for(stack: Stack, run_id: str, channel_name: str = "ops-alerts") -> Message:
    """The alert the run's escalation posts in ``channel_name``, once it is there."""
    await eventually(lambda: bool(alerts(stack, run_id, channel_name)))
    [alert] = alerts(stack, run_id, channel_name)
    return alert


def replies(stack: Stack, alert: Message) -> list[Message]:
    """The replies in an alert's thread, oldest first."""
    return [
        m
        for m in messages(stack, alert["channel_name"])
        if m.get("thread_ts") == alert["ts"] and m["ts"] != alert["ts"]
    ]


def bot_replies(stack: Stack, alert: Message) -> list[str]:
    return [m["text"] for m in replies(stack, alert) if m["user"] == SLACK_BOT_USER_ID]


async def bot_reply_containing(stack: Stack, alert: Message, text: str) -> str:
    """The first reply of the bot in the alert's thread that contains ``text``."""

    def found() -> list[str]:
        return [reply for reply in bot_replies(stack, alert) if text in reply]

    await eventually(lambda: bool(found()))
    return found()[0]


def ephemeral(stack: Stack, user: str) -> list[str]:
    """What was shown to ``user`` alone, oldest first."""
    shown = sandbox_of(stack).state("slack")["ephemeral"]
    return [str(e["text"]) for e in shown if e["user"] == user]


async def ephemeral_for(stack: Stack, user: str, count: int = 1) -> list[str]:
    await eventually(lambda: len(ephemeral(stack, user)) >= count)
    return ephemeral(stack, user)


def escalation(stack: Stack, run_id: str) -> Handle:
    return stack.client.get_workflow_handle_for(
        EscalationWorkflow.run, escalation_workflow_id(run_id)
    )


async def escalation_state(stack: Stack, run_id: str) -> EscalationState:
    return await escalation(stack, run_id).query(EscalationWorkflow.state)


async def end_escalation(stack: Stack, run_id: str) -> None:
    """Terminate the run's escalation if it still waits for a person (it would wait hours
    on the session's server after the test's worker is gone)."""
    await stop_if_waiting(escalation(stack, run_id))


# -- the bot and what Slack sends it -------------------------------------------------------


@dataclass(frozen=True)
class SlackSide:
    """The bot's request URL and the signing secret Slack shares with it."""

    url: str
    secret: str

    async def deliver(self, body: str, content_type: str) -> httpx.Response:
        """POST ``body`` the way Slack does: signed, with a fresh timestamp."""
        response = await deliver(self.url, body, content_type, self.secret)
        assert response.status_code == 200, (response.status_code, response.text)
        return response

    async def mention(self, user: str, channel: str, message: Message) -> None:
        """The Events API ``app_mention`` for ``message``, a person's post in ``channel``
        (an id) naming the bot."""
        await self.deliver(mention_body(user, channel, message), JSON)

    async def click(self, action_id: str, user: str, alert: Message) -> None:
        """The ``block_actions`` interaction of ``user`` clicking a button of ``alert``."""
        await self.deliver(click_body(action_id, user, alert), FORM)

    async def command(self, text: str, user: str, channel: str) -> None:
        """``/steptrace <text>`` typed by ``user`` in ``channel`` (an id)."""
        await self.deliver(command_body(text, user, channel), FORM)


@contextlib.asynccontextmanager
async def serve_bot(stack: Stack) -> AsyncIterator[SlackSide]:
    """The real bot on a free loopback port: the stack's store and Temporal client, the
    stack's Slack sandbox for its Web API calls, and a signing secret made for it."""
    assert stack.store is not None
    slack = stack.settings.endpoints["slack"]
    async with local_bot(stack.store, stack.client, slack) as (url, secret):
        yield SlackSide(url, secret)
