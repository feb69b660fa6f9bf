"""What :class:`connectors.slack.client.SlackClient` takes and returns.

Slack's JSON stays inside the connector: callers see these models. Fields Slack adds
and we do not use are ignored, so a richer real answer never breaks parsing. The raw
JSON of a written message survives only as the before/after images of its
:class:`ExternalWrite`, which is what rollback and the tracer need.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.writes import ExternalWrite

IDEMPOTENCY_EVENT_TYPE = "steptrace_post"
IDEMPOTENCY_PAYLOAD_KEY = "idempotency_key"


class _SlackModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MessageMetadata(_SlackModel):
    """Slack message metadata: an event type and a JSON payload."""

    event_type: str
    event_payload: dict[str, Any] = Field(default_factory=dict)


class MessageEdit(_SlackModel):
    user: str
    ts: str


class SlackMessage(_SlackModel):
    """One message as Slack shows it in a channel or thread."""

    ts: str
    text: str = ""
    type: str = "message"
    subtype: str | None = None
    user: str | None = None
    bot_id: str | None = None
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    reply_count: int | None = None
    metadata: MessageMetadata | None = None
    edited: MessageEdit | None = None

    @property
    def idempotency_key(self) -> str | None:
        """The key :meth:`SlackClient.post_message` stored in the metadata, if any."""
        if self.metadata is None:
            return None
        key = self.metadata.event_payload.get(IDEMPOTENCY_PAYLOAD_KEY)
        return key if isinstance(key, str) else None


class SlackChannel(_SlackModel):
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = False
    num_members: int | None = None


class SlackProfile(_SlackModel):
    real_name: str | None = None
    display_name: str | None = None
    email: str | None = None


class SlackUser(_SlackModel):
    id: str
    name: str
    real_name: str | None = None
    deleted: bool = False
    is_bot: bool = False
    team_id: str | None = None
    profile: SlackProfile = Field(default_factory=SlackProfile)

    @property
    def email(self) -> str | None:
        return self.profile.email


class AuthInfo(_SlackModel):
    """Who the token is (``auth.test``)."""

    url: str
    team: str
    team_id: str
    user: str
    user_id: str
    bot_id: str | None = None


class MessageWriteResult(_SlackModel):
    """A post, update or delete: where, which message, and the images of the write.

    ``message`` is ``None`` after a delete. ``write.action`` is ``unchanged`` when an
    idempotent repeat found the message already as asked.
    """

    channel: str
    ts: str
    message: SlackMessage | None
    write: ExternalWrite


class EphemeralResult(_SlackModel):
    """An ephemeral message: seen only by ``user``, never stored in the channel."""

    channel: str
    user: str
    message_ts: str
    write: ExternalWrite
