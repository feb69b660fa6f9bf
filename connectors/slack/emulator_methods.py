"""The Web API methods the emulator serves, one handler per method.

Each handler takes a :class:`Call` (the workspace, the arguments, the fault overlay for
this request) and returns the success body without ``ok``, or raises
:class:`SlackFailure` with Slack's code. Handlers run under the workspace lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.faults import FaultEngine
from connectors.sandbox.seed import EPOCH, SLACK_BOT_USER_ID, SLACK_TEAM_ID
from connectors.slack import emulator_args as arg
from connectors.slack.emulator_faults import corrupt, fire_for_channel
from connectors.slack.emulator_state import (
    BOT_ID,
    BOT_NAME,
    TEAM_DOMAIN,
    TEAM_NAME,
    Channel,
    Message,
    Overlay,
    SlackFailure,
    Workspace,
    channel_json,
    message_json,
    user_json,
)

MAX_TEXT = 40_000


@dataclass
class Call:
    """One method call, as a handler sees it."""

    workspace: Workspace
    engine: FaultEngine
    overlay: Overlay
    method: str
    args: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def channel(self, *, by_name: bool = False, writing: bool = False) -> Channel:
        ref = arg.required(self.args, "channel")
        channel = self.workspace.channel(ref, self.overlay, by_name=by_name)
        if writing and (channel.is_archived or channel.id in self.overlay.archived):
            raise SlackFailure("is_archived")
        return channel

    def message_json(self, message: Message) -> dict[str, Any]:
        return message_json(message, self.workspace)


Handler = Callable[[Call], dict[str, Any]]


def _content(call: Call) -> tuple[str, list[dict[str, Any]] | None]:
    """The text and blocks of a post or update, checked like Slack checks them."""
    blocks = arg.blocks(call.args)
    body = arg.text(call.args, "text")
    if body is None and blocks is None and arg.text(call.args, "attachments") is None:
        raise SlackFailure("no_text")
    if body is not None and len(body) > MAX_TEXT:
        raise SlackFailure("msg_too_long")
    return body or "", blocks


def auth_test(call: Call) -> dict[str, Any]:
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": TEAM_NAME,
        "user": BOT_NAME,
        "team_id": SLACK_TEAM_ID,
        "user_id": SLACK_BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def chat_post_message(call: Call) -> dict[str, Any]:
    channel = call.channel(by_name=True, writing=True)
    body, blocks = _content(call)
    meta = arg.metadata(call.args)
    fault = fire_for_channel(call.engine, call.workspace, "corrupt_value", channel.id, call.method)
    if fault is not None:
        body = corrupt(body, fault)
    message = call.workspace.post(
        channel,
        SLACK_BOT_USER_ID,
        body,
        blocks=blocks,
        thread_ts=arg.text(call.args, "thread_ts"),
        metadata=meta,
        reply_broadcast=arg.flag(call.args, "reply_broadcast"),
    )
    return {"channel": channel.id, "ts": message.ts, "message": call.message_json(message)}


def chat_update(call: Call) -> dict[str, Any]:
    channel = call.channel(writing=True)
    ts = arg.required(call.args, "ts")
    message = call.workspace.message(channel, ts)
    if not message.is_bot:
        raise SlackFailure("cant_update_message")
    body, blocks = _content(call)
    fault = fire_for_channel(
        call.engine, call.workspace, "concurrent_edit", channel.id, call.method
    )
    if fault is not None and fault.when == "before_write":
        _person_edits(call, message, fault.value)
        message = call.workspace.message(channel, ts)  # message_not_found if they deleted it
    call.workspace.edit(message, SLACK_BOT_USER_ID, body, blocks)
    answer = {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": call.message_json(message),
    }
    if fault is not None and fault.when == "after_write":
        _person_edits(call, message, fault.value)
    return answer


def _person_edits(call: Call, message: Message, value: Any) -> None:
    """A person (the first active seeded one) edits or deletes ``message``."""
    person = next(
        u.id
        for u in call.workspace.users.values()
        if not u.is_bot and u.id not in call.overlay.deactivated
    )
    call.workspace.edit(message, person, None if value is None else str(value), message.blocks)


def chat_delete(call: Call) -> dict[str, Any]:
    channel = call.channel(writing=True)
    message = call.workspace.message(channel, arg.required(call.args, "ts"))
    if not message.is_bot:
        raise SlackFailure("cant_delete_message")
    call.workspace.edit(message, SLACK_BOT_USER_ID, None)
    return {"channel": channel.id, "ts": message.ts}


def chat_post_ephemeral(call: Call) -> dict[str, Any]:
    channel = call.channel(by_name=True, writing=True)
    user = call.workspace.user(arg.required(call.args, "user"))
    if user.id not in channel.members or user.id in call.overlay.deactivated:
        raise SlackFailure("user_not_in_channel")
    body, blocks = _content(call)
    ts = call.workspace.next_ts()
    call.workspace.ephemeral.append(
        {"channel": channel.id, "user": user.id, "ts": ts, "text": body, "blocks": blocks}
    )
    return {"message_ts": ts}


def chat_get_permalink(call: Call) -> dict[str, Any]:
    channel = call.channel()
    message = call.workspace.message(channel, arg.required(call.args, "message_ts"))
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def conversations_list(call: Call) -> dict[str, Any]:
    types = (arg.text(call.args, "types") or "public_channel").split(",")
    exclude_archived = arg.flag(call.args, "exclude_archived")
    shown = [
        channel_json(c, call.overlay)
        for c in call.workspace.visible_channels(call.overlay)
        if ("private_channel" if c.is_private else "public_channel") in types
    ]
    if exclude_archived:
        shown = [c for c in shown if not c["is_archived"]]
    chunk, cursor = arg.page(shown, call.args, kind="channel", default=100, maximum=1000)
    return {"channels": chunk, "response_metadata": {"next_cursor": cursor}}


def conversations_info(call: Call) -> dict[str, Any]:
    return {"channel": channel_json(call.channel(), call.overlay)}


def _window(call: Call, messages: list[Message]) -> list[Message]:
    """Messages between ``oldest`` and ``latest`` (exclusive unless ``inclusive``)."""
    oldest = _ts_arg(call, "oldest", Decimal(0))
    latest = _ts_arg(call, "latest", Decimal("1e12"))
    inclusive = arg.flag(call.args, "inclusive")

    def inside(message: Message) -> bool:
        ts = Decimal(message.ts)
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return [m for m in messages if inside(m)]


def _ts_arg(call: Call, name: str, default: Decimal) -> Decimal:
    value = arg.text(call.args, name)
    try:
        return default if value is None else Decimal(value)
    except InvalidOperation:
        raise SlackFailure(f"invalid_ts_{name}") from None


def _messages_json(call: Call, messages: list[Message]) -> list[dict[str, Any]]:
    with_metadata = arg.flag(call.args, "include_all_metadata")
    return [message_json(m, call.workspace, include_metadata=with_metadata) for m in messages]


def conversations_history(call: Call) -> dict[str, Any]:
    channel = call.channel()
    shown = _window(call, call.workspace.history(channel))
    chunk, cursor = arg.page(shown, call.args, kind="next_ts", default=100, maximum=999)
    return {
        "messages": _messages_json(call, chunk),
        "has_more": bool(cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_replies(call: Call) -> dict[str, Any]:
    channel = call.channel()
    thread = call.workspace.thread(channel, arg.required(call.args, "ts"))
    parent, replies = thread[0], _window(call, thread[1:])
    chunk, cursor = arg.page(
        [parent, *replies], call.args, kind="reply", default=1000, maximum=1000
    )
    return {
        "messages": _messages_json(call, chunk),
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def users_lookup_by_email(call: Call) -> dict[str, Any]:
    email = str(arg.required(call.args, "email")).lower()
    for user in call.workspace.users.values():
        active = not user.deleted and user.id not in call.overlay.deactivated
        if user.email == email and active:
            return {"user": user_json(user, call.overlay)}
    raise SlackFailure("users_not_found")


def users_info(call: Call) -> dict[str, Any]:
    return {"user": user_json(call.workspace.user(arg.required(call.args, "user")), call.overlay)}


def users_list(call: Call) -> dict[str, Any]:
    members = [user_json(u, call.overlay) for u in call.workspace.users.values()]
    chunk, cursor = arg.page(members, call.args, kind="user", default=100, maximum=1000)
    return {
        "members": chunk,
        "cache_ts": int(EPOCH.timestamp()),
        "response_metadata": {"next_cursor": cursor},
    }


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "conversations.list": conversations_list,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.lookupByEmail": users_lookup_by_email,
    "users.info": users_info,
    "users.list": users_list,
}
WRITE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.delete", "chat.postEphemeral"})
