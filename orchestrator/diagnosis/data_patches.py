"""Data patches: correct a bad source value with a value of the same record only.

A value is taken from the same object's earlier good run (same read, same arguments) or
from the source read again now; another record's value is never proposed. When the
record has no value of its own that replays cleanly, a person is asked, with the exact
field and the candidates. A duplicate written after a timeout is deleted.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.diagnosis.fix_context import FixContext, escalate, with_check
from orchestrator.diagnosis.fix_replay import check_data_patch
from tracer.diagnose import Localization
from tracer.diagnosis_model import ProposedFix
from tracer.divergence import value_at
from tracer.lineage import OUTPUT, Node


def data_patch(finding: Localization, ctx: FixContext) -> ProposedFix:
    """Correct the bad source value with a value of the *same* record only: its own value
    in an earlier good run, or what the source holds now. Never another record's value;
    when the record has none of its own, a person supplies it."""
    focus = finding.focus
    if focus is None:
        return _refused_source_patch(finding, ctx)
    snapshot = ctx.run.steps.get(focus.step)
    if snapshot is None or focus.side != OUTPUT or snapshot.output is None:
        return escalate("The bad value came with the trigger; correct the request and run again.")
    obj = _object_id(snapshot.input, snapshot.output)
    path = ".".join(str(p) for p in focus.path)
    tool = snapshot.op.split(".")[0]
    candidates = _own_values(focus, ctx)
    for value, note in candidates:
        check = check_data_patch(
            ctx.pipeline.spec, ctx.run, ctx.destinations, focus.step, focus.path, value, ctx.guard
        )
        if check.verified is not False:
            patch = json.dumps(
                {"tool": tool, "object": obj, "field": path, "set": value}, ensure_ascii=False
            )
            why = f"Set `{path}` on {obj} in {tool} to {value!r}, {note}. Then replay."
            return with_check("data_patch", patch, why, check)
    return _ask_person(tool, obj, path, [v for v, _ in candidates])


def _own_values(focus: Node, ctx: FixContext) -> list[tuple[Any, str]]:
    """Values of the same source record: in its earlier good runs (same read, same
    arguments), then as the source holds it now (read again)."""
    snapshot = ctx.run.steps[focus.step]
    now = ctx.run.value(focus)[1]
    found: list[tuple[Any, str]] = []
    for good in ctx.good_runs or ((ctx.good,) if ctx.good else ()):
        recorded = good.steps.get(focus.step)
        if recorded is None or recorded.input != snapshot.input:
            continue  # another record: its values are never this one's
        present, value = good.value(focus)
        if present and value is not None and value != now:
            found.append((value, f"the value this record had in run {good.run_id}"))
    probe = ctx.fresh.get(focus.step)
    if probe is not None and probe.ok:
        present, value = value_at(probe.output, focus.path)
        if present and value is not None and value != now:
            found.append((value, "the value the source holds now (read again)"))
    return list({json.dumps(v, sort_keys=True, default=str): (v, n) for v, n in found}.values())


def _ask_person(tool: str, obj: str, path: str, candidates: list[Any]) -> ProposedFix:
    """No value of the record's own is known to be right: a person supplies it."""
    patch = json.dumps(
        {"tool": tool, "object": obj, "field": path, "ask": True, "candidates": candidates},
        ensure_ascii=False,
        default=str,
    )
    listed = ", ".join(repr(c) for c in candidates) if candidates else "none of its own"
    return ProposedFix(
        kind="data_patch",
        patch=patch,
        verified=None,
        detail=f"A person must correct `{path}` on {obj} in {tool} (candidates: {listed}); "
        "no value of this record's own could be verified, and another record's value is "
        "never copied. Then replay.",
    )


def _refused_source_patch(finding: Localization, ctx: FixContext) -> ProposedFix:
    """The read step refused the tool's answer: nothing was recorded to replay."""
    snapshot = ctx.run.steps.get(finding.onset_step or "")
    error = snapshot.errors[-1] if snapshot and snapshot.errors else None
    if snapshot is None or error is None or not error.field:
        return escalate("The source holds a bad value; a person must correct it.")
    tool = snapshot.op.split(".")[0]
    return _ask_person(tool, _object_id(snapshot.input, None), error.field, [])


def _object_id(inputs: Any, output: Any) -> str:
    for source in (output, inputs):
        if isinstance(source, dict):
            for key in ("identifier", "id", "key"):
                if source.get(key):
                    return str(source[key])
    return "the source record"


def duplicate_patch(finding: Localization, ctx: FixContext) -> ProposedFix:
    step = finding.onset_step or ctx.failed_step or "?"
    patch = json.dumps({"step": step, "action": "delete_duplicates"})
    return ProposedFix(
        kind="data_patch",
        patch=patch,
        detail=f"A write of `{step}` was stored twice after a timeout: "
        "delete the copy, keep the first.",
    )
