"""From a finding to a fix a person can approve in one click, checked where possible.

The fix follows from the fault class and the reason the walk gave: a retry for faults
that pass, a new credential for a revoked token, a spec patch where the spec can say
something else (a renamed destination field, another option, a missing value-map entry,
a wrong path, a length cap), a data patch where a source value is bad, and escalation
where a person must decide (a conflict with a human edit, a source that changed).
Spec and data patches are replayed on the snapshots (:mod:`orchestrator.fix_replay`).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from orchestrator.destinations import LiveDestinations
from orchestrator.diagnosis_model import FixKind, ProposedFix
from orchestrator.fix_replay import ReplayCheck, check_data_patch, check_spec_patch
from orchestrator.pipeline import LoadedPipeline, MapEntry, PipelineSpecError, parse_pipeline
from orchestrator.spec_patch import PatchError, SpecText
from tracer.diagnose import Finding, Implicated, RunSnapshot
from tracer.lineage import INPUT, OUTPUT, Node

CLOSE = 0.5
DEFAULT_LENGTH_CAP = 2000


@dataclass(frozen=True)
class FixContext:
    pipeline: LoadedPipeline
    run: RunSnapshot
    destinations: LiveDestinations | None
    failed_step: str | None
    implicated: tuple[Implicated, ...] = ()


def propose(finding: Finding, ctx: FixContext) -> ProposedFix:
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
        return _duplicate_patch(finding, ctx)
    if fault == "invalid_source_data":
        return _data_patch(finding, ctx)
    try:
        patched = _spec_patch(finding, ctx)
    except (PatchError, KeyError, ValueError) as exc:
        return _escalate(f"No safe spec change was found ({exc}).")
    if patched is None:
        return _escalate(_escalate_reason(fault))
    text, why = patched
    check = check_spec_patch(text.text, ctx.pipeline.source, ctx.run, ctx.destinations)
    fix = _with_check("spec_patch", text.diff(), why, check)
    return fix.model_copy(update={"patched_version": _version(text.text)})


def _escalate(detail: str) -> ProposedFix:
    return ProposedFix(kind="escalate", detail=detail)


def _escalate_reason(fault: str) -> str:
    return {
        "conflict": "A person changed the record after our write; decide whose value wins.",
        "upstream_schema_drift": "The source changed shape; its owner must restore it, "
        "or the pipeline must read the new shape.",
        "payload_limit": "No transform step produces the oversized value; trim it at the source.",
    }.get(fault, "No automatic fix is known for this failure; a person must look.")


def _with_check(kind: FixKind, patch: str, why: str, check: ReplayCheck) -> ProposedFix:
    return ProposedFix(
        kind=kind,
        patch=patch,
        verified=check.verified,
        detail=f"{why} {check.detail[:1].upper()}{check.detail[1:]}.".replace("..", "."),
    )


def _tool(ctx: FixContext, step: str | None) -> str:
    snapshot = ctx.run.steps.get(step or "")
    return snapshot.op.split(".")[0] if snapshot and "." in snapshot.op else "tool"


def _version(text: str) -> str | None:
    try:
        return parse_pipeline(text).version
    except PipelineSpecError:
        return None


# --- spec patches ---------------------------------------------------------------------


def _spec_patch(finding: Finding, ctx: FixContext) -> tuple[SpecText, str] | None:
    reason = finding.reason
    focus = finding.focus
    if focus is None:
        return None
    text = SpecText(ctx.pipeline.text, ctx.pipeline.source)
    if reason in ("field_gone", "field_unknown"):
        return _rename_field(text, focus, ctx)
    if reason == "missing_path":
        return _fix_path(text, focus, finding, ctx)
    if reason in ("accepted_before", "option_gone", "bad_mapping"):
        return _change_value(text, finding, ctx)
    if finding.fault_class == "payload_limit":
        return _cap_length(text, focus, ctx)
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
    names = ctx.destinations.field_names(focus.step) if ctx.destinations else None
    if not names or not focus.path:
        return None
    used = {str(k) for k in (ctx.run.steps[focus.step].input or {}).get(str(focus.path[0]), {})}
    old = str(focus.path[-1])
    free = [n for n in names if n not in used]
    new = _renamed_to(old, free, focus, ctx)
    if new is None:
        return None
    text.rename_key(_spec_path(ctx, focus), new)
    return text, f"Write `{old}` as `{new}`, the destination's field of that name now."


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


def _fix_path(
    text: SpecText, focus: Node, finding: Finding, ctx: FixContext
) -> tuple[SpecText, str] | None:
    closest = finding.detail.get("closest")
    bad = str(finding.detail.get("path", ""))
    if not closest or not bad:
        return None
    good = bad.rsplit(".", 1)[0] + "." + str(closest)
    text.replace_token(_spec_path(ctx, focus), bad, good)
    return text, f"Read `{good}`; `{bad}` does not exist in that step's output."


def _change_value(text: SpecText, finding: Finding, ctx: FixContext) -> tuple[SpecText, str] | None:
    """Map the refused (or unmapped) value to the destination's closest option."""
    producer = _pure_producer(finding, ctx)
    if producer is None:
        return None
    step = ctx.pipeline.spec.step(producer.step)
    name = str(producer.path[0])
    entry = (step.map or {}).get(name)
    consumer_options = _consumer_options(finding, ctx)
    bad = finding.detail.get("value")
    path = _spec_path(ctx, producer)
    if isinstance(entry, MapEntry) and entry.values is not None:
        return _fix_value_map(text, path[:4], entry, bad, consumer_options, finding, ctx)
    if isinstance(bad, str) and consumer_options:
        new = _closest(bad, consumer_options)
        if new is None:
            return None
        text.replace_token(path, f"'{bad}'", f"'{new}'")
        return text, f"Use `{new}` instead of `{bad}`, which the destination no longer offers."
    return None


def _fix_value_map(
    text: SpecText,
    entry_path: tuple[str | int, ...],
    entry: MapEntry,
    bad: Any,
    options: list[str] | None,
    finding: Finding,
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


def _cap_length(text: SpecText, focus: Node, ctx: FixContext) -> tuple[SpecText, str] | None:
    producer = _pure_producer_of(focus, ctx)
    if producer is None:
        return None
    text.set_entry_option(_spec_path(ctx, producer)[:4], "max_length", DEFAULT_LENGTH_CAP)
    return text, f"Cap `{producer.step}.{producer.path[0]}` at {DEFAULT_LENGTH_CAP} characters."


def _pure_producer(finding: Finding, ctx: FixContext) -> Node | None:
    if finding.focus is None:
        return None
    return _pure_producer_of(finding.focus, ctx)


def _pure_producer_of(node: Node, ctx: FixContext) -> Node | None:
    """``node`` itself if a transform made it, else the transform output it was copied from."""
    from orchestrator.run_snapshots import spec_lineage

    lineage = spec_lineage(ctx.pipeline.spec)
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


def _consumer_options(finding: Finding, ctx: FixContext) -> list[str] | None:
    """The options the destination offers for the implicated write argument, if known."""
    if ctx.destinations is None:
        return None
    for item in finding.implicated:
        if item.node.side == INPUT:
            options = ctx.destinations.options(item.node.step, item.node.path)
            if options:
                return options
    return _downstream_options(finding, ctx)


def _downstream_options(finding: Finding, ctx: FixContext) -> list[str] | None:
    """For a transform output that never reached a write: the options of its consumers."""
    if ctx.destinations is None or finding.focus is None:
        return None
    produced = f"{finding.focus.step}.{finding.focus.path[0]}"
    for step in ctx.pipeline.spec.steps:
        for key, expression in _flat_args(step.args):
            if isinstance(expression, str) and expression.strip() == produced:
                options = ctx.destinations.options(step.id, key)
                if options:
                    return options
    return None


def _flat_args(
    args: dict[str, Any], prefix: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], Any]]:
    found: list[tuple[tuple[str | int, ...], Any]] = []
    for key, value in args.items():
        if isinstance(value, dict):
            found += _flat_args(value, (*prefix, key))
        else:
            found.append(((*prefix, key), value))
    return found


def _source_value(finding: Finding) -> Any:
    upstream = [i for i in finding.implicated if i.node != finding.focus and i.now is not None]
    return upstream[0].now if upstream else None


def _best_option(
    source_value: Any, finding: Finding, options: list[str], ctx: FixContext
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


# --- data patches ---------------------------------------------------------------------


def _data_patch(finding: Finding, ctx: FixContext) -> ProposedFix:
    focus = finding.focus
    if focus is None:
        return _refused_source_patch(finding, ctx)
    snapshot = ctx.run.steps.get(focus.step)
    if snapshot is None or focus.side != OUTPUT or snapshot.output is None:
        return _escalate("The bad value came with the trigger; correct the request and run again.")
    obj = _object_id(snapshot.input, snapshot.output)
    path = ".".join(str(p) for p in focus.path)
    patch = json.dumps(
        {"tool": snapshot.op.split(".")[0], "object": obj, "field": path, "set": None},
        ensure_ascii=False,
    )
    tool = snapshot.op.split(".")[0]
    why = f"Clear or correct `{path}` on {obj} in {tool}, then replay from `{focus.step}`."
    check = check_data_patch(
        ctx.pipeline.spec, ctx.run, ctx.destinations, focus.step, focus.path, None
    )
    return _with_check("data_patch", patch, why, check)


def _refused_source_patch(finding: Finding, ctx: FixContext) -> ProposedFix:
    """The read step refused the tool's answer: nothing was recorded to replay."""
    snapshot = ctx.run.steps.get(finding.onset_step or "")
    error = snapshot.errors[-1] if snapshot and snapshot.errors else None
    if snapshot is None or error is None or not error.field:
        return _escalate("The source holds a bad value; a person must correct it.")
    tool = snapshot.op.split(".")[0]
    obj = _object_id(snapshot.input, None)
    patch = json.dumps({"tool": tool, "object": obj, "field": error.field, "set": None})
    why = f"Correct or clear `{error.field}` on {obj} in {tool}, then replay."
    return ProposedFix(kind="data_patch", patch=patch, verified=None, detail=why)


def _object_id(inputs: Any, output: Any) -> str:
    for source in (output, inputs):
        if isinstance(source, dict):
            for key in ("identifier", "id", "key"):
                if source.get(key):
                    return str(source[key])
    return "the source record"


def _duplicate_patch(finding: Finding, ctx: FixContext) -> ProposedFix:
    step = finding.onset_step or ctx.failed_step or "?"
    patch = json.dumps({"step": step, "action": "delete_duplicates"})
    return ProposedFix(
        kind="data_patch",
        patch=patch,
        detail=f"A write of `{step}` was stored twice after a timeout: "
        "delete the copy, keep the first.",
    )
