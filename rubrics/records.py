"""Integrity of what was written: one record per source object, text intact, values the
destination accepts, nothing a person changed overwritten, nothing required left empty."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rubrics.concepts import as_date, is_empty, text_of
from rubrics.evidence import WriteEvidence, get_path
from rubrics.integrity import Failures, record_links
from rubrics.model import CheckContext, EvidenceItem, Finding, Rubric, write_path
from rubrics.reading import Seen, expected, landed, single_origin

VOLATILE_KEYS = frozenset(
    {"updated_at", "updatedAt", "createdTime", "modified", "last_modified", "ts", "edited"}
)
MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u009f]|Ã[\u00a0-\u00bf]|â€|ðŸ|Â[\u00a0-\u00bf]")
"""UTF-8 read as Latin-1 (a lead byte then a C1 control) or as cp1252 (``Ã©``, ``â€``)."""


def check_one_record(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    messages = {m.step for m in ctx.params.messages}
    for step in ctx.evidence.steps:
        if step.id in messages:
            continue
        objects: dict[str | None, set[str]] = {}
        for index, write in enumerate(step.writes):
            item = EvidenceItem(
                step=step.id, path=write_path(step.id, index, "after"), value=write.object_id
            )
            looked.append(item)
            if write.action != "deleted":
                objects.setdefault(write.container, set()).add(write.object_id)
            earlier = set(write.earlier_object_ids) - {write.object_id}
            if write.action == "created" and earlier:
                failures.append(
                    (
                        f"{step.id} created {write.object_id} in {write.container}, but this "
                        f"source object already has {sorted(earlier)} there",
                        [item],
                    )
                )
        for container, ids in objects.items():
            if len(ids) > 1:
                failures.append(
                    (
                        f"{step.id} wrote {len(ids)} objects for one source object in "
                        f"{container}: {sorted(ids)}",
                        looked[-1:],
                    )
                )
            failures += _listing_duplicates(ctx, step.id, container, ids)
    return Finding.from_checks(
        failures, looked, ok="one record per source object", nothing="no record was written"
    )


def _listing_duplicates(
    ctx: CheckContext, step_id: str, container: str | None, ids: set[str]
) -> Failures:
    """A listing of the container, when the evidence has one: the key must occur once."""
    listing = ctx.evidence.listings.get(container or "")
    if not listing or not ids:
        return []
    written = [o for o in listing if o.get("id") in ids]
    keys = {
        text_of(landed_value.value)
        for link in record_links(ctx)
        if link.step == step_id and link.concept == "id"
        for landed_value in [landed(ctx, link)]
        if landed_value is not None
    }
    same = [o for o in listing if keys & {text_of(v) for _, v in _leaves(o)}]
    if len(same) > 1 and written:
        return [(f"{container} lists {len(same)} objects for the key {sorted(keys)}", [])]
    return []


def _leaves(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [("", value)]


def _text_pairs(ctx: CheckContext) -> list[tuple[Seen, Seen, str]]:
    """(source, landed, expected text) for every exact text field."""
    pairs = []
    for link in record_links(ctx):
        src = single_origin(ctx, link)
        got = landed(ctx, link)
        if (
            src is None
            or got is None
            or not isinstance(src.value, str)
            or not isinstance(got.value, str)
        ):
            continue
        pairs.append((src, got, text_of(expected(link, src.value))))
    return pairs


def check_truncation(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for src, got, _ in _text_pairs(ctx):
        looked += [src.item, got.item]
        cut = got.value.rstrip("….").rstrip()
        if (
            cut
            and len(got.value) < len(src.value)
            and src.value.startswith(cut)
            and cut != src.value
        ):
            failures.append(
                (
                    f"{got.item.path} holds {len(got.value)} of the {len(src.value)} "
                    f"characters of {src.item.path}",
                    [got.item, src.item],
                )
            )
    return Finding.from_checks(
        failures,
        looked,
        ok="no text was cut short",
        nothing="no text field is copied from the source",
    )


def check_unicode(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for src, got, want in _text_pairs(ctx):
        if want.isascii() and got.value.isascii():
            continue
        looked += [src.item, got.item]
        if _looks_damaged(want):
            failures.append(
                (f"{src.item.path} is already damaged at the source: {want[:80]!r}", [src.item])
            )
        elif _damaged(want, got.value):
            failures.append(
                (
                    f"{got.item.path} lost characters of {src.item.path}: {got.value[:80]!r}",
                    [got.item, src.item],
                )
            )
    return Finding.from_checks(
        failures,
        looked,
        ok="non-ASCII text arrived intact",
        nothing="no copied text has non-ASCII characters",
    )


def _looks_damaged(text: str) -> bool:
    """Replacement characters or UTF-8 read as Latin-1 (``Ã©``): no tool writes these."""
    return "\ufffd" in text or bool(MOJIBAKE.search(text))


def _damaged(want: str, got: str) -> bool:
    if "\ufffd" in got and "\ufffd" not in want:
        return True
    if MOJIBAKE.search(got) and not MOJIBAKE.search(want):
        return True
    if got == want or unicodedata.normalize("NFC", got) == unicodedata.normalize("NFC", want):
        return False
    prefix = want[: len(got)]
    if got == prefix:  # cut short: that is truncation's business
        return False
    return _fold(got) == _fold(want) or _fold(got) == _fold(prefix)


def _fold(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch != "?")


def check_schema(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for link in record_links(ctx):
        step = ctx.evidence.step(link.step)
        if step is None or not step.writes:
            continue
        schema = ctx.evidence.schemas.get(step.writes[0].container or "")
        field = (schema or {}).get(link.name)
        got = landed(ctx, link)
        if not isinstance(field, dict) or got is None:
            continue
        looked.append(got.item)
        problem = _schema_problem(field, got.value)
        if problem:
            failures.append((f"{got.item.path} = {got.value!r}: {problem}", [got.item]))
    return Finding.from_checks(
        failures,
        looked,
        ok="every written value fits its field",
        nothing="no destination schema was recorded for the fields written",
    )


def _schema_problem(field: dict[str, Any], value: Any) -> str | None:
    kind = str(field.get("type", ""))
    options = field.get("options")
    if is_empty(value):
        return "a required field is empty" if field.get("required") else None
    if isinstance(options, list) and options:
        values = value if isinstance(value, list) else [value]
        unknown = [v for v in values if v not in options]
        if unknown:
            return f"not an option of the field (options: {', '.join(map(str, options))})"
    if kind in ("number", "currency", "percent", "rating") and not isinstance(value, int | float):
        return f"not a number (field type {kind})"
    if kind == "date" and as_date(value) is None:
        return "not a date"
    if kind in ("multipleSelects", "multipleRecordLinks") and not isinstance(value, list):
        return f"not a list (field type {kind})"
    return None


def check_stale_overwrite(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for step in ctx.evidence.steps:
        for index, write in enumerate(step.writes):
            if write.previous_after is None or write.before is None or write.after is None:
                continue
            looked.append(
                EvidenceItem(
                    step=step.id, path=write_path(step.id, index, "before"), value=write.object_id
                )
            )
            failures += _overwritten(step.id, index, write)
    return Finding.from_checks(
        failures,
        looked,
        ok="no newer human edit was overwritten",
        nothing="no write updated an object an earlier run wrote",
    )


def _overwritten(step_id: str, index: int, write: WriteEvidence) -> Failures:
    assert write.before is not None and write.after is not None and write.previous_after is not None
    failures: Failures = []
    for path, before in _flat(write.before):
        ours = get_path(write.previous_after, path)
        after = get_path(write.after, path)
        if path and path[-1] in VOLATILE_KEYS:
            continue
        if before != ours and after != before and not _ours_concurrently(write, path, before):
            item = EvidenceItem(
                step=step_id, path=write_path(step_id, index, "before", *path), value=before
            )
            failures.append(
                (
                    f"{step_id} overwrote {'.'.join(map(str, path))}: a person set it to "
                    f"{before!r} after run {write.previous_run} wrote {ours!r}; now {after!r}",
                    [item],
                )
            )
    return failures


def _ours_concurrently(write: WriteEvidence, path: tuple[Any, ...], before: Any) -> bool:
    """True when another run of ours, running at the same time, wrote ``before``."""
    return any(get_path(image, path) == before for image in write.concurrent_after)


def _flat(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in _flat(item, (*path, key))]
    return [(path, value)]


def check_required(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for step_id, arg in ctx.params.required:
        link = next((f for f in ctx.params.fields if f.step == step_id and f.arg == arg), None)
        got = landed(ctx, link) if link is not None else None
        if got is None:
            continue
        looked.append(got.item)
        if is_empty(got.value):
            failures.append((f"{got.item.path} is empty", [got.item]))
    return Finding.from_checks(
        failures,
        looked,
        ok="every required field has a value",
        nothing="the pipeline declares no required field written in this run",
    )


RUBRICS: tuple[Rubric, ...] = (
    Rubric(
        "integrity.one_record_per_source",
        "1",
        "Is there exactly one destination record per source object?",
        "blocker",
        "deterministic",
        ("write object ids", "earlier runs' objects", "listings"),
        check_one_record,
        suggests="duplicate_write",
    ),
    Rubric(
        "integrity.no_truncation",
        "1",
        "Did every copied text arrive whole, not cut short?",
        "blocker",
        "deterministic",
        ("text fields and their source",),
        check_truncation,
    ),
    Rubric(
        "integrity.unicode_intact",
        "1",
        "Did accents, scripts and emoji arrive unchanged?",
        "blocker",
        "deterministic",
        ("text fields with non-ASCII source",),
        check_unicode,
    ),
    Rubric(
        "integrity.schema_conforms",
        "1",
        "Does every written value fit its destination field's type and options?",
        "blocker",
        "deterministic",
        ("written fields", "recorded destination schema"),
        check_schema,
    ),
    Rubric(
        "integrity.no_stale_overwrite",
        "1",
        "Did the run leave alone values a person changed since our last write?",
        "blocker",
        "deterministic",
        ("write before-images", "previous after-images"),
        check_stale_overwrite,
        suggests="conflict",
    ),
    Rubric(
        "integrity.required_fields_present",
        "1",
        "Does every required destination field have a value?",
        "blocker",
        "deterministic",
        ("required fields: merge keys, titles, item names",),
        check_required,
    ),
)
