"""Judgment: the few questions only a language model can answer, asked of the judge.

Each rubric gathers its inputs (the source item, the message about to be posted, recent
items) with their exact paths, asks :class:`rubrics.judge.Judge` one question, and
reports the judge's quote and reason. No judge: ``not_judged``. Nothing to judge:
``not_applicable``. Never a pass by default.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from rubrics.concepts import is_empty, text_of
from rubrics.model import CheckContext, EvidenceItem, Finding, Outcome, Rubric, Severity
from rubrics.reading import Seen, message_text, source_concept_values

Inputs = dict[str, Seen]
Gather = Callable[[CheckContext], Inputs | None]


def _source(ctx: CheckContext, concept: str) -> Seen | None:
    values = [s for s in source_concept_values(ctx, concept) if not is_empty(s.value)]
    return values[0] if values else None


def _source_item(ctx: CheckContext) -> Inputs:
    found: Inputs = {}
    for concept in ("title", "description", "priority", "status", "assignee", "due"):
        value = _source(ctx, concept)
        if value is not None:
            found[f"source_{concept}"] = value
    return found


def _message(ctx: CheckContext) -> Seen | None:
    for message in ctx.params.messages:
        text = message_text(ctx, message.step, message.text_arg)
        if text is not None:
            return text
    return None


def _with_message(ctx: CheckContext) -> Inputs | None:
    message = _message(ctx)
    source = _source_item(ctx)
    if message is None or not source:
        return None
    return {"message": message, **source}


def _priority_and_description(ctx: CheckContext) -> Inputs | None:
    priority = _source(ctx, "priority")
    description = _source(ctx, "description")
    if priority is None or description is None:
        return None
    found = {"priority": priority, "description": description}
    labels = [s for s in source_concept_values(ctx, "priority") if isinstance(s.value, str)]
    if labels:
        found["priority"] = labels[0]
    title = _source(ctx, "title")
    if title is not None:
        found["title"] = title
    return found


def _recent(ctx: CheckContext) -> Inputs | None:
    title = _source(ctx, "title")
    if title is None or not ctx.evidence.recent:
        return None
    from rubrics.reading import seen

    recent = json.dumps(ctx.evidence.recent, ensure_ascii=False, indent=1)
    found: Inputs = {"item_title": title, "recent_items": seen("trigger", "trigger", recent)}
    description = _source(ctx, "description")
    if description is not None:
        found["item_description"] = description
    return found


def llm_check(
    question: str, gather: Gather, rubric_id: str, version: str
) -> Callable[[CheckContext], Finding]:
    """A check that asks the judge ``question`` about what ``gather`` finds."""

    def check(ctx: CheckContext) -> Finding:
        inputs = gather(ctx)
        if inputs is None:
            return Finding.not_applicable("nothing to judge in this run")
        items = [s.item for s in inputs.values()]
        if ctx.judge is None:
            return Finding(
                Outcome.NOT_JUDGED, "no judge configured (set STEPTRACE_JUDGE)", tuple(items)
            )
        texts = {name: text_of(s.value) for name, s in inputs.items()}
        answer = ctx.judge.ask(rubric_id, version, question, texts)
        quoted = [
            EvidenceItem(step=i.step, path=i.path, value=answer.quote)
            for i in items
            if answer.quote and answer.quote in text_of(i.value)
        ]
        message = f"{answer.reason} (quote: {answer.quote!r})" if answer.quote else answer.reason
        return Finding(answer.outcome, message, tuple(quoted or items))

    return check


def _rubric(
    rubric_id: str, question: str, severity: Severity, reads: tuple[str, ...], gather: Gather
) -> Rubric:
    version = "1"
    return Rubric(
        rubric_id,
        version,
        question,
        severity,
        "llm",
        reads,
        llm_check(question, gather, rubric_id, version),
    )


RUBRICS: tuple[Rubric, ...] = (
    _rubric(
        "judgment.summary_faithful",
        "Does the message say only what the source item says, with nothing wrong or invented?",
        "major",
        ("message text", "source item"),
        _with_message,
    ),
    _rubric(
        "judgment.summary_next_action_owner",
        "Does the message make clear what happens next and who owns it?",
        "minor",
        ("message text", "source item"),
        _with_message,
    ),
    _rubric(
        "judgment.summary_professional",
        "Is the message professional in tone, fit for a shared work channel?",
        "minor",
        ("message text", "source item"),
        _with_message,
    ),
    _rubric(
        "judgment.priority_justified",
        "Is the priority justified by the description of the item?",
        "minor",
        ("source priority", "source description"),
        _priority_and_description,
    ),
    _rubric(
        "judgment.not_duplicate",
        "Is this item different from each of the recent items (not a duplicate of one)?",
        "major",
        ("source title and description", "recent items"),
        _recent,
    ),
)
