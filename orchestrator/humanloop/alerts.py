"""What a failed run looks like in Slack: the alert, the "why" answer, the thread transcript.

The alert is Block Kit: the explanation, where the failure started against where it
surfaced, the implicated values (last good run against now), the proposed fix and whether
replaying with it was verified, and four buttons whose values carry the run and the
escalation workflow, so a click is routed without any lookup. The alert also carries
``steptrace_alert`` message metadata naming its run: a "why?" in its thread is answered
by reading the thread's parent message. Pure functions only; posting is the escalation
workflow's activity (:mod:`orchestrator.humanloop.escalation`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from tracer.diagnosis_model import Diagnosis, ImplicatedValue, ProposedFix

ALERT_EVENT_TYPE = "steptrace_alert"
ActionName = Literal["approve", "rollback", "escalate", "acknowledge"]
ACTION_IDS: dict[str, ActionName] = {
    "steptrace_approve": "approve",
    "steptrace_rollback": "rollback",
    "steptrace_escalate": "escalate",
    "steptrace_acknowledge": "acknowledge",
}
REPLAYABLE_FIXES = ("retry", "spec_patch", "data_patch")

# Slack's limits: section text 3000 characters, header 150, button value 2000.
_SECTION_LIMIT = 2900
_HEADER_LIMIT = 150
_IMPLICATED_SHOWN = 5


class AlertContext(BaseModel):
    """Where an alert stands: its run, its escalation workflow and its tier."""

    run_id: str
    workflow_id: str
    tier: int
    tier_name: str
    mentions: list[str] = []
    rollback_to: str | None = None
    note: str | None = None
    failure_group: str | None = None
    console_url: str | None = None


class ButtonValue(BaseModel):
    """What every alert button carries (JSON in the button's ``value``)."""

    run_id: str
    workflow_id: str
    to_step: str | None = None


class TranscriptMessage(BaseModel):
    """One message of a recorded Slack conversation."""

    channel: str
    user: str
    user_id: str
    text: str
    thread: str | None
    ts: str


def alert_text(diagnosis: Diagnosis) -> str:
    """The alert's plain-text fallback (notifications, the transcript)."""
    where = diagnosis.failed_step or "a quality check"
    onset = f", started at `{diagnosis.onset_step}`" if diagnosis.onset_step else ""
    return (
        f"Run {diagnosis.run_id} {diagnosis.status} at `{where}`{onset} "
        f"({diagnosis.fault_class}): {diagnosis.explanation}"
    )


def alert_metadata(context: AlertContext) -> dict[str, Any]:
    """The alert's message metadata: which run and escalation it belongs to."""
    return {
        "event_type": ALERT_EVENT_TYPE,
        "event_payload": {
            "run_id": context.run_id,
            "workflow_id": context.workflow_id,
            "tier": context.tier,
        },
    }


def alert_blocks(diagnosis: Diagnosis, context: AlertContext) -> list[dict[str, Any]]:
    """The alert as Block Kit blocks."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(_headline(diagnosis), _HEADER_LIMIT)},
        },
        _section(diagnosis.explanation),
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*Started at*\n`{diagnosis.onset_step or 'unknown'}`"),
                _mrkdwn(f"*Failed at*\n`{diagnosis.failed_step or 'quality checks'}`"),
                _mrkdwn(f"*Fault class*\n{diagnosis.fault_class}"),
                _mrkdwn(f"*Tier*\n{context.tier} ({context.tier_name})"),
            ],
        },
    ]
    if diagnosis.evidence.implicated:
        blocks.append(_section(implicated_text(diagnosis.evidence.implicated)))
    blocks.append(_section(fix_text(diagnosis.proposed_fix)))
    blocks.append(_context_block(diagnosis, context))
    blocks.append(
        {
            "type": "actions",
            "block_id": "steptrace_actions",
            "elements": _buttons(diagnosis, context),
        }
    )
    return blocks


def implicated_text(implicated: Sequence[ImplicatedValue]) -> str:
    """The implicated values, last good run against now, a few at most."""
    lines = ["*What changed* (last good run → this run)"]
    for value in implicated[:_IMPLICATED_SHOWN]:
        lines.append(
            f"• `{value.step}.{value.path}` ({value.change}): "
            f"`{_short(value.last_good)}` → `{_short(value.now)}`"
        )
    if len(implicated) > _IMPLICATED_SHOWN:
        lines.append(f"…and {len(implicated) - _IMPLICATED_SHOWN} more")
    return "\n".join(lines)


def fix_text(fix: ProposedFix) -> str:
    """The proposed fix, whether replaying with it was verified, and its patch."""
    verified = {
        True: "verified: a replay with it produced values the destination accepts",
        False: "NOT verified: a replay with it still failed",
        None: "cannot be checked offline",
    }[fix.verified]
    text = f"*Proposed fix* ({fix.kind}, {verified})"
    if fix.detail:
        text += f"\n{fix.detail}"
    if fix.patch:
        room = _SECTION_LIMIT - len(text) - 10
        text += f"\n```{_cut(fix.patch, room)}```"
    return text


def diagnosis_text(diagnosis: Diagnosis) -> str:
    """The answer to "why did this fail?" as Slack mrkdwn."""
    parts = [
        f"*{_headline(diagnosis)}*",
        diagnosis.explanation,
        f"Started at `{diagnosis.onset_step or 'unknown'}`, failed at "
        f"`{diagnosis.failed_step or 'quality checks'}` ({diagnosis.fault_class}).",
    ]
    if diagnosis.evidence.implicated:
        parts.append(implicated_text(diagnosis.evidence.implicated))
    parts.append(fix_text(diagnosis.proposed_fix))
    if diagnosis.links.temporal:
        parts.append(f"<{diagnosis.links.temporal}|Temporal history>")
    return "\n".join(parts)


def button_value(context: AlertContext) -> str:
    value = ButtonValue(
        run_id=context.run_id, workflow_id=context.workflow_id, to_step=context.rollback_to
    )
    return value.model_dump_json(exclude_none=True)


def parse_button_value(value: str) -> ButtonValue:
    """A button's value; ``ValueError`` naming it when it is not one of our alerts'."""
    try:
        return ButtonValue.model_validate(json.loads(value))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a steptrace alert button value: {value[:200]!r}") from exc


def slack_transcript(
    sandbox_state: dict[str, Any], channel: str, thread_ts: str
) -> list[TranscriptMessage]:
    """The conversation of one alert thread as the Slack sandbox recorded it.

    ``sandbox_state`` is the Slack emulator's snapshot (``Sandbox.state("slack")``);
    ``channel`` an id or a name (``#`` optional); ``thread_ts`` the alert's ``ts``. The
    alert comes first, then the replies oldest first; deleted messages are left out.
    """
    channel_id = _channel_id(sandbox_state, channel)
    return [
        TranscriptMessage(
            channel="#" + str(message["channel_name"]),
            user=str(message.get("user_name") or message.get("user")),
            user_id=str(message.get("user")),
            text=str(message.get("text", "")),
            thread=None if message["ts"] == thread_ts else thread_ts,
            ts=str(message["ts"]),
        )
        for message in sandbox_state["messages"]
        if message["channel"] == channel_id
        and not message.get("deleted")
        and thread_ts in (message["ts"], message.get("thread_ts"))
    ]


def _channel_id(sandbox_state: dict[str, Any], channel: str) -> str:
    wanted = channel.removeprefix("#")
    for known in sandbox_state["channels"]:
        if wanted in (known["id"], known["name"]):
            return str(known["id"])
    names = ", ".join(sorted("#" + str(c["name"]) for c in sandbox_state["channels"]))
    raise ValueError(f"no Slack channel {channel!r} in the sandbox (channels: {names})")


def _headline(diagnosis: Diagnosis) -> str:
    return f"Run failed ({diagnosis.status}): {diagnosis.run_id}"


def _buttons(diagnosis: Diagnosis, context: AlertContext) -> list[dict[str, Any]]:
    value = button_value(context)
    buttons = []
    if diagnosis.proposed_fix.kind in REPLAYABLE_FIXES:
        buttons.append(_button("Approve fix & replay", "steptrace_approve", value, "primary"))
    if context.rollback_to is not None:
        buttons.append(_button("Roll back", "steptrace_rollback", value, "danger"))
    buttons.append(_button("Escalate", "steptrace_escalate", value))
    buttons.append(_button("Acknowledge", "steptrace_acknowledge", value))
    return buttons


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button


def _context_block(diagnosis: Diagnosis, context: AlertContext) -> dict[str, Any]:
    parts = [f"run `{context.run_id}`"]
    if diagnosis.links.temporal:
        parts.append(f"<{diagnosis.links.temporal}|Temporal history>")
    if context.failure_group:
        parts.append(_group_link(context.failure_group, context.console_url))
    if context.mentions:
        parts.append("notifying " + " ".join(f"<@{user}>" for user in context.mentions))
    if context.note:
        parts.append(context.note)
    return {"type": "context", "elements": [_mrkdwn(" · ".join(parts))]}


def _group_link(group: str, console_url: str | None) -> str:
    """The failure group, linked to its page in the console when the console is known."""
    if console_url is None:
        return f"failure group `{group}`"
    return f"<{console_url.rstrip('/')}/runs?group={group}|failure group {group}>"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(_cut(text, _SECTION_LIMIT))}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
