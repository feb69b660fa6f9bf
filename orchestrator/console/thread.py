"""An alert's Slack thread, read back for the run page: the alert, then the replies.

The escalation's ``state`` query names the alerts it posted (channel and ``ts``); the
thread itself lives in Slack, so the console reads it with ``conversations.replies``
when it is given a Slack Web API client. Reading it must never break the page: a Slack
error or a slow answer gives ``None`` and the page says the thread is unavailable.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from orchestrator.humanloop.escalation.model import PostedMessage

_TIMEOUT = 2.0


class ThreadMessage(BaseModel):
    user: str
    text: str
    ts: str


class AlertThread(BaseModel):
    channel: str
    ts: str
    messages: list[ThreadMessage] | None = None  # None: Slack did not answer


async def alert_threads(slack: AsyncWebClient, alerts: list[PostedMessage]) -> list[AlertThread]:
    """Each alert's thread, oldest message first."""
    return list(await asyncio.gather(*(_thread(slack, alert) for alert in alerts)))


async def _thread(slack: AsyncWebClient, alert: PostedMessage) -> AlertThread:
    thread = AlertThread(channel=alert.channel, ts=alert.ts)
    try:
        answer = await asyncio.wait_for(
            slack.conversations_replies(channel=alert.channel, ts=alert.ts), timeout=_TIMEOUT
        )
    except (SlackClientError, OSError, TimeoutError):
        return thread
    seen: dict[str, ThreadMessage] = {}
    for raw in answer.get("messages") or []:
        ts = str(raw.get("ts"))
        seen.setdefault(
            ts,
            ThreadMessage(
                user=str(raw.get("user") or raw.get("bot_id") or "?"),
                text=str(raw.get("text", "")),
                ts=ts,
            ),
        )
    thread.messages = sorted(seen.values(), key=lambda m: float(m.ts))
    return thread
