"""From a finding to a fix a person can approve in one click, checked where possible.

The fix follows from the fault class and the reason the walk gave: a retry for faults
that pass, a new credential for a revoked token, a spec patch where the spec can say
something else (a renamed destination field, another option, a missing value-map entry,
a wrong path, a length cap), a data patch where a source value is bad, and escalation
where a person must decide (a conflict with a human edit, a source that changed).
Spec and data patches are replayed on the snapshots (:mod:`orchestrator.diagnosis.fix_replay`).
"""

from __future__ import annotations

import difflib
from typing import Any

from orchestrator.diagnosis.data_patches import data_patch, duplicate_patch
from orchestrator.diagnosis.fix_context import FixContext, escalate, with_check
from orchestrator.diagnosis.fix_replay import (
    LengthLimit,
    ReplayCheck,
    check_spec_patch,
)
from orchestrator.spec.patch import PatchError, SpecText
from orchestrator.spec.pipeline import (
    MapEntry,
    PipelineSpecError,
    parse_pipeline,
    step_expressions,
)
from tracer.diagnose import Localization, RunSnapshot
from tracer.diagnosis_model import ProposedFix
from tracer.lineage import INPUT, OUTPUT, Node, expression_reads
from tracer.schemas import renamed_field

CLOSE = 0.5
DEFAULT_LENGTH_CAP = 2000


def propose(finding: Localization, ctx: FixContext) -> ProposedFix:
    fault = finding.fault_class
    step = finding.onset_step or ctx.failed_step
    if fault in ("transient", "rate_limited"):
        wait = finding.detail.get("retry_after")
        hint = f" (the tool asked to wait {wait} s)" if wait else ""
        return ProposedFix(
            kind="retry", detail=f"Replay from `{step}` once the tool recovers{hint}."
        )
    if fault == "auth":
        tool = _tool(ctx, step)
        return ProposedFix(
            kind="credential",
            detail=f"Renew the {tool} token (STEPTRACE_{tool.upper()}_TOKEN), "
            f"then replay from `{step}`.",
        )
    if fault == "duplicate_write":
        return duplicate_patch(finding, ctx)
    if fault == "invalid_source_data":
        return data_patch(finding, ctx)
    try:
        patched = _spec_patch(finding, ctx)
    except (PatchError, KeyError, ValueError) as exc:
        return escalate(f"No safe spec change was found ({exc}).")
    if patched is None or not patched[0].changed:
        return escalate(_escalate_reason(fault))
    text, why = patched
    check = check_spec_patch(
        text.text,
        ctx.pipeline.source,
        ctx.run,
        ctx.destinations,
        _length_limit(finding),
        ctx.guard,
    )
    if check.verified is True and _substitutes_value(finding):
        # The destination no longer takes the value this record's inputs give; another
        # option is a guess about meaning, which only a person can confirm.
        check = ReplayCheck(
            None,
            "not verified: it writes another option than the one this record's inputs "
            "give, which the destination no longer offers; a person confirms the substitute",
        )
    fix = with_check("spec_patch", text.diff(), why, check)
    return fix.model_copy(update={"patched_version": _version(text.text)})


def _substitutes_value(finding: Localization) -> bool:
    return finding.fault_class == "destination_schema_drift" and finding.reason in (
        "accepted_before",
        "option_gone",
    )


def _escalate_reason(fault: str) -> str:
    return {
        "conflict": "A person changed the record after our write; decide whose value wins.",
        "upstream_schema_drift": "The source changed shape; its owner must restore it, "
        "or the pipeline must read the new shape.",
        "payload_limit": "No transform step produces the oversized value; trim it at the source.",
    }.get(fault, "No automatic fix is known for this failure; a person must look.")


def _tool(ctx: FixContext, step: str | None) -> str:
    snapshot = ctx.run.steps.get(step or "")
    return snapshot.op.split(".")[0] if snapshot and "." in snapshot.op else "tool"


def _version(text: str) -> str | None:
    try:
        return parse_pipeline(text).version
    except PipelineSpecError:
        return None


# --- spec patches ---------------------------------------------------------------------


def _spec_patch(finding: Localization, ctx: FixContext) -> tuple[SpecText, str] | None:
    reason = finding.reason
    focus = finding.focus
    if focus is None:
        return None
    text = SpecText(ctx.pipeline.text, ctx.pipeline.source)
    if reason in ("field_gone", "field_unknown"):
        return _rename_field(text, focus, ctx) or _stop_writing(text, focus, ctx)
    if reason == "missing_path":
        return _fix_path(text, focus, finding, ctx)
    if reason == "wrong_kind":
        return _fix_kind(text, focus, finding, ctx)
    if reason in ("accepted_before", "option_gone", "bad_mapping"):
        return _change_value(text, finding, ctx)
    if finding.fault_class == "payload_limit":
        return _cap_length(text, focus, ctx, finding.detail.get("limit"))
    if finding.fault_class == "upstream_schema_drift" and reason == "structural":
        return _follow_renamed_source(text, focus, ctx)
    return None


def _spec_path(ctx: FixContext, node: Node) -> tuple[str | int, ...]:
    spec = ctx.pipeline.spec
    index = next(i for i, s in enumerate(spec.steps) if s.id == node.step)
    if node.side == INPUT:
        return ("steps", index, "args", *node.path)
    entry = spec.steps[index].map or {}
    name = str(node.path[0])
    return (
        ("steps", index, "map", name)
        if isinstance(entry.get(name), str)
        else ("steps", index, "map", name, "from")
    )


def _rename_field(text: SpecText, focus: Node, ctx: FixContext) -> tuple[SpecText, str] | None:
    if not focus.path:
        return None
    by_id = _renamed_by_id(focus, ctx)
    if by_id is not None:
        old, new, field_id = by_id
        text.rename_key(_spec_path(ctx, focus), new)
        return text, (
            f"Write `{old}` as `{new}`: the destination renamed field `{field_id}` "
            f"`{old}` → `{new}` since the last good run (same id)."
        )
    if focus.step in ctx.schemas_then and focus.step in ctx.schemas_now:
        return None  # both snapshots are known and no field kept its id under a new name
    names = ctx.destinations.field_names(focus.step) if ctx.destinations else None
    if not names:
        return None
    used = {str(k) for k in (ctx.run.steps[focus.step].input or {}).get(str(focus.path[0]), {})}
    old = str(focus.path[-1])
    free = [n for n in names if n not in used]
    guess = _renamed_to(old, free, focus, ctx)
    if guess is None:
        return None
    text.rename_key(_spec_path(ctx, focus), guess)
    return text, f"Write `{old}` as `{guess}`, the destination's field of that name now."


def _renamed_by_id(focus: Node, ctx: FixContext) -> tuple[str, str, str] | None:
    """(old name, new name, field id) when the schema snapshots show the field written at
    ``focus`` kept its id under another name."""
    then, now = ctx.schemas_then.get(focus.step), ctx.schemas_now.get(focus.step)
    if then is None or now is None:
        return None
    old = str(focus.path[-1])
    new = renamed_field(then, now, old)
    found = then.by_name(old)
    return (old, new, found.id) if new is not None and found is not None else None


def _renamed_to(old: str, free: list[str], focus: Node, ctx: FixContext) -> str | None:
    """The field ``old`` became: the one unused field whose options still hold the values
    we wrote to ``old`` in good runs, else the closest name."""
    assert ctx.destinations is not None
    written = [ctx_value for ctx_value in _good_values(focus, ctx) if isinstance(ctx_value, str)]
    holding = [
        name
        for name in free
        if written
        and set(written)
        <= set(ctx.destinations.options(focus.step, (*focus.path[:-1], name)) or ())
    ]
    if len(holding) == 1:
        return holding[0]
    match = difflib.get_close_matches(old, free, n=1, cutoff=CLOSE)
    return match[0] if match else None


def _good_values(focus: Node, ctx: FixContext) -> list[Any]:
    return [
        ctx_item.good
        for ctx_item in ctx.implicated
        if ctx_item.node == focus and ctx_item.good is not None
    ]


def _stop_writing(text: SpecText, focus: Node, ctx: FixContext) -> tuple[SpecText, str] | None:
    """The destination has no such field any more, and none took its place: stop writing
    it, so the rest of the record syncs while a person decides where the value belongs."""
    if focus.side != INPUT or len(focus.path) < 2:
        return None
    text.delete_key(_spec_path(ctx, focus))
    field = str(focus.path[-1])
    return text, (
        f"Stop writing `{field}`: the destination has no field of that name any more and "
        "none looks like its new name; the rest of the record syncs meanwhile."
    )


def _fix_path(
    text: SpecText, focus: Node, finding: Localization, ctx: FixContext
) -> tuple[SpecText, str] | None:
    """Read the key the source does have, closest in name to the one it never had."""
    closest = finding.detail.get("closest")
    read = finding.detail.get("read")
    if not closest or not read or len(read) < 2:
        return None
    before, old = str(read[-2]), str(read[-1])
    text.rename_segment(_spec_path(ctx, focus), before, old, str(closest))
    return text, f"Read `{before}.{closest}`; `{before}.{old}` is not in that step's output."


def _fix_kind(
    text: SpecText, focus: Node, finding: Localization, ctx: FixContext
) -> tuple[SpecText, str] | None:
    """Fix the transform's date format when that is what makes the value the wrong kind;
    else read the sibling of the copied value that the destination takes (the email
    beside the name)."""
    dated = _fix_date_format(text, focus, finding, ctx)
    if dated is not None:
        return dated
    links = ctx.lineage.sources(focus)
    written = next((i.node for i in finding.implicated if i.node.side == INPUT), None)
    if len(links) != 1 or written is None or ctx.destinations is None:
        return None
    source = links[0].source
    present, parent = ctx.run.value(Node(source.step, source.side, source.path[:-1]))
    if not present or not isinstance(parent, dict):
        return None
    for key, value in parent.items():
        if key != source.path[-1] and ctx.destinations.kind_matches(
            written.step, written.path, value
        ):
            old = ".".join([source.step, *(str(p) for p in source.path)])
            new = old.rsplit(".", 1)[0] + "." + key
            text.replace_token(_spec_path(ctx, focus), old, new)
            return text, f"Read `{new}`: the destination takes that, not `{old}`."
    return None


ISO_DATE = "%Y-%m-%d"


def _fix_date_format(
    text: SpecText, focus: Node, finding: Localization, ctx: FixContext
) -> tuple[SpecText, str] | None:
    """The transform formats a date the destination's date field does not take: write it
    as an ISO date instead (the smallest change, at the transform that is wrong)."""
    written = next((i.node for i in finding.implicated if i.node.side == INPUT), None)
    producer = _pure_producer_of(focus, ctx)
    if written is None or producer is None or ctx.destinations is None:
        return None
    if ctx.destinations.kind_matches(written.step, written.path, "2026-01-31") is not True:
        return None
    entry = (ctx.pipeline.spec.step(producer.step).map or {}).get(str(producer.path[0]))
    if not isinstance(entry, MapEntry) or not entry.date_format or entry.date_format == ISO_DATE:
        return None
    path = (*_spec_path(ctx, producer)[:4], "date_format")
    text.replace_value(path, entry.date_format, ISO_DATE)
    return text, (
        f"Format `{producer.step}.{producer.path[0]}` as `{ISO_DATE}`: the destination's "
        f"date field does not take `{entry.date_format}`."
    )


def _follow_renamed_source(
    text: SpecText, focus: Node, ctx: FixContext
) -> tuple[SpecText, str] | None:
    """The source now names the field differently: read the new name everywhere."""
    if focus.side != OUTPUT or len(focus.path) < 1:
        return None
    old = str(focus.path[-1])
    new = _renamed_key(focus, ctx)
    if new is None:
        return None
    before = str(focus.path[-2]) if len(focus.path) > 1 else focus.step
    full = (focus.step, *focus.path)
    edited = 0
    for path, expression in _spec_expressions(ctx):
        if any(tuple(read) == full for read in expression_reads(expression).reads):
            text.rename_segment(path, before, old, new)
            edited += 1
    if not edited:
        return None
    return text, f"Read `{before}.{new}`: the source renamed `{old}` (in {edited} place(s))."


def _renamed_key(focus: Node, ctx: FixContext) -> str | None:
    """A key the source's objects have now and did not have in the good run, named like
    the one that disappeared."""
    now = _parent_keys(ctx.run, focus)
    good_runs = [i.node for i in ctx.implicated if i.node == focus]
    before: set[str] = set()
    if good_runs and ctx.good is not None:
        before = _parent_keys(ctx.good, focus)
    fresh = sorted(now - before) if before else sorted(now)
    match = difflib.get_close_matches(str(focus.path[-1]), fresh, n=1, cutoff=CLOSE)
    return match[0] if match else (fresh[0] if len(fresh) == 1 else None)


def _parent_keys(run: RunSnapshot, focus: Node) -> set[str]:
    """The keys beside ``focus`` (in every list item, for a path across a list)."""
    present, parent = run.value(Node(focus.step, focus.side, focus.path[:-1]))
    if not present:
        return set()
    parents = parent if isinstance(parent, list) else [parent]
    return {str(k) for p in parents if isinstance(p, dict) for k in p}


def _spec_expressions(ctx: FixContext) -> list[tuple[tuple[str | int, ...], str]]:
    """Every expression of the spec with the path of its line."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for index, step in enumerate(ctx.pipeline.spec.steps):
        for path, expression in step_expressions(step):
            entry = (step.map or {}).get(str(path[1])) if path[0] == "map" else None
            line = (*path, "from") if isinstance(entry, MapEntry) else path
            found.append((("steps", index, *line), expression))
    return found


def _change_value(
    text: SpecText, finding: Localization, ctx: FixContext
) -> tuple[SpecText, str] | None:
    """Map the refused (or unmapped) value to the destination's closest option."""
    producer = _pure_producer(finding, ctx)
    if producer is None:
        return _change_literal(text, finding, ctx)
    step = ctx.pipeline.spec.step(producer.step)
    name = str(producer.path[0])
    entry = (step.map or {}).get(name)
    consumer_options = _consumer_options(finding, ctx)
    bad = finding.detail.get("value")
    path = _spec_path(ctx, producer)
    if isinstance(entry, MapEntry) and entry.values is not None:
        return _fix_value_map(text, path[:4], entry, bad, consumer_options, finding, ctx)
    if isinstance(bad, str) and consumer_options:
        new = _closest(bad, [o for o in consumer_options if o != bad])
        if new is None:
            return None
        text.replace_token(path, f"'{bad}'", f"'{new}'")
        return text, f"Use `{new}` instead of `{bad}`, which the destination no longer offers."
    return None


def _change_literal(
    text: SpecText, finding: Localization, ctx: FixContext
) -> tuple[SpecText, str] | None:
    """The refused value is written as a literal in the step's own arguments."""
    focus = finding.focus
    bad = finding.detail.get("value")
    if focus is None or focus.side != INPUT or not isinstance(bad, str):
        return None
    expression = _arg_expression(ctx, focus)
    if expression is None or expression.strip() != f"'{bad}'":
        return None
    options = ctx.destinations.options(focus.step, focus.path) if ctx.destinations else None
    new = _closest(bad, options) if options else None
    path = _spec_path(ctx, focus)
    if new is not None:
        text.replace_token(path, f"'{bad}'", f"'{new}'")
        return text, f"Write `{new}` instead of `{bad}`, which the destination no longer offers."
    text.delete_key(path)
    field = ".".join(str(p) for p in focus.path)
    return text, (
        f"Stop writing `{field}`: the destination no longer offers `{bad}`; "
        "choose one of its values to write instead."
    )


def _arg_expression(ctx: FixContext, node: Node) -> str | None:
    value: Any = ctx.pipeline.spec.step(node.step).args
    for segment in node.path:
        value = value.get(str(segment)) if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


def _fix_value_map(
    text: SpecText,
    entry_path: tuple[str | int, ...],
    entry: MapEntry,
    bad: Any,
    options: list[str] | None,
    finding: Localization,
    ctx: FixContext,
) -> tuple[SpecText, str] | None:
    assert entry.values is not None
    values_path = (*entry_path, "values")
    keys = [k for k, v in entry.values.items() if bad is not None and v == bad]
    if keys:
        new = _closest(str(bad), options or []) if options else None
        for key in keys:
            text.replace_value((*values_path, _yaml_key(key)), bad, new)
        target = f"`{new}`" if new is not None else "nothing (clear it)"
        listed = ", ".join(f"`{k}`" for k in keys)
        return text, f"Map {listed} to {target}: the destination refuses `{bad}`."
    source_value = _source_value(finding)
    if source_value is None:
        return None
    new = _best_option(source_value, finding, options, ctx) if options else None
    text.add_map_entry(values_path, source_value, new)
    target = f"`{new}`" if new is not None else "nothing"
    return text, f"Add `{source_value}` to the value map (as {target}); it was missing."


def _cap_length(
    text: SpecText, focus: Node, ctx: FixContext, limit: int | None
) -> tuple[SpecText, str] | None:
    cap = limit or DEFAULT_LENGTH_CAP
    producer = _pure_producer_of(focus, ctx)
    if producer is None:  # computed from several values: cap the longest one
        part, cap = _longest_part(focus, ctx, cap)
        if part is None:
            return None
        producer = _pure_producer_of(part, ctx)
        if producer is None:
            return _cap_through_transform(text, focus, part, cap, ctx)
    text.set_entry_option(_spec_path(ctx, producer)[:4], "max_length", cap)
    return text, f"Cap `{producer.step}.{producer.path[0]}` at {cap} characters."


def _longest_part(focus: Node, ctx: FixContext, limit: int) -> tuple[Node | None, int]:
    """The longest value ``focus`` is made of, and the cap that makes the whole fit."""
    parts = [link.source for link in ctx.lineage.sources(focus)]
    sized = [(len(str(ctx.run.value(p)[1] or "")), p) for p in parts]
    if not sized:
        return None, limit
    longest, part = max(sized, key=lambda found: found[0])
    whole = len(str(ctx.run.value(focus)[1] or ""))
    room = limit - (whole - longest)
    return (part, room) if room > 0 else (None, limit)


def _cap_through_transform(
    text: SpecText, focus: Node, part: Node, cap: int, ctx: FixContext
) -> tuple[SpecText, str] | None:
    """A tool's value used as it is: pass it through the nearest earlier transform, capped."""
    steps = ctx.pipeline.spec.steps
    at = next(i for i, s in enumerate(steps) if s.id == focus.step)
    transforms = [i for i, s in enumerate(steps[:at]) if s.map is not None]
    if not transforms or part.side != OUTPUT:
        return None
    index = transforms[-1]
    old = ".".join([part.step, *(str(p) for p in part.path)])
    name = str(part.path[-1])
    if name in (steps[index].map or {}):
        name = f"{name}_capped"
    # Bottom-up: the insertion above would move the line the replacement edits.
    text.replace_token(_spec_path(ctx, focus), old, f"{steps[index].id}.{name}")
    text.insert_entry(("steps", index, "map"), name, old, "max_length", cap)
    return text, f"Pass `{old}` through `{steps[index].id}` capped at {cap} characters."


def _length_limit(finding: Localization) -> LengthLimit | None:
    limit = finding.detail.get("limit")
    focus = finding.focus
    if finding.fault_class != "payload_limit" or focus is None or focus.side != INPUT:
        return None
    return LengthLimit(focus.step, focus.path, limit) if isinstance(limit, int) else None


def _pure_producer(finding: Localization, ctx: FixContext) -> Node | None:
    if finding.focus is None:
        return None
    return _pure_producer_of(finding.focus, ctx)


def _pure_producer_of(node: Node, ctx: FixContext) -> Node | None:
    """``node`` itself if a transform made it, else the transform output it was copied from."""
    lineage = ctx.lineage
    seen: set[Node] = set()
    while node not in seen:
        seen.add(node)
        snapshot = ctx.run.steps.get(node.step)
        if node.side == OUTPUT and snapshot is not None and snapshot.kind == "pure":
            return Node(node.step, OUTPUT, node.path[:1])
        if node.side == OUTPUT and snapshot is None and _is_transform(ctx, node.step):
            return Node(node.step, OUTPUT, node.path[:1])
        links = lineage.sources(node)
        if len(links) != 1:
            return None
        node = links[0].source
    return None


def _is_transform(ctx: FixContext, step: str) -> bool:
    return any(s.id == step and s.map is not None for s in ctx.pipeline.spec.steps)


def _consumer_options(finding: Localization, ctx: FixContext) -> list[str] | None:
    """The options the destination offers for the implicated write argument, if known."""
    if ctx.destinations is None:
        return None
    for item in finding.implicated:
        if item.node.side == INPUT:
            options = ctx.destinations.options(item.node.step, item.node.path)
            if options:
                return options
    return _downstream_options(finding, ctx)


def _downstream_options(finding: Localization, ctx: FixContext) -> list[str] | None:
    """For a transform output that never reached a write: the options of its consumers."""
    if ctx.destinations is None or finding.focus is None:
        return None
    produced = f"{finding.focus.step}.{finding.focus.path[0]}"
    for step in ctx.pipeline.spec.steps:
        for path, expression in step_expressions(step):
            if path[0] == "args" and expression.strip() == produced:
                options = ctx.destinations.options(step.id, path[1:])
                if options:
                    return options
    return None


def _source_value(finding: Localization) -> Any:
    upstream = [i for i in finding.implicated if i.node != finding.focus and i.now is not None]
    return upstream[0].now if upstream else None


def _best_option(
    source_value: Any, finding: Localization, options: list[str], ctx: FixContext
) -> str | None:
    """The option whose name is closest to the value or to a text beside it in the source."""
    texts = [str(source_value)]
    upstream = [i for i in finding.implicated if i.node != finding.focus and i.now is not None]
    for item in upstream:
        texts.extend(_sibling_texts(item.node, ctx))
    for text in texts:
        exact = [o for o in options if o.lower() == text.lower()]
        if exact:
            return exact[0]
    for text in texts:
        found = _closest(text, options)
        if found is not None:
            return found
    return None


def _sibling_texts(node: Node, ctx: FixContext) -> list[str]:
    """The texts beside a source value (``priority_label`` beside ``priority``)."""
    present, parent = ctx.run.value(Node(node.step, node.side, node.path[:-1]))
    if not present or not isinstance(parent, dict):
        return []
    return [v for v in parent.values() if isinstance(v, str)]


def _closest(value: str, options: list[str]) -> str | None:
    match = difflib.get_close_matches(value, options, n=1, cutoff=CLOSE)
    return match[0] if match else None


def _yaml_key(key: str) -> str | int:
    return int(key) if key.lstrip("-").isdigit() else key
