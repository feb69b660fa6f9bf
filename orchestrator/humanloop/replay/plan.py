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

from dataclasses import dataclass
from typing import Any

from orchestrator.spec.pipeline import LoadedPipeline, PipelineSpecError, StepSpec, parse_pipeline
from orchestrator.spec.unified_diff import PatchApplyError, apply_unified_diff
from tracer.run_model import find_run, read_run
from tracer.store import RunRecord, RunStatus, TraceStore


class ReplayError(ValueError):
    """The replay cannot start; the message names the bad input."""


class FixPatchError(ReplayError, PatchApplyError):
    """The approved fix's spec patch does not apply to the spec the run ran."""


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
        try:
            patched_spec_text = apply_unified_diff(
                original.text, _spec_patch_of(store, run, fix_id)
            )
        except PatchApplyError as exc:
            raise FixPatchError(f"the fix's patch does not apply: {exc}") from exc
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
    recorded = read_run(store, run)
    given: dict[str, Any] = {}
    for step in earlier:
        found = recorded.step(step.id)
        if found is None or not found.succeeded or found.last.output_hash is None:
            raise ReplayError(
                f"step `{step.id}` has no recorded output in run {run.run_id} (it did not "
                f"succeed there); replay from `{step.id}` or earlier"
            )
        given[step.id] = recorded.output(found)
    return given
