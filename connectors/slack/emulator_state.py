"""The emulated Slack workspace: channels, users and every message, in memory.

The state is seeded from :class:`SeedData` (four public channels, the seeded people, the
bot user) and changed only by the method handlers in :mod:`emulator_methods` and by
:meth:`Workspace.post` for people talking. Data faults never change the stored state;
they are applied as a :class:`Overlay` (renamed, archived, private channels; deactivated
users) computed from the fault engine on each request, so a fault that starts on run 3
or ends on run 5 takes effect exactly then.

Failures are raised as :class:`SlackFailure` carrying Slack's own error code; the
emulator turns them into Slack's ``{"ok": false, "error": …}`` envelope.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.sandbox.seed import EPOCH, SLACK_BOT_USER_ID, SLACK_TEAM_ID, SeedData

BOT_ID = "B0STEPBOT"
APP_ID = "A0STEPAPP"
BOT_NAME = "steptrace"
TEAM_NAME = "steptrace sandbox"
TEAM_DOMAIN = "steptrace-sandbox"


class SlackFailure(Exception):
    """A Slack method failure: HTTP 200 ``{"ok": false, "error": code}`` plus what Slack
    adds (``errors``, ``response_metadata.messages``)."""

    def __init__(
        self,
        code: str,
        *,
        messages: list[str] | None = None,
        errors: list[str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.code}
        if self.errors:
            body["errors"] = self.errors
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass
class Channel:
    """A channel as stored; faults change how it looks, never this record."""

    id: str
    name: str
    created: int
    is_private: bool = False
    is_archived: bool = False
    members: set[str] = field(default_factory=set)


@dataclass
class User:
    """A workspace member: the bot or a seeded person (same email as in Linear)."""

    id: str
    name: str
    real_name: str
    display_name: str
    email: str | None
    is_bot: bool = False
    deleted: bool = False


@dataclass
class Edit:
    """One change to a message after it was posted (by us or by a person)."""

    user: str
    ts: str
    text: str | None  # ``None``: the message was deleted


@dataclass
class Message:
    """A stored message; deleted ones stay (flagged) so the transcript keeps them."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    reply_broadcast: bool = False
    deleted: bool = False
    edits: list[Edit] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_bot(self) -> bool:
        return self.user == SLACK_BOT_USER_ID


@dataclass(frozen=True)
class Overlay:
    """What the data faults in force change about the workspace, for one request."""

    renamed: dict[str, str] = field(default_factory=dict)  # channel id -> new name
    archived: frozenset[str] = frozenset()  # channel ids
    private: frozenset[str] = frozenset()  # channel ids the bot no longer sees
    deactivated: frozenset[str] = frozenset()  # user ids

    def name(self, channel: Channel) -> str:
        return self.renamed.get(channel.id, channel.name)


class Workspace:
    """The workspace's stored objects. Callers hold :attr:`lock` around each method call."""

    def __init__(self, seed: SeedData) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self._epoch = int(EPOCH.timestamp())
        self._clock = 0
        people = [
            User(p.slack_user_id, p.key, p.name, p.display_name, p.email) for p in seed.people
        ]
        bot = User(SLACK_BOT_USER_ID, BOT_NAME, BOT_NAME, BOT_NAME, None, is_bot=True)
        self.users: dict[str, User] = {u.id: u for u in [bot, *people]}
        everyone = set(self.users)
        self.channels: dict[str, Channel] = {
            cid: Channel(cid, name, self._epoch - 86_400 * (30 - i), members=set(everyone))
            for i, (name, cid) in enumerate(seed.slack_channel_ids.items())
        }
        self.messages: list[Message] = []
        self.ephemeral: list[dict[str, Any]] = []

    def next_ts(self) -> str:
        """A new ``ts``: strictly increasing, shaped like ``1793610001.000100``."""
        self._clock += 1
        return f"{self._epoch + self._clock}.{(self._clock * 100) % 1_000_000:06d}"

    def channel(self, ref: Any, overlay: Overlay, *, by_name: bool = False) -> Channel:
        """The channel ``ref`` names (an id, or ``#name``/``name`` when the method allows
        names), as the bot sees it."""
        if not isinstance(ref, str) or not ref:
            raise SlackFailure("channel_not_found")
        found = self.channels.get(ref)
        if found is None and by_name:
            name = ref.removeprefix("#")
            found = next((c for c in self.channels.values() if overlay.name(c) == name), None)
        if found is None or found.id in overlay.private:
            raise SlackFailure("channel_not_found")
        return found

    def visible_channels(self, overlay: Overlay) -> list[Channel]:
        """The channels the bot can see (private ones it is not in are hidden)."""
        return [c for c in self.channels.values() if c.id not in overlay.private]

    def user(self, user_id: Any) -> User:
        """The member ``user_id``, deactivated or not (``users.info`` shows both)."""
        user = self.users.get(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise SlackFailure("user_not_found")
        return user

    def message(self, channel: Channel, ts: Any) -> Message:
        """The live (not deleted) message ``ts`` in ``channel``."""
        for message in self.messages:
            if message.channel == channel.id and message.ts == ts and not message.deleted:
                return message
        raise SlackFailure("message_not_found")

    def post(
        self,
        channel: Channel,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        reply_broadcast: bool = False,
    ) -> Message:
        """Store a new message; a ``thread_ts`` must name a live top-level message."""
        if thread_ts is not None:
            parent = self._thread_parent(channel, thread_ts)
            thread_ts = parent.ts
        message = Message(
            channel=channel.id,
            ts=self.next_ts(),
            user=user,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata=metadata,
            reply_broadcast=reply_broadcast and thread_ts is not None,
        )
        self.messages.append(message)
        return message

    def edit(self, message: Message, user: str, text: str | None, blocks: Any = None) -> None:
        """Change (``text``) or delete (``None``) a message, recording who did it."""
        message.edits.append(Edit(user=user, ts=self.next_ts(), text=text))
        if text is None:
            message.deleted = True
            return
        message.text = text
        message.blocks = blocks

    def _thread_parent(self, channel: Channel, thread_ts: str) -> Message:
        try:
            target = self.message(channel, thread_ts)
        except SlackFailure:
            raise SlackFailure("thread_not_found") from None
        if target.is_reply and target.thread_ts is not None:
            return self.message(channel, target.thread_ts)
        return target

    def thread(self, channel: Channel, ts: str) -> list[Message]:
        """Parent first, then the live replies oldest first."""
        parent = self._thread_parent(channel, ts)
        replies = [
            m
            for m in self.messages
            if m.channel == channel.id and m.thread_ts == parent.ts and m.is_reply and not m.deleted
        ]
        return [parent, *replies]

    def history(self, channel: Channel) -> list[Message]:
        """Top-level messages and broadcast replies, newest first, like the channel view."""
        shown = [
            m
            for m in self.messages
            if m.channel == channel.id and not m.deleted and (not m.is_reply or m.reply_broadcast)
        ]
        return sorted(shown, key=lambda m: Decimal(m.ts), reverse=True)


def channel_json(channel: Channel, overlay: Overlay) -> dict[str, Any]:
    """A channel object as ``conversations.list`` and ``conversations.info`` give it."""
    name = overlay.name(channel)
    archived = channel.is_archived or channel.id in overlay.archived
    return {
        "id": channel.id,
        "name": name,
        "name_normalized": name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private or channel.id in overlay.private,
        "is_archived": archived,
        "is_general": False,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_member": SLACK_BOT_USER_ID in channel.members and channel.id not in overlay.private,
        "created": channel.created,
        "creator": SLACK_BOT_USER_ID,
        "context_team_id": SLACK_TEAM_ID,
        "num_members": len(channel.members),
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": f"#{name} for steptrace", "creator": "", "last_set": 0},
    }


def user_json(user: User, overlay: Overlay) -> dict[str, Any]:
    """A user object as ``users.info``, ``users.list`` and ``users.lookupByEmail`` give it."""
    profile: dict[str, Any] = {
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.display_name,
        "display_name_normalized": user.display_name,
        "team": SLACK_TEAM_ID,
    }
    if user.email is not None:
        profile["email"] = user.email
    if user.is_bot:
        profile["bot_id"] = BOT_ID
    return {
        "id": user.id,
        "team_id": SLACK_TEAM_ID,
        "name": user.name,
        "deleted": user.deleted or user.id in overlay.deactivated,
        "real_name": user.real_name,
        "tz": "Europe/Berlin",
        "is_bot": user.is_bot,
        "is_app_user": False,
        "is_admin": False,
        "profile": profile,
    }


def message_json(
    message: Message, workspace: Workspace, *, include_metadata: bool = True
) -> dict[str, Any]:
    """A message object as the history, replies and chat methods give it."""
    body: dict[str, Any] = {
        "type": "message",
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "team": SLACK_TEAM_ID,
    }
    if message.is_bot:
        body.update(bot_id=BOT_ID, app_id=APP_ID)
    if message.blocks is not None:
        body["blocks"] = message.blocks
    if message.reply_broadcast:
        body["subtype"] = "thread_broadcast"
    if message.edits and message.edits[-1].text is not None:
        body["edited"] = {"user": message.edits[-1].user, "ts": message.edits[-1].ts}
    if include_metadata and message.metadata is not None:
        body["metadata"] = message.metadata
    body.update(_thread_fields(message, workspace))
    return body


def _thread_fields(message: Message, workspace: Workspace) -> dict[str, Any]:
    """Slack's thread fields: a reply names its parent; a parent counts its replies."""
    if message.is_reply:
        parent_user = next(
            (m.user for m in workspace.messages if m.ts == message.thread_ts), message.user
        )
        return {"thread_ts": message.thread_ts, "parent_user_id": parent_user}
    replies = [
        m for m in workspace.messages if m.thread_ts == message.ts and m.is_reply and not m.deleted
    ]
    if not replies:
        return {}
    return {
        "thread_ts": message.ts,
        "reply_count": len(replies),
        "reply_users_count": len({m.user for m in replies}),
        "reply_users": sorted({m.user for m in replies}),
        "latest_reply": replies[-1].ts,
    }
