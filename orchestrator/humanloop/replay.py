"""Replay a run from a step: the earlier steps' outputs come from the run's snapshots.

A replay is a new ``PipelineWorkflow`` run of kind ``replay`` linked to the run it
replays (``parent_run_id``). The steps before the chosen step are not called again:
their recorded outputs are handed to the workflow (``PipelineInput.given``) and each is
reported through the ``reuse_recorded_output`` activity, so the replay's trace holds
every step and no tool sees a request for them. The chosen step and everything after it
run for real.

With an approved fix (a stored diagnosis whose ``proposed_fix`` is a ``spec_patch``),
the fix's unified diff is applied to the spec the run ran, the result is validated and
stored as a new pipeline version, and the replay runs that version. A step the patch
changes cannot have its old output reused: the replay must start at or before it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowFailureError

from orchestrator.cli.views import find_run
from orchestrator.runtime.pipeline_workflow import (
    PIPELINE_WORKFLOW,
    REUSE_ACTIVITY,
    PipelineInput,
    PipelineResult,
)
from orchestrator.spec.pipeline import LoadedPipeline, PipelineSpecError, StepSpec, parse_pipeline
from tracer.steps import StepCall, StepReturn
from tracer.store import AttemptStatus, RunKind, RunRecord, RunStatus, TraceStore


class ReplayError(ValueError):
    """The replay cannot start; the message names the bad input."""


class PatchApplyError(ReplayError):
    """A unified diff that does not apply cleanly to the text it was made for."""


# --- applying a unified diff -----------------------------------------------------------

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


@dataclass
class _Hunk:
    header: str
    old_start: int
    old_count: int
    new_count: int
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)


def apply_unified_diff(text: str, patch: str) -> str:
    """``text`` with the unified diff ``patch`` applied, exactly: no fuzz, no offsets.

    Every hunk's context and removed lines must be found at the line the hunk names;
    otherwise :class:`PatchApplyError` says which hunk and which line differ. A patch
    with no hunk is refused too (it would change nothing, which is never what is meant).
    """
    hunks = _parse_hunks(patch)
    if not hunks:
        raise PatchApplyError("the patch has no hunk (no line starting with @@)")
    source = text.splitlines(keepends=True)
    out: list[str] = []
    position = 0
    for number, hunk in enumerate(hunks, start=1):
        start = hunk.old_start if hunk.old_count == 0 else hunk.old_start - 1
        if start < position:
            raise PatchApplyError(
                f"hunk {number} ({hunk.header}) overlaps or precedes the hunk before it"
            )
        if start + len(hunk.old) > len(source):
            raise PatchApplyError(
                f"hunk {number} ({hunk.header}) does not apply: it names lines "
                f"{start + 1}-{start + len(hunk.old)}, the text has {len(source)} lines"
            )
        _check_lines(number, hunk, source, start)
        out += source[position:start]
        out += hunk.new
        position = start + len(hunk.old)
    out += source[position:]
    return "".join(out)


def _check_lines(number: int, hunk: _Hunk, source: list[str], start: int) -> None:
    for offset, expected in enumerate(hunk.old):
        found = source[start + offset]
        if found != expected:
            raise PatchApplyError(
                f"hunk {number} ({hunk.header}) does not apply at line {start + offset + 1}: "
                f"the text has {_shown(found)}, the patch expects {_shown(expected)}"
            )


def _shown(line: str) -> str:
    return repr(line.rstrip("\r\n"))


def _parse_hunks(patch: str) -> list[_Hunk]:
    hunks: list[_Hunk] = []
    lines = patch.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        match = _HUNK.match(lines[index])
        if match is None:
            index += 1
            continue
        hunk = _Hunk(
            header=match.group(0),
            old_start=int(match.group(1)),
            old_count=int(match.group(2) or "1"),
            new_count=int(match.group(4) or "1"),
        )
        index = _read_hunk(hunk, lines, index + 1)
        hunks.append(hunk)
    return hunks


def _read_hunk(hunk: _Hunk, lines: list[str], index: int) -> int:
    """Read ``hunk``'s body from ``lines[index:]``; returns the index after it."""
    previous: list[list[str]] = []  # the sides the previous line went to
    while len(hunk.old) < hunk.old_count or len(hunk.new) < hunk.new_count:
        if index >= len(lines):
            raise PatchApplyError(f"hunk {hunk.header} is cut short: the patch ends inside it")
        line = lines[index]
        tag, body = line[:1], line[1:]
        if line in ("\n", "\r\n"):  # a context line whose lone space was stripped
            tag, body = " ", line
        if tag == "\\":
            _drop_newline(previous)
        elif tag in (" ", "-", "+"):
            keep_old, keep_new = _sides(tag)
            previous = [side for side, keep in ((hunk.old, keep_old), (hunk.new, keep_new)) if keep]
            for side in previous:
                side.append(body)
        else:
            raise PatchApplyError(
                f"hunk {hunk.header}: line {index + 1} of the patch starts with {tag!r}, "
                "not ' ', '-' or '+' (the hunk's line counts do not match its body)"
            )
        index += 1
    if index < len(lines) and lines[index].startswith(_NO_NEWLINE):
        _drop_newline(previous)
        index += 1
    return index


def _sides(tag: str) -> tuple[bool, bool]:
    """Whether a line tagged ``tag`` belongs to the old text, and to the new one."""
    return tag != "+", tag != "-"


def _drop_newline(sides: list[list[str]]) -> None:
    for side in sides:
        if side:
            side[-1] = side[-1].rstrip("\n")


# --- planning a replay -----------------------------------------------------------------


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay will run: which pipeline version, from which step, reusing what."""

    parent: RunRecord
    pipeline: LoadedPipeline
    from_step: str
    trigger: dict[str, Any]
    given: dict[str, Any]
    fix_id: int | None = None

    @property
    def reused_steps(self) -> list[str]:
        return list(self.given)


def plan_replay(
    store: TraceStore,
    run_ref: str,
    from_step: str | None = None,
    *,
    fix_id: int | None = None,
    patched_spec_text: str | None = None,
) -> ReplayPlan:
    """Check a replay request against the store and say what it will run.

    ``from_step`` ``None`` means: the first step the patch changes, else the step the run
    failed at, else the first step. Raises :class:`ReplayError` (or :class:`LookupError`
    for an unknown run) with a message naming the bad input.
    """
    run = find_run(store, run_ref)
    if run.status is RunStatus.RUNNING:
        raise ReplayError(f"run {run.run_id} is still running; replay it once it has ended")
    original = _spec_of(store, run)
    if fix_id is not None:
        if patched_spec_text is not None:
            raise ReplayError("give a fix id or a patched spec, not both")
        patched_spec_text = apply_unified_diff(original.text, _spec_patch_of(store, run, fix_id))
    pipeline = original
    if patched_spec_text is not None:
        pipeline = _parse(patched_spec_text, f"pipelines/{run.pipeline}.yaml (patched)")
    start = from_step or _default_start(run, original, pipeline)
    steps = [s.id for s in pipeline.spec.steps]
    if start not in steps:
        raise ReplayError(
            f"no step {start!r} in pipeline {pipeline.spec.name} (steps: {', '.join(steps)})"
        )
    earlier = pipeline.spec.steps[: steps.index(start)]
    _check_unchanged(earlier, original, start)
    trigger = store.get_payload(run.trigger_hash) if run.trigger_hash else {}
    given = _recorded_outputs(store, run, earlier)
    return ReplayPlan(run, pipeline, start, trigger or {}, given, fix_id)


def _spec_of(store: TraceStore, run: RunRecord) -> LoadedPipeline:
    text = store.get_pipeline_spec(run.version_hash) if run.version_hash else None
    if text is None:
        raise ReplayError(
            f"run {run.run_id} has no stored pipeline spec (version {run.version_hash}); "
            "only pipeline runs can be replayed"
        )
    return _parse(text, f"pipelines/{run.pipeline}.yaml")


def _parse(text: str, source: str) -> LoadedPipeline:
    try:
        return parse_pipeline(text, source=source)
    except PipelineSpecError as exc:
        raise ReplayError(f"the spec to replay does not load: {exc}") from exc


def _spec_patch_of(store: TraceStore, run: RunRecord, fix_id: int) -> str:
    """The unified diff of the ``spec_patch`` fix in diagnosis ``fix_id`` of ``run``."""
    stored = {d.id: d for d in store.diagnoses(run.run_id)}
    record = stored.get(fix_id)
    if record is None:
        known = ", ".join(str(i) for i in stored) or "none"
        raise ReplayError(f"no diagnosis {fix_id} for run {run.run_id} (its diagnoses: {known})")
    fix = record.body.get("proposed_fix") or {}
    if fix.get("kind") != "spec_patch" or not fix.get("patch"):
        raise ReplayError(
            f"diagnosis {fix_id} proposes a {fix.get('kind', 'missing')!r} fix, not a "
            "spec_patch: there is no spec change to replay with"
        )
    return str(fix["patch"])


def _default_start(run: RunRecord, original: LoadedPipeline, pipeline: LoadedPipeline) -> str:
    changed = _first_changed(original, pipeline)
    if changed is not None:
        return changed
    ids = [s.id for s in pipeline.spec.steps]
    if run.failed_step in ids:
        return str(run.failed_step)
    return ids[0]


def _first_changed(original: LoadedPipeline, pipeline: LoadedPipeline) -> str | None:
    before = {s.id: s for s in original.spec.steps}
    for step in pipeline.spec.steps:
        if before.get(step.id) != step:
            return step.id
    return None


def _check_unchanged(earlier: list[StepSpec], original: LoadedPipeline, start: str) -> None:
    """A step whose recorded output is reused must be the step that produced it."""
    before = {s.id: s for s in original.spec.steps}
    for step in earlier:
        if before.get(step.id) != step:
            raise ReplayError(
                f"the patched spec changes step `{step.id}`, which comes before `{start}`: "
                f"its recorded output no longer applies; replay from `{step.id}` or earlier"
            )


def _recorded_outputs(store: TraceStore, run: RunRecord, earlier: list[StepSpec]) -> dict[str, Any]:
    succeeded = {
        a.step_id: a
        for a in store.attempts(run.run_id)
        if a.status is AttemptStatus.SUCCEEDED and a.output_hash
    }
    given: dict[str, Any] = {}
    for step in earlier:
        attempt = succeeded.get(step.id)
        if attempt is None or attempt.output_hash is None:
            raise ReplayError(
                f"step `{step.id}` has no recorded output in run {run.run_id} (it did not "
                f"succeed there); replay from `{step.id}` or earlier"
            )
        given[step.id] = store.get_payload(attempt.output_hash)
    return given


# --- running a replay ------------------------------------------------------------------


@dataclass
class ReplayOutcome:
    run_id: str
    parent_run_id: str
    status: str
    from_step: str
    version: str
    reused_steps: list[str]
    fix_id: int | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


async def replay_run(
    client: Client,
    task_queue: str,
    store: TraceStore,
    run_ref: str,
    from_step: str | None = None,
    *,
    fix_id: int | None = None,
    patched_spec_text: str | None = None,
) -> ReplayOutcome:
    """Plan, start and wait for a replay; a failed replay is an outcome, not an error."""
    plan = await asyncio.to_thread(
        plan_replay,
        store,
        run_ref,
        from_step,
        fix_id=fix_id,
        patched_spec_text=patched_spec_text,
    )
    return await run_plan(client, task_queue, store, plan)


async def run_plan(
    client: Client, task_queue: str, store: TraceStore, plan: ReplayPlan
) -> ReplayOutcome:
    """Store the version to run (a patched spec is a new version) and run the replay."""
    pipeline = plan.pipeline
    if await asyncio.to_thread(store.get_pipeline_spec, pipeline.version) is None:
        await asyncio.to_thread(
            store.save_pipeline_version, pipeline.spec.name, pipeline.text, version=pipeline.version
        )
    workflow_id = f"{pipeline.spec.name}-replay-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        PIPELINE_WORKFLOW,
        PipelineInput(
            spec=pipeline.spec.model_dump(mode="json", by_alias=True),
            trigger=plan.trigger,
            kind=RunKind.REPLAY.value,
            parent_run_id=plan.parent.run_id,
            given=plan.given,
        ),
        id=workflow_id,
        task_queue=task_queue,
        result_type=PipelineResult,
    )
    outcome = ReplayOutcome(
        run_id=f"{workflow_id}/{handle.result_run_id}",
        parent_run_id=plan.parent.run_id,
        status="failed",
        from_step=plan.from_step,
        version=pipeline.version,
        reused_steps=plan.reused_steps,
        fix_id=plan.fix_id,
    )
    try:
        result = await handle.result()
    except WorkflowFailureError as exc:
        outcome.error = str(exc.cause or exc)
        return outcome
    outcome.status = result.status
    outcome.outputs = result.outputs
    return outcome


@activity.defn(name=REUSE_ACTIVITY)
async def reuse_recorded_output(call: StepCall, output: Any) -> StepReturn:
    """A replayed step's recorded output, handed back without calling its tool.

    It exists so that the replay's trace shows the step (input, reused output) like any
    other; the op in ``call`` is the step's own, the activity type says it was reused.
    """
    return StepReturn(output=output)
