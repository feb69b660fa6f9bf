"""An async Slack Web API client for the messages, channels and users steptrace touches.

Configured by base URL and bot token only and handed its ``httpx.AsyncClient``, so the
same code talks to ``https://slack.com/api/`` or the sandbox. Reads go as form posts and
writes as JSON (Slack accepts JSON bodies only on write methods). Every failure raises a
:mod:`connectors.errors` class (mapped in :mod:`connectors.slack.error_map`); nothing is
retried here.

Writes report :class:`ExternalWrite` images: a post has no before-image; an update or a
delete reads the message first. ``post_message(..., idempotency_key=k)`` stores ``k`` in
the message metadata and looks for it in the channel (or thread) before posting, so a
retry after a timed-out post that did land returns that message as ``unchanged``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from connectors.errors import ConflictError, NotFoundError
from connectors.retry import DEFAULT_POLICY, RetryPolicy
from connectors.slack.models import (
    IDEMPOTENCY_EVENT_TYPE,
    IDEMPOTENCY_PAYLOAD_KEY,
    AuthInfo,
    EphemeralResult,
    MessageMetadata,
    MessageWriteResult,
    SlackChannel,
    SlackMessage,
    SlackUser,
)
from connectors.slack.transport import SlackTransport, field_of, malformed
from connectors.writes import ExternalWrite, write_action

SLACK_API = "https://slack.com/api/"
IDEMPOTENCY_WINDOW = 100  # the most recent channel messages searched for a retried post
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")

M = TypeVar("M", bound=BaseModel)


class SlackClient:
    """Slack's Web API for one bot token. Methods name channels by id or by name."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = SLACK_API,
        token: str,
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self._api = SlackTransport(http, base_url=base_url, token=token, retry=retry)

    # -- identity and users -------------------------------------------------------------

    async def auth_test(self) -> AuthInfo:
        """Who the token is; fails with :class:`AuthError` for a bad or revoked token."""
        return _model(AuthInfo, await self._api.read("auth.test", "auth_test", {}), "auth_test")

    async def lookup_user_by_email(self, email: str) -> SlackUser:
        """The active user with ``email``; :class:`NotFoundError` (``users_not_found``)."""
        body = await self._api.read("users.lookupByEmail", "lookup_user_by_email", {"email": email})
        return _model(
            SlackUser, field_of(body, "user", "lookup_user_by_email"), "lookup_user_by_email"
        )

    async def user_info(self, user_id: str) -> SlackUser:
        """The member ``user_id``, deactivated ones included (``deleted``)."""
        body = await self._api.read("users.info", "user_info", {"user": user_id})
        return _model(SlackUser, field_of(body, "user", "user_info"), "user_info")

    async def list_users(self) -> list[SlackUser]:
        """Every user of the workspace, deactivated ones included (``deleted``)."""
        raw = await self._api.pages("users.list", "list_users", {}, "members")
        return [_model(SlackUser, u, "list_users") for u in raw]

    # -- channels -----------------------------------------------------------------------

    async def list_channels(
        self,
        *,
        types: Sequence[str] = ("public_channel", "private_channel"),
        exclude_archived: bool = False,
    ) -> list[SlackChannel]:
        """Every channel the bot can see, following ``next_cursor`` to the last page."""
        params = {"types": ",".join(types), "exclude_archived": exclude_archived}
        raw = await self._api.pages("conversations.list", "list_channels", params, "channels")
        return [_model(SlackChannel, c, "list_channels") for c in raw]

    async def find_channel(self, name: str) -> SlackChannel:
        """The channel called ``name`` (``#`` optional); :class:`NotFoundError` if none."""
        return await self._find_channel(name, "find_channel")

    async def channel_info(self, channel: str) -> SlackChannel:
        """One channel by id or name, archived or not."""
        channel_id = await self._channel_id(channel, "channel_info")
        body = await self._api.read("conversations.info", "channel_info", {"channel": channel_id})
        return _model(SlackChannel, field_of(body, "channel", "channel_info"), "channel_info")

    # -- reading messages ---------------------------------------------------------------

    async def history(
        self, channel: str, oldest: str | None = None, limit: int = 100
    ) -> list[SlackMessage]:
        """Up to ``limit`` channel messages newer than ``oldest``, newest first."""
        channel_id = await self._channel_id(channel, "history")
        params = {"channel": channel_id, "oldest": oldest, "include_all_metadata": True}
        raw = await self._api.pages("conversations.history", "history", params, "messages", limit)
        return [_model(SlackMessage, m, "history") for m in raw]

    async def replies(self, channel: str, ts: str) -> list[SlackMessage]:
        """The thread starting at ``ts``: the parent first, then every reply in order."""
        channel_id = await self._channel_id(channel, "replies")
        raw = await self._thread(channel_id, ts, "replies")
        return [_model(SlackMessage, m, "replies") for m in raw]

    async def get_message(self, channel: str, ts: str) -> SlackMessage:
        """One message (top-level or a reply); :class:`NotFoundError` if it is gone."""
        channel_id = await self._channel_id(channel, "get_message")
        raw = await self._message(channel_id, ts, "get_message")
        return _model(SlackMessage, raw, "get_message")

    async def get_permalink(self, channel: str, ts: str) -> str:
        """A link people can open to the message (used in alerts and diagnoses)."""
        channel_id = await self._channel_id(channel, "get_permalink")
        params = {"channel": channel_id, "message_ts": ts}
        body = await self._api.read("chat.getPermalink", "get_permalink", params)
        return str(field_of(body, "permalink", "get_permalink"))

    # -- writing messages ---------------------------------------------------------------

    async def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: MessageMetadata | None = None,
        reply_broadcast: bool = False,
        unfurl_links: bool | None = None,
        idempotency_key: str | None = None,
    ) -> MessageWriteResult:
        """Post as the bot. With ``idempotency_key``, a message already carrying that key
        in this channel (or thread) is returned as ``unchanged`` instead of posting again.
        """
        op = "post_message"
        if idempotency_key is not None:
            channel = await self._channel_id(channel, op)
            found = await self._find_posted(channel, idempotency_key, thread_ts, op)
            if found is not None:
                return _message_write(channel, found, found, found)
            metadata = _withfield_of(metadata, idempotency_key)
        body = {
            "channel": channel,
            "text": text,
            "blocks": blocks,
            "thread_ts": thread_ts,
            "reply_broadcast": reply_broadcast or None,
            "unfurl_links": unfurl_links,
            "metadata": metadata.model_dump() if metadata else None,
        }
        reconcile = None
        if idempotency_key is not None:
            key = idempotency_key

            async def reconcile() -> dict[str, Any] | None:
                # The post may have landed behind a lost answer: our key says it is ours.
                found = await self._find_posted(channel, key, thread_ts, op)
                return (
                    None
                    if found is None
                    else {"channel": channel, "ts": found["ts"], "message": found}
                )

        answer = await self._api.write("chat.postMessage", op, body, reconcile=reconcile)
        after = {"ts": field_of(answer, "ts", op), **field_of(answer, "message", op)}
        return _message_write(str(field_of(answer, "channel", op)), None, after, after)

    async def update_message(
        self,
        channel: str,
        ts: str,
        *,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> MessageWriteResult:
        """Replace the bot's message ``ts``; a no-op (``unchanged``) if it already reads so.

        Raises :class:`ConflictError` when the message vanished between our read and our
        update (someone deleted it meanwhile).
        """
        op = "update_message"
        channel_id = await self._channel_id(channel, op)
        before = await self._message(channel_id, ts, op)
        if before.get("text", "") == (text or "") and before.get("blocks") == blocks:
            return _message_write(channel_id, before, before, before)
        body = {"channel": channel_id, "ts": ts, "text": text or "", "blocks": blocks}
        try:
            answer = await self._api.write("chat.update", op, body)
        except NotFoundError as exc:
            if exc.code != "message_not_found":
                raise
            raise ConflictError(
                f"message {ts} in {channel_id} was deleted after we read it; not re-posting",
                tool="slack",
                operation=op,
                code=exc.code,
                field="ts",
                status=exc.status,
                details={"before": before},
            ) from exc
        kept = {k: v for k, v in before.items() if k not in ("text", "blocks", "edited")}
        after = {**kept, **field_of(answer, "message", op), "ts": ts}
        return _message_write(channel_id, before, after, after)

    async def delete_message(self, channel: str, ts: str) -> MessageWriteResult:
        """Delete the bot's message ``ts``; deleting a message already gone is ``unchanged``."""
        op = "delete_message"
        channel_id = await self._channel_id(channel, op)
        try:
            before = await self._message(channel_id, ts, op)
        except NotFoundError:
            write = ExternalWrite(
                tool="slack",
                kind="message",
                container=channel_id,
                object_id=ts,
                action="unchanged",
                before=None,
                after=None,
            )
            return MessageWriteResult(channel=channel_id, ts=ts, message=None, write=write)
        await self._api.write("chat.delete", op, {"channel": channel_id, "ts": ts})
        return _message_write(channel_id, before, None, None, ts=ts)

    async def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> EphemeralResult:
        """Show ``text`` to ``user`` only. Slack never stores it, so it cannot be read back
        or undone; the after-image is what we sent."""
        op = "post_ephemeral"
        channel = await self._channel_id(channel, op)
        body = {
            "channel": channel,
            "user": user,
            "text": text,
            "blocks": blocks,
            "thread_ts": thread_ts,
        }
        answer = await self._api.write("chat.postEphemeral", op, body)
        message_ts = str(field_of(answer, "message_ts", op))
        after: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": message_ts}
        if blocks is not None:
            after["blocks"] = blocks
        write = ExternalWrite(
            tool="slack",
            kind="ephemeral_message",
            container=channel,
            object_id=message_ts,
            action="created",
            before=None,
            after=after,
        )
        return EphemeralResult(channel=channel, user=user, message_ts=message_ts, write=write)

    # -- helpers ------------------------------------------------------------------------

    async def _channel_id(self, channel: str, op: str) -> str:
        """``channel`` as an id: ids pass through, names are looked up."""
        if _CHANNEL_ID.match(channel):
            return channel
        return (await self._find_channel(channel, op)).id

    async def _find_channel(self, name: str, op: str) -> SlackChannel:
        wanted = name.removeprefix("#")
        for raw in await self._api.pages("conversations.list", op, _ALL_CHANNELS, "channels"):
            if raw.get("name") == wanted:
                return _model(SlackChannel, raw, op)
        raise NotFoundError(
            f"no channel named #{wanted} that the bot can see (renamed, private, or missing?)",
            tool="slack",
            operation=op,
            code="channel_not_found",
            field="channel",
        )

    async def _find_posted(
        self, channel_id: str, key: str, thread_ts: str | None, op: str
    ) -> dict[str, Any] | None:
        """The message carrying ``key`` among the thread or the recent channel messages."""
        if thread_ts is not None:
            candidates = await self._thread(channel_id, thread_ts, op)
        else:
            params = {"channel": channel_id, "include_all_metadata": True}
            candidates = await self._api.pages(
                "conversations.history", op, params, "messages", IDEMPOTENCY_WINDOW
            )
        for raw in candidates:
            payload = (raw.get("metadata") or {}).get("event_payload") or {}
            if payload.get(IDEMPOTENCY_PAYLOAD_KEY) == key:
                return raw
        return None

    async def _thread(self, channel_id: str, ts: str, op: str) -> list[dict[str, Any]]:
        """A thread's messages, each once: some Slack pages repeat the parent."""
        params = {"channel": channel_id, "ts": ts, "include_all_metadata": True}
        seen: dict[str, dict[str, Any]] = {}
        for raw in await self._api.pages("conversations.replies", op, params, "messages"):
            seen.setdefault(str(raw.get("ts")), raw)
        return list(seen.values())

    async def _message(self, channel_id: str, ts: str, op: str) -> dict[str, Any]:
        """The raw message ``ts``: from the channel history, else from its thread."""
        params = {
            "channel": channel_id,
            "latest": ts,
            "oldest": ts,
            "inclusive": True,
            "limit": 1,
            "include_all_metadata": True,
        }
        body = await self._api.read("conversations.history", op, params)
        for raw in body.get("messages") or []:
            if raw.get("ts") == ts:
                return dict(raw)
        try:
            thread = await self._thread(channel_id, ts, op)
        except NotFoundError:
            thread = []
        for raw in thread:
            if raw.get("ts") == ts:
                return raw
        raise NotFoundError(
            f"no message {ts} in channel {channel_id}",
            tool="slack",
            operation=op,
            code="message_not_found",
            field="ts",
        )


_ALL_CHANNELS: dict[str, Any] = {"types": "public_channel,private_channel"}


def _withfield_of(metadata: MessageMetadata | None, key: str) -> MessageMetadata:
    """``metadata`` carrying the idempotency key (in a ``steptrace_post`` event if none)."""
    if metadata is None:
        return MessageMetadata(
            event_type=IDEMPOTENCY_EVENT_TYPE, event_payload={IDEMPOTENCY_PAYLOAD_KEY: key}
        )
    payload = {**metadata.event_payload, IDEMPOTENCY_PAYLOAD_KEY: key}
    return MessageMetadata(event_type=metadata.event_type, event_payload=payload)


def _message_write(
    channel_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    shown: dict[str, Any] | None,
    *,
    ts: str | None = None,
) -> MessageWriteResult:
    """The result of a message write, with its images and the message now shown."""
    object_id = ts or str((after or before or {}).get("ts"))
    write = ExternalWrite(
        tool="slack",
        kind="message",
        container=channel_id,
        object_id=object_id,
        action=write_action(before, after),
        before=before,
        after=after,
    )
    message = None if shown is None else _model(SlackMessage, shown, "message")
    return MessageWriteResult(channel=channel_id, ts=object_id, message=message, write=write)


def _model(model: type[M], raw: Any, op: str) -> M:
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        raise malformed(op, f"not a Slack {model.__name__}: {exc.errors()[:2]}") from exc
