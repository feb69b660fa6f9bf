"""Safety: no secrets leave the run, no personal data goes to a public channel, messages go
to the channel the routing rule picks and mention the person who owns the work."""

from __future__ import annotations

import re
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from rubrics.concepts import is_empty, is_urgent_channel, priority_rank, text_of
from rubrics.integrity import Failures
from rubrics.model import (
    CheckContext,
    EvidenceItem,
    Finding,
    Rubric,
    input_path,
    output_path,
    write_path,
)
from rubrics.reading import argument, message_text, source_concept_values, strings
from tracer.redaction import redact_text

REDACTED_MARK = "[redacted:"
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w/.-])\+?\(?\d[\d ().-]{7,}\d(?![\w/])")
MIN_PHONE_DIGITS = 9


def _secret_reason(text: str) -> str | None:
    if REDACTED_MARK in text:
        return text[text.index(REDACTED_MARK) :].split("]", 1)[0] + "]"
    _, reasons = redact_text(text)
    return reasons[0] if reasons else None


def check_secrets(ctx: CheckContext) -> Finding:
    """Secrets in what is sent to or stored by a tool (stored payloads carry the marker)."""
    failures: Failures = []
    looked: list[EvidenceItem] = []
    writers = {s.id for s in ctx.params.write_steps()}
    for step in ctx.evidence.steps:
        if step.id not in writers:
            continue
        places: list[tuple[str, Any]] = [
            (input_path(step.id), step.input),
            (output_path(step.id), step.output),
        ]
        places += [(write_path(step.id, i, "after"), w.after) for i, w in enumerate(step.writes)]
        for prefix, payload in places:
            failures += _scan(step.id, prefix, payload, looked)
    for step_id, args in ctx.evidence.planned.items():
        if step_id in writers:
            failures += _scan(step_id, input_path(step_id), args, looked)
    return Finding.from_checks(
        failures, looked, ok="no secret is sent to a tool", nothing="nothing is written to a tool"
    )


def _scan(step_id: str, prefix: str, payload: Any, looked: list[EvidenceItem]) -> Failures:
    failures: Failures = []
    if payload is None:
        return failures
    looked.append(EvidenceItem(step=step_id, path=prefix, value=None))
    for path, text in strings(payload):
        reason = _secret_reason(text)
        if reason:
            where = ".".join([prefix, *map(str, path)])
            item = EvidenceItem(step=step_id, path=where, value=f"<{reason}>")
            failures.append((f"{where} holds a secret ({reason})", [item]))
    return failures


def _personal_data(text: str) -> list[str]:
    found = [m.group(0) for m in EMAIL.finditer(text)]
    for match in PHONE.finditer(text):
        digits = sum(ch.isdigit() for ch in match.group(0))
        if MIN_PHONE_DIGITS <= digits <= 15:
            found.append(match.group(0))
    return found


def check_personal_data(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for message in ctx.params.messages:
        text = message_text(ctx, message.step, message.text_arg)
        if text is None:
            continue
        looked.append(text.item)
        found = _personal_data(text.value)
        if found:
            failures.append(
                (
                    f"{text.item.path} shows personal data in a channel: {', '.join(found)}",
                    [text.item],
                )
            )
    return Finding.from_checks(
        failures,
        looked,
        ok="no email address or phone number in a channel message",
        nothing="the run posts no message",
    )


def check_channel(ctx: CheckContext) -> Finding:
    rule = ctx.params.routing
    if rule is None:
        return Finding.not_applicable("the pipeline has no routing rule")
    channel = argument(ctx, rule.step, *rule.arg)
    if channel is None:
        return Finding.not_applicable(f"{rule.step} has no channel argument yet")
    failures: Failures = []
    looked = [channel.item]
    picked = _evaluate(rule.expression, _context(ctx))
    if picked is not None and text_of(picked) != text_of(channel.value):
        failures.append(
            (
                f"{channel.item.path} is {channel.value!r}, but the routing rule "
                f"`{rule.expression}` picks {picked!r}",
                [channel.item],
            )
        )
    urgent = [c for c in rule.channels if is_urgent_channel(c)]
    reads_priority = any(_mentions(o.path, "priority") for o in rule.origins)
    ranks = [
        s for s in source_concept_values(ctx, "priority") if priority_rank(s.value) is not None
    ]
    if rule.conditional and urgent and reads_priority and ranks:
        looked.append(ranks[0].item)
        if priority_rank(ranks[0].value) == 1 and not is_urgent_channel(text_of(channel.value)):
            failures.append(
                (
                    f"{ranks[0].item.path} is {ranks[0].value!r}, but the message goes to "
                    f"{channel.value!r}, not {urgent[0]!r}",
                    [channel.item, ranks[0].item],
                )
            )
    return Finding.from_checks(
        failures,
        looked,
        ok="the message goes where the routing rule sends it",
        nothing="no channel to check",
    )


def _mentions(path: tuple[Any, ...], word: str) -> bool:
    return any(word in str(segment).lower() for segment in path)


def _context(ctx: CheckContext) -> dict[str, Any]:
    context: dict[str, Any] = {"trigger": ctx.evidence.trigger}
    for step in ctx.evidence.steps:
        context[step.id] = step.output
    return context


def _evaluate(expression: str, context: dict[str, Any]) -> Any:
    try:
        return jmespath.search(expression, context)
    except JMESPathError:
        return None


def check_mention(ctx: CheckContext) -> Finding:
    people = [s for s in source_concept_values(ctx, "assignee") if not is_empty(s.value)]
    if not people or not ctx.params.messages:
        return Finding.not_applicable("the source names no assignee, or the run posts no message")
    uses = any(m.mention_arg for m in ctx.params.messages) or ctx.params.fields_of("assignee")
    if not uses:
        # A pipeline that never carries the assignee anywhere did not set out to mention
        # anyone: judging its messages by a mention would be a false alarm.
        return Finding.not_applicable("the pipeline does not carry the assignee anywhere")
    names = {text_of(p.value).lower() for p in people}
    failures: Failures = []
    looked: list[EvidenceItem] = [people[0].item]
    for message in ctx.params.messages:
        mention = argument(ctx, message.step, message.mention_arg) if message.mention_arg else None
        text = message_text(ctx, message.step, message.text_arg)
        if mention is None and text is None:
            continue
        items = [i.item for i in (mention, text) if i is not None]
        looked += items
        mentioned = mention is not None and text_of(mention.value).lower() in names
        in_text = text is not None and any(n in text.value.lower() for n in names)
        if not (mentioned or in_text):
            failures.append(
                (f"{message.step} does not mention {people[0].value!r}", [*items, people[0].item])
            )
    return Finding.from_checks(
        failures, looked, ok="the assignee is mentioned", nothing="no message to check"
    )


RUBRICS: tuple[Rubric, ...] = (
    Rubric(
        "safety.no_secrets",
        "1",
        "Is every value sent to a tool free of tokens, keys and passwords?",
        "blocker",
        "deterministic",
        ("write steps' inputs, outputs and after-images", "planned arguments"),
        check_secrets,
    ),
    Rubric(
        "safety.no_personal_data_in_channels",
        "1",
        "Is every channel message free of email addresses and phone numbers?",
        "blocker",
        "deterministic",
        ("message text",),
        check_personal_data,
    ),
    Rubric(
        "safety.right_channel",
        "1",
        "Does the message go to the channel the routing rule picks for this item?",
        "blocker",
        "deterministic",
        ("message channel", "routing rule", "source priority"),
        check_channel,
    ),
    Rubric(
        "safety.assignee_mentioned",
        "1",
        "Does the message mention the person assigned to the work?",
        "minor",
        "deterministic",
        ("message mention and text", "source assignee"),
        check_mention,
    ),
)
