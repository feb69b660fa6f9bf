"""Fault scenarios (DESIGN §6): load and check a scenario file, run it, score it.

A scenario names a pipeline, a sandbox seed, the runs to make and the faults to inject
from a given run on; ``expect:`` is the ground truth about the fault (status, onset step,
fault class, fix kind). :func:`load_scenario` checks everything that can be checked
before anything starts and names the file and line of each mistake;
:func:`run_scenario` runs the file against a fresh embedded stack (fresh sandbox, fresh
SQLite store) and returns the DESIGN §6 object, with ``score`` when there is ``expect:``.

``runs:`` takes ``issues`` or ``count`` (DESIGN §6) and, for pipelines whose trigger is
not a Linear issue, ``intake_rows`` (Airtable ``Intake`` rows by 1-based position),
``dates`` (``{"date": …}`` triggers) or raw ``triggers``. docs/scenarios.md has it all.
"""

from orchestrator.scenarios.render import print_result
from orchestrator.scenarios.results import (
    Baselines,
    DiagnosisView,
    ExpectationScore,
    FixView,
    QcView,
    RunResult,
    ScenarioResult,
    Score,
    StepAttempts,
    actual_values,
    diagnosis_view,
    score,
)
from orchestrator.scenarios.runner import (
    FAILED,
    Progress,
    baselines,
    final_outputs,
    first_differing_step,
    qc_view,
    run_scenario,
    scenario_stack,
)
from orchestrator.scenarios.spec import (
    PROJECT_ROOT,
    SCENARIOS_DIR,
    Expectation,
    LoadedScenario,
    RunsSpec,
    ScenarioError,
    ScenarioSpec,
    load_scenario,
    resolve_pipeline,
)
from orchestrator.scenarios.triggers import intake_record_ids, plan_triggers, trigger_fields

__all__ = [
    "FAILED",
    "PROJECT_ROOT",
    "SCENARIOS_DIR",
    "Baselines",
    "DiagnosisView",
    "Expectation",
    "ExpectationScore",
    "FixView",
    "LoadedScenario",
    "Progress",
    "QcView",
    "RunResult",
    "RunsSpec",
    "ScenarioError",
    "ScenarioResult",
    "ScenarioSpec",
    "Score",
    "StepAttempts",
    "actual_values",
    "baselines",
    "diagnosis_view",
    "final_outputs",
    "first_differing_step",
    "intake_record_ids",
    "load_scenario",
    "plan_triggers",
    "print_result",
    "qc_view",
    "resolve_pipeline",
    "run_scenario",
    "scenario_stack",
    "score",
    "trigger_fields",
]
