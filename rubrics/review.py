"""Run the rubrics over one run's evidence.

A check that raises is reported as ``error`` with the exception named, never as a pass,
and never stops the other rubrics.
"""

from __future__ import annotations

from rubrics.evidence import PipelineParams, RunEvidence
from rubrics.judge import Judge
from rubrics.model import CheckContext, Finding, Outcome, Rubric, RubricResult
from rubrics.registry import select_rubrics


def review(
    evidence: RunEvidence,
    params: PipelineParams,
    *,
    judge: Judge | None = None,
    select: list[str] | None = None,
) -> list[RubricResult]:
    """Every selected rubric's result for the run, in registry order."""
    ctx = CheckContext(evidence=evidence, params=params, judge=judge)
    return [run_rubric(rubric, ctx) for rubric in select_rubrics(select)]


def run_rubric(rubric: Rubric, ctx: CheckContext) -> RubricResult:
    try:
        finding = rubric.check(ctx)
    except Exception as exc:  # one broken check must not hide the others' results
        finding = Finding(Outcome.ERROR, f"the check raised {type(exc).__name__}: {exc}")
    return RubricResult(
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        outcome=finding.outcome,
        severity=rubric.severity,
        kind=rubric.kind,
        evidence=list(finding.evidence),
        message=finding.message,
    )


def coverage(results: list[RubricResult]) -> dict[str, int]:
    """How many rubrics were judged, and how the rest ended."""
    counts = {outcome.value: 0 for outcome in Outcome}
    for result in results:
        counts[result.outcome.value] += 1
    judged = counts["pass"] + counts["fail"]
    return {"rubrics": len(results), "judged": judged, **counts}
