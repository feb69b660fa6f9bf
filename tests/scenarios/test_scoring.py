"""Scoring, on small fixed inputs: a scenario's ``score`` per expectation, the
localization benchmark's figures and its two baselines, and the "first step whose output
differs from the last good run" baseline itself."""

from __future__ import annotations

from typing import Any

from bench.localization import budgets_met, score_scenarios, summary
from orchestrator.scenarios import (
    Baselines,
    DiagnosisView,
    FixView,
    QcView,
    RunResult,
    ScenarioResult,
    first_differing_step,
    load_scenario,
    score,
)
from orchestrator.scenarios.results import Recovery
from tests.scenarios.conftest import ScenarioWriter

SCENARIO = """\
name: tiny
pipeline: pipelines/linear-triage-sync.yaml
runs: {count: 4}
faults: []
expect:
  - {run: 1, status: succeeded}
  - {run: 3, status: failed, onset_step: normalize, fault_class: mapping_error,
     fix_kind: spec_patch}
  - {run: 4, status: failed, onset_step: fetch_issue, fault_class: upstream_schema_drift,
     fix_kind: escalate}
"""


def run(
    index: int,
    status: str,
    *,
    failed_step: str | None = None,
    diagnosis: dict[str, Any] | None = None,
    first_diff: str | None = None,
) -> RunResult:
    found = None
    if diagnosis is not None:
        fix = FixView(kind=diagnosis["fix"], verified=diagnosis.get("verified"))
        found = DiagnosisView(
            onset_step=diagnosis["onset"],
            fault_class=diagnosis["class"],
            explanation="",
            proposed_fix=fix,
        )
    return RunResult(
        index=index,
        run_id=f"tiny-{index}/r",
        trigger={"issue": f"ENG-{100 + index}"},
        status=status,
        failed_step=failed_step,
        diagnosis=found,
        qc=QcView(passed=None),
        baselines=Baselines(raised_step=failed_step, first_diff_step=first_diff),
    )


RUNS = [
    run(1, "succeeded"),
    run(2, "succeeded"),
    # right onset and class, verified patch; the step that raised is later
    run(
        3,
        "failed",
        failed_step="upsert_airtable",
        first_diff="fetch_issue",
        diagnosis={
            "onset": "normalize",
            "class": "mapping_error",
            "fix": "spec_patch",
            "verified": True,
        },
    ),
    # wrong class and fix, right onset; the first-diff baseline gets this one
    run(
        4,
        "failed",
        failed_step="sync_monday",
        first_diff="fetch_issue",
        diagnosis={"onset": "fetch_issue", "class": "invalid_source_data", "fix": "data_patch"},
    ),
]


def test_a_scenario_score_says_which_fields_matched(write_scenario: ScenarioWriter) -> None:
    scenario = load_scenario(write_scenario(SCENARIO))
    found = score(scenario.spec.expect, RUNS)
    assert [s.matched for s in found.expectations] == [
        {"status": True},
        {"status": True, "onset_step": True, "fault_class": True, "fix_kind": True},
        {"status": True, "onset_step": True, "fault_class": False, "fix_kind": False},
    ]
    assert found.totals == {
        "status": {"right": 3, "of": 3},
        "onset_step": {"right": 2, "of": 2},
        "fault_class": {"right": 1, "of": 2},
        "fix_kind": {"right": 1, "of": 2},
    }
    assert not found.all_matched
    assert found.expectations[2].actual["fault_class"] == "invalid_source_data"


def test_a_run_that_did_not_fail_is_wrong_everywhere(write_scenario: ScenarioWriter) -> None:
    scenario = load_scenario(write_scenario(SCENARIO))
    quiet = [*RUNS[:3], run(4, "succeeded")]
    found = score(scenario.spec.expect, quiet)
    assert found.expectations[2].matched == {
        "status": False,
        "onset_step": False,
        "fault_class": False,
        "fix_kind": False,
    }


def test_the_benchmark_scores_failed_runs_against_truth_and_baselines(
    write_scenario: ScenarioWriter,
) -> None:
    scenario = load_scenario(write_scenario(SCENARIO))
    result = ScenarioResult(
        scenario="tiny",
        file="tiny.yaml",
        pipeline="linear-triage-sync",
        runs=RUNS,
        score=score(scenario.spec.expect, RUNS),
    )
    figures = score_scenarios([result], [scenario])
    assert figures["onset_accuracy"] == 1.0
    assert figures["class_accuracy"] == 0.5
    assert figures["fix_kind_accuracy"] == 0.5
    # of the two patch fixes (spec_patch on run 3, data_patch on run 4) one is verified
    assert figures["fix_verified_rate"] == 0.5
    assert figures["baseline_raised_step"] == 0.0
    assert figures["baseline_first_diff"] == 0.5
    assert [row["run"] for row in figures["failures"]] == [3, 4]
    assert figures["scenarios"][0]["onset_right"] is True
    assert figures["scenarios"][0]["class_right"] is False
    assert budgets_met(figures) == {
        "onset": True,
        "class": False,
        "verified": False,
        "recovers": False,
        "harmless": True,
    }
    assert "class accuracy 0.5 (budget >= 0.95: MISSED)" in summary(figures)

    # A verified fix that, applied against the faulted sandbox, does not write what the
    # fault-free twin wrote is harmful; an unverified one that fails is merely no fix.
    failing = [
        run.model_copy(update={"recovery": Recovery(recovers=False, detail="x")}) for run in RUNS
    ]
    figures = score_scenarios([result.model_copy(update={"runs": failing})], [scenario])
    assert figures["harmful_verified"] == ["tiny"]
    assert budgets_met(figures)["harmless"] is False
    assert "harmful verified fixes 1 (budget 0: MISSED)" in summary(figures)


def test_first_diff_is_the_first_step_whose_output_is_new_or_missing() -> None:
    good = [("fetch", "h1"), ("normalize", "h2"), ("write", "h3")]
    assert first_differing_step(good, [("fetch", "h1"), ("normalize", "h9"), ("write", "h3")]) == (
        "normalize"
    )
    assert first_differing_step(good, [("fetch", "h1"), ("normalize", "h2"), ("write", None)]) == (
        "write"
    )
    assert first_differing_step(good, good) is None
