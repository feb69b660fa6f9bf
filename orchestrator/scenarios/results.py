"""What a scenario run reports (DESIGN §6), and its score against ``expect:``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from orchestrator.scenarios.spec import Expectation
from tracer.diagnosis_model import Diagnosis
from tracer.faults import FaultClass, FixKind

SCORED_FIELDS = ("status", "onset_step", "fault_class", "fix_kind")


class FixView(BaseModel):
    kind: FixKind
    patch: str | None = None
    verified: bool | None = None
    detail: str = ""


class DiagnosisView(BaseModel):
    onset_step: str | None
    fault_class: FaultClass
    explanation: str
    proposed_fix: FixView


class QcView(BaseModel):
    passed: bool | None = Field(description="None when no rubric ran")
    failed: list[str] = Field(default_factory=list)


class StepAttempts(BaseModel):
    """Each step's attempts, so retries that absorbed a fault are visible."""

    id: str
    status: str
    attempts: int
    errors: list[str] = Field(default_factory=list)
    inner_retries: list[str] = Field(
        default_factory=list, description="tool calls retried inside the step's attempts"
    )


class Baselines(BaseModel):
    """The naive answers (DESIGN §5) for this run, beside ours."""

    raised_step: str | None = Field(description="the step that raised")
    first_diff_step: str | None = Field(
        description="the first step whose output differs from the last good run"
    )
    last_good_run: str | None = None


class Recovery(BaseModel):
    """Whether the proposed fix, applied and run against the faulted sandbox, wrote what a
    fault-free twin run of the same trigger wrote (``None``: not checked)."""

    recovers: bool | None = None
    detail: str = ""


class RunResult(BaseModel):
    index: int
    run_id: str
    trigger: Any
    status: str
    failed_step: str | None
    diagnosis: DiagnosisView | None
    qc: QcView
    steps: list[StepAttempts] = Field(default_factory=list)
    baselines: Baselines | None = None
    recovery: Recovery | None = None


class ExpectationScore(BaseModel):
    run: int
    expected: dict[str, Any]
    actual: dict[str, Any]
    matched: dict[str, bool]


class Score(BaseModel):
    expectations: list[ExpectationScore]
    totals: dict[str, dict[str, int]] = Field(description="field -> {right, of}")
    all_matched: bool


class ScenarioResult(BaseModel):
    scenario: str
    file: str
    pipeline: str
    runs: list[RunResult]
    score: Score | None = None


def diagnosis_view(diagnosis: Diagnosis | None) -> DiagnosisView | None:
    if diagnosis is None:
        return None
    fix = diagnosis.proposed_fix
    return DiagnosisView(
        onset_step=diagnosis.onset_step,
        fault_class=diagnosis.fault_class,
        explanation=diagnosis.explanation,
        proposed_fix=FixView(
            kind=fix.kind, patch=fix.patch, verified=fix.verified, detail=fix.detail
        ),
    )


def actual_values(run: RunResult) -> dict[str, Any]:
    """What steptrace said about a run, in the terms of an expectation."""
    found = run.diagnosis
    return {
        "status": run.status,
        "onset_step": found.onset_step if found else None,
        "fault_class": found.fault_class if found else None,
        "fix_kind": found.proposed_fix.kind if found else None,
    }


def score(expectations: Iterable[Expectation], runs: list[RunResult]) -> Score:
    """Per expectation, which of status / onset / class / fix kind matched; totals."""
    by_index = {run.index: run for run in runs}
    scored: list[ExpectationScore] = []
    totals = {name: {"right": 0, "of": 0} for name in SCORED_FIELDS}
    for expected in expectations:
        wanted = {
            name: value
            for name, value in expected.model_dump(exclude={"run"}, exclude_none=True).items()
            if name in SCORED_FIELDS  # notes for the benchmark (``recoverable``) score nothing
        }
        run = by_index.get(expected.run)
        actual = actual_values(run) if run else dict.fromkeys(SCORED_FIELDS)
        matched = {name: actual.get(name) == value for name, value in wanted.items()}
        for name, right in matched.items():
            totals[name]["of"] += 1
            totals[name]["right"] += int(right)
        scored.append(
            ExpectationScore(run=expected.run, expected=wanted, actual=actual, matched=matched)
        )
    all_matched = all(all(s.matched.values()) for s in scored)
    return Score(expectations=scored, totals=totals, all_matched=all_matched)


def short_trigger(trigger: Any) -> str:
    if isinstance(trigger, dict) and len(trigger) == 1:
        return str(next(iter(trigger.values())))
    return str(trigger)
