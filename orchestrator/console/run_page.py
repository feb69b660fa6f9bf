"""What the run page shows, as plain data: the page renders it, ``.json`` returns it.

Everything starts from the one read model of a run (:func:`tracer.run_model.read_run`)
and its step views (:func:`tracer.run_views.step_views`). Each step's handoff is
compared with the same step of the **last good run** (the newest succeeded run of the
same pipeline and spec version that started earlier, else of any version): its output,
or its input when either side has no output (a failed step), as ``steptrace diff`` does.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.console.immutable import DIFFS
from orchestrator.diagnosis.diagnoser import links, stored_diagnosis
from orchestrator.runtime.escalation_handoff import rollback_target
from tracer.diagnosis_model import Diagnosis, ImplicatedValue
from tracer.diff import structural_diff
from tracer.run_model import RecordedRun, RecordedStep, read_run
from tracer.run_views import RunView, StepView, run_view, step_views
from tracer.steps import WriteImage
from tracer.store import HumanActionRecord, RubricResultRecord, RunRecord, TraceStore


class Change(BaseModel):
    path: str
    path_list: list[str | int]
    kind: str
    old: Any = None
    new: Any = None


class StepDetail(BaseModel):
    """One step on the timeline, with what the page needs to draw it."""

    view: StepView
    retries: int
    is_onset: bool = False
    is_failed: bool = False
    input_hash: str
    output_hash: str | None = None
    compared: Literal["output", "input"] = "output"
    compared_with: str | None = Field(
        default=None, description="the last good payload hash the compared side was diffed with"
    )
    changes: list[Change] = []
    writes: list[WriteImage] = []
    implicated: list[ImplicatedValue] = []


class EvidenceLink(BaseModel):
    """One step of the evidence chain, from the onset to the symptom."""

    step: str
    role: Literal["onset", "between", "symptom"]
    implicated: list[ImplicatedValue] = []


class RunPage(BaseModel):
    run: RunView
    version_hash: str | None
    steps: list[StepDetail]
    last_good_run_id: str | None = None
    diagnosis: Diagnosis | None = None
    evidence_chain: list[EvidenceLink] = []
    rubric_results: list[RubricResultRecord] = []
    human_actions: list[HumanActionRecord] = []
    linked_runs: list[RunView] = []
    temporal_url: str | None = None
    rollback_to: str | None = None
    failure_group: str | None = None


def run_page(
    store: TraceStore, run: RunRecord, *, temporal_ui: str | None = None
) -> tuple[RunPage, RecordedRun]:
    """The run page's data for ``run`` (reads only; computes no diagnosis), with the read
    model it came from (its payload cache holds every handoff the page shows)."""
    recorded = read_run(store, run)
    baseline = last_good(store, run)
    recorded.prefetch(recorded.handoff_hashes())
    if baseline is not None:
        baseline.prefetch(
            h for s in baseline.steps for h in (s.last.input_hash, s.last.output_hash)
        )
    diagnosis = stored_diagnosis(store, run.run_id)
    onset = diagnosis.onset_step if diagnosis else None
    failed = (diagnosis.failed_step if diagnosis else None) or run.failed_step
    implicated = diagnosis.evidence.implicated if diagnosis else []
    steps = [
        _detail(recorded, step, view, baseline, onset=onset, failed=failed, implicated=implicated)
        for step, view in zip(recorded.steps, step_views(recorded), strict=True)
    ]
    temporal = diagnosis.links.temporal if diagnosis else None
    if temporal is None and temporal_ui:
        temporal = links(run, None, temporal_ui).temporal
    children = store.list_runs(parent_run_id=run.run_id, limit=20)
    page = RunPage(
        run=run_view(store, run, with_steps=False),
        version_hash=run.version_hash,
        steps=steps,
        last_good_run_id=baseline.run_id if baseline else None,
        diagnosis=diagnosis,
        evidence_chain=evidence_chain(steps, onset, failed),
        rubric_results=store.rubric_results(run.run_id),
        human_actions=store.human_actions(run.run_id),
        linked_runs=[run_view(store, child, with_steps=False) for child in children],
        temporal_url=temporal,
        rollback_to=rollback_target([s.step_id for s in recorded.steps], onset),
        failure_group=run.failure_group,
    )
    return page, recorded


def last_good(store: TraceStore, run: RunRecord) -> RecordedRun | None:
    """The run a handoff is compared with: same version first, then same pipeline."""
    found = store.last_good_run(run.pipeline, run.version_hash, run.started_at)
    if found is None and run.version_hash is not None:
        found = store.last_good_run(run.pipeline, None, run.started_at)
    return read_run(store, found) if found is not None else None


def _detail(
    run: RecordedRun,
    step: RecordedStep,
    view: StepView,
    baseline: RecordedRun | None,
    *,
    onset: str | None,
    failed: str | None,
    implicated: list[ImplicatedValue],
) -> StepDetail:
    compared, compared_with, changes = _handoff_changes(run, step, baseline)
    return StepDetail(
        view=view,
        retries=len(step.attempts) - 1,
        is_onset=step.step_id == onset,
        is_failed=step.step_id == failed,
        input_hash=step.last.input_hash,
        output_hash=step.last.output_hash,
        compared=compared,
        compared_with=compared_with,
        changes=changes,
        writes=list(run.writes(step)),
        implicated=[i for i in implicated if i.step == step.step_id],
    )


def _handoff_changes(
    run: RecordedRun, step: RecordedStep, baseline: RecordedRun | None
) -> tuple[Literal["output", "input"], str | None, list[Change]]:
    """The side compared, the last good payload it was compared with, and the changes."""
    other = baseline.step(step.step_id) if baseline is not None else None
    mine_out = step.last.output_hash
    if other is None or baseline is None:
        return ("output" if mine_out else "input"), None, []
    compared: Literal["output", "input"] = "output"
    old_hash, new_hash = other.last.output_hash, mine_out
    if mine_out is None or other.last.output_hash is None:
        compared, old_hash, new_hash = "input", other.last.input_hash, step.last.input_hash
    if old_hash is None or new_hash is None or old_hash == new_hash:
        return compared, None, []  # content-addressed: the same hash is the same value
    rows = DIFFS.get_or_make(
        (old_hash, new_hash),
        lambda: structural_diff(baseline.payload(old_hash), run.payload(new_hash)).rows(),
    )
    return compared, old_hash, [Change.model_validate(r) for r in rows]


def evidence_chain(
    steps: list[StepDetail], onset: str | None, failed: str | None
) -> list[EvidenceLink]:
    """The steps from the onset to the symptom, in run order, with what each carried."""
    ids = [s.view.id for s in steps]
    if onset is None or onset not in ids:
        return []
    start = ids.index(onset)
    end = ids.index(failed) if failed is not None and failed in ids else len(ids) - 1
    chain = []
    for detail in steps[start : max(start, end) + 1]:
        role: Literal["onset", "between", "symptom"] = (
            "onset"
            if detail.view.id == onset
            else "symptom"
            if detail.view.id == failed
            else "between"
        )
        chain.append(EvidenceLink(step=detail.view.id, role=role, implicated=detail.implicated))
    return chain


def changed_paths(detail: StepDetail) -> dict[tuple[str | int, ...], Any]:
    """The paths of the compared side that changed, with the last good value at each."""
    return {tuple(c.path_list): c.old for c in detail.changes}
