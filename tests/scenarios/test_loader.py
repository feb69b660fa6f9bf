"""Loading scenario files: every mistake is one line naming the file, the line and the
valid choices; ``pipeline:`` resolves against the file's folder, then the project root;
``runs:`` becomes one trigger per run for each example pipeline. And the scenarios in
``scenarios/`` together cover every fault kind, fault class and example pipeline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import get_args

import pytest

from connectors.sandbox.faults import FAULT_KINDS
from orchestrator.scenarios import (
    PROJECT_ROOT,
    SCENARIOS_DIR,
    RunsSpec,
    ScenarioError,
    load_scenario,
    plan_triggers,
)
from orchestrator.spec.pipeline import load_pipeline
from tests.scenarios.conftest import ScenarioWriter
from tracer.faults import FaultClass

GOOD = """\
name: small
pipeline: pipelines/linear-triage-sync.yaml
seed: 7
runs: {issues: [ENG-101, ENG-102]}
faults:
  - {service: airtable, kind: rename_field, target: Priority, to: Priority Level, from_run: 2}
expect:
  - {run: 2, status: failed, onset_step: upsert_airtable,
     fault_class: destination_schema_drift, fix_kind: spec_patch}
"""


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message, "an error is one line"
    return message


def test_a_good_file_loads_with_its_faults_and_pipeline(write_scenario: ScenarioWriter) -> None:
    loaded = load_scenario(write_scenario(GOOD))
    assert loaded.spec.name == "small"
    assert [f.kind for f in loaded.faults] == ["rename_field"]
    assert loaded.faults[0].from_run == 2
    assert loaded.pipeline.spec.name == "linear-triage-sync"
    assert loaded.spec.expect[0].fault_class == "destination_schema_drift"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert error_of(missing) == f"{missing}: no such scenario file"


def test_malformed_yaml_names_line_and_column(write_scenario: ScenarioWriter) -> None:
    path = write_scenario("name: x\nruns: {issues: [ENG-101\n")
    assert re.fullmatch(
        rf"{re.escape(str(path))}: malformed YAML at line \d+, column \d+: .+", error_of(path)
    )


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (GOOD.replace("seed: 7", "sede: 7"), 3, "unknown key 'sede' (known: name, description,"),
        (GOOD.replace("{issues:", "{issue:"), 4, "runs.issue: unknown key 'issue' (known: issues,"),
        (
            GOOD.replace("{run: 2, status", "{run: 2, state"),
            8,
            "expect.0.state: unknown key 'state' (known: run, status,",
        ),
        (GOOD.replace("seed: 7\n", ""), None, None),
        (
            GOOD.replace("{issues: [ENG-101, ENG-102]}", "{count: 2, issues: [ENG-101]}"),
            4,
            "runs: give exactly one of issues, count, intake_rows, dates, triggers "
            "(got issues, count)",
        ),
        (GOOD.replace("status: failed", "status: broken"), 8, "expect.0.status: Input should be"),
        (
            GOOD.replace("destination_schema_drift", "schema_drift"),
            9,
            "expect.0.fault_class: Input should be 'transient',",
        ),
        (GOOD.replace("name: small\n", ""), 1, "name: is required"),
    ],
)
def test_format_mistakes_name_the_line(
    write_scenario: ScenarioWriter, text: str, line: int | None, expected: str | None
) -> None:
    path = write_scenario(text)
    if expected is None:  # seed is optional
        assert load_scenario(path).spec.seed == 7
        return
    message = error_of(path)
    assert message.startswith(f"{path}:{line}: "), message
    assert expected in message, message


def test_an_unknown_fault_kind_names_the_fault_and_its_line(
    write_scenario: ScenarioWriter,
) -> None:
    path = write_scenario(GOOD.replace("kind: rename_field", "kind: explode"))
    message = error_of(path)
    assert message.startswith(f"{path}: fault #1 (line 6): "), message
    assert "explode" in message and "http_error" in message


def test_a_fault_missing_a_field_is_refused(write_scenario: ScenarioWriter) -> None:
    path = write_scenario(GOOD.replace(", to: Priority Level", ""))
    assert "fault kind 'rename_field' needs 'to'" in error_of(path)


def test_a_pipeline_that_is_nowhere_is_named(write_scenario: ScenarioWriter) -> None:
    path = write_scenario(GOOD.replace("pipelines/linear-triage-sync.yaml", "pipelines/x.yaml"))
    message = error_of(path)
    assert message.startswith(f"{path}:2: pipeline 'pipelines/x.yaml' not found (looked in ")
    assert str(path.parent) in message and str(PROJECT_ROOT) in message


def test_an_invalid_pipeline_is_reported_on_one_line(
    write_scenario: ScenarioWriter, tmp_path: Path
) -> None:
    (tmp_path / "broken.yaml").write_text(
        "name: broken\nsteps:\n  - id: a\n    op: slack.post\n", encoding="utf-8"
    )
    path = write_scenario(GOOD.replace("pipelines/linear-triage-sync.yaml", "broken.yaml"))
    message = error_of(path)
    assert message.startswith(f"{path}:2: pipeline 'broken.yaml' is invalid: "), message
    assert "unknown op 'slack.post'" in message


def test_expectations_must_name_a_run_and_a_step_that_exist(
    write_scenario: ScenarioWriter,
) -> None:
    path = write_scenario(GOOD.replace("{run: 2,", "{run: 3,"))
    assert error_of(path) == (f"{path}:8: expect run 3: the scenario makes only 2 run(s)")
    path = write_scenario(GOOD.replace("onset_step: upsert_airtable", "onset_step: upsert"))
    assert "onset_step 'upsert' is not a step of 'linear-triage-sync' (steps: fetch_issue," in (
        error_of(path)
    )


def test_the_pipeline_resolves_next_to_the_file_first(
    write_scenario: ScenarioWriter, tmp_path: Path
) -> None:
    (tmp_path / "pipelines").mkdir()
    local = tmp_path / "pipelines" / "linear-triage-sync.yaml"
    text = (PROJECT_ROOT / "pipelines" / "linear-triage-sync.yaml").read_text(encoding="utf-8")
    local.write_text(text.replace("name: linear-triage-sync", "name: local-copy"), "utf-8")
    assert load_scenario(write_scenario(GOOD)).pipeline.spec.name == "local-copy"
    shutil.rmtree(tmp_path / "pipelines")
    assert load_scenario(write_scenario(GOOD)).pipeline.spec.name == "linear-triage-sync"


def pipeline_spec(name: str):  # type: ignore[no-untyped-def]
    return load_pipeline(PROJECT_ROOT / "pipelines" / f"{name}.yaml").spec


def test_count_makes_the_trigger_each_example_pipeline_reads() -> None:
    runs = RunsSpec(count=2)
    intake = ["recA", "recB", "recC"]
    assert plan_triggers(runs, pipeline_spec("linear-triage-sync"), intake) == [
        {"issue": "ENG-101"},
        {"issue": "ENG-102"},
    ]
    assert plan_triggers(runs, pipeline_spec("airtable-intake-to-linear"), intake) == [
        {"record_id": "recA"},
        {"record_id": "recB"},
    ]
    assert plan_triggers(runs, pipeline_spec("monday-digest"), intake) == [
        {"date": "2026-11-23"},
        {"date": "2026-11-24"},
    ]


def test_explicit_runs_become_triggers_in_order() -> None:
    spec = pipeline_spec("airtable-intake-to-linear")
    assert plan_triggers(RunsSpec(intake_rows=[3, 1]), spec, ["recA", "recB", "recC"]) == [
        {"record_id": "recC"},
        {"record_id": "recA"},
    ]
    assert plan_triggers(RunsSpec(triggers=[{"record_id": "recZ"}]), spec, []) == [
        {"record_id": "recZ"}
    ]
    with pytest.raises(ScenarioError, match="intake row 4: the Intake table has 3 rows"):
        plan_triggers(RunsSpec(intake_rows=[4]), spec, ["recA", "recB", "recC"])


def test_the_shipped_scenarios_cover_every_kind_class_and_pipeline() -> None:
    scenarios = [load_scenario(path) for path in sorted(SCENARIOS_DIR.glob("*.yaml"))]
    assert len(scenarios) >= 15
    kinds = {fault.kind for s in scenarios for fault in s.faults}
    assert kinds == set(FAULT_KINDS)
    classes = {e.fault_class for s in scenarios for e in s.spec.expect if e.fault_class}
    assert classes == set(get_args(FaultClass))
    pipelines = {Path(s.pipeline.source).name for s in scenarios}
    assert {p.name for p in (PROJECT_ROOT / "pipelines").glob("*.yaml")} <= pipelines
    for scenario in scenarios:
        failures = [e for e in scenario.spec.expect if e.status != "succeeded"]
        for failure in failures:  # every failure has a baseline of two good runs before it
            good = [e.run for e in scenario.spec.expect if e.status == "succeeded"]
            assert len([run for run in good if run < failure.run]) >= 2, scenario.spec.name
            assert failure.onset_step and failure.fault_class and failure.fix_kind
