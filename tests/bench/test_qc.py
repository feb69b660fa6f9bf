"""The QC benchmark: its scoring on a small fixed input, its scenario table, and one
silent defect run end to end (a real Temporal dev server and the sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.qc import (
    DEFECTS,
    QC_DIR,
    ObservedRun,
    RubricOutcome,
    load_all,
    observe_scenario,
    score,
    summary,
)
from orchestrator.scenarios import ScenarioError, load_scenario
from rubrics.registry import RUBRICS_BY_ID
from tests.orchestrator.conftest import temporal_address

__all__ = ["temporal_address"]  # the session's dev server fixture


def outcome(rubric: str, result: str, severity: str = "blocker") -> RubricOutcome:
    return RubricOutcome(rubric=rubric, outcome=result, severity=severity, kind="deterministic")


def defect(name: str, rubric: str, failed: list[RubricOutcome], onset: str | None) -> ObservedRun:
    return ObservedRun(
        scenario=name,
        run=1,
        run_id=f"{name}/1",
        status="qc_failed",
        expected_status="qc_failed",
        expected_onset="normalize",
        rubric=rubric,
        results=failed,
        onset_step=onset,
    )


def clean(name: str, results: list[RubricOutcome]) -> ObservedRun:
    return ObservedRun(
        scenario=name,
        run=1,
        run_id=f"{name}/1",
        status="succeeded",
        expected_status="succeeded",
        expected_onset=None,
        results=results,
    )


FIXED = [
    # caught by its own rubric, pinned right
    defect(
        "a",
        "integrity.priority_agrees",
        [outcome("integrity.priority_agrees", "fail")],
        "normalize",
    ),
    # caught by another blocker, pinned wrong
    defect(
        "b", "integrity.labels_agree", [outcome("integrity.title_agrees", "fail")], "fetch_issue"
    ),
    # only a minor rubric that is not its own failed: missed
    defect(
        "c",
        "safety.no_secrets",
        [outcome("safety.assignee_mentioned", "fail", "minor")],
        "normalize",
    ),
    # nothing failed and nothing diagnosed
    defect("d", "integrity.schema_conforms", [], None),
    clean(
        "e",
        [
            outcome("integrity.title_agrees", "pass"),
            outcome("integrity.due_date_agrees", "fail"),
            outcome("integrity.schema_conforms", "not_applicable"),
            RubricOutcome(
                rubric="judgment.summary_faithful", outcome="fail", severity="major", kind="llm"
            ),
        ],
    ),
    clean("f", [outcome("integrity.title_agrees", "pass"), outcome("safety.no_secrets", "pass")]),
]


def test_the_scoring_on_a_fixed_input() -> None:
    result = score(FIXED)

    assert result["recall"] == 0.5  # a and b of four
    assert result["attribution_accuracy"] == 0.5  # a and c name normalize
    # four deterministic verdicts on clean runs (not_applicable and the LLM rubric are no
    # deterministic verdict), one of them a failure
    assert result["false_alarm_rate"] == 0.25
    assert result["clean_runs"] == 2
    assert result["false_alarms"] == [
        {"scenario": "e", "run": 1, "rubrics": ["integrity.due_date_agrees"]}
    ]
    rows = {row["scenario"]: row for row in result["defects"]}
    assert rows["a"]["intended_failed"] and rows["a"]["attributed"]
    assert rows["b"]["caught"] and not rows["b"]["intended_failed"]
    assert not rows["c"]["caught"] and rows["c"]["attributed"]
    by_rubric = {row["id"]: row for row in result["rubrics"]}
    assert by_rubric["integrity.due_date_agrees"]["false_alarms"] == 1
    assert by_rubric["integrity.title_agrees"]["clean_verdicts"] == 2
    assert "MISSED" in summary(result)


def test_no_run_means_no_figure() -> None:
    result = score([])

    assert result["recall"] is None and result["false_alarm_rate"] is None
    assert "MISSED" in summary(result)


def test_every_scenario_in_the_table_exists_and_names_a_known_rubric() -> None:
    scenarios = {s.path.stem: s for s in load_all(QC_DIR)}

    for name, rubric in DEFECTS.items():
        assert name in scenarios, name
        assert rubric in RUBRICS_BY_ID, rubric
    pipelines = {s.pipeline.spec.name.split("-")[0] for s in scenarios.values()}
    assert {"linear", "airtable", "monday"} <= pipelines
    defects = sum(1 for s in scenarios.values() for e in s.spec.expect if e.onset_step)
    cleans = sum(
        1
        for s in scenarios.values()
        for e in s.spec.expect
        if not e.onset_step and e.status == "succeeded"
    )
    assert cleans >= defects


def test_a_defect_scenario_missing_from_the_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "unlisted-defect.yaml").write_text(
        "name: unlisted-defect\n"
        "pipeline: pipelines/linear-triage-sync.yaml\n"
        "runs: {issues: [ENG-101]}\n"
        "faults: []\n"
        "expect:\n"
        "  - {run: 1, status: qc_failed, onset_step: normalize}\n",
        encoding="utf-8",
    )

    with pytest.raises(ScenarioError, match=r"unlisted-defect.*DEFECTS"):
        load_all(tmp_path)


async def test_a_dropped_assignee_is_caught_and_pinned_to_the_transform(
    temporal_address: str,
) -> None:
    scenario = load_scenario(QC_DIR / "assignee-dropped.yaml")

    [run] = await observe_scenario(scenario, temporal_address, None)

    assert run.error is None
    assert run.status == "qc_failed"
    assert "integrity.assignee_agrees" in [r.rubric for r in run.failed()]
    assert run.onset_step == "normalize"
    assert score([run])["recall"] == 1.0
