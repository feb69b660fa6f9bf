"""QC: the ``qc.review`` step and post-hoc review of a stored run.

:func:`run_evidence` reads a run's handoffs from the trace store into
:class:`rubrics.evidence.RunEvidence` (with, per write, the object as this pipeline last
wrote it in an earlier run, and the objects it wrote for the same trigger before);
:func:`orchestrator.qc.params.pipeline_params` says what the spec means;
:func:`rubrics.review.review` answers. Every result is stored with the step its evidence
points at, so ``steptrace why`` can walk a failed rubric back like an exception.
"""

from __future__ import annotations

from typing import Any

from orchestrator.qc.params import pipeline_params
from orchestrator.spec.ops import QC_REVIEW_OP
from orchestrator.spec.pipeline import PipelineSpec, parse_pipeline
from rubrics.evidence import (
    PipelineParams,
    RunEvidence,
    StepEvidence,
    WriteEvidence,
    path_key,
    path_kind,
)
from rubrics.judge import Judge
from rubrics.model import Outcome, RubricResult
from rubrics.reading import concept_values
from rubrics.review import coverage, review
from tracer.run_model import RecordedRun, RecordedStep, read_run
from tracer.store import RubricResultRecord, RunRecord, RunStatus, TraceStore

EARLIER_RUNS = 500
"""How many earlier runs of the pipeline are searched for runs on the same trigger."""
RECENT_RUNS = 20
"""How many earlier runs on other triggers give the recent items (duplicate check)."""
RECENT_TEXT = 400


# --- evidence ----------------------------------------------------------------------------


def run_evidence(
    store: TraceStore,
    run_id: str,
    *,
    planned: dict[str, dict[str, Any]] | None = None,
    params: PipelineParams | None = None,
) -> RunEvidence:
    """The handoffs of ``run_id`` as the rubrics read them."""
    run = store.get_run(run_id)
    if run is None:
        raise LookupError(f"no run {run_id!r} in the trace store")
    recorded = read_run(store, run)
    steps = _steps(recorded)
    trigger = recorded.trigger() or {}
    earlier = _earlier_runs(store, run)
    same = [r for r in earlier if r.trigger_hash is not None and r.trigger_hash == run.trigger_hash]
    others = [r for r in earlier if r.trigger_hash != run.trigger_hash][:RECENT_RUNS]
    steps = _with_history(store, steps, same)
    steps = _with_concurrent(store, steps, _concurrent_runs(store, run))
    return RunEvidence(
        run_id=run_id,
        pipeline=run.pipeline,
        trigger=trigger if isinstance(trigger, dict) else {},
        steps=steps,
        planned=planned or {},
        recent=_recent(store, others, params),
        read_history=_read_history(store, earlier, params),
        reread=_recorded_reread(recorded),
    )


REREAD_KEY = "reread"
"""Where the ``qc`` step's output keeps the second look at the source, when it took one."""


def _recorded_reread(run: RecordedRun) -> dict[str, list[dict[str, str]]]:
    """The second look the run's ``qc`` step took, if any
    (:func:`orchestrator.qc.reread.with_rereads`)."""
    for step in run.steps:
        if step.op != QC_REVIEW_OP or step.last.output_hash is None:
            continue
        output = run.output(step)
        found = output.get(REREAD_KEY) if isinstance(output, dict) else None
        if isinstance(found, dict):
            return {
                str(k): [dict(e) for e in v if isinstance(e, dict)]
                for k, v in found.items()
                if isinstance(v, list)
            }
    return {}


READ_HISTORY = 8
"""How many recent good runs say what a read step's fields usually are."""


def _read_history(
    store: TraceStore, earlier: list[RunRecord], params: PipelineParams | None
) -> dict[str, list[dict[str, str]]]:
    """Per read step, the JSON kind at each read path in the recent good runs."""
    reads = [s for s in (params.steps if params else []) if s.reads and s.read_paths]
    if not reads:
        return {}
    history: dict[str, list[dict[str, str]]] = {}
    for run in _good_runs(earlier):
        recorded = read_run(store, run)
        for params_step in reads:
            step = recorded.step(params_step.id)
            if step is None or step.last.output_hash is None:
                continue
            output = recorded.output(step)
            history.setdefault(params_step.id, []).append(
                {path_key(p): path_kind(output, p) for p in params_step.read_paths}
            )
    return history


def _good_runs(earlier: list[RunRecord]) -> list[RunRecord]:
    return [r for r in earlier if r.status == RunStatus.SUCCEEDED][:READ_HISTORY]


def recent_good_runs(store: TraceStore, run_id: str) -> list[RunRecord]:
    """The good runs that say what the run's read fields usually are (newest first)."""
    run = store.get_run(run_id)
    return [] if run is None else _good_runs(_earlier_runs(store, run))


def _steps(run: RecordedRun) -> list[StepEvidence]:
    return [_step(run, step) for step in run.steps if step.op != QC_REVIEW_OP]


def _step(run: RecordedRun, step: RecordedStep) -> StepEvidence:
    last, tries = step.last, step.attempts
    writes = [WriteEvidence.model_validate(w.model_dump()) for w in run.writes(step)]
    return StepEvidence(
        id=step.step_id,
        op=step.op,
        index=step.index,
        input=run.input(step),
        output=run.output(step),
        status=last.status.value,
        attempts=len({a.attempt for a in tries}),
        inner_retries=_inner_retries(step),
        duration_ms=max(a.duration_ms for a in tries),
        writes=writes,
    )


def _inner_retries(step: RecordedStep) -> int:
    """The tool calls the step's attempts retried inside themselves, each attempt counted
    once (its last record, like :attr:`StepEvidence.attempts`)."""
    per_attempt = {a.attempt: len(a.inner_retries) for a in step.attempts}
    return sum(per_attempt.values())


def _earlier_runs(store: TraceStore, run: RunRecord) -> list[RunRecord]:
    runs = store.list_runs(pipeline=run.pipeline, limit=EARLIER_RUNS + 1)
    return [r for r in runs if r.run_id != run.run_id and r.started_at < run.started_at]


def _concurrent_runs(store: TraceStore, run: RunRecord) -> list[RunRecord]:
    """Our other runs on the same trigger whose lifetime overlaps this one's: what they
    wrote is not a person's edit, whichever of the two started first."""
    runs = store.list_runs(pipeline=run.pipeline, limit=EARLIER_RUNS + 1)
    return [
        r
        for r in runs
        if r.run_id != run.run_id
        and r.trigger_hash is not None
        and r.trigger_hash == run.trigger_hash
        and (r.ended_at is None or r.ended_at >= run.started_at)
        and (run.ended_at is None or r.started_at <= run.ended_at)
    ]


def _with_concurrent(
    store: TraceStore, steps: list[StepEvidence], concurrent: list[RunRecord]
) -> list[StepEvidence]:
    if not concurrent or not any(step.writes for step in steps):
        return steps
    images: dict[tuple[str, str | None, str], list[str]] = {}
    for other in concurrent:
        for attempt in store.attempts(other.run_id):
            for w in attempt.external_writes:
                if w.after_hash:
                    images.setdefault((w.tool, w.container, w.object_id), []).append(w.after_hash)
    updated = []
    for step in steps:
        writes = [
            write.model_copy(
                update={
                    "concurrent_after": [
                        store.get_payload(h)
                        for h in images.get((write.tool, write.container, write.object_id), [])
                    ]
                }
            )
            for write in step.writes
        ]
        updated.append(step.model_copy(update={"writes": writes}))
    return updated


def _with_history(
    store: TraceStore, steps: list[StepEvidence], same: list[RunRecord]
) -> list[StepEvidence]:
    """Each write with the same object's last after-image from an earlier run on the same
    trigger, and the objects the same step wrote for that trigger before."""
    if not any(step.writes for step in steps):
        return steps
    previous: dict[tuple[str, str | None, str], tuple[str, str | None]] = {}
    same_trigger: dict[tuple[str, str | None], set[str]] = {}
    for run in same:  # newest first: the first image seen is the last one written
        for step in read_run(store, run).steps:
            for attempt in step.attempts:
                for w in attempt.external_writes:
                    key = (w.tool, w.container or "", w.object_id)
                    previous.setdefault(key, (run.run_id, w.after_hash))
                    if w.action != "deleted":
                        same_trigger.setdefault((step.step_id, w.container or ""), set()).add(
                            w.object_id
                        )
    return [_step_history(store, step, previous, same_trigger) for step in steps]


def _step_history(
    store: TraceStore,
    step: StepEvidence,
    previous: dict[tuple[str, str | None, str], tuple[str, str | None]],
    same_trigger: dict[tuple[str, str | None], set[str]],
) -> StepEvidence:
    writes = []
    for write in step.writes:
        run_id, after_hash = previous.get(
            (write.tool, write.container, write.object_id), (None, None)
        )
        writes.append(
            write.model_copy(
                update={
                    "previous_after": store.get_payload(after_hash) if after_hash else None,
                    "previous_run": run_id,
                    "earlier_object_ids": sorted(
                        same_trigger.get((step.id, write.container), set())
                    ),
                }
            )
        )
    return step.model_copy(update={"writes": writes})


def _recent(
    store: TraceStore, others: list[RunRecord], params: PipelineParams | None
) -> list[dict[str, Any]]:
    """Title and description of the source object of recent runs on other triggers."""
    if params is None or params.source_step is None:
        return []
    recent = []
    for run in others:
        recorded = read_run(store, run)
        source = recorded.step(params.source_step)
        if source is None or source.last.output_hash is None:
            continue
        output = recorded.output(source)
        item = {
            concept: str(found[0].value)[:RECENT_TEXT]
            for concept in ("id", "title", "description")
            if (found := concept_values(params.source_step, output, concept))
        }
        if item:
            recent.append(item)
    return recent


# --- review ------------------------------------------------------------------------------


def spec_of(store: TraceStore, version: str) -> PipelineSpec:
    text = store.get_pipeline_spec(version)
    if text is None:
        raise LookupError(f"the trace store has no pipeline spec of version {version!r}")
    return parse_pipeline(text, source=f"<pipeline {version}>").spec


def review_run(
    store: TraceStore,
    run_id: str,
    spec: PipelineSpec,
    judge: Judge | None = None,
    *,
    select: list[str] | None = None,
    planned: dict[str, dict[str, Any]] | None = None,
    save: bool = True,
) -> list[RubricResult]:
    """Review a run (post hoc, or from the ``qc`` step) and store every result."""
    params = pipeline_params(spec)
    evidence = run_evidence(store, run_id, planned=planned, params=params)
    return review_evidence(store, evidence, params, judge, select=select, save=save)


def review_evidence(
    store: TraceStore,
    evidence: RunEvidence,
    params: PipelineParams,
    judge: Judge | None = None,
    *,
    select: list[str] | None = None,
    save: bool = True,
) -> list[RubricResult]:
    """Review evidence already read (and maybe completed by a second look at the
    source) and store every result."""
    results = review(evidence, params, judge=judge, select=select)
    if save and not store.rubric_results(evidence.run_id):  # a retried review stores once
        store.add_rubric_results([result_record(evidence.run_id, r) for r in results])
    return results


def result_record(run_id: str, result: RubricResult) -> RubricResultRecord:
    return RubricResultRecord(
        run_id=run_id,
        rubric_id=result.rubric_id,
        rubric_version=result.rubric_version,
        outcome=result.outcome.value,
        severity=result.severity,
        step_id=result.step_id,
        evidence={
            "kind": result.kind,
            "message": result.message,
            "items": [item.model_dump(mode="json") for item in result.evidence],
        },
    )


def result_from_record(record: RubricResultRecord) -> RubricResult:
    """A stored result read back."""
    evidence = record.evidence
    return RubricResult.model_validate(
        {
            "rubric_id": record.rubric_id,
            "rubric_version": record.rubric_version,
            "outcome": record.outcome,
            "severity": record.severity,
            "kind": evidence.get("kind", "deterministic"),
            "evidence": evidence.get("items", []),
            "message": evidence.get("message", ""),
        }
    )


def summary(results: list[RubricResult]) -> dict[str, Any]:
    """The ``qc`` step's output: rubric ids by outcome, and the coverage."""
    return {
        "passed": [r.rubric_id for r in results if r.outcome == Outcome.PASS],
        "failed": [r.rubric_id for r in results if r.outcome == Outcome.FAIL],
        "blockers": [r.rubric_id for r in results if r.blocker_failed],
        "not_judged": [r.rubric_id for r in results if r.outcome == Outcome.NOT_JUDGED],
        "errors": [r.rubric_id for r in results if r.outcome == Outcome.ERROR],
        "coverage": coverage(results),
    }


def untraced_summary() -> dict[str, Any]:
    """The ``qc`` step's output when tracing is off: every rubric not judged."""
    from rubrics.registry import RUBRICS

    ids = [rubric.id for rubric in RUBRICS]
    return {
        "passed": [],
        "failed": [],
        "blockers": [],
        "not_judged": ids,
        "errors": [],
        "coverage": {"judged": 0, "not_judged": len(ids), "reason": "tracing is off"},
    }


# --- report ------------------------------------------------------------------------------

ORDER = {
    Outcome.FAIL: 0,
    Outcome.ERROR: 1,
    Outcome.NOT_JUDGED: 2,
    Outcome.PASS: 3,
    Outcome.NOT_APPLICABLE: 4,
}
SEVERITY_ORDER = {"blocker": 0, "major": 1, "minor": 2}


def qc_report(store: TraceStore, run_id: str, judge: Judge | None = None) -> dict[str, Any]:
    """A run's rubric results, failures first: the stored ones, or a post-hoc review
    (stored too) when the run has none. ``{"run_id", "results", "coverage"}``."""
    run = store.get_run(run_id)
    if run is None:
        raise LookupError(f"no run {run_id!r} in the trace store")
    stored = store.rubric_results(run_id)
    if stored:
        results = [result_from_record(r) for r in stored]
    else:
        if run.version_hash is None:
            raise LookupError(f"run {run_id} has no pipeline version: it cannot be reviewed")
        results = review_run(store, run_id, spec_of(store, run.version_hash), judge)
    ordered = sorted(
        results, key=lambda r: (ORDER[r.outcome], SEVERITY_ORDER[r.severity], r.rubric_id)
    )
    return {
        "run_id": run_id,
        "results": [r.model_dump(mode="json") | {"step_id": r.step_id} for r in ordered],
        "coverage": coverage(results),
    }
