"""Running a failed run's QC rubrics again on the handoffs a fix's replay produced.

A fix for a QC failure is verified only when the rubrics that failed now pass. The
replay recomputes transforms and the arguments of every write; this module lays those
over the run's recorded evidence and reviews again. A write whose arguments changed has
no after-image yet (it was not sent), so a rubric that needs one cannot pass: it reports
``not_applicable`` and the fix stays unverified, never falsely verified.
"""

from __future__ import annotations

from typing import Any

from orchestrator.diagnosis.fix_guard import RubricCheck
from orchestrator.qc.params import pipeline_params
from orchestrator.qc.review import run_evidence
from orchestrator.spec.pipeline import PipelineSpec
from rubrics.evidence import RunEvidence, StepEvidence
from rubrics.review import review
from tracer.store import TraceStore


def rubric_check_for(store: TraceStore, run_id: str, spec: PipelineSpec) -> RubricCheck:
    """A :data:`RubricCheck` over ``run_id``'s recorded evidence (read once, lazily);
    ``spec`` is the run's own spec, used when the replay does not name a patched one."""
    cache: dict[str, RunEvidence] = {}

    def check(context: dict[str, Any], ids: tuple[str, ...], patched: Any) -> dict[str, str] | None:
        params = pipeline_params(patched if isinstance(patched, PipelineSpec) else spec)
        if "base" not in cache:
            try:
                cache["base"] = run_evidence(store, run_id, params=pipeline_params(spec))
            except LookupError:
                return None
        evidence = replayed_evidence(cache["base"], context)
        results = review(evidence, params, select=list(ids))
        return {r.rubric_id: r.outcome.value for r in results}

    return check


def replayed_evidence(base: RunEvidence, context: dict[str, Any]) -> RunEvidence:
    """``base`` with the replay's transform outputs and write arguments laid over it."""
    steps = [_replayed(step, context) for step in base.steps]
    planned = dict(base.planned)
    for step_id in list(planned):
        if f"{step_id}.args" in context:
            planned[step_id] = context[f"{step_id}.args"]
    return base.model_copy(update={"steps": steps, "planned": planned})


def _replayed(step: StepEvidence, context: dict[str, Any]) -> StepEvidence:
    args = context.get(f"{step.id}.args")
    if args is not None and args != step.input:
        # Not sent yet: no after-image, and no output the tool would have answered.
        return step.model_copy(update={"input": args, "writes": [], "output": None})
    if step.op == "transform" and step.id in context:
        return step.model_copy(update={"output": context[step.id]})
    return step
