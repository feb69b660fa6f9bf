"""The diagnosis on scenario files from `scenarios/`, end to end (real Temporal, the
sandbox over HTTP, a fresh store per scenario): onset, fault class and fix kind match the
file's ground truth, and patch fixes are verified.

A few files that exercise different parts of the walk: a value gone upstream two steps
before the failure, a source record without a required value (told apart from drift by
re-reading a good record), a mapping that copies a name where an email belongs, a length
limit over a joined value, and a renamed column that only QC can see.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.scenarios import load_scenario, run_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = [
    "linear-due-date-dropped",
    "intake-missing-title",
    "wrong-assignee-path",
    "monday-item-name-too-long",
    "digest-status-column-renamed",
    "airtable-labels-option-removed",
    "wrong-date-format",
    "intake-priority-dropped-behind-default",
]


@pytest.mark.parametrize("name", FILES)
async def test_scenario_ground_truth(name: str, temporal_address: str, tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    result = await run_scenario(
        scenario, temporal_address=temporal_address, database_url=f"sqlite:///{tmp_path}/t.db"
    )
    assert result.score is not None
    for expectation in result.score.expectations:
        assert all(expectation.matched.values()), expectation
    diagnosed = [run.diagnosis for run in result.runs if run.diagnosis is not None]
    assert diagnosed, "every scenario here has a failure to diagnose"
    for diagnosis in diagnosed:
        fix = diagnosis.proposed_fix
        if fix.kind == "spec_patch":
            assert fix.verified is True, diagnosis
        if fix.kind == "data_patch" and fix.verified is not True:
            # No value of the record's own to restore: a person is asked, never another
            # record's value copied.
            assert fix.patch is not None and '"ask": true' in fix.patch, diagnosis
