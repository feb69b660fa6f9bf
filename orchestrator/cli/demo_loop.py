"""The human loop, played for ``steptrace demo``: alert, "why?", approval, replay.

A failed run's escalation posts its alert to the first tier's channel in the Slack
sandbox. The demo then plays the people: someone asks the bot "why did this fail?" in the
alert's thread and an approver clicks "Approve fix & replay". Their messages go into the
sandbox as if typed in Slack, and what Slack would deliver to the bot (the mention, the
click) is sent to the real bot, served on 127.0.0.1 and signed with a fresh secret. The
conversation the sandbox recorded is the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.sandbox.seed import SLACK_BOT_USER_ID
from orchestrator.humanloop.alerts import ALERT_EVENT_TYPE, TranscriptMessage, slack_transcript
from orchestrator.humanloop.bot import local_bot
from orchestrator.humanloop.slack_delivery import FORM, JSON, click_body, deliver, mention_body
from orchestrator.service.stack import Stack
from orchestrator.spec.pipeline import PipelineSpec

WAIT_SECONDS = 60.0
QUESTION = "why did this fail?"
REPEAT_PREFIX = "Again: run "


class DemoLoopError(RuntimeError):
    """A step of the played loop did not happen in time; the message says which."""


@dataclass(frozen=True)
class LoopResult:
    run_id: str
    channel: str
    transcript: list[TranscriptMessage]
    replay_run_id: str | None
    replay_status: str | None


async def play_on_call(stack: Stack, spec: PipelineSpec, run_id: str) -> LoopResult:
    """Ask why in ``run_id``'s alert thread, approve the fix, and return the conversation."""
    assert stack.sandbox is not None and stack.store is not None
    if spec.escalation is None or len(spec.escalation.tiers) < 2:
        raise DemoLoopError(f"pipeline {spec.name!r} has no escalation tiers to alert")
    tier = spec.escalation.tiers[1]
    approver = tier.approvers[0]
    asker = _someone_else(stack, set(tier.approvers))
    alert = await _wait_for(lambda: _alert_of(stack, run_id), f"the alert of run {run_id}")
    assert stack.store is not None
    async with local_bot(stack.store, stack.client, stack.settings.endpoints["slack"]) as (
        url,
        secret,
    ):
        question = stack.sandbox.post_as_person(
            asker, alert["channel"], f"<@{SLACK_BOT_USER_ID}> {QUESTION}", thread_ts=alert["ts"]
        )
        await deliver(url, mention_body(asker, alert["channel"], question), JSON, secret)
        await _wait_for(lambda: _bot_replies(stack, alert, 1), "the bot's answer")
        await deliver(url, click_body("steptrace_approve", approver, alert), FORM, secret)
        # Two more replies: "approved; replaying…", then the replay's result.
        await _wait_for(lambda: _bot_replies(stack, alert, 3), "the replay's result")
    replay = next((r for r in stack.store.list_runs(limit=20) if r.parent_run_id == run_id), None)
    transcript = slack_transcript(stack.sandbox.state("slack"), alert["channel"], alert["ts"])
    return LoopResult(
        run_id=run_id,
        channel="#" + str(alert["channel_name"]),
        transcript=transcript,
        replay_run_id=replay.run_id if replay else None,
        replay_status=replay.status.value if replay else None,
    )


def _alert_of(stack: Stack, run_id: str) -> dict[str, Any] | None:
    assert stack.sandbox is not None
    for message in stack.sandbox.state("slack")["messages"]:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == ALERT_EVENT_TYPE and payload.get("run_id") == run_id:
            return dict(message)
    return None


def _bot_replies(stack: Stack, alert: dict[str, Any], count: int) -> bool | None:
    assert stack.sandbox is not None
    replies = [
        m
        for m in stack.sandbox.state("slack")["messages"]
        if m.get("thread_ts") == alert["ts"]
        and m["ts"] != alert["ts"]
        and m.get("user") == SLACK_BOT_USER_ID
        # Repeats of the same failure are noted in the thread too; they answer no one.
        and not str(m.get("text", "")).startswith(REPEAT_PREFIX)
    ]
    return len(replies) >= count or None


def _someone_else(stack: Stack, approvers: set[str]) -> str:
    assert stack.sandbox is not None
    for person in stack.sandbox.data.people:
        if person.slack_user_id not in approvers:
            return person.slack_user_id
    raise DemoLoopError("every seeded person is an approver; no one is left to ask")


async def _wait_for(check: Callable[[], Any], what: str) -> Any:
    """Poll ``check`` until it returns something, for up to :data:`WAIT_SECONDS`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while loop.time() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise DemoLoopError(f"waited {WAIT_SECONDS:.0f} s for {what}; it did not come")
