"""Integrity across tools: the destination records say what the source says.

Each check compares a destination field as it landed (:func:`rubrics.reading.landed`)
with its source value passed through the pipeline's own mappings; priority and status
are also checked against each other across every tool with the vocabularies of
:mod:`rubrics.concepts`, because a wrong value map agrees with itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rubrics.concepts import (
    as_date,
    is_empty,
    label_set,
    priority_rank,
    same_value,
    status_category,
    text_of,
)
from rubrics.evidence import FieldLink
from rubrics.model import CheckContext, EvidenceItem, Finding, Rubric, input_path
from rubrics.reading import (
    Seen,
    concept_values,
    expected,
    landed,
    origin_value,
    single_origin,
    source_concept_values,
)

Failures = list[tuple[str, Sequence[EvidenceItem]]]
Compare = Callable[[FieldLink, Any, Seen, CheckContext], bool]


def record_links(ctx: CheckContext) -> list[FieldLink]:
    """Fields of steps that write records (not messages)."""
    messages = {m.step for m in ctx.params.messages}
    return [link for link in ctx.params.fields if link.step not in messages]


def _agree(
    ctx: CheckContext, concept: str, compare: Compare, *, exact_only: bool = True
) -> tuple[Failures, list[EvidenceItem]]:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for link in [f for f in record_links(ctx) if f.concept == concept]:
        got = landed(ctx, link)
        if exact_only:
            src = single_origin(ctx, link)
        else:
            src = origin_value(ctx, link.origins[0]) if len(link.origins) == 1 else None
        if got is None or src is None:
            continue
        looked += [src.item, got.item]
        if not compare(link, got.value, src, ctx):
            want = expected(link, src.value)
            failures.append(
                (
                    f"{got.item.path} is {got.value!r}, but {src.item.path} is {src.value!r}"
                    f" (expected {want!r} by the pipeline's mapping)",
                    [got.item, src.item],
                )
            )
    return failures, looked


def _plain_compare(link: FieldLink, got: Any, src: Seen, ctx: CheckContext) -> bool:
    return same_value(expected(link, src.value), got)


def _finding(failures: Failures, looked: Sequence[EvidenceItem], what: str) -> Finding:
    return Finding.from_checks(
        failures, looked, ok=f"{what} agree across tools", nothing=f"no {what} field is written"
    )


# --- ids ---------------------------------------------------------------------------------


def check_source_id(ctx: CheckContext) -> Finding:
    source = ctx.params.source_step
    step = ctx.evidence.step(source) if source else None
    if source is None or step is None or not isinstance(step.output, dict):
        return Finding.not_applicable("the run has no single source object")
    id_keys = {k for k in ("id", "identifier") if not is_empty(step.output.get(k))}
    if not id_keys:
        return Finding.not_applicable(f"the output of {source} carries no id")
    failures: Failures = []
    looked: list[EvidenceItem] = []
    steps_with_link: set[str] = set()
    for link in record_links(ctx):
        refs = [o for o in link.origins if o.step == source and o.path and o.path[0] in id_keys]
        got = landed(ctx, link)
        for ref in refs:
            src = origin_value(ctx, ref)
            if src is None or got is None:
                continue
            steps_with_link.add(link.step)
            looked += [src.item, got.item]
            if text_of(src.value) not in text_of(got.value):
                failures.append(
                    (
                        f"{got.item.path} is {got.value!r}, not the source id {src.value!r}",
                        [got.item, src.item],
                    )
                )
    for write in ctx.params.write_steps():
        ran = ctx.evidence.step(write.id)
        if write.id in {m.step for m in ctx.params.messages} or ran is None:
            continue
        if write.id not in steps_with_link:
            # The evidence is what the step sent: its arguments name no source id.
            sent = EvidenceItem(step=write.id, path=input_path(write.id), value=ran.input)
            failures.append((f"{write.id} writes a record that carries no id of {source}", [sent]))
    return Finding.from_checks(
        failures,
        looked,
        ok="every destination record carries the source id",
        nothing="no destination record was written",
    )


def check_backlink(ctx: CheckContext) -> Finding:
    writers = {s.id for s in ctx.params.write_steps()}
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for link in record_links(ctx):
        for ref in [o for o in link.origins if o.step in writers and o.step != link.step]:
            src = origin_value(ctx, ref)
            got = landed(ctx, link)
            if src is None or got is None:
                continue
            looked += [src.item, got.item]
            if is_empty(src.value) or text_of(src.value) not in text_of(got.value):
                failures.append(
                    (
                        f"{got.item.path} is {got.value!r}, not {src.item.path} = {src.value!r}",
                        [got.item, src.item],
                    )
                )
    return Finding.from_checks(
        failures,
        looked,
        ok="the links written back point at the objects this run wrote",
        nothing="the pipeline writes no link from one tool into another",
    )


# --- field agreement -------------------------------------------------------------------


def check_title(ctx: CheckContext) -> Finding:
    return _finding(*_agree(ctx, "title", _plain_compare), "titles")


def check_priority(ctx: CheckContext) -> Finding:
    failures, looked = _agree(ctx, "priority", _plain_compare)
    ranks = _ranked(ctx, "priority", priority_rank)
    failures += _disagreeing(ranks, "priority")
    looked += [s.item for s in ranks]
    return _finding(failures, looked, "priorities")


def check_status(ctx: CheckContext) -> Finding:
    failures, looked = _agree(ctx, "status", _plain_compare)
    categories = _ranked(ctx, "status", status_category)
    failures += _disagreeing(categories, "status")
    looked += [s.item for s in categories]
    return _finding(failures, looked, "statuses")


def _ranked(ctx: CheckContext, concept: str, rank: Callable[[Any], Any]) -> list[Seen]:
    """Every representation of ``concept`` in the run that the vocabulary knows."""
    found = [s for s in source_concept_values(ctx, concept) if rank(s.value) is not None]
    for link in [f for f in record_links(ctx) if f.concept == concept and f.origins]:
        got = landed(ctx, link)
        if got is not None and rank(got.value) is not None:
            found.append(got)
    written = {link.step for link in record_links(ctx) if link.concept == concept and link.origins}
    for step_id in written:
        step = ctx.evidence.step(step_id)
        if step is not None and isinstance(step.output, dict):
            found += [
                s
                for s in concept_values(step_id, step.output, concept)
                if rank(s.value) is not None
            ]
    unique = {s.item.path: s for s in found}
    return [
        Seen(s.value, s.item.model_copy(update={"value": rank(s.value)})) for s in unique.values()
    ]


def _disagreeing(ranked: list[Seen], what: str) -> Failures:
    values = {s.item.value for s in ranked}
    if len(values) <= 1:
        return []
    shown = ", ".join(f"{s.item.path} = {s.value!r}" for s in ranked)
    # The values that differ from the source's come first: they are what went wrong.
    first = ranked[0].item.value
    odd = sorted(ranked, key=lambda s: s.item.value == first)
    return [(f"the {what} means different things across tools: {shown}", [s.item for s in odd])]


def _assignee_compare(link: FieldLink, got: Any, src: Seen, ctx: CheckContext) -> bool:
    if same_value(expected(link, src.value), got):
        return True
    people = {text_of(s.value).lower() for s in source_concept_values(ctx, "assignee")}
    return text_of(got).lower() in people


def check_assignee(ctx: CheckContext) -> Finding:
    failures, looked = _agree(ctx, "assignee", _assignee_compare)
    people = [s for s in source_concept_values(ctx, "assignee") if not is_empty(s.value)]
    for link in [f for f in record_links(ctx) if f.concept == "assignee" and f.origins]:
        got = landed(ctx, link)
        if people and got is not None and is_empty(got.value):
            looked.append(got.item)
            failures.append(
                (
                    f"{got.item.path} is empty, but the source names {people[0].value!r}",
                    [got.item, people[0].item],
                )
            )
    return _finding(failures, looked, "assignees")


def _date_compare(link: FieldLink, got: Any, src: Seen, ctx: CheckContext) -> bool:
    formats = [m.date_format for m in link.mappings if m.date_format]
    return as_date(got, formats[-1] if formats else None) == as_date(src.value)


def check_due(ctx: CheckContext) -> Finding:
    return _finding(*_agree(ctx, "due", _date_compare), "due dates")


def _labels_compare(link: FieldLink, got: Any, src: Seen, ctx: CheckContext) -> bool:
    return label_set(got) == label_set(src.value)


def check_labels(ctx: CheckContext) -> Finding:
    return _finding(*_agree(ctx, "labels", _labels_compare, exact_only=False), "labels")


RUBRICS: tuple[Rubric, ...] = (
    Rubric(
        "integrity.source_id_recorded",
        "1",
        "Does every destination record carry the id of the source object it came from?",
        "blocker",
        "deterministic",
        ("source id", "record writes' id fields"),
        check_source_id,
    ),
    Rubric(
        "integrity.backlink_recorded",
        "1",
        "Where the pipeline writes one tool's link into another, does it point at the object "
        "this run wrote?",
        "major",
        "deterministic",
        ("fields copied from a write step's output",),
        check_backlink,
    ),
    Rubric(
        "integrity.title_agrees",
        "1",
        "Does every destination title equal the source title as the pipeline maps it?",
        "blocker",
        "deterministic",
        ("title fields",),
        check_title,
    ),
    Rubric(
        "integrity.priority_agrees",
        "1",
        "Does the priority mean the same in every tool, per the pipeline's value maps?",
        "blocker",
        "deterministic",
        ("priority fields", "source priority and its label"),
        check_priority,
    ),
    Rubric(
        "integrity.status_agrees",
        "1",
        "Does the status mean the same in every tool, per the pipeline's value maps?",
        "blocker",
        "deterministic",
        ("status fields", "source state name and type"),
        check_status,
    ),
    Rubric(
        "integrity.assignee_agrees",
        "1",
        "Does every destination name the source's assignee?",
        "blocker",
        "deterministic",
        ("assignee/owner fields", "source assignee"),
        check_assignee,
    ),
    Rubric(
        "integrity.due_date_agrees",
        "1",
        "Is every destination due date the source's due date?",
        "blocker",
        "deterministic",
        ("due date fields",),
        check_due,
    ),
    Rubric(
        "integrity.labels_agree",
        "1",
        "Does every destination carry exactly the source's labels?",
        "minor",
        "deterministic",
        ("label fields",),
        check_labels,
    ),
)
