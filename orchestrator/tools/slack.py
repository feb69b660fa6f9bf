"""Slack: the ops a pipeline may name, and how a Slack write is undone.

Messages. A message we posted is deleted; one we edited gets its old text back.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from connectors.errors import NotFoundError
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.op import OpArgs, ToolAdapter, ToolOp, images, parse
from orchestrator.tools.shapes import message_output
from orchestrator.tools.undo import Undone, UndoTarget, checked, settle
from tracer.steps import StepCall, StepReturn


class SlackPostMessageArgs(OpArgs):
    channel: str
    text: str
    thread_ts: str | None = None
    mention_email: str | None = Field(default=None, description="mention this person")
    idempotency_key: str | None = Field(
        default=None, description="default: the run and step, so a retry never posts twice"
    )


async def post_message(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(SlackPostMessageArgs, call)
    key = args.idempotency_key or f"{call.run_id}:{call.step_id}"
    text = args.text
    if args.mention_email:
        text = f"{text} {await _mention(clients, args.mention_email)}".rstrip()
    result = await clients.slack.post_message(
        args.channel, text, thread_ts=args.thread_ts, idempotency_key=key
    )
    return StepReturn(output=message_output(result), writes=images(result.write))


class SlackUpdateMessageArgs(OpArgs):
    channel: str
    ts: str = Field(description="the message to edit (one the bot posted)")
    text: str


async def update_message(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(SlackUpdateMessageArgs, call)
    result = await clients.slack.update_message(args.channel, args.ts, text=args.text)
    return StepReturn(output=message_output(result), writes=images(result.write))


async def _mention(clients: ToolClients, email: str) -> str:
    """``<@U…>`` for the person, or nothing when Slack does not know the email.

    A missing mention does not fail the notification; QC reports it.
    """
    try:
        user = await clients.slack.lookup_user_by_email(email)
    except NotFoundError:
        return ""
    return f"<@{user.id}>"


# -- undo ---------------------------------------------------------------------------------


def _message_state(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if image is None:
        return None
    state = {"text": image.get("text") or ""}
    if image.get("blocks"):
        state["blocks"] = image["blocks"]
    return state


async def undo_slack(clients: ToolClients, target: UndoTarget) -> Undone:
    channel, ts = target.container, target.object_id

    async def read() -> dict[str, Any] | None:
        try:
            message = await clients.slack.get_message(channel, ts)
        except NotFoundError:
            return None
        state = _message_state(message.model_dump(mode="json"))
        ours = _message_state(target.after) or {}
        if state is not None and "blocks" not in ours:
            state.pop("blocks", None)  # blocks Slack derived from our text are not a change
        return state

    now, ours, was = await read(), _message_state(target.after), _message_state(target.before)
    settled = settle(target, now, ours, was)
    if settled is not None:
        return settled, []
    assert now is not None, "a missing object is settled by settle()"
    if target.action == "created":
        deleted = await clients.slack.delete_message(channel, ts)
        return checked(target, "deleted", await read() is None), [deleted.write]
    assert was is not None
    blocks = (target.before or {}).get("blocks")
    updated = await clients.slack.update_message(channel, ts, text=was["text"], blocks=blocks)
    return checked(target, "restored", await read() == was), [updated.write]


ADAPTER = ToolAdapter(
    tool="slack",
    ops=(
        ToolOp(
            "slack.post_message", SlackPostMessageArgs, True, "post a Slack message", post_message
        ),
        ToolOp(
            "slack.update_message",
            SlackUpdateMessageArgs,
            True,
            "edit a message the bot posted",
            update_message,
        ),
    ),
    undo=undo_slack,
)
